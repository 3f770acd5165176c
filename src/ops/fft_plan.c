/* The FFT operator's engines: scale factors, FFTW plans, per-worker workspaces. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include <fftw3.h>

#include "ops/fft_op.h"
#ifdef STARLOPS_USE_CUDA
#include "cuda/fft_cuda.h"
#endif
#include "runtime/try.h"

/* Bytes of workspace a plan execution aims at (its lines stay in L2 while they move). */
#define SL_FFT_BATCH_BYTES (64 * 1024)
/* Lines of one direct execution at most (array to array, no workspace). */
#define SL_FFT_MAX_DIRECT_BATCH 512

/* PyLops' scale of both directions (the factor of the unweighted bins). */
static double norm_scale(const sl_fft_state *s)
{
    double nfft = (double)s->opts.nfft;
    return s->opts.norm == SL_FFT_NORM_ORTHO ? 1.0 / sqrt(nfft)
         : s->opts.norm == SL_FFT_NORM_NONE  ? 1.0
                                             : 1.0 / nfft;
}

/* The data-side bins' factors (fft_index.h's sl_fft_factor, which the CUDA kernels evaluate
 * per bin instead of reading a table). */
static double *make_factors(const sl_fft_state *s, int adjoint)
{
    double *f = malloc(s->m * sizeof *f), scale = norm_scale(s);
    if (!f)
        return NULL;
    for (size_t k = 0; k < s->m; k++)
        f[k] = sl_fft_factor(scale, s->opts.real, s->opts.nfft, k, adjoint);
    return f;
}

/* Lines per plan execution: a power of two filling SL_FFT_BATCH_BYTES, at most the lines
 * this rank holds and SL_FFT_MAX_BATCH. */
static size_t batch_of(const sl_fft_state *s, const sl_darray *x, size_t elem_bytes)
{
    size_t len = s->m > s->opts.nfft ? s->m : s->opts.nfft, b = 1;
    size_t lines = x->outer * x->local_rows * x->inner / s->n;
    while (2 * b <= SL_FFT_MAX_BATCH && 2 * b * len * elem_bytes <= SL_FFT_BATCH_BYTES &&
           2 * b <= lines)
        b *= 2;
    return b;
}

static void init_engine(sl_fft_state *s, int adjoint, const sl_darray *x, sl_dtype model)
{
    sl_fft_engine *e = &s->engine[adjoint];
    int single = model == SL_F32 || model == SL_C64;
    e->single = single;
    e->forward = !adjoint;
    e->r2c = s->opts.real;
    e->model_real = !sl_dtype_is_complex(model);
    e->n = s->n, e->nfft = s->opts.nfft, e->m = s->m;
    e->shift_model = s->opts.ifftshift_before ? (s->n - s->n / 2) % s->n : 0;
    e->shift_data = s->opts.fftshift_after ? (s->m - s->m / 2) % s->m : 0;
    /* all ones (unscaled complex transform): no factor, so the moves are plain copies */
    int ones = s->opts.norm == SL_FFT_NORM_NONE && !s->opts.real;
    e->factor = ones ? NULL : s->factor[adjoint];
    e->scale = norm_scale(s);
    e->zero_ends = adjoint && s->opts.real;
    e->batch = batch_of(s, x, 2 * (single ? sizeof(float) : sizeof(double)));
    /* lines along the last axis are contiguous: keep them whole; otherwise neighbouring
     * lines are neighbours in memory, and interleaving them makes both the moves and FFTW's
     * loops run across lines */
    e->interleaved = s->axis != x->layout.ndim - 1;
    e->in_len = adjoint ? s->m : s->opts.nfft;
    e->out_len = adjoint ? s->opts.nfft : s->m;
    /* straight from array to array when the workspace would only copy: lines contiguous,
     * no shift or padding, no real<->complex conversion, not an irfft (which overwrites its
     * input and needs the weights applied to it) */
    e->direct = !e->interleaved && !e->shift_model && !e->shift_data && s->opts.nfft == s->n &&
                (e->model_real ? e->r2c && e->forward : 1);
    /* no workspace there: batches as large as the lines allow (fewer executions) */
    size_t lines = x->outer * x->local_rows * x->inner / s->n, db = e->batch;
    while (e->direct && 2 * db <= SL_FFT_MAX_DIRECT_BATCH && 2 * db <= lines)
        db *= 2;
    e->direct_batch = db;
}

static sl_status make_workspaces(sl_context *ctx, sl_fft_state *s, const char *what)
{
    size_t bytes = sl_fft_engine_buffer_bytes(&s->engine[0]);
    size_t other = sl_fft_engine_buffer_bytes(&s->engine[1]);
    bytes = other > bytes ? other : bytes;
    s->nworkers = (int)starpu_worker_get_count();
    s->workspaces = calloc(2 * (size_t)s->nworkers, sizeof *s->workspaces);
    if (!s->workspaces)
        return sl_fail(ctx, SL_ERR_NOMEM, "%s: out of memory", what);
    for (int i = 0; i < 2 * s->nworkers; i++)
        if (!(s->workspaces[i] = sl_fft_alloc(bytes)))
            return sl_fail(ctx, SL_ERR_NOMEM, "%s: out of memory for %d workspaces of %zu "
                           "bytes", what, 2 * s->nworkers, bytes);
    return SL_OK;
}

sl_status sl_fft_state_plan(sl_context *ctx, sl_fft_state *s, const sl_darray *lines_like,
                            sl_dtype model_dtype, unsigned planner, const char *what)
{
    for (int a = 0; a < 2; a++)
        if (!(s->factor[a] = make_factors(s, a)))
            return sl_fail(ctx, SL_ERR_NOMEM, "%s: out of memory", what);
    for (int a = 0; a < 2; a++) {
        init_engine(s, a, lines_like, model_dtype);
        if (sl_fft_engine_plan(&s->engine[a], planner) != 0)
            return sl_fail(ctx, SL_ERR_NOMEM, "%s: FFTW made no %s plan for %zu lines of "
                           "%zu samples (out of memory?)", what, a ? "adjoint" : "forward",
                           s->engine[a].batch, s->opts.nfft);
    }
    SL_TRY(make_workspaces(ctx, s, what));
#ifdef STARLOPS_USE_CUDA
    /* the CUDA workers' plans and buffers now, on each worker: never inside a task */
    char msg[256] = "";
    size_t lines = lines_like->outer * lines_like->local_rows * lines_like->inner / s->n;
    if (sl_fft_cuda_create(s->engine, lines, &s->cuda, msg, sizeof msg) != 0)
        return sl_fail(ctx, SL_ERR_NOMEM, "%s: %s", what, msg);
#endif
    starpu_variable_data_register(&s->guard, STARPU_MAIN_RAM, (uintptr_t)&s->guard_byte, 1);
    return SL_OK;
}

void sl_fft_state_free(sl_fft_state *s)
{
    if (!s)
        return;
    if (s->guard)
        starpu_data_unregister(s->guard); /* waits for the tasks still using the plans */
#ifdef STARLOPS_USE_CUDA
    sl_fft_cuda_destroy(s->cuda);
#endif
    for (int a = 0; a < 2; a++) {
        sl_fft_exchange_free(&s->there[a]);
        sl_fft_exchange_free(&s->back[a]);
        sl_darray_destroy(s->mid[a]);
        sl_fft_engine_destroy(&s->engine[a]);
        free(s->factor[a]);
    }
    for (int i = 0; s->workspaces && i < 2 * s->nworkers; i++)
        sl_fft_free(s->workspaces[i]);
    free(s->workspaces);
    free(s);
}
