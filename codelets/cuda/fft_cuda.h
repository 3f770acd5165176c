/* The FFT codelet's CUDA side: an operator's cuFFT plans and work buffers on each CUDA worker
 * (fft_plans.c) and the launcher of one call's lines (fft.cu), used by fft.c's CUDA function.
 *
 * Plans are made when the operator is made, one per engine (forward, adjoint) on each CUDA
 * worker (starpu_execute_on_each_worker, on the worker's own thread and device), together with
 * the two work buffers the lines are gathered into and transformed out of: cuFFT's planner and
 * cudaMalloc allocate device memory and synchronise the device, which a task must never do.
 * They are destroyed with the operator, after its last task (its guard handle). A worker runs
 * one task at a time on one stream, so its plans and buffers are used in order. */
#ifndef STARLOPS_FFT_CUDA_H
#define STARLOPS_FFT_CUDA_H

#include <cuda_runtime_api.h>
#include <cufft.h>
#include <math.h> /* before the C block below: C++'s <math.h> holds templates */
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "cpu/fft_kernels.h" /* sl_fft_engine, sl_fft_lines; fft_index.h */

/* Segments one move kernel takes (by value, in its parameter block); more are cut in chunks. */
#define SL_FFT_CUDA_CHUNK 32
/* Bytes of one work buffer a cuFFT execution aims at: large batches of lines fill the GPU. */
#define SL_FFT_CUDA_BATCH_BYTES ((size_t)32 << 20)

/* One CUDA worker's plans (forward [0], adjoint [1]) and work buffers for one operator. */
typedef struct sl_fft_cuda_worker {
    cufftHandle plan[2];
    int planned[2];
    void *win, *wout;
} sl_fft_cuda_worker;

/* An FFT operator's device side; w is indexed by StarPU worker id (CUDA workers only). */
typedef struct sl_fft_cuda {
    size_t batch; /* lines per cuFFT execution */
    size_t bytes; /* of each work buffer */
    int nworkers;
    sl_fft_cuda_worker *w;
} sl_fft_cuda;

/* Plans and buffers for both engines on every CUDA worker, for operators whose tasks hold at
 * most `lines` lines per call. 0 and *out (NULL when there is no CUDA worker), or -1 with a
 * sentence in msg and nothing left allocated. Not from inside a task. */
int sl_fft_cuda_create(const sl_fft_engine engine[2], size_t lines, sl_fft_cuda **out,
                       char *msg, size_t len);
/* Frees everything (NULL: nothing), with no task of the operator in flight. */
void sl_fft_cuda_destroy(sl_fft_cuda *c);
/* The calling CUDA worker's part; NULL if it has none. */
const sl_fft_cuda_worker *sl_fft_cuda_local(const sl_fft_cuda *c);

/* One side of a call: its segments with their own pointers and strides on this device. */
typedef struct sl_fft_cuda_side {
    int nseg;
    const sl_fft_place *seg;
} sl_fft_cuda_side;

/* What one engine runs with on this worker. */
typedef struct sl_fft_cuda_exec {
    cufftHandle plan;
    void *win, *wout;
    size_t batch;
    int single, r2c, forward;
} sl_fft_cuda_exec;

/* The call's lines, `batch` at a time: the source side gathered into win (mv_src; zero
 * padding), transformed into wout, scattered into the destination (mv_dst), all queued on
 * `stream`. Failures are noted (SL_CUDA_CHECK); returns how many. */
int sl_cuda_fft_lines(const sl_fft_cuda_exec *x, const sl_fft_move *mv_src,
                      const sl_fft_move *mv_dst, const sl_fft_lines *lines,
                      const sl_fft_cuda_side *src, const sl_fft_cuda_side *dst,
                      cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
