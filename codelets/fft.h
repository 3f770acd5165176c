/* The FFT codelet (fft.c): line FFTs of tiles with an engine of codelets/cpu/fft_kernels.h. */
#ifndef STARLOPS_CL_FFT_H
#define STARLOPS_CL_FFT_H

#include "codelet_common.h"
#include "cpu/fft_kernels.h"

/* Where a segment of a side's lines (sl_fft_segment: the line indices [k0, k0 + len) it
 * holds) lies: which buffer, and the offset (elements from the tile's start) of element k0 of
 * line 0. The segment's base pointer is resolved when the task runs. */
typedef struct sl_fft_task_segment {
    int buffer;
    size_t offset;
} sl_fft_task_segment;

/* One kernel call: its lines, each side's strides and segments (side 0 the source, 1 the
 * destination; segments seg0[s] .. seg0[s] + nseg[s] - 1 of the task's list). A stride is
 * resolved against the row stride (ld) of the buffer a segment lies in when the task runs:
 * the block's row length in main memory, the tile's own on a device (packed copies). */
typedef struct sl_fft_task_call {
    sl_fft_lines lines;
    sl_fft_stride s1[2], s2[2], sk[2];
    int seg0[2], nseg[2];
} sl_fft_task_call;

/* A task: the destination tiles (W), then the source tiles (R), then the operator's guard
 * handle (R, so that destroying the operator waits for its tasks); `ncalls` calls, then
 * `nsegs` segment placements and `nsegs` kernel segments (k0 and len set by the caller, base
 * by the task) follow the header in the same allocation (sl_fft_task_args_new). */
typedef struct sl_fft_task_args {
    const sl_fft_engine *engine;
    void *const *workspaces; /* two per StarPU worker (input, output), by worker id */
    const struct sl_fft_cuda *cuda; /* the CUDA workers' cuFFT plans (NULL: none) */
    size_t esize[2];         /* element bytes of the source and destination arrays */
    int ndst, nsrc, ncalls, nsegs;
} sl_fft_task_args;

/* A zeroed argument block with room for the calls and segments; NULL without memory. */
sl_fft_task_args *sl_fft_task_args_new(int ncalls, int nsegs);
sl_fft_task_call *sl_fft_task_calls(sl_fft_task_args *a);
sl_fft_task_segment *sl_fft_task_segments(sl_fft_task_args *a);
sl_fft_segment *sl_fft_task_kernel_segments(sl_fft_task_args *a);

/* Submits the task; it takes `args` (freed with the task, also on failure). */
int sl_task_fft(sl_fft_task_args *args, const starpu_data_handle_t *dst,
                const starpu_data_handle_t *src, starpu_data_handle_t guard);

#endif
