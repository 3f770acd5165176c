/* The FFT operator (PyLops FFT along one axis): arguments, layouts, route. */
#include <fftw3.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ops/fft_op.h"

static const char *const norm_names[] = {"ortho", "none", "1/n"};

sl_status sl_fft_norm_from_name(const char *name, sl_fft_norm *norm)
{
    if (!name || !norm)
        return sl_null_error(__func__);
    for (int k = 0; k < 3; k++)
        if (strcmp(name, norm_names[k]) == 0 || (k == 2 && strcmp(name, "1/N") == 0)) {
            *norm = (sl_fft_norm)k;
            return SL_OK;
        }
    return SL_ERR_ARG;
}

const char *sl_fft_norm_name(sl_fft_norm norm)
{
    return (unsigned)norm < 3 ? norm_names[norm] : "unknown";
}

static sl_dtype complex_of(sl_dtype t)
{
    return t == SL_F32 || t == SL_C64 ? SL_C64 : SL_C128;
}

/* Every rank checks the same values (the layout was agreed when `like` was made; the options
 * are agreed afterwards), so all reach the same verdict. */
static sl_status check_args(const sl_darray *like, int axis, int a, const sl_fft_opts *o,
                            const char *what)
{
    sl_context *ctx = like->ctx;
    if (a < 0 || a >= like->layout.ndim)
        return sl_fail(ctx, SL_ERR_ARG, "%s: axis %d of a %d-d array", what, axis,
                       like->layout.ndim);
    if ((unsigned)o->norm > SL_FFT_NORM_1_OVER_N)
        return sl_fail(ctx, SL_ERR_ARG, "%s: norm %d is not one of ortho (0), none (1), "
                       "1/n (2)", what, (int)o->norm);
    if (o->real && sl_dtype_is_complex(like->layout.dtype))
        return sl_fail(ctx, SL_ERR_DTYPE, "%s: real = 1 needs a real model (float32 or "
                       "float64), not %s", what, sl_dtype_name(like->layout.dtype));
    /* FFTW counts in int; a batch of lines must fit too (SL_FFT_MAX_BATCH lines at most) */
    if (o->nfft > (size_t)INT_MAX / SL_FFT_MAX_BATCH)
        return sl_fail(ctx, SL_ERR_ARG, "%s: nfft %zu is too large for FFTW's int sizes "
                       "(at most %d)", what, o->nfft, INT_MAX / SL_FFT_MAX_BATCH);
    size_t holders = 0;
    for (int r = 0; r < ctx->size; r++)
        holders += like->layout.local_sizes[r] > 0;
    if (like->layout.ndim == 1 && like->layout.partition == SL_SCATTER && holders > 1)
        return sl_fail(ctx, SL_ERR_ARG, "%s: a 1-d array scattered over %zu ranks along its "
                       "only axis cannot be transformed (no other axis to redistribute to): "
                       "gather it to one rank or replicate it first", what, holders);
    return SL_OK;
}

static sl_fft_route route_of(const sl_darray *like, int a)
{
    size_t holders = 0;
    for (int r = 0; r < like->ctx->size; r++)
        holders += like->layout.local_sizes[r] > 0;
    if (a != like->layout.axis)
        return SL_FFT_ROUTE_TILES;
    return like->layout.partition != SL_SCATTER || holders <= 1 ? SL_FFT_ROUTE_BLOCK
                                                         : SL_FFT_ROUTE_REDIST;
}

/* The other axis the arrays are redistributed along: the longest (the best balanced). */
static int work_axis_of(const sl_darray *like, int a)
{
    int w = -1;
    for (int d = 0; d < like->layout.ndim; d++)
        if (d != a && (w < 0 || like->layout.shape[d] > like->layout.shape[w]))
            w = d;
    return w;
}

/* The data layout: the axis's length becomes m, the split is kept when another axis is
 * distributed; along the distributed axis, the one holder keeps everything, or the new length
 * is split evenly. */
static sl_status data_layout(const sl_darray *like, const sl_fft_state *s, sl_layout *l)
{
    if (sl_layout_from_darray(like, l) != SL_OK)
        return sl_fail(like->ctx, SL_ERR_NOMEM, "sl_op_fft: out of memory");
    l->dtype = complex_of(like->layout.dtype);
    l->shape[s->axis] = s->m;
    if (s->route == SL_FFT_ROUTE_REDIST)
        sl_split_balanced(s->m, like->ctx->size, l->local_sizes);
    else if (s->route == SL_FFT_ROUTE_BLOCK)
        for (int r = 0; r < like->ctx->size; r++)
            l->local_sizes[r] = like->layout.local_sizes[r] > 0 ? s->m : 0;
    return SL_OK;
}

/* REDIST: the arrays the transform runs on, distributed along the work axis (collective). */
static sl_status make_mids(const sl_darray *like, sl_fft_state *s, const sl_layout *dl)
{
    sl_context *ctx = like->ctx;
    sl_status st = sl_darray_create(ctx, dl->dtype, dl->ndim, dl->shape, SL_SCATTER,
                                    s->work_axis, NULL, like->layout.mask, &s->mid[0]);
    if (st == SL_OK)
        st = sl_darray_create(ctx, like->layout.dtype, like->layout.ndim, like->layout.shape,
                              SL_SCATTER, s->work_axis, NULL, like->layout.mask, &s->mid[1]);
    return st;
}

/* REDIST: model and data layouts to and from the mid arrays' (along the work axis). */
static sl_status make_exchanges(sl_fft_state *s, const sl_layout *ml, const sl_layout *dl)
{
    sl_context *ctx = s->mid[0]->ctx;
    const sl_layout *side[2] = {ml, dl};
    sl_status st = SL_OK;
    for (int k = 0; k < 2 && st == SL_OK; k++) {
        sl_layout mid = {0};
        st = sl_layout_from_darray(s->mid[1 - k], &mid); /* model: mid[1]; data: mid[0] */
        if (st != SL_OK)
            st = sl_fail(ctx, SL_ERR_NOMEM, "sl_op_fft: out of memory");
        if (st == SL_OK)
            st = sl_fft_exchange_init(ctx, side[k], &mid, &s->there[k]);
        if (st == SL_OK)
            st = sl_fft_exchange_init(ctx, &mid, side[k], &s->back[k]);
        sl_layout_free(&mid);
    }
    return st;
}

static void fft_destroy(sl_op *op)
{
    sl_fft_state_free(op->state);
}

static const sl_op_vtable fft_vt = {
    .name = "FFT",
    .apply = sl_fft_apply,
    .destroy = fft_destroy,
};

/* Resolves the options, checks them, derives the route and both layouts (local steps), and
 * agrees on the options and the outcome with the other ranks. */
static sl_status agree_args(const sl_darray *like, int axis, const sl_fft_opts *opts,
                            sl_fft_state *s, sl_layout *ml, sl_layout *dl, const char *what)
{
    if (!s) { /* out of memory: this rank still takes part in the agreement (same count) */
        int64_t none[7] = {0};
        sl_agree(like->ctx, none, 7, 0, what);
        return sl_fail(like->ctx, SL_ERR_NOMEM, "%s: out of memory", what);
    }
    s->opts = opts ? *opts : (sl_fft_opts){0};
    s->axis = axis < 0 ? axis + like->layout.ndim : axis;
    sl_status local = check_args(like, axis, s->axis, &s->opts, what);
    if (local == SL_OK) {
        s->n = like->layout.shape[s->axis];
        s->opts.nfft = s->opts.nfft ? s->opts.nfft : s->n;
        s->m = s->opts.real ? s->opts.nfft / 2 + 1 : s->opts.nfft;
        s->route = route_of(like, s->axis);
        s->work_axis = s->route == SL_FFT_ROUTE_REDIST ? work_axis_of(like, s->axis) : -1;
        local = data_layout(like, s, dl);
    }
    if (local == SL_OK && sl_layout_from_darray(like, ml) != SL_OK)
        local = sl_fail(like->ctx, SL_ERR_NOMEM, "%s: out of memory", what);
    int64_t v[7] = {s->axis, (int64_t)s->opts.nfft, s->opts.real, s->opts.norm,
                    s->opts.ifftshift_before, s->opts.fftshift_after, s->opts.estimate};
    sl_status st = sl_agree(like->ctx, v, 7, local == SL_OK, what);
    return local != SL_OK ? local : st;
}

sl_status sl_op_fft(const sl_darray *like, int axis, const sl_fft_opts *opts, sl_op **out)
{
    const char *what = "sl_op_fft";
    if (!like || !out)
        return sl_null_error(__func__);
    *out = NULL;
    sl_context *ctx = like->ctx;
    sl_fft_state *s = calloc(1, sizeof *s);
    sl_layout ml = {0}, dl = {0};
    sl_status st = agree_args(like, axis, opts, s, &ml, &dl, what);
    if (st == SL_OK && s->route == SL_FFT_ROUTE_REDIST)
        st = make_mids(like, s, &dl); /* collective, agreed inside */
    if (st == SL_OK) { /* local steps, then one agreement on their outcome */
        const sl_darray *lines = s->route == SL_FFT_ROUTE_REDIST ? s->mid[1] : like;
        sl_status local = sl_fft_state_plan(ctx, s, lines, like->layout.dtype,
                                            s->opts.estimate ? FFTW_ESTIMATE : FFTW_MEASURE,
                                            what);
        if (local == SL_OK && s->route == SL_FFT_ROUTE_REDIST)
            local = make_exchanges(s, &ml, &dl);
        st = sl_agree(ctx, NULL, 0, local == SL_OK, what);
        st = local != SL_OK ? local : st;
    }
    if (st == SL_OK)
        st = sl_op_new(ctx, &fft_vt, &ml, &dl, s, out);
    sl_layout_free(&ml);
    sl_layout_free(&dl);
    if (st != SL_OK)
        sl_fft_state_free(s);
    return st;
}
