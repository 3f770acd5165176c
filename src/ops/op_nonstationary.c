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

/* 64-bit FNV-1a over the arguments: ranks compare one number each. */
static int64_t args_hash(const nsc_args *a)
{
    uint64_t h = 1469598103934665603ULL;
#define MIX(ptr, bytes)                                                                        \
    for (size_t b_ = 0; b_ < (bytes); b_++)                                                    \
        h = (h ^ ((const unsigned char *)(ptr))[b_]) * 1099511628211ULL;
    MIX(&a->dtype, sizeof a->dtype);
    MIX(&a->ndim, sizeof a->ndim);
    MIX(&a->axis, sizeof a->axis);
    MIX(a->dims, (size_t)a->ndim * sizeof *a->dims);
    MIX(&a->nf, sizeof a->nf);
    MIX(&a->nh, sizeof a->nh);
    MIX(a->ih, a->nf * sizeof *a->ih);
    MIX(a->hs, a->nf * a->nh * sizeof *a->hs);
#undef MIX
    return (int64_t)(h >> 1);
}

/* The local operator on the halo's extended block of this rank. */
static sl_status make_local(const sl_op *halo, const nsc_args *a, sl_op **out)
{
    size_t off[SL_MAX_NDIM], n[SL_MAX_NDIM], e[SL_MAX_NDIM];
    sl_status st = sl_op_halo_block(halo, off, n, e);
    nsc_local *s = calloc(1, sizeof *s);
    if (st != SL_OK || !s) {
        free(s);
        return st != SL_OK ? st : sl_fail(halo->ctx, SL_ERR_NOMEM, "out of memory");
    }
    s->single = a->dtype == SL_F32 || a->dtype == SL_C64;
    s->reals = sl_dtype_is_complex(a->dtype) ? 2 : 1;
    s->outer = s->inner = s->rows = 1;
    for (int d = 0; d < a->ndim; d++)
        *(d < a->axis ? &s->outer : d > a->axis ? &s->inner : &s->rows) *= e[d];
    s->nh = a->nh;
    s->lo = a->nh / 2; /* the halo width along the axis, at the global edges too */
    s->n = n[a->axis];
    s->valid = calloc(s->rows + 1, 1);
    s->filters = malloc((s->rows * a->nh + 1) * sizeof *s->filters);
    if (!s->valid || !s->filters) {
        free(s->valid), free(s->filters), free(s);
        return sl_fail(halo->ctx, SL_ERR_NOMEM, "NonStationaryConvolve1D: out of memory");
    }
    double oh = (double)a->ih[0], dh = a->nf > 1 ? (double)(a->ih[1] - a->ih[0]) : 1.0;
    for (size_t r = 0; r < s->rows; r++) {
        long gx = (long)off[a->axis] - (long)s->lo + (long)r;
        s->valid[r] = gx >= 0 && gx < (long)a->dims[a->axis];
        interpolate(a->hs, a->nf, a->nh, oh, dh, (double)gx, s->filters + r * a->nh);
    }
    const sl_layout *l = sl_op_data_layout(halo); /* one task per application */
    return sl_op_from_callback_owned(halo->ctx, l, l, nsc_kernel, s, local_free, out);
}

/* Halo^H . local . Halo, owning its parts. */
static sl_status compose(sl_op *halo, sl_op *local, sl_op **out)
{
    sl_op *halo_h = NULL, *inner = NULL;
    sl_status st = sl_op_product(local, halo, &inner);
    if (st == SL_OK)
        st = sl_op_adjoint(halo, &halo_h);
    if (st == SL_OK)
        st = sl_op_product(halo_h, inner, out);
    sl_op *parts[4] = {inner, halo_h, local, halo};
    if (st == SL_OK && (st = sl_op_take(*out, 4, parts)) != SL_OK) {
        sl_op_destroy(*out);
        *out = NULL;
    }
    if (st != SL_OK)
        for (int i = 0; i < 4; i++)
            sl_op_destroy(parts[i]);
    return st;
}

sl_status sl_op_nonstationary_convolve1d(sl_context *ctx, sl_dtype dtype, int ndim,
                                         const size_t *dims, int axis, const double *hs,
                                         size_t nfilters, size_t nh, const size_t *ih,
                                         sl_op **out)
{
    const char *what = "sl_op_nonstationary_convolve1d";
    if (!ctx || !dims || !hs || !ih || !out)
        return sl_null_error(__func__);
    *out = NULL;
    nsc_args a = {dtype, ndim, axis, dims, hs, nfilters, nh, ih};
    sl_status local = check_args(ctx, &a, what);
    int64_t h = local == SL_OK ? args_hash(&a) : 0;
    sl_status st = sl_agree(ctx, &h, 1, local == SL_OK, what);
    if (local != SL_OK)
        return local;
    if (st != SL_OK)
        return st;
    int grid[SL_MAX_NDIM];
    size_t halo_w[2 * SL_MAX_NDIM] = {0};
    for (int d = 0; d < ndim; d++)
        grid[d] = d == a.axis ? ctx->size : 1;
    halo_w[2 * a.axis] = halo_w[2 * a.axis + 1] = nh / 2;
    sl_op *halo = NULL, *loc = NULL;
    st = sl_op_halo(ctx, dtype, ndim, dims, grid, halo_w, &halo);
    if (st != SL_OK)
        return st;
    local = make_local(halo, &a, &loc); /* can only fail for memory: agreed */
    st = sl_agree(ctx, NULL, 0, local == SL_OK, what);
    if (st != SL_OK || local != SL_OK) {
        sl_op_destroy(loc);
        sl_op_destroy(halo);
        return local != SL_OK ? local : st;
    }
    return compose(halo, loc, out);
}
