/* The FFT operator's state, shared by its constructor (op_fft.c), its engines (fft_plan.c) and
 * its applications (fft_apply.c). */
#ifndef STARLOPS_FFT_OP_H
#define STARLOPS_FFT_OP_H

#include <starlops/fft.h>

#include "fft.h"
#include "ops/op_internal.h"

/* How an application reaches whole lines along the transform axis. */
typedef enum sl_fft_route {
    SL_FFT_ROUTE_TILES,  /* the axis is not the distributed one: one task per output tile */
    SL_FFT_ROUTE_BLOCK,  /* the distributed axis, wholly on each rank holding rows (replicated,
                          * or a single holder): one task per rank over all its tiles */
    SL_FFT_ROUTE_REDIST  /* the distributed axis, cut between ranks: redistribute along
                          * work_axis, transform tile by tile, redistribute back, all as
                          * tasks */
} sl_fft_route;

/* An all-to-all between two layouts of one shape, as tasks (fft_exchange.c): per peer, a
 * persistent buffer for the box it sends and one for the box it receives. */
typedef struct sl_fft_exchange {
    sl_context *ctx;
    sl_layout from, to; /* copies (local sizes owned; no mask) */
    size_t esize;
    void **send, **recv; /* per rank, NULL where nothing moves */
    starpu_data_handle_t *send_h, *recv_h;
} sl_fft_exchange;

sl_status sl_fft_exchange_init(sl_context *ctx, const sl_layout *from, const sl_layout *to,
                               sl_fft_exchange *x);
/* Submits the moves of src's values (layout from) into dst (layout to); tag: booked for this
 * run, the same on every rank. */
sl_status sl_fft_exchange_run(const sl_fft_exchange *x, const sl_darray *src, sl_darray *dst,
                              int64_t tag);
void sl_fft_exchange_free(sl_fft_exchange *x);

typedef struct sl_fft_state {
    int axis;
    sl_fft_opts opts;  /* nfft resolved */
    size_t n, m;       /* model and data lengths along the axis */
    sl_fft_route route;
    int work_axis;     /* REDIST: the axis the transform's arrays are distributed along */
    sl_darray *mid[2]; /* REDIST: data-shaped [0] and model-shaped [1] arrays distributed
                        * along work_axis, where the transform runs */
    sl_fft_exchange there[2], back[2]; /* REDIST: model [0] / data [1] layout to its mid
                                        * array, and the mid array back */
    double *factor[2]; /* forward, adjoint: the data-side bins' factors (m each) */
    sl_fft_engine engine[2];
    void **workspaces; /* 2 per StarPU worker, for the larger engine */
    struct sl_fft_cuda *cuda; /* CUDA workers' cuFFT plans and work buffers (NULL: none) */
    int nworkers;
    starpu_data_handle_t guard; /* read by every task: unregistering waits for them */
    char guard_byte;
} sl_fft_state;

/* Factors, FFTW plans (lines of `lines_like`'s tiles), workspaces and the guard; `planner` is
 * FFTW's planner flag. Local (no communication); a message names `what` on failure. */
sl_status sl_fft_state_plan(sl_context *ctx, sl_fft_state *s, const sl_darray *lines_like,
                            sl_dtype model_dtype, unsigned planner, const char *what);
/* Waits for the operator's tasks, then frees everything (s itself too). */
void sl_fft_state_free(sl_fft_state *s);

/* One application (vtable apply). */
sl_status sl_fft_apply(const sl_op *op, int adjoint, const sl_darray *in, sl_darray *out);

#endif
