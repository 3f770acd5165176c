/* Convolve1D and PoststackLinearModelling (PyLops), as a stencil and a product of two. */
#include <math.h>
#include <string.h>

#include <starlops/convolve.h>
#include <starlops/derivatives.h>

#include "ops/stencil_op.h"

/* y[i] = sum_k h[k] x[i + offset - k]: the tap at offset d = offset - k has coefficient h[k]. */
static sl_stencil convolution_stencil(const double *h, size_t nh, size_t offset)
{
    sl_stencil s;
    memset(&s, 0, sizeof s);
    long lo = (long)offset - (long)nh + 1, hi = (long)offset;
    s.lo = lo < 0 ? (int)lo : 0;
    s.hi = hi > 0 ? (int)hi : 0;
    for (size_t k = 0; k < nh; k++)
        s.interior[(long)offset - (long)k - s.lo] = h[k];
    return s;
}

sl_status sl_op_convolve1d(const sl_darray *like, int axis, const double *h, size_t nh,
                           size_t offset, sl_op **out)
{
    const char *what = "sl_op_convolve1d";
    if (!like || !out)
        return sl_null_error(__func__);
    if (sl_darray_is_stack(like))
        return sl_darray_need_plain(like, __func__);
    sl_context *ctx = like->ctx;
    int a = axis < 0 ? axis + like->layout.ndim : axis;
    sl_status st = SL_OK;
    if (a < 0 || a >= like->layout.ndim)
        st = sl_fail(ctx, SL_ERR_ARG, "%s: axis %d of a %d-d array", what, axis,
                     like->layout.ndim);
    else if (!h || nh == 0 || nh > SL_STENCIL_MAX_TAPS)
        st = sl_fail(ctx, SL_ERR_ARG, "%s: filter of %zu samples (1 to %d)", what,
                     h ? nh : 0, SL_STENCIL_MAX_TAPS);
    else if (offset >= nh)
        st = sl_fail(ctx, SL_ERR_ARG, "%s: offset %zu outside the filter [0, %zu)", what,
                     offset, nh);
    for (size_t k = 0; st == SL_OK && k < nh; k++)
        if (!isfinite(h[k]))
            st = sl_fail(ctx, SL_ERR_ARG, "%s: h[%zu] = %g", what, k, h[k]);
    if (st != SL_OK)
        return sl_stencil_refuse(like, st, what);
    sl_stencil_term term = {a, convolution_stencil(h, nh, offset)};
    return sl_op_stencil(what, SL_STENCIL_CONVOLVE1D, like, 1, &term, out);
}

sl_status sl_op_poststack(const sl_darray *like, int time_axis, const double *wavelet,
                          size_t nwav, sl_op **out)
{
    if (!like || !out)
        return sl_null_error(__func__);
    if (sl_darray_is_stack(like))
        return sl_darray_need_plain(like, __func__);
    sl_op *parts[2] = {NULL, NULL}; /* W, D */
    sl_status st = sl_op_convolve1d(like, time_axis, wavelet, nwav, nwav / 2, &parts[0]);
    if (st == SL_OK)
        st = sl_op_first_derivative(like, time_axis, SL_DERIV_CENTERED, 3, 0, 1.0, &parts[1]);
    if (st == SL_OK)
        st = sl_op_product(parts[0], parts[1], out);
    if (st == SL_OK && (st = sl_op_take(*out, 2, parts)) != SL_OK) {
        sl_op_destroy(*out);
        *out = NULL;
    }
    if (st != SL_OK) {
        sl_op_destroy(parts[0]);
        sl_op_destroy(parts[1]);
    }
    return st;
}
