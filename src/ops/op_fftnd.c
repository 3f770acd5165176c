/* FFTND / FFT2D (PyLops) as a product of one-axis FFTs (op_fft.c): the multi-dimensional DFT
 * is separable, and each factor already handles padding, shifts, the real transform and a
 * distributed axis. The factors are made from the last listed axis to the first, each on the
 * layout of the previous one's data. */
#include <stdlib.h>

#include <starlops/fft.h>

#include "ops/op_internal.h"

/* Axes in range and distinct; the same on every rank (they are arguments of a collective
 * call: sl_op_fft's agreement checks each factor's options). */
static sl_status check_axes(const sl_darray *like, int naxes, const int *axes, int *norm_axes,
                            const char *what)
{
    int nd = like->layout.ndim;
    if (naxes < 1 || naxes > nd)
        return sl_fail(like->ctx, SL_ERR_ARG, "%s: %d axes for a %d-d array", what, naxes, nd);
    for (int k = 0; k < naxes; k++) {
        int a = axes[k] < 0 ? axes[k] + nd : axes[k];
        if (a < 0 || a >= nd)
            return sl_fail(like->ctx, SL_ERR_ARG, "%s: axes[%d] = %d of a %d-d array", what, k,
                           axes[k], nd);
        for (int j = 0; j < k; j++)
            if (norm_axes[j] == a)
                return sl_fail(like->ctx, SL_ERR_ARG, "%s: axis %d listed twice", what, a);
        norm_axes[k] = a;
    }
    return SL_OK;
}

/* The options of the factor along axes[k]: its own nfft and shifts, the common norm, real only
 * for the last listed axis. */
static sl_fft_opts factor_opts(const sl_fft_opts *opts, int naxes, int k)
{
    sl_fft_opts o = {0};
    if (!opts)
        return o;
    o = opts[k];
    o.norm = opts[0].norm;
    o.real = k == naxes - 1 ? opts[naxes - 1].real : 0;
    return o;
}

/* The factor along axes[k] on `like`, and a zero array of its data layout (the next like). */
static sl_status make_factor(const sl_darray *like, int axis, const sl_fft_opts *o, sl_op **f,
                             sl_darray **next)
{
    sl_status st = sl_op_fft(like, axis, o, f);
    if (st == SL_OK)
        st = sl_op_create_data(*f, next);
    return st;
}

sl_status sl_op_fftnd(const sl_darray *like, int naxes, const int *axes,
                      const sl_fft_opts *opts, sl_op **out)
{
    const char *what = "sl_op_fftnd";
    if (!like || !axes || !out)
        return sl_null_error(__func__);
    *out = NULL;
    if (sl_darray_is_stack(like))
        return sl_darray_need_plain(like, __func__);
    int a[SL_MAX_NDIM];
    sl_status st = check_axes(like, naxes, axes, a, what);
    if (st != SL_OK)
        return st;
    if (opts)
        for (int k = 0; k + 1 < naxes && st == SL_OK; k++)
            if (opts[k].real)
                st = sl_fail(like->ctx, SL_ERR_ARG, "%s: real on axis %d: only the last listed "
                             "axis is transformed as real (numpy's rfftn)", what, a[k]);
    if (st != SL_OK)
        return st;
    sl_op *factors[SL_MAX_NDIM] = {0};
    sl_darray *cur = (sl_darray *)like, *next = NULL;
    for (int k = naxes - 1; k >= 0 && st == SL_OK; k--) {
        sl_fft_opts o = factor_opts(opts, naxes, k);
        st = make_factor(cur, a[k], &o, &factors[k], &next);
        if (cur != like)
            sl_darray_destroy(cur);
        cur = next;
        next = NULL;
    }
    if (cur != like)
        sl_darray_destroy(cur);
    if (st != SL_OK) {
        for (int k = 0; k < naxes; k++)
            sl_op_destroy(factors[k]);
        return st;
    }
    sl_op *order[SL_MAX_NDIM]; /* the last listed axis applies first */
    for (int k = 0; k < naxes; k++)
        order[k] = factors[naxes - 1 - k];
    return sl_op_chain(naxes, order, 0, NULL, out);
}
