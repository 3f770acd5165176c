/* Solvers on the inputs that used to produce NaN or run away (issue 12): exactly solvable
 * problems, zero data, a zero operator, NaN in the data, a singular system, long runs past
 * convergence; the defaults (PyLops-MPI / scipy); honest final norms; ranks that call
 * different solvers; overflowing MatrixMult sizes; sl_last_error after SL_ERR_NULL. */
#include <lapacke.h>

#include "harness.h"

/* A (n x k, row-major, global) as a 1D MatrixMult, balanced split. */
static sl_op *matrix_op(sl_context *ctx, sl_dtype dt, const cplx *a, size_t n, size_t k)
{
    int size;
    size = th_ctx(ctx).size;
    size_t rows = n / (size_t)size + ((size_t)th_rank < n % (size_t)size), row0 = 0;
    for (int r = 0; r < th_rank; r++) row0 += n / (size_t)size + ((size_t)r < n % (size_t)size);
    void *mine = malloc(rows * k * sl_dtype_size(dt) + 1);
    th_to_dtype(dt, a + row0 * k, mine, rows * k);
    sl_op *op = NULL;
    CHECK_OK(sl_op_matrixmult(ctx, dt, n, k, 0, mine, NULL, &op), ctx);
    free(mine);
    return op;
}

static sl_darray *vector_of(sl_context *ctx, const sl_op *op, int model, sl_dtype dt,
                            const cplx *values, size_t n)
{
    sl_darray *v = NULL;
    CHECK_OK(model ? sl_op_create_model(op, &v) : sl_op_create_data(op, &v), ctx);
    void *raw = malloc(n * sl_dtype_size(dt) + 1);
    th_to_dtype(dt, values, raw, n);
    if (v) CHECK_OK(sl_darray_from_global(v, raw), ctx);
    free(raw);
    return v;
}

static cplx *gathered(sl_context *ctx, const sl_darray *x, sl_dtype dt, size_t n)
{
    void *raw = malloc(n * sl_dtype_size(dt) + 1);
    cplx *out = malloc(n * sizeof(cplx));
    CHECK_OK(sl_darray_gather(x, SL_ALL_RANKS, raw), ctx);
    th_from_dtype(dt, raw, out, n);
    free(raw);
    return out;
}

static int all_finite(const cplx *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(creal(v[i])) || !isfinite(cimag(v[i])))
            return 0;
    return 1;
}

static double norm2(const cplx *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += pow(cabs(v[i]), 2);
    return sqrt(s);
}

typedef sl_status (*solver_fn)(const sl_op *, const sl_darray *, sl_darray *,
                               const sl_solver_opts *, sl_solve_result *);

/* One solve from x = garbage: status, reason, istop, iterations and x as expected. want_x:
 * the exact answer (NULL: only finite). */
static void expect_solve(sl_context *ctx, const char *what, solver_fn solve, const sl_op *op,
                         const sl_darray *y, sl_darray *x, sl_dtype dt, size_t k,
                         const sl_solver_opts *o, sl_status want_st, sl_stop_reason want_reason,
                         int want_istop, int want_iterations, const cplx *want_x)
{
    sl_solve_result res;
    sl_darray_fill(x, 7.0);
    sl_status st = solve(op, y, x, o, &res);
    CHECK(st == want_st && res.reason == want_reason && res.istop == want_istop &&
              (want_iterations < 0 || res.iterations == want_iterations),
          "%s %s: %s, reason %s, istop %d after %d iterations (expected %s, %s, %d, %d): %s",
          what, sl_dtype_name(dt), sl_strerror(st), sl_stop_reason_name(res.reason), res.istop,
          res.iterations, sl_strerror(want_st), sl_stop_reason_name(want_reason), want_istop,
          want_iterations, sl_last_error(ctx));
    cplx *got = gathered(ctx, x, dt, k);
    CHECK(all_finite(got, k), "%s %s: x holds NaN or Inf", what, sl_dtype_name(dt));
    if (want_x && norm2(want_x, k) == 0)
        CHECK(norm2(got, k) == 0, "%s %s: x is not 0 (||x|| = %g)", what, sl_dtype_name(dt),
              norm2(got, k));
    else if (want_x)
        CHECK(th_rel_err(got, want_x, k) <= 10 * th_tol(dt), "%s %s: x rel err %g", what,
              sl_dtype_name(dt), th_rel_err(got, want_x, k));
    CHECK(want_st != SL_OK || (isfinite(res.r1norm) && isfinite(res.r2norm)),
          "%s: non-finite norms with SL_OK", what);
    free(got);
    sl_solve_result_free(&res);
}

static const sl_solver_opts defaults = {.niter = 5};
static const sl_solver_opts no_tests = {.niter = 5, .tol = SL_TOL_NONE, .atol = SL_TOL_NONE,
                                        .btol = SL_TOL_NONE, .conlim = SL_TOL_NONE};

/* Identity: one step solves it exactly; the next step's denominator is 0/0. */
static void test_exact(sl_context *ctx, sl_dtype dt)
{
    size_t n = 20;
    cplx *yv = malloc(n * sizeof(cplx)), zero[20] = {0};
    th_random(yv, n, sl_dtype_is_complex(dt), 5);
    th_round(dt, yv, n);
    sl_darray *like = NULL, *y = NULL, *x = NULL;
    size_t shape[1] = {n};
    CHECK_OK(sl_darray_create(ctx, dt, 1, shape, SL_SCATTER, 0, NULL, NULL, &like), ctx);
    sl_op *id = NULL;
    CHECK_OK(sl_op_identity(like, &id), ctx);
    y = vector_of(ctx, id, 0, dt, yv, n);
    CHECK_OK(sl_op_create_model(id, &x), ctx);
    expect_solve(ctx, "CGLS identity (defaults)", sl_cgls, id, y, x, dt, n, &defaults, SL_OK,
                 SL_STOP_CONVERGED, 1, 1, yv);
    expect_solve(ctx, "CGLS identity (no tol)", sl_cgls, id, y, x, dt, n, &no_tests, SL_OK,
                 SL_STOP_BREAKDOWN, 3, 1, yv);
    expect_solve(ctx, "CG identity (no tol)", sl_cg, id, y, x, dt, n, &no_tests, SL_OK,
                 SL_STOP_BREAKDOWN, 3, 1, yv);
    expect_solve(ctx, "LSQR identity (defaults)", sl_lsqr, id, y, x, dt, n, &defaults, SL_OK,
                 SL_STOP_CONVERGED, 1, -1, yv); /* 1 iteration, 2 in single precision */
    /* zero data: x = 0 is the answer (PyLops' kold > tol guard; scipy's istop 0) */
    sl_darray_zeros(y);
    expect_solve(ctx, "CGLS zero data (defaults)", sl_cgls, id, y, x, dt, n, &defaults, SL_OK,
                 SL_STOP_CONVERGED, 1, 0, zero);
    expect_solve(ctx, "CGLS zero data (no tol)", sl_cgls, id, y, x, dt, n, &no_tests, SL_OK,
                 SL_STOP_BREAKDOWN, 3, 0, zero);
    expect_solve(ctx, "CG zero data (no tol)", sl_cg, id, y, x, dt, n, &no_tests, SL_OK,
                 SL_STOP_BREAKDOWN, 3, 0, zero);
    expect_solve(ctx, "LSQR zero data (defaults)", sl_lsqr, id, y, x, dt, n, &defaults, SL_OK,
                 SL_STOP_CONVERGED, 0, 0, zero);
    expect_solve(ctx, "LSQR zero data (no tests)", sl_lsqr, id, y, x, dt, n, &no_tests, SL_OK,
                 SL_STOP_CONVERGED, 0, 0, zero);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    sl_darray_destroy(like);
    sl_op_destroy(id);
    free(yv);
}

/* A zero operator, and NaN in the data: no NaN in x, a reason, and an error for NaN. */
static void test_zero_operator_and_nan(sl_context *ctx, sl_dtype dt)
{
    size_t n = 14, k = 6;
    cplx *a = calloc(n * k, sizeof(cplx)), *yv = malloc(n * sizeof(cplx)), zero[6] = {0};
    th_random(yv, n, sl_dtype_is_complex(dt), 9);
    th_round(dt, yv, n);
    sl_op *op = matrix_op(ctx, dt, a, n, k);
    if (!op) return;
    sl_darray *y = vector_of(ctx, op, 0, dt, yv, n), *x = NULL;
    CHECK_OK(sl_op_create_model(op, &x), ctx);
    expect_solve(ctx, "CGLS zero operator (defaults)", sl_cgls, op, y, x, dt, k, &defaults,
                 SL_OK, SL_STOP_CONVERGED, 1, 0, zero);
    expect_solve(ctx, "CGLS zero operator (no tol)", sl_cgls, op, y, x, dt, k, &no_tests, SL_OK,
                 SL_STOP_BREAKDOWN, 3, 0, zero);
    expect_solve(ctx, "LSQR zero operator", sl_lsqr, op, y, x, dt, k, &defaults, SL_OK,
                 SL_STOP_CONVERGED, 0, 0, zero);
    sl_op_destroy(op);
    sl_darray_destroy(y);
    /* NaN in the data of a regular operator: stops within one iteration, x stays x0 = 0 */
    th_random(a, n * k, sl_dtype_is_complex(dt), 10);
    for (size_t i = 0; i < k; i++) a[i * k + i] += 3;
    th_round(dt, a, n * k);
    op = matrix_op(ctx, dt, a, n, k);
    yv[n / 2] = NAN;
    y = vector_of(ctx, op, 0, dt, yv, n);
    expect_solve(ctx, "CGLS NaN data (defaults)", sl_cgls, op, y, x, dt, k, &defaults,
                 SL_ERR_NONFINITE, SL_STOP_NONFINITE, 4, 0, zero);
    CHECK(strstr(sl_last_error(ctx), "NaN") != NULL, "no NaN in the message: %s",
          sl_last_error(ctx));
    expect_solve(ctx, "CGLS NaN data (no tol)", sl_cgls, op, y, x, dt, k, &no_tests,
                 SL_ERR_NONFINITE, SL_STOP_NONFINITE, 4, 0, zero);
    expect_solve(ctx, "LSQR NaN data (defaults)", sl_lsqr, op, y, x, dt, k, &defaults,
                 SL_ERR_NONFINITE, SL_STOP_NONFINITE, 9, 0, zero);
    expect_solve(ctx, "LSQR NaN data (no tests)", sl_lsqr, op, y, x, dt, k, &no_tests,
                 SL_ERR_NONFINITE, SL_STOP_NONFINITE, 9, 0, zero);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    sl_op_destroy(op);
    free(a);
    free(yv);
}

/* min ||y - A x|| and the minimum-norm solution by LAPACK's SVD solver (any rank). */
static double min_residual(const cplx *a, const cplx *y, size_t n, size_t k, cplx *xmn)
{
    lapack_complex_double *aa = malloc(n * k * sizeof *aa), *b = calloc(n > k ? n : k, sizeof *b);
    double *sv = malloc(k * sizeof *sv);
    lapack_int rank;
    memcpy(aa, a, n * k * sizeof(cplx));
    memcpy(b, y, n * sizeof(cplx));
    LAPACKE_zgelsd(LAPACK_ROW_MAJOR, (int)n, (int)k, 1, aa, (int)k, b, 1, sv, 1e-12, &rank);
    memcpy(xmn, b, k * sizeof(cplx));
    cplx *ax = malloc(n * sizeof(cplx));
    th_matmul(a, n, k, 1, xmn, ax, 0);
    double r = 0;
    for (size_t i = 0; i < n; i++) r += pow(cabs(y[i] - ax[i]), 2);
    free(aa); free(b); free(sv); free(ax);
    return sqrt(r);
}

/* The reported norms are those of the returned x; on a singular system LSQR (defaults, and
 * with every user test off) stops near the minimum-norm solution instead of running away. */
static void test_honest_norms(sl_context *ctx)
{
    sl_dtype dt = SL_F64;
    size_t n = 10, k = 10;
    cplx a[100], yv[10], xmn[10];
    th_random(a, n * k, 0, 21);
    th_random(yv, n, 0, 22);
    for (size_t i = 0; i < n; i++) a[i * k + 9] = a[i * k + 8];  /* two equal columns */
    for (size_t j = 0; j < k; j++) a[9 * k + j] = a[8 * k + j];  /* two equal rows */
    double rmin = min_residual(a, yv, n, k, xmn);
    sl_op *op = matrix_op(ctx, dt, a, n, k);
    if (!op) return;
    sl_darray *y = vector_of(ctx, op, 0, dt, yv, n), *x = NULL;
    CHECK_OK(sl_op_create_model(op, &x), ctx);
    const sl_solver_opts runs[2] = {{.niter = 200},
                                    {.niter = 200, .atol = SL_TOL_NONE, .btol = SL_TOL_NONE,
                                     .conlim = SL_TOL_NONE}};
    for (int r = 0; r < 2; r++) {
        sl_solve_result res;
        CHECK_OK(sl_lsqr(op, y, x, &runs[r], &res), ctx);
        cplx *got = gathered(ctx, x, dt, k), ax[10];
        th_matmul(a, n, k, 1, got, ax, 0);
        double rtrue = 0;
        for (size_t i = 0; i < n; i++) rtrue += pow(cabs(yv[i] - ax[i]), 2);
        rtrue = sqrt(rtrue);
        CHECK(fabs(res.r1norm - rtrue) <= 1e-12 * rtrue,
              "LSQR singular run %d: r1norm %.17g but ||y - A x|| = %.17g", r, res.r1norm, rtrue);
        CHECK(fabs(rtrue - rmin) <= 1e-6 * rmin && norm2(got, k) <= 10 * norm2(xmn, k),
              "LSQR singular run %d (istop %d, %d its): ||y - A x|| %.17g vs min %.17g, "
              "||x|| %g vs min-norm %g", r, res.istop, res.iterations, rtrue, rmin,
              norm2(got, k), norm2(xmn, k));
        free(got);
    }
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    sl_op_destroy(op);

    /* CGLS 20 x 10, 200 iterations with the defaults: stops when converged, and the norm
     * reported is the true minimum (a run past convergence once ended at 3.5e14) */
    cplx b[200], yb[20], xb[10];
    th_random(b, 200, 0, 31);
    th_random(yb, 20, 0, 32);
    rmin = min_residual(b, yb, 20, 10, xb);
    op = matrix_op(ctx, dt, b, 20, 10);
    y = vector_of(ctx, op, 0, dt, yb, 20);
    CHECK_OK(sl_op_create_model(op, &x), ctx);
    sl_solve_result res;
    CHECK_OK(sl_cgls(op, y, x, &(sl_solver_opts){.niter = 200}, &res), ctx);
    CHECK(res.istop == 1 && res.iterations < 200 && fabs(res.r1norm - rmin) <= 1e-6 * rmin,
          "CGLS 20x10 defaults: istop %d after %d, r1norm %.17g vs %.17g", res.istop,
          res.iterations, res.r1norm, rmin);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    sl_op_destroy(op);
}

/* Ranks in different solvers: an error on every rank, not a hang; NaN tolerances refused. */
static void test_agreement(sl_context *ctx)
{
    size_t n = 8;
    sl_darray *like = NULL, *y = NULL, *x = NULL;
    CHECK_OK(sl_darray_create(ctx, SL_F64, 1, &n, SL_SCATTER, 0, NULL, NULL, &like), ctx);
    sl_op *id = NULL;
    CHECK_OK(sl_op_identity(like, &id), ctx);
    CHECK_OK(sl_op_create_data(id, &y), ctx);
    CHECK_OK(sl_op_create_model(id, &x), ctx);
    sl_darray_fill(y, 1.0);
    sl_solve_result res;
    int size;
    size = th_ctx(ctx).size;
    if (size > 1) {
        sl_status st = th_rank == 0 ? sl_cgls(id, y, x, &defaults, &res)
                                    : sl_lsqr(id, y, x, &defaults, &res);
        CHECK(st == SL_ERR_RANK_MISMATCH && strstr(sl_last_error(ctx), "different solvers"),
              "cgls on rank 0, lsqr elsewhere: %s (%s)", sl_strerror(st), sl_last_error(ctx));
        st = th_rank == 0 ? sl_cg(id, y, x, &defaults, &res) : sl_cgls(id, y, x, &defaults, &res);
        CHECK(st == SL_ERR_RANK_MISMATCH, "cg on rank 0, cgls elsewhere: %s", sl_strerror(st));
    }
    CHECK_STATUS(sl_cgls(id, y, x, &(sl_solver_opts){.niter = 3, .tol = NAN}, &res), SL_ERR_ARG,
                 ctx);
    CHECK_STATUS(sl_lsqr(id, y, x, &(sl_solver_opts){.niter = 3, .conlim = NAN}, &res),
                 SL_ERR_ARG, ctx);
    /* the NULL-argument error replaces the previous message */
    CHECK_STATUS(sl_darray_fill(NULL, 1.0), SL_ERR_NULL, ctx);
    CHECK(strstr(sl_last_error(ctx), "sl_darray_fill") != NULL, "sl_last_error after "
          "SL_ERR_NULL: %s", sl_last_error(ctx));
    CHECK_STATUS(sl_cgls(id, y, x, &(sl_solver_opts){.niter = -1}, &res), SL_ERR_ARG, ctx);
    CHECK(strstr(sl_last_error(ctx), "niter=-1") != NULL, "a context error after a NULL "
          "error: %s", sl_last_error(ctx));
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    sl_darray_destroy(like);
    sl_op_destroy(id);
}

static void no_fill(size_t r0, size_t c0, size_t rows, size_t cols, void *block, void *user)
{
    (void)r0; (void)c0; (void)rows; (void)cols; (void)block; (void)user;
}

/* Sizes whose byte counts overflow: a shape error naming the cause, on every rank. */
static void test_overflow(sl_context *ctx)
{
    sl_op *op = NULL;
    double a[4] = {0};
    CHECK_STATUS(sl_op_matrixmult(ctx, SL_F64, SIZE_MAX / 4, 4, 0, a, NULL, &op), SL_ERR_SHAPE,
                 ctx);
    CHECK(strstr(sl_last_error(ctx), "too large") != NULL, "matrixmult overflow: %s",
          sl_last_error(ctx));
    CHECK_STATUS(sl_op_matrixmult_summa(ctx, SL_F64, 100, 100, SIZE_MAX / 8, no_fill, NULL,
                                        NULL, &op), SL_ERR_SHAPE, ctx);
    CHECK(strstr(sl_last_error(ctx), "too large") != NULL, "summa overflow: %s",
          sl_last_error(ctx));
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    for (int d = 0; d < 4; d++) {
        test_exact(ctx, th_dtypes[d]);
        test_zero_operator_and_nan(ctx, th_dtypes[d]);
    }
    test_honest_norms(ctx);
    test_agreement(ctx);
    test_overflow(ctx);
    return th_end(ctx, "test_solver_guards");
}
