/* Convolve1D and post-stack modelling against serial references written here (PyLops'
 * y[i] = sum_k h[k] x[i + offset - k], zero outside), along the distributed axis and across it,
 * odd and even filters, every offset kind, every dtype, dot tests; filters too long for the
 * split fail cleanly. */
#include "harness.h"

#include <starlops/convolve.h>

typedef struct shape2 {
    size_t shape[2];
    int axis; /* distributed axis */
} shape2;

static sl_darray *make_array(sl_context *ctx, sl_dtype dt, const shape2 *s, const cplx *g)
{
    sl_darray *x = NULL;
    CHECK_OK(sl_darray_create(ctx, dt, 2, s->shape, SL_SCATTER, s->axis, NULL, NULL, &x), ctx);
    if (x && g) {
        size_t n = s->shape[0] * s->shape[1];
        void *raw = malloc(n * sl_dtype_size(dt));
        th_to_dtype(dt, g, raw, n);
        CHECK_OK(sl_darray_from_global(x, raw), ctx);
        free(raw);
    }
    return x;
}

/* y = conv(x) along axis (adjoint: correlation, the transpose) of a 2-d C-order array. */
static void ref_convolve(const shape2 *s, int axis, const double *h, size_t nh, size_t offset,
                         int adjoint, const cplx *x, cplx *y)
{
    size_t n = s->shape[axis], other = s->shape[1 - axis];
    size_t stride = axis == 0 ? s->shape[1] : 1, ostride = axis == 0 ? 1 : s->shape[1];
    for (size_t o = 0; o < other; o++)
        for (size_t i = 0; i < n; i++) {
            cplx acc = 0;
            for (size_t k = 0; k < nh; k++) {
                /* forward: y[i] += h[k] x[i + offset - k]; adjoint: y[j] += h[k] x[j - offset + k] */
                long j = adjoint ? (long)i - (long)offset + (long)k : (long)i + (long)offset - (long)k;
                if (j >= 0 && j < (long)n) acc += h[k] * x[o * ostride + (size_t)j * stride];
            }
            y[o * ostride + i * stride] = acc;
        }
}

static void centered_derivative(const shape2 *s, int axis, int adjoint, const cplx *x, cplx *y)
{
    size_t n = s->shape[axis], other = s->shape[1 - axis];
    size_t stride = axis == 0 ? s->shape[1] : 1, ostride = axis == 0 ? 1 : s->shape[1];
    for (size_t o = 0; o < other; o++) {
        const cplx *xl = x + o * ostride;
        cplx *yl = y + o * ostride;
        for (size_t i = 0; i < n; i++) yl[i * stride] = 0;
        for (size_t i = 1; i + 1 < n; i++) {
            if (!adjoint) {
                yl[i * stride] = 0.5 * (xl[(i + 1) * stride] - xl[(i - 1) * stride]);
            } else { /* transpose of the rows above */
                yl[(i + 1) * stride] += 0.5 * xl[i * stride];
                yl[(i - 1) * stride] -= 0.5 * xl[i * stride];
            }
        }
    }
}

static int single(sl_dtype dt) { return dt == SL_F32 || dt == SL_C64; }

static void check(sl_context *ctx, sl_dtype dt, const shape2 *s, const sl_op *op,
                  const cplx *want_fwd, const cplx *want_adj, const cplx *gx, const char *what)
{
    size_t n = s->shape[0] * s->shape[1];
    cplx *got = malloc(n * sizeof(cplx));
    for (int adjoint = 0; adjoint < 2; adjoint++) {
        sl_darray *x = make_array(ctx, dt, s, gx), *y = make_array(ctx, dt, s, NULL);
        CHECK_OK(adjoint ? sl_op_rmatvec(op, x, y) : sl_op_matvec(op, x, y), ctx);
        void *raw = malloc(n * sl_dtype_size(dt));
        CHECK_OK(sl_darray_gather(y, SL_ALL_RANKS, raw), ctx);
        th_from_dtype(dt, raw, got, n);
        free(raw);
        double e = th_rel_err(got, adjoint ? want_adj : want_fwd, n);
        CHECK(e <= 20 * th_tol(dt), "%s %s %s: rel err %g", what, adjoint ? "adjoint" : "forward",
              sl_dtype_name(dt), e);
        sl_darray_destroy(x);
        sl_darray_destroy(y);
    }
    int passed = 0;
    double err = 0;
    CHECK_OK(sl_dottest(op, single(dt) ? 1e-5 : 1e-12, &passed, &err), ctx);
    CHECK(passed, "%s dottest %s: %g", what, sl_dtype_name(dt), err);
    free(got);
}

static void test_convolve(sl_context *ctx, sl_dtype dt, const shape2 *s, int axis, size_t nh,
                          size_t offset)
{
    double h[5] = {0.2, -0.5, 1.0, 0.7, -0.1};
    size_t n = s->shape[0] * s->shape[1];
    cplx *gx = malloc(n * sizeof(cplx)), *fwd = malloc(n * sizeof(cplx)), *adj = malloc(n * sizeof(cplx));
    th_random(gx, n, sl_dtype_is_complex(dt), 11);
    th_round(dt, gx, n);
    ref_convolve(s, axis, h, nh, offset, 0, gx, fwd);
    ref_convolve(s, axis, h, nh, offset, 1, gx, adj);
    sl_darray *like = make_array(ctx, dt, s, NULL);
    sl_op *op = NULL;
    CHECK_OK(sl_op_convolve1d(like, axis, h, nh, offset, &op), ctx);
    char what[96];
    snprintf(what, sizeof what, "Convolve1D nh=%zu offset=%zu axis %d (split on %d)", nh, offset,
             axis, s->axis);
    if (op) check(ctx, dt, s, op, fwd, adj, gx, what);
    sl_op_destroy(op);
    sl_darray_destroy(like);
    free(gx);
    free(fwd);
    free(adj);
}

/* d = W D m along the time axis. */
static void test_poststack(sl_context *ctx, sl_dtype dt, const shape2 *s, int time_axis)
{
    double wav[5] = {-0.1, 0.4, 1.0, 0.4, -0.1};
    size_t n = s->shape[0] * s->shape[1];
    cplx *gx = malloc(n * sizeof(cplx)), *tmp = malloc(n * sizeof(cplx));
    cplx *fwd = malloc(n * sizeof(cplx)), *adj = malloc(n * sizeof(cplx));
    th_random(gx, n, sl_dtype_is_complex(dt), 12);
    th_round(dt, gx, n);
    centered_derivative(s, time_axis, 0, gx, tmp);
    ref_convolve(s, time_axis, wav, 5, 2, 0, tmp, fwd);
    ref_convolve(s, time_axis, wav, 5, 2, 1, gx, tmp);
    centered_derivative(s, time_axis, 1, tmp, adj);
    sl_darray *like = make_array(ctx, dt, s, NULL);
    sl_op *op = NULL;
    CHECK_OK(sl_op_poststack(like, time_axis, wav, 5, &op), ctx);
    char what[80];
    snprintf(what, sizeof what, "Poststack time axis %d (split on %d)", time_axis, s->axis);
    if (op) check(ctx, dt, s, op, fwd, adj, gx, what);
    sl_op_destroy(op);
    sl_darray_destroy(like);
    free(gx);
    free(tmp);
    free(fwd);
    free(adj);
}

static void test_errors(sl_context *ctx)
{
    shape2 s = {{23, 9}, 0};
    sl_darray *like = make_array(ctx, SL_F64, &s, NULL);
    double h[3] = {1, 2, 3}, bad[2] = {1, NAN};
    sl_op *op = NULL;
    CHECK(sl_op_convolve1d(like, 0, h, 3, 3, &op) == SL_ERR_ARG && !op, "offset 3 of 3: %s",
          sl_last_error(ctx));
    CHECK(sl_op_convolve1d(like, 2, h, 3, 1, &op) == SL_ERR_ARG, "axis 2");
    CHECK(sl_op_convolve1d(like, 0, h, 0, 0, &op) == SL_ERR_ARG, "empty filter");
    CHECK(sl_op_convolve1d(like, 0, bad, 2, 0, &op) == SL_ERR_ARG, "NaN filter: %s", sl_last_error(ctx));
    /* 41 taps centred: reads 20 rows beyond a block of ~6 rows and tiles of 4 */
    double longf[41];
    for (int i = 0; i < 41; i++) longf[i] = 1.0 / (1 + i);
    sl_status st = sl_op_convolve1d(like, 0, longf, 41, 20, &op);
    int size = 1;
    size = th_ctx(ctx).size;
    if (size == 1) /* one rank: the 6 tiles of 4 rows are few enough to read directly */
        CHECK_OK(st, ctx);
    else
        CHECK(st == SL_ERR_SHAPE && !op, "41-tap filter along the split axis: %d %s", (int)st,
              sl_last_error(ctx));
    sl_op_destroy(op);
    op = NULL;
    /* the same filter across the split is fine */
    CHECK_OK(sl_op_convolve1d(like, 1, longf, 41, 20, &op), ctx);
    sl_op_destroy(op);
    sl_darray_destroy(like);
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    shape2 shapes[2] = {{{23, 9}, 0}, {{9, 23}, 1}};
    for (int d = 0; d < 4; d++)
        for (int si = 0; si < 2; si++)
            for (int axis = 0; axis < 2; axis++) {
                test_convolve(ctx, th_dtypes[d], &shapes[si], axis, 5, 2);
                test_poststack(ctx, th_dtypes[d], &shapes[si], axis);
                if (th_dtypes[d] == SL_F64) {
                    test_convolve(ctx, SL_F64, &shapes[si], axis, 5, 0);
                    test_convolve(ctx, SL_F64, &shapes[si], axis, 5, 4);
                    test_convolve(ctx, SL_F64, &shapes[si], axis, 4, 2);
                    test_convolve(ctx, SL_F64, &shapes[si], axis, 4, 1);
                }
            }
    test_errors(ctx);
    return th_end(ctx, "test_convolve");
}
