/* NonStationaryConvolve1D (PyLops; PyLops-MPI's MPINonStationaryConvolve1D): a convolution
 * along one axis whose filter varies with the position of the input sample, linearly
 * interpolated between filters given at regularly spaced positions (extrapolated as the
 * nearest one outside them). Built as PyLops-MPI builds it, Halo^H . Local . Halo, with the
 * halo operator cut along the axis only (src/ops/op_halo.c):
 *   - every rank holds all the filters (they are small), so the halo is nh / 2 samples, not
 *     PyLops-MPI's "filter spacing + nh / 2 + 1", and any split works (PyLops-MPI needs
 *     dims[axis] % P == 0);
 *   - Local runs on the rank's extended block and writes only the rows the rank owns (zeros
 *     in its halo rows): then Halo^H adds nothing twice and the operator is exactly PyLops'
 *     (forward and adjoint), whatever the split.
 * Forward: y[j] = sum_i x[i] h_i[j - i + nh/2] (each input sample spreads its filter);
 * adjoint: x[i] = sum_j h_i[j - i + nh/2] y[j]. Filters are real (no conjugation needed). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <starlops/convolve.h>
#include <starlops/halo.h>

#include "ops/op_internal.h"
#include "runtime/try.h"

/* The rank's part of the operator: its extended block and the filter of each of its rows. */
typedef struct nsc_local {
    int single, reals;      /* float or double; 1 real or 2 (complex) per element */
    size_t outer, inner;    /* elements before / after the axis in the extended block */
    size_t rows, lo, n;     /* extended rows along the axis; the owned ones: [lo, lo + n) */
    size_t nh;              /* filter length (odd) */
    unsigned char *valid;   /* per extended row: inside the global array */
    double *filters;        /* per extended row: its interpolated filter (nh values) */
} nsc_local;

/* PyLops' _interpolate_h: the filter at global index gx. */
static void interpolate(const double *hs, size_t nf, size_t nh, double oh, double dh, double gx,
                        double *h)
{
    double t = (gx - oh) / dh;
    double c = floor(t);
    if (c < 0 || nf == 1) {
        memcpy(h, hs, nh * sizeof *h);
    } else if (c >= (double)(nf - 1)) {
        memcpy(h, hs + (nf - 1) * nh, nh * sizeof *h);
    } else {
        size_t k = (size_t)c;
        double w = t - c;
        for (size_t m = 0; m < nh; m++)
            h[m] = (1 - w) * hs[k * nh + m] + w * hs[(k + 1) * nh + m];
    }
}

/* out[row j] (+)= coef * in[row i], over `len` reals of one (outer) plane. */
#define AXPY_ROW(T)                                                                           \
    static void axpy_row_##T(T *out, const T *in, double coef, size_t len)                    \
    {                                                                                         \
        for (size_t q = 0; q < len; q++)                                                      \
            out[q] += (T)(coef * (double)in[q]);                                              \
    }
AXPY_ROW(float)
AXPY_ROW(double)

static void axpy_row(const nsc_local *s, void *out, size_t out_row, const void *in,
                     size_t in_row, size_t o, double coef)
{
    size_t len = s->inner * (size_t)s->reals;
    size_t oo = (o * s->rows + out_row) * len, io = (o * s->rows + in_row) * len;
    if (s->single)
        axpy_row_float((float *)out + oo, (const float *)in + io, coef, len);
    else
        axpy_row_double((double *)out + oo, (const double *)in + io, coef, len);
}

/* The rows j an input row i reaches, restricted to the owned rows: [*j0, *j1). */
static void reach(const nsc_local *s, size_t i, size_t *j0, size_t *j1)
{
    size_t hh = s->nh / 2;
    size_t lo = i >= hh ? i - hh : 0, hi = i + hh + 1;
    *j0 = lo > s->lo ? lo : s->lo;
    *j1 = hi < s->lo + s->n ? hi : s->lo + s->n;
}

/* Runs inside one task per application (a callback operator's); in/out are whole extended
 * blocks. Forward scatters each input row's filter; adjoint gathers with the same taps. */
static void nsc_kernel(const void *in, void *out, int adjoint, void *user)
{
    const nsc_local *s = user;
    size_t es = (s->single ? sizeof(float) : sizeof(double)) * (size_t)s->reals;
    if (!out)
        return;
    memset(out, 0, s->outer * s->rows * s->inner * es);
    size_t hh = s->nh / 2;
    for (size_t o = 0; o < s->outer; o++)
        for (size_t i = 0; i < s->rows; i++) {
            if (!s->valid[i])
                continue;
            const double *h = s->filters + i * s->nh;
            size_t j0, j1;
            reach(s, i, &j0, &j1);
            for (size_t j = j0; j < j1; j++) {
                double coef = h[j + hh - i];
                if (adjoint)
                    axpy_row(s, out, i, in, j, o, coef); /* x[i] += h_i[.] y[j] */
                else
                    axpy_row(s, out, j, in, i, o, coef); /* y[j] += h_i[.] x[i] */
            }
        }
}

static void local_free(void *user)
{
    nsc_local *s = user;
    free(s->valid);
    free(s->filters);
    free(s);
}

/* The arguments, as the checks and the agreement see them. */
typedef struct nsc_args {
    sl_dtype dtype;
    int ndim, axis;
    const size_t *dims;
    const double *hs;
    size_t nf, nh;
    const size_t *ih;
} nsc_args;

static sl_status check_args(sl_context *ctx, nsc_args *a, const char *what)
{
    if (sl_dtype_size(a->dtype) == 0)
        return sl_fail(ctx, SL_ERR_DTYPE, "%s: dtype %d", what, (int)a->dtype);
    if (a->ndim < 1 || a->ndim > SL_MAX_NDIM)
        return sl_fail(ctx, SL_ERR_SHAPE, "%s: ndim=%d (1 to %d)", what, a->ndim, SL_MAX_NDIM);
    if (a->axis < -a->ndim || a->axis >= a->ndim)
        return sl_fail(ctx, SL_ERR_ARG, "%s: axis %d of a %d-d array", what, a->axis, a->ndim);
    if (a->axis < 0)
        a->axis += a->ndim;
    for (int d = 0; d < a->ndim; d++)
        if (a->dims[d] == 0)
            return sl_fail(ctx, SL_ERR_SHAPE, "%s: dims[%d] is 0", what, d);
    if (a->nh % 2 == 0)
        return sl_fail(ctx, SL_ERR_ARG, "%s: filters of %zu samples (PyLops: odd lengths)",
                       what, a->nh);
    if (a->nf == 0)
        return sl_fail(ctx, SL_ERR_ARG, "%s: no filter", what);
    for (size_t k = 0; k < a->nf; k++) {
        if (a->ih[k] >= a->dims[a->axis])
            return sl_fail(ctx, SL_ERR_ARG, "%s: ih[%zu] = %zu outside [0, %zu)", what, k,
                           a->ih[k], a->dims[a->axis]);
        if (k >= 2 && a->ih[k] - a->ih[k - 1] != a->ih[1] - a->ih[0])
            return sl_fail(ctx, SL_ERR_ARG, "%s: ih is not regularly sampled (ih[%zu] - "
                           "ih[%zu] = %zu, ih[1] - ih[0] = %zu)", what, k, k - 1,
                           a->ih[k] - a->ih[k - 1], a->ih[1] - a->ih[0]);
        if (k >= 1 && a->ih[k] <= a->ih[k - 1])
            return sl_fail(ctx, SL_ERR_ARG, "%s: ih must increase (ih[%zu] = %zu after %zu)",
                           what, k, a->ih[k], a->ih[k - 1]);
    }
    for (size_t k = 0; k < a->nf * a->nh; k++)
        if (!isfinite(a->hs[k]))
            return sl_fail(ctx, SL_ERR_ARG, "%s: hs[%zu] = %g", what, k, a->hs[k]);
    return SL_OK;
}

/* The arguments' fingerprint: ranks compare one number each. */
static int64_t args_hash(const nsc_args *a)
{
    uint64_t h = sl_fnv1a(SL_FNV1A_SEED, &a->dtype, sizeof a->dtype);
    h = sl_fnv1a(h, &a->ndim, sizeof a->ndim);
    h = sl_fnv1a(h, &a->axis, sizeof a->axis);
    h = sl_fnv1a(h, a->dims, (size_t)a->ndim * sizeof *a->dims);
    h = sl_fnv1a(h, &a->nf, sizeof a->nf);
    h = sl_fnv1a(h, &a->nh, sizeof a->nh);
    h = sl_fnv1a(h, a->ih, a->nf * sizeof *a->ih);
    h = sl_fnv1a(h, a->hs, a->nf * a->nh * sizeof *a->hs);
    return sl_fnv1a_value(h);
}

/* The rank's part of the operator for a block of `ext` along every dim whose rows along the
 * axis start at global index first_row, owning rows [lo, lo + own) (the others are halo). */
static sl_status make_local(sl_context *ctx, const nsc_args *a, const size_t *ext, long first_row,
                            size_t lo, size_t own, const sl_layout *l, sl_op **out)
{
    nsc_local *s = calloc(1, sizeof *s);
    if (!s)
        return sl_fail(ctx, SL_ERR_NOMEM, "NonStationaryConvolve1D: out of memory");
    s->single = a->dtype == SL_F32 || a->dtype == SL_C64;
    s->reals = sl_dtype_is_complex(a->dtype) ? 2 : 1;
    s->outer = s->inner = s->rows = 1;
    for (int d = 0; d < a->ndim; d++)
        *(d < a->axis ? &s->outer : d > a->axis ? &s->inner : &s->rows) *= ext[d];
    s->nh = a->nh;
    s->lo = lo;
    s->n = own;
    s->valid = calloc(s->rows + 1, 1);
    s->filters = malloc((s->rows * a->nh + 1) * sizeof *s->filters);
    if (!s->valid || !s->filters) {
        local_free(s);
        return sl_fail(ctx, SL_ERR_NOMEM, "NonStationaryConvolve1D: out of memory");
    }
    double oh = (double)a->ih[0], dh = a->nf > 1 ? (double)(a->ih[1] - a->ih[0]) : 1.0;
    for (size_t r = 0; r < s->rows; r++) {
        long gx = first_row + (long)r;
        s->valid[r] = gx >= 0 && gx < (long)a->dims[a->axis];
        interpolate(a->hs, a->nf, a->nh, oh, dh, (double)gx, s->filters + r * a->nh);
    }
    return sl_op_from_callback_owned(ctx, l, l, nsc_kernel, s, local_free, out); /* one task */
}

/* ---- the array cut along the convolution axis: Halo around the local part ---- */

/* A rank's block copied as is: the array's layout and the halo's model hold the same values
 * (a block cut along the axis is, in C order, the halo model's block). */
static void copy_block(const void *in, void *out, int adjoint, void *user)
{
    (void)adjoint;
    if (in && out)
        memcpy(out, in, *(const size_t *)user);
}

static sl_status make_reshape(sl_context *ctx, const sl_layout *from, const sl_layout *to,
                              sl_op **out)
{
    size_t *bytes = malloc(sizeof *bytes);
    if (!bytes)
        return sl_fail(ctx, SL_ERR_NOMEM, "NonStationaryConvolve1D: out of memory");
    *bytes = sl_layout_local_count(from, ctx->rank) * sl_dtype_size(from->dtype);
    return sl_op_from_callback_owned(ctx, from, to, copy_block, bytes, free, out);
}

/* Reshape^H . Halo^H . Local . Halo . Reshape (Reshape: the array's layout to the halo's
 * model). */
static sl_status build_halo_path(const sl_darray *like, const nsc_args *a, sl_op **out)
{
    sl_context *ctx = like->ctx;
    int grid[SL_MAX_NDIM];
    size_t halo_w[2 * SL_MAX_NDIM] = {0};
    for (int d = 0; d < a->ndim; d++)
        grid[d] = d == a->axis ? ctx->size : 1;
    halo_w[2 * a->axis] = halo_w[2 * a->axis + 1] = a->nh / 2;
    sl_op *ops[7] = {0};
    enum { RESHAPE, HALO, LOCAL, HALO_H, RESHAPE_H };
    SL_TRY(sl_op_halo(ctx, a->dtype, a->ndim, a->dims, grid, halo_w, &ops[HALO]));
    size_t off[SL_MAX_NDIM], n[SL_MAX_NDIM], e[SL_MAX_NDIM];
    sl_op_halo_block(ops[HALO], off, n, e);
    size_t lo = a->nh / 2; /* the extended block has the halo at the global edges too */
    sl_status local = make_local(ctx, a, e, (long)off[a->axis] - (long)lo, lo, n[a->axis],
                                 sl_op_data_layout(ops[HALO]), &ops[LOCAL]);
    if (local == SL_OK)
        local = make_reshape(ctx, &like->layout, sl_op_model_layout(ops[HALO]), &ops[RESHAPE]);
    if (local == SL_OK)
        local = sl_op_adjoint(ops[HALO], &ops[HALO_H]);
    if (local == SL_OK)
        local = sl_op_adjoint(ops[RESHAPE], &ops[RESHAPE_H]);
    sl_status st = sl_agree(ctx, NULL, 0, local == SL_OK, "sl_op_nonstationary_convolve1d");
    if (st != SL_OK || local != SL_OK) { /* adjoints first: they borrow */
        for (int k = 4; k >= 0; k--)
            sl_op_destroy(ops[k]);
        return local != SL_OK ? local : st;
    }
    return sl_op_chain(5, ops, 0, NULL, out);
}

/* The convolution axis is whole on every rank (split along another axis, replicated, or one
 * rank): the local part alone, on the array's own layout. */
static sl_status build_local_path(const sl_darray *like, const nsc_args *a, sl_op **out)
{
    size_t ext[SL_MAX_NDIM];
    memcpy(ext, like->layout.shape, sizeof ext);
    ext[like->layout.axis] = like->local_rows;
    sl_status local = make_local(like->ctx, a, ext, 0, 0, a->dims[a->axis], &like->layout, out);
    sl_status st = sl_agree(like->ctx, NULL, 0, local == SL_OK, "sl_op_nonstationary_convolve1d");
    if (st != SL_OK && local == SL_OK) {
        sl_op_destroy(*out);
        *out = NULL;
    }
    return local != SL_OK ? local : st;
}

sl_status sl_op_nonstationary_convolve1d(const sl_darray *like, int axis, const double *hs,
                                         size_t nfilters, size_t nh, const size_t *ih,
                                         sl_op **out)
{
    const char *what = "sl_op_nonstationary_convolve1d";
    if (!like || !hs || !ih || !out)
        return sl_null_error(__func__);
    *out = NULL;
    if (sl_darray_is_stack(like))
        return sl_darray_need_plain(like, __func__);
    sl_context *ctx = like->ctx;
    const sl_layout *l = &like->layout;
    nsc_args a = {l->dtype, l->ndim, axis, l->shape, hs, nfilters, nh, ih};
    sl_status local = check_args(ctx, &a, what);
    int cut = l->partition == SL_SCATTER && l->axis == a.axis && ctx->size > 1;
    if (local == SL_OK && cut) {
        size_t *balanced = malloc((size_t)ctx->size * sizeof *balanced);
        if (!balanced)
            local = sl_fail(ctx, SL_ERR_NOMEM, "%s: out of memory", what);
        else
            sl_split_balanced(l->shape[a.axis], ctx->size, balanced);
        if (balanced && memcmp(balanced, l->local_sizes, (size_t)ctx->size * sizeof *balanced))
            local = sl_fail(ctx, SL_ERR_ARG, "%s: an array cut along the convolution axis needs "
                            "the balanced split (PyLops-MPI's; the halo's)", what);
        free(balanced);
    }
    int64_t h = local == SL_OK ? args_hash(&a) : 0;
    sl_status st = sl_agree(ctx, &h, 1, local == SL_OK, what);
    if (local != SL_OK || st != SL_OK)
        return local != SL_OK ? local : st;
    return cut ? build_halo_path(like, &a, out) : build_local_path(like, &a, out);
}
