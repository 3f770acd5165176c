/* NonStationaryConvolve1D against a serial reference written here from PyLops' formulas
 * (filters interpolated between regularly spaced positions, the nearest outside them; forward
 * spreads each input sample's filter, adjoint gathers), along every axis of 1-d and 3-d arrays
 * with odd sizes, split along that axis (the halo path, PyLops' uneven split) or another (the
 * local path), every dtype, dot tests; bad arguments, unbalanced cuts and splits thinner than
 * the halo fail on every rank. */
#include "harness.h"

#include <starlops/convolve.h>

static int size;

/* PyLops' _interpolate_h at global index gx. */
static void interp(const double *hs, size_t nf, size_t nh, const size_t *ih, long gx, double *h)
{
    double oh = (double)ih[0], dh = nf > 1 ? (double)(ih[1] - ih[0]) : 1.0;
    double t = ((double)gx - oh) / dh, c = floor(t);
    if (c < 0 || nf == 1) {
        memcpy(h, hs, nh * sizeof *h);
    } else if (c >= (double)(nf - 1)) {
        memcpy(h, hs + (nf - 1) * nh, nh * sizeof *h);
    } else {
        size_t k = (size_t)c;
        for (size_t m = 0; m < nh; m++)
            h[m] = (1 - (t - c)) * hs[k * nh + m] + (t - c) * hs[(k + 1) * nh + m];
    }
}

typedef struct problem {
    int ndim, axis, split; /* convolution axis, distributed axis */
    size_t dims[3];
    size_t nf, nh;
    const size_t *ih;
    const double *hs;
} problem;

static size_t count_of(const problem *p)
{
    return th_prod(p->dims, p->ndim);
}

/* Geometry around the axis: outer x n x inner. */
static void around(const problem *p, size_t *outer, size_t *n, size_t *inner)
{
    *outer = *inner = *n = 1;
    for (int d = 0; d < p->ndim; d++)
        *(d < p->axis ? outer : d > p->axis ? inner : n) *= p->dims[d];
}

/* The serial operator on the global C-order array. */
static void reference(const problem *p, int adjoint, const cplx *x, cplx *y)
{
    size_t outer, n, inner, hh = p->nh / 2;
    around(p, &outer, &n, &inner);
    double *h = malloc(p->nh * sizeof *h);
    memset(y, 0, count_of(p) * sizeof *y);
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < n; i++) {
            interp(p->hs, p->nf, p->nh, p->ih, (long)i, h);
            for (size_t j = i >= hh ? i - hh : 0; j < n && j <= i + hh; j++)
                for (size_t q = 0; q < inner; q++) {
                    double c = h[j + hh - i];
                    if (adjoint)
                        y[(o * n + i) * inner + q] += c * x[(o * n + j) * inner + q];
                    else
                        y[(o * n + j) * inner + q] += c * x[(o * n + i) * inner + q];
                }
        }
    free(h);
}

/* 1 if every rank with a neighbour holds at least nh / 2 rows (else the halo refuses). */
static int split_fits(const problem *p)
{
    if (p->split != p->axis)
        return 1; /* no halo */
    size_t n = p->dims[p->axis], hh = p->nh / 2;
    for (int r = 0; r < size; r++) {
        size_t rows = n / (size_t)size + ((size_t)r < n % (size_t)size);
        if (size > 1 && rows < hh)
            return 0;
    }
    return 1;
}

static void to_array(sl_context *ctx, sl_darray *x, sl_dtype dt, const cplx *g, size_t n)
{
    void *raw = malloc(n * sizeof(cplx));
    th_to_dtype(dt, g, raw, n);
    CHECK_OK(sl_darray_from_global(x, raw), ctx);
    free(raw);
}

static void from_array(sl_context *ctx, const sl_darray *x, sl_dtype dt, cplx *g, size_t n)
{
    void *raw = malloc(n * sizeof(cplx));
    CHECK_OK(sl_darray_gather(x, SL_ALL_RANKS, raw), ctx);
    th_from_dtype(dt, raw, g, n);
    free(raw);
}

static void check_problem(sl_context *ctx, sl_dtype dt, const problem *p, const char *what)
{
    sl_darray *like = NULL;
    CHECK_OK(sl_darray_create(ctx, dt, p->ndim, p->dims, SL_SCATTER, p->split, NULL, NULL,
                              &like), ctx);
    if (!like)
        return;
    sl_op *op = NULL;
    sl_status st = sl_op_nonstationary_convolve1d(like, p->axis, p->hs, p->nf, p->nh, p->ih,
                                                  &op);
    if (!split_fits(p)) {
        CHECK(st != SL_OK && !op, "%s %s: a split thinner than the halo was accepted", what,
              sl_dtype_name(dt));
        sl_darray_destroy(like);
        return;
    }
    CHECK_OK(st, ctx);
    size_t n = count_of(p);
    cplx *gx = malloc(n * sizeof *gx), *want = malloc(n * sizeof *want);
    cplx *got = malloc(n * sizeof *got);
    for (int adjoint = 0; op && adjoint < 2; adjoint++) {
        th_random(gx, n, sl_dtype_is_complex(dt), 31 + (uint64_t)adjoint);
        th_round(dt, gx, n);
        reference(p, adjoint, gx, want);
        sl_darray *in = NULL, *out = NULL;
        CHECK_OK(sl_op_create_model(op, &in), ctx);
        CHECK_OK(sl_op_create_data(op, &out), ctx);
        to_array(ctx, in, dt, gx, n);
        CHECK_OK(adjoint ? sl_op_rmatvec(op, in, out) : sl_op_matvec(op, in, out), ctx);
        from_array(ctx, out, dt, got, n);
        double e = th_rel_err(got, want, n);
        CHECK(e <= 10 * th_tol(dt), "%s %s %s: rel err %g", what, sl_dtype_name(dt),
              adjoint ? "adjoint" : "forward", e);
        sl_darray_destroy(in);
        sl_darray_destroy(out);
    }
    if (op) {
        int passed = 0;
        double err = 0;
        int sp = dt == SL_F32 || dt == SL_C64;
        CHECK_OK(sl_dottest(op, sp ? 1e-5 : 1e-12, &passed, &err), ctx);
        CHECK(passed, "%s %s dottest: err %g", what, sl_dtype_name(dt), err);
    }
    free(gx), free(want), free(got);
    sl_op_destroy(op);
    sl_darray_destroy(like);
}

static void test_operators(sl_context *ctx)
{
    const sl_dtype dts[] = {SL_F32, SL_F64, SL_C64, SL_C128};
    /* three filters of 5 and of 3 samples, at 1, 4, 7 (spacing 3) */
    const double hs5[15] = {0.1, 0.3, 1.0, 0.3, 0.1, -0.2, 0.5, 2.0, 0.5, -0.2,
                            0.05, 0.1, 0.8, 0.4, 0.2};
    const double hs3[9] = {0.5, 1.0, 0.25, -1.0, 2.0, 1.0, 0.3, 0.6, 0.9};
    const size_t ih[3] = {1, 4, 7}, ih_small[3] = {0, 2, 4};
    for (size_t k = 0; k < 4; k++) {
        sl_dtype dt = dts[k];
        problem p1 = {1, 0, 0, {23, 1, 1}, 3, 5, ih, hs5};
        check_problem(ctx, dt, &p1, "1-d, 23 samples, nh 5");
        for (int axis = 0; axis < 3; axis++)
            for (int split = 0; split < 3; split++) { /* split == axis: the halo path */
                problem p = {3, axis, split, {9, 11, 5}, 3, 3, axis == 2 ? ih_small : ih, hs3};
                char what[80];
                snprintf(what, sizeof what, "3-d 9x11x5 along axis %d split %d, nh 3", axis,
                         split);
                check_problem(ctx, dt, &p, what);
            }
        problem p5 = {3, 1, 1, {4, 11, 3}, 3, 5, ih, hs5};
        check_problem(ctx, dt, &p5, "3-d 4x11x3 along axis 1, nh 5");
        problem one = {2, 1, 1, {3, 10, 1}, 1, 3, ih + 1, hs3 + 3};
        check_problem(ctx, dt, &one, "one filter (stationary)");
        /* 7-sample filters over 5 samples: from 2 ranks on, a block is thinner than the
         * 3-sample halo its neighbour reads: refused on every rank */
        const double hs7[7] = {0.1, 0.2, 0.3, 1.0, 0.3, 0.2, 0.1};
        const size_t ih0[1] = {2};
        problem thin = {1, 0, 0, {5, 1, 1}, 1, 7, ih0, hs7};
        check_problem(ctx, dt, &thin, "5 samples, nh 7");
    }
}

static void test_errors(sl_context *ctx)
{
    const size_t dims[2] = {6, 9};
    const double hs[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const size_t ih[2] = {1, 5}, irregular[3] = {0, 2, 5}, outside[2] = {1, 9};
    sl_darray *x = NULL;
    CHECK_OK(sl_darray_create(ctx, SL_F64, 2, dims, SL_SCATTER, 1, NULL, NULL, &x), ctx);
    if (!x)
        return;
    sl_op *op = NULL;
    CHECK_STATUS(sl_op_nonstationary_convolve1d(x, 1, hs, 2, 4, ih, &op), SL_ERR_ARG, ctx);
    CHECK(strstr(sl_last_error(ctx), "odd"), "even filters: %s", sl_last_error(ctx));
    CHECK_STATUS(sl_op_nonstationary_convolve1d(x, 1, hs, 3, 1, irregular, &op), SL_ERR_ARG, ctx);
    CHECK(strstr(sl_last_error(ctx), "regularly"), "irregular ih: %s", sl_last_error(ctx));
    CHECK_STATUS(sl_op_nonstationary_convolve1d(x, 1, hs, 2, 3, outside, &op), SL_ERR_ARG, ctx);
    CHECK_STATUS(sl_op_nonstationary_convolve1d(x, 2, hs, 2, 3, ih, &op), SL_ERR_ARG, ctx);
    CHECK_STATUS(sl_op_nonstationary_convolve1d(x, 1, NULL, 2, 3, ih, &op), SL_ERR_NULL, ctx);
    if (size > 1) { /* one rank's filter differs: every rank fails, none hangs */
        double mine[6] = {1, 2, 3, 4, 5, (double)(th_rank == size - 1 ? 7 : 6)};
        CHECK_STATUS(sl_op_nonstationary_convolve1d(x, 1, mine, 2, 3, ih, &op),
                     SL_ERR_RANK_MISMATCH, ctx);
        /* cut along the axis with other than the balanced split: refused on every rank */
        size_t sizes[16] = {0};
        sizes[0] = dims[1];
        sl_darray *y = NULL;
        CHECK_OK(sl_darray_create(ctx, SL_F64, 2, dims, SL_SCATTER, 1, sizes, NULL, &y), ctx);
        CHECK_STATUS(sl_op_nonstationary_convolve1d(y, 1, hs, 2, 3, ih, &op), SL_ERR_ARG, ctx);
        CHECK(strstr(sl_last_error(ctx), "balanced"), "unbalanced: %s", sl_last_error(ctx));
        sl_darray_destroy(y);
    }
    CHECK(op == NULL, "an operator was returned after an error");
    sl_darray_destroy(x);
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    size = th_ctx(ctx).size;
    test_operators(ctx);
    test_errors(ctx);
    return th_end(ctx, "test_nonstationary");
}
