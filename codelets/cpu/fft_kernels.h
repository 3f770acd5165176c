/* FFTs of batches of lines along one axis of strided arrays (FFTW), with no StarPU inside.
 *
 * A transform direction is an engine: one FFTW plan over a batch of `batch` lines held in a
 * workspace, made once (planning is not thread-safe: sl_fft_engine_plan and _destroy take a
 * global lock) and executed by any thread on its own workspace with FFTW's new-array execute
 * functions (thread-safe). A call gathers lines of the source array into the workspace
 * (shift, zero padding or truncation, the data side's scaling), transforms, and scatters the
 * result into the destination array (the other shift and the scaling). */
#ifndef STARLOPS_FFT_KERNELS_H
#define STARLOPS_FFT_KERNELS_H

#include <stddef.h>

#include "fft_index.h"

/* The most lines one plan execution takes (fixes the size of per-call offset tables). */
#define SL_FFT_MAX_BATCH 64

/* Model side -> data side (forward) or back (adjoint). */
typedef struct sl_fft_engine {
    int single;       /* float precision (fftwf), else double */
    int forward;
    int r2c;          /* real transform (rfft / irfft): the model-side buffer holds reals */
    int model_real;   /* the model's elements are real (r2c, or a complex transform of reals) */
    size_t n, nfft, m;             /* model length, transform length, data length */
    size_t shift_model, shift_data; /* buffer bin of array index k: (k + shift) % length */
    const double *factor;          /* m scale factors of the data-side bins (NULL: ones) */
    double scale;     /* the norm's: factor[k] = sl_fft_factor(scale, r2c, nfft, k, !forward) */
    int zero_ends;    /* adjoint real: imaginary parts of DC and Nyquist zeroed (irfft) */
    size_t batch;     /* lines per plan execution, 1 to SL_FFT_MAX_BATCH */
    int interleaved;  /* workspace: element k of line b at k * batch + b (else b * len + k) */
    size_t in_len, out_len; /* line lengths (elements) of the plan's input and output */
    void *plan;       /* fftw_plan or fftwf_plan */
    /* Set by the caller when the lines are contiguous along the last axis and nothing moves
     * between the array and the transform (no shift, nfft = n, no real<->complex conversion,
     * not an irfft, which would overwrite its input): full batches of consecutive lines then
     * go straight from array to array through plan_direct where their first line is
     * SIMD-aligned as FFTW's own buffers, the output scaled in place. */
    int direct;
    size_t direct_batch; /* lines per direct execution (no workspace: larger batches) */
    void *plan_direct;
} sl_fft_engine;

/* Bytes of one workspace buffer (input or output) of an engine. */
size_t sl_fft_engine_buffer_bytes(const sl_fft_engine *e);
/* Makes e->plan from the other fields; flags are FFTW planner flags. 0, or -1 if FFTW gives
 * no plan. Thread-safe (global lock). */
int sl_fft_engine_plan(sl_fft_engine *e, unsigned flags);
void sl_fft_engine_destroy(sl_fft_engine *e);
/* fftw_malloc / fftw_free: buffers with the alignment the plans were made with. */
void *sl_fft_alloc(size_t bytes);
void sl_fft_free(void *p);

/* Lines of a call: line l is (p1, p2, q) with l = (p1 * n2 + p2) * nq + q. */
typedef struct sl_fft_lines {
    size_t count, n2, nq;
} sl_fft_lines;

/* Where a side's lines live, in elements: line (p1, p2, q) starts at p1*s1 + p2*s2 + q, and
 * its element k lies in the segment holding k, at seg.base + line start + (k - seg.k0)*sk.
 * Segments (a line cut across tiles) are in increasing k0 and cover the whole line. */
typedef struct sl_fft_segment {
    void *base;
    size_t k0, len;
} sl_fft_segment;
typedef struct sl_fft_side {
    size_t s1, s2, sk;
    int nseg;
    const sl_fft_segment *seg;
} sl_fft_side;

/* The engine's source and destination moves for a workspace of lines one after the other
 * (what the CUDA kernels use; sl_fft_move in fft_index.h). */
void sl_fft_engine_moves(const sl_fft_engine *e, sl_fft_move *src, sl_fft_move *dst);

/* Transforms the lines from src (model side when forward, data side otherwise) into dst, using
 * the workspace buffers win and wout (sl_fft_engine_buffer_bytes each, from sl_fft_alloc). */
void sl_kernel_fft(const sl_fft_engine *e, const sl_fft_lines *lines, const sl_fft_side *src,
                   const sl_fft_side *dst, void *win, void *wout);

#endif
