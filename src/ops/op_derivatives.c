/* PyLops' derivative family as stencils (see PYLOPS-SEMANTICS.md and stencil_op.h): the
 * coefficient tables here are PyLops' _matvec_* formulas row by row; the adjoints follow as
 * exact transposes in the kernel. */
#include <math.h>
#include <string.h>

#include <starlops/derivatives.h>

#include "ops/stencil_op.h"

/* Coefficient of offset d in a row of s (rows index their taps from s->lo). */
static double *at(const sl_stencil *s, double *row, int d)
{
    return &row[d - s->lo];
}

static void scale_all(sl_stencil *s, double factor)
{
    int taps = s->hi - s->lo + 1;
    for (int t = 0; t < taps; t++) {
        s->interior[t] *= factor;
        for (int e = 0; e < SL_STENCIL_MAX_EDGE; e++) {
            s->head[e][t] *= factor;
            s->tail[e][t] *= factor;
        }
    }
}

static sl_stencil first_derivative_stencil(sl_deriv_kind kind, int order, int edge,
                                           double sampling)
{
    sl_stencil s;
    memset(&s, 0, sizeof s);
    if (kind == SL_DERIV_FORWARD) { /* y[i] = x[i+1] - x[i]; last row 0 */
        s.lo = 0, s.hi = 1, s.ntail = 1;
        *at(&s, s.interior, 0) = -1, *at(&s, s.interior, 1) = 1;
    } else if (kind == SL_DERIV_BACKWARD) { /* y[i] = x[i] - x[i-1]; first row 0 */
        s.lo = -1, s.hi = 0, s.nhead = 1;
        *at(&s, s.interior, -1) = -1, *at(&s, s.interior, 0) = 1;
    } else if (order == 3) { /* 0.5 (x[i+1] - x[i-1]); ends 0 or one-sided */
        s.lo = -1, s.hi = 1, s.nhead = s.ntail = 1;
        *at(&s, s.interior, -1) = -0.5, *at(&s, s.interior, 1) = 0.5;
        if (edge) {
            *at(&s, s.head[0], 0) = -1, *at(&s, s.head[0], 1) = 1;
            *at(&s, s.tail[0], -1) = -1, *at(&s, s.tail[0], 0) = 1;
        }
    } else { /* x[i-2]/12 - 2x[i-1]/3 + 2x[i+1]/3 - x[i+2]/12; two end rows each side */
        s.lo = -2, s.hi = 2, s.nhead = s.ntail = 2;
        *at(&s, s.interior, -2) = 1.0 / 12, *at(&s, s.interior, -1) = -2.0 / 3;
        *at(&s, s.interior, 1) = 2.0 / 3, *at(&s, s.interior, 2) = -1.0 / 12;
        if (edge) { /* PyLops' _matvec_centered5: one-sided at the ends, order 3 next to them */
            *at(&s, s.head[0], 0) = -1, *at(&s, s.head[0], 1) = 1;
            *at(&s, s.head[1], -1) = -0.5, *at(&s, s.head[1], 1) = 0.5;
            *at(&s, s.tail[0], -1) = -1, *at(&s, s.tail[0], 0) = 1;
            *at(&s, s.tail[1], -1) = -0.5, *at(&s, s.tail[1], 1) = 0.5;
        }
    }
    scale_all(&s, 1.0 / sampling);
    return s;
}

static void set3(sl_stencil *s, double *row, int d0)
{
    *at(s, row, d0) = 1, *at(s, row, d0 + 1) = -2, *at(s, row, d0 + 2) = 1;
}

static sl_stencil second_derivative_stencil(sl_deriv_kind kind, int edge, double sampling)
{
    sl_stencil s;
    memset(&s, 0, sizeof s);
    if (kind == SL_DERIV_FORWARD) { /* x[i] - 2x[i+1] + x[i+2]; last two rows 0 */
        s.lo = 0, s.hi = 2, s.ntail = 2;
        set3(&s, s.interior, 0);
    } else if (kind == SL_DERIV_BACKWARD) { /* x[i-2] - 2x[i-1] + x[i]; first two rows 0 */
        s.lo = -2, s.hi = 0, s.nhead = 2;
        set3(&s, s.interior, -2);
    } else { /* x[i-1] - 2x[i] + x[i+1]; with edge the end rows copy their neighbour's */
        s.lo = edge ? -2 : -1, s.hi = edge ? 2 : 1, s.nhead = s.ntail = 1;
        set3(&s, s.interior, -1);
        if (edge) {
            set3(&s, s.head[0], 0);
            set3(&s, s.tail[0], -2);
        }
    }
    scale_all(&s, 1.0 / (sampling * sampling));
    return s;
}

/* Axis in [0, ndim) or -1. */
static int normal_axis(const sl_darray *like, int axis)
{
    int nd = like->layout.ndim;
    int a = axis < 0 ? axis + nd : axis;
    return a >= 0 && a < nd ? a : -1;
}

static sl_status check_common(const char *what, const sl_darray *like, sl_deriv_kind kind,
                              int order, double sampling)
{
    sl_context *ctx = like->ctx;
    if (kind != SL_DERIV_CENTERED && kind != SL_DERIV_FORWARD && kind != SL_DERIV_BACKWARD)
        return sl_fail(ctx, SL_ERR_ARG, "%s: kind %d (centered 0, forward 1, backward 2)", what,
                       (int)kind);
    if (order != 3 && order != 5)
        return sl_fail(ctx, SL_ERR_ARG, "%s: order %d (3 or 5)", what, order);
    /* the taps are scaled by 1/sampling (first) or 1/sampling^2 (second derivative): both
     * must be finite, or every output value would be 0 * inf = NaN */
    if (!(sampling != 0) || !isfinite(sampling) || !isfinite(1.0 / (sampling * sampling)) ||
        1.0 / (sampling * sampling) == 0)
        return sl_fail(ctx, SL_ERR_ARG, "%s: sampling %g (finite, non-zero, and 1/sampling^2 "
                       "finite and non-zero)", what, sampling);
    return SL_OK;
}

sl_status sl_op_first_derivative(const sl_darray *like, int axis, sl_deriv_kind kind,
                                 int order, int edge, double sampling, sl_op **out)
{
    const char *what = "sl_op_first_derivative";
    if (!like || !out)
        return sl_null_error(__func__);
    if (sl_darray_is_stack(like))
        return sl_darray_need_plain(like, __func__);
    sl_stencil_term term = {normal_axis(like, axis), {0}};
    sl_status st = check_common(what, like, kind, order, sampling);
    if (st == SL_OK && term.axis < 0)
        st = sl_fail(like->ctx, SL_ERR_ARG, "%s: axis %d of a %d-d array", what, axis,
                     like->layout.ndim);
    if (st != SL_OK)
        return sl_stencil_refuse(like, st, what);
    term.stencil = first_derivative_stencil(kind, order, edge, sampling);
    return sl_op_stencil(what, SL_STENCIL_FIRST_DERIVATIVE, like, 1, &term, out);
}

sl_status sl_op_second_derivative(const sl_darray *like, int axis, sl_deriv_kind kind,
                                  int edge, double sampling, sl_op **out)
{
    const char *what = "sl_op_second_derivative";
    if (!like || !out)
        return sl_null_error(__func__);
    if (sl_darray_is_stack(like))
        return sl_darray_need_plain(like, __func__);
    sl_stencil_term term = {normal_axis(like, axis), {0}};
    sl_status st = check_common(what, like, kind, 3, sampling);
    if (st == SL_OK && term.axis < 0)
        st = sl_fail(like->ctx, SL_ERR_ARG, "%s: axis %d of a %d-d array", what, axis,
                     like->layout.ndim);
    if (st != SL_OK)
        return sl_stencil_refuse(like, st, what);
    term.stencil = second_derivative_stencil(kind, edge, sampling);
    return sl_op_stencil(what, SL_STENCIL_SECOND_DERIVATIVE, like, 1, &term, out);
}

sl_status sl_op_laplacian(const sl_darray *like, int naxes, const int *axes,
                          const double *weights, const double *sampling, int edge,
                          sl_deriv_kind kind, sl_op **out)
{
    const char *what = "sl_op_laplacian";
    if (!like || !out || !axes)
        return sl_null_error(__func__);
    if (sl_darray_is_stack(like))
        return sl_darray_need_plain(like, __func__);
    sl_status st = SL_OK;
    if (naxes < 1 || naxes > SL_STENCIL_MAX_TERMS)
        st = sl_fail(like->ctx, SL_ERR_ARG, "%s: %d axes (1 to %d)", what, naxes,
                     SL_STENCIL_MAX_TERMS);
    sl_stencil_term terms[SL_STENCIL_MAX_TERMS];
    for (int k = 0; k < naxes && st == SL_OK; k++) {
        double h = sampling ? sampling[k] : 1.0, w = weights ? weights[k] : 1.0;
        terms[k].axis = normal_axis(like, axes[k]);
        st = check_common(what, like, kind, 3, h);
        if (st == SL_OK && terms[k].axis < 0)
            st = sl_fail(like->ctx, SL_ERR_ARG, "%s: axes[%d] = %d of a %d-d array", what, k,
                         axes[k], like->layout.ndim);
        if (st == SL_OK && !isfinite(w))
            st = sl_fail(like->ctx, SL_ERR_ARG, "%s: weights[%d] = %g", what, k, w);
        if (st == SL_OK) {
            terms[k].stencil = second_derivative_stencil(kind, edge, h);
            scale_all(&terms[k].stencil, w);
        }
    }
    if (st != SL_OK)
        return sl_stencil_refuse(like, st, what);
    return sl_op_stencil(what, SL_STENCIL_LAPLACIAN, like, naxes, terms, out);
}

sl_status sl_op_gradient(const sl_darray *like, const double *sampling, int edge,
                         sl_deriv_kind kind, sl_op **out)
{
    if (!like || !out)
        return sl_null_error(__func__);
    if (sl_darray_is_stack(like))
        return sl_darray_need_plain(like, __func__);
    sl_op *parts[SL_MAX_NDIM] = {0};
    sl_status st = SL_OK;
    int nd = like->layout.ndim;
    for (int k = 0; k < nd && st == SL_OK; k++)
        st = sl_op_first_derivative(like, k, kind, 3, edge, sampling ? sampling[k] : 1.0,
                                    &parts[k]);
    if (st == SL_OK)
        st = sl_op_stacked_vstack(nd, (const sl_op *const *)parts, out);
    if (st == SL_OK && (st = sl_op_take(*out, nd, parts)) != SL_OK) {
        sl_op_destroy(*out);
        *out = NULL;
    }
    if (st != SL_OK)
        for (int k = 0; k < nd; k++)
            sl_op_destroy(parts[k]);
    return st;
}
