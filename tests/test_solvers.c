/* Solvers against direct least-squares solutions (LAPACKE zgels on the same rounded data) and
 * against a plain serial CGLS written here; host synchronisation counts. Every dtype, vector
 * and multiple right-hand sides, even and uneven row splits. */
#include <lapacke.h>

#include "harness.h"

typedef struct problem {
    size_t n, k, m; /* A is n x k, m right-hand sides */
    cplx *a, *y;    /* row-major */
} problem;

/* Random, well-conditioned: a strong diagonal in the top k x k block. */
static problem make_problem(sl_dtype dt, size_t n, size_t k, size_t m)
{
    problem p = {n, k, m, malloc(n * k * sizeof(cplx)), malloc(n * m * sizeof(cplx))};
    th_random(p.a, n * k, sl_dtype_is_complex(dt), 41);
    for (size_t i = 0; i < k; i++) p.a[i * k + i] += 4.0;
    th_random(p.y, n * m, sl_dtype_is_complex(dt), 42);
    th_round(dt, p.a, n * k);
    th_round(dt, p.y, n * m);
    return p;
}

/* min ||y - A x||^2 + damp^2 ||x||^2 via zgels on [A; damp I] (k x m solution). */
static void direct_solution(const problem *p, double damp, cplx *x)
{
    size_t rows = p->n + (damp != 0 ? p->k : 0);
    lapack_complex_double *a = calloc(rows * p->k, sizeof *a), *b = calloc(rows * p->m, sizeof *b);
    memcpy(a, p->a, p->n * p->k * sizeof(cplx));
    memcpy(b, p->y, p->n * p->m * sizeof(cplx));
    for (size_t i = 0; damp != 0 && i < p->k; i++) a[(p->n + i) * p->k + i] = damp;
    LAPACKE_zgels(LAPACK_ROW_MAJOR, 'N', (int)rows, (int)p->k, (int)p->m, a, (int)p->k, b,
                  (int)p->m);
    memcpy(x, b, p->k * p->m * sizeof(cplx));
    free(a);
    free(b);
}

static void matmul(const problem *p, const cplx *in, cplx *out, int adjoint)
{
    size_t rows = adjoint ? p->k : p->n, inner = adjoint ? p->n : p->k;
    for (size_t i = 0; i < rows; i++)
        for (size_t c = 0; c < p->m; c++) {
            cplx s = 0;
            for (size_t j = 0; j < inner; j++)
                s += (adjoint ? conj(p->a[j * p->k + i]) : p->a[i * p->k + j]) * in[j * p->m + c];
            out[i * p->m + c] = s;
        }
}

static cplx vdot(const cplx *a, const cplx *b, size_t n)
{
    cplx s = 0;
    for (size_t i = 0; i < n; i++) s += conj(a[i]) * b[i];
    return s;
}

/* The textbook CGLS, serially, for `niter` iterations from x = 0. */
static void serial_cgls(const problem *p, double damp, int niter, cplx *x)
{
    size_t nk = p->k * p->m, nn = p->n * p->m;
    cplx *s = malloc(nn * sizeof(cplx)), *q = malloc(nn * sizeof(cplx));
    cplx *r = malloc(nk * sizeof(cplx)), *c = malloc(nk * sizeof(cplx));
    memset(x, 0, nk * sizeof(cplx));
    memcpy(s, p->y, nn * sizeof(cplx));
    matmul(p, s, r, 1);
    memcpy(c, r, nk * sizeof(cplx));
    matmul(p, c, q, 0);
    double kold = creal(vdot(r, r, nk));
    for (int it = 0; it < niter; it++) {
        double a = kold / (creal(vdot(q, q, nn)) + damp * damp * creal(vdot(c, c, nk)));
        for (size_t i = 0; i < nk; i++) x[i] += a * c[i];
        for (size_t i = 0; i < nn; i++) s[i] -= a * q[i];
        matmul(p, s, r, 1);
        for (size_t i = 0; i < nk; i++) r[i] -= damp * damp * x[i];
        double k = creal(vdot(r, r, nk)), b = k / kold;
        for (size_t i = 0; i < nk; i++) c[i] = r[i] + b * c[i];
        matmul(p, c, q, 0);
        kold = k;
    }
    free(s); free(q); free(r); free(c);
}

static sl_op *distribute(sl_context *ctx, sl_dtype dt, const problem *p, size_t nrhs,
                         int uneven, sl_darray **y)
{
    int size;
    size = th_ctx(ctx).size;
    size_t sizes[64], row0 = 0;
    for (int r = 0; r < size; r++) sizes[r] = p->n / (size_t)size + ((size_t)r < p->n % (size_t)size);
    if (uneven && size > 1) { sizes[size - 1] += sizes[0]; sizes[0] = 0; }
    for (int r = 0; r < th_rank; r++) row0 += sizes[r];
    void *mine = malloc(sizes[th_rank] * p->k * sl_dtype_size(dt) + 1);
    th_to_dtype(dt, p->a + row0 * p->k, mine, sizes[th_rank] * p->k);
    sl_op *op = NULL;
    CHECK_OK(sl_op_matrixmult(ctx, dt, p->n, p->k, nrhs, mine, sizes, &op), ctx);
    free(mine);
    if (op) {
        CHECK_OK(sl_op_create_data(op, y), ctx);
        void *raw = malloc(p->n * p->m * sl_dtype_size(dt));
        th_to_dtype(dt, p->y, raw, p->n * p->m);
        CHECK_OK(sl_darray_from_global(*y, raw), ctx);
        free(raw);
    }
    return op;
}

static void expect_close(sl_context *ctx, sl_dtype dt, const sl_darray *x, const cplx *want,
                         size_t n, double tol, const char *what)
{
    void *raw = malloc(n * sl_dtype_size(dt));
    cplx *got = malloc(n * sizeof(cplx));
    CHECK_OK(sl_darray_gather(x, SL_ALL_RANKS, raw), ctx);
    th_from_dtype(dt, raw, got, n);
    double e = th_rel_err(got, want, n);
    CHECK(e <= tol, "%s %s: rel err %g (tol %g)", what, sl_dtype_name(dt), e, tol);
    free(raw);
    free(got);
}

static int single(sl_dtype dt) { return dt == SL_F32 || dt == SL_C64; }

/* r1norm = ||y - A x|| and r2norm = sqrt(r1^2 + damp^2 ||x||^2) of the direct solution. */
static void expect_norms(const problem *p, const cplx *x, double damp, const sl_solve_result *res,
                         double rtol, const char *what)
{
    cplx *ax = malloc(p->n * p->m * sizeof(cplx));
    matmul(p, x, ax, 0);
    double r1 = 0, xx = 0;
    for (size_t i = 0; i < p->n * p->m; i++) r1 += pow(cabs(p->y[i] - ax[i]), 2);
    for (size_t i = 0; i < p->k * p->m; i++) xx += pow(cabs(x[i]), 2);
    r1 = sqrt(r1);
    double r2 = sqrt(r1 * r1 + damp * damp * xx);
    CHECK(fabs(res->r1norm - r1) <= rtol * r1, "%s: r1norm %.12g vs %.12g", what, res->r1norm, r1);
    CHECK(fabs(res->r2norm - r2) <= rtol * r2, "%s: r2norm %.12g vs %.12g", what, res->r2norm, r2);
    free(ax);
}

static void test_cgls(sl_context *ctx, sl_dtype dt, size_t nrhs, int uneven, double damp)
{
    problem p = make_problem(dt, 40, 12, nrhs ? nrhs : 1);
    sl_darray *y = NULL, *x = NULL;
    sl_op *op = distribute(ctx, dt, &p, nrhs, uneven, &y);
    if (!op) return;
    CHECK_OK(sl_op_create_model(op, &x), ctx);
    cplx *want = malloc(p.k * p.m * sizeof(cplx));
    direct_solution(&p, damp, want);
    sl_solver_opts o = {.niter = 100, .tol = single(dt) ? 1e-10 : 1e-26, .damp = damp};
    sl_solve_result res;
    CHECK_OK(sl_cgls(op, y, x, &o, &res), ctx);
    char what[96];
    snprintf(what, sizeof what, "CGLS vs gels nrhs=%zu damp=%g %s", nrhs, damp,
             uneven ? "uneven" : "balanced");
    expect_close(ctx, dt, x, want, p.k * p.m, single(dt) ? 2e-4 : 1e-8, what);
    CHECK(res.istop == 1 && res.iterations > 0 && res.iterations < 100, "%s: istop %d after %d",
          what, res.istop, res.iterations);
    expect_norms(&p, want, damp, &res, single(dt) ? 1e-4 : 1e-9, what);

    /* the iterates after 10 iterations match a serial CGLS */
    if (!single(dt)) {
        sl_solver_opts ten = {.niter = 10, .damp = damp, .tol = SL_TOL_NONE};
        sl_solve_result r10;
        serial_cgls(&p, damp, 10, want);
        CHECK_OK(sl_cgls(op, y, x, &ten, &r10), ctx);
        snprintf(what, sizeof what, "CGLS 10 iterations vs serial nrhs=%zu damp=%g", nrhs, damp);
        expect_close(ctx, dt, x, want, p.k * p.m, 1e-10, what);
        CHECK(r10.iterations == 10 && r10.istop == 2, "%s: %d iterations", what, r10.iterations);
    }
    free(want);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    sl_op_destroy(op);
    free(p.a);
    free(p.y);
}

/* LSQR with its stopping tests, against the direct solution; then a run without tests. */
static void test_lsqr(sl_context *ctx, sl_dtype dt, size_t nrhs, int uneven, double damp)
{
    problem p = make_problem(dt, 40, 12, nrhs ? nrhs : 1);
    sl_darray *y = NULL, *x = NULL;
    sl_op *op = distribute(ctx, dt, &p, nrhs, uneven, &y);
    if (!op) return;
    CHECK_OK(sl_op_create_model(op, &x), ctx);
    cplx *want = malloc(p.k * p.m * sizeof(cplx));
    direct_solution(&p, damp, want);
    double tol = single(dt) ? 1e-7 : 1e-15;
    sl_solver_opts o = {.niter = 200, .damp = damp, .atol = tol, .btol = tol, .conlim = 1e12,
                        .history = 1};
    sl_solve_result res;
    CHECK_OK(sl_lsqr(op, y, x, &o, &res), ctx);
    char what[96];
    snprintf(what, sizeof what, "LSQR vs gels nrhs=%zu damp=%g %s", nrhs, damp,
             uneven ? "uneven" : "balanced");
    expect_close(ctx, dt, x, want, p.k * p.m, single(dt) ? 2e-4 : 1e-8, what);
    CHECK(res.istop >= 1 && res.istop <= 2 && res.iterations < 200 &&
              res.ncost == res.iterations,
          "%s: istop %d after %d iterations, %d costs", what, res.istop, res.iterations,
          res.ncost);
    expect_norms(&p, want, damp, &res, single(dt) ? 1e-3 : 1e-7, what);
    sl_solve_result_free(&res);
    /* user tests off: only the machine-precision tests (4-6, in the tasks) or niter stop it;
     * no iteration waits: one read of the final state, two of the final norms */
    unsigned long before, after;
    before = th_ctx(ctx).host_waits;
    sl_solver_opts off = {.niter = 40, .damp = damp, .atol = SL_TOL_NONE, .btol = SL_TOL_NONE,
                          .conlim = SL_TOL_NONE};
    CHECK_OK(sl_lsqr(op, y, x, &off, &res), ctx);
    after = th_ctx(ctx).host_waits;
    CHECK(res.istop >= 4 && res.istop <= 7 && res.iterations <= 40 && after - before == 3 &&
              (res.istop == 7) == (res.iterations == 40),
          "LSQR without user tests: istop %d, %d iterations, %lu waits", res.istop,
          res.iterations, after - before);
    expect_close(ctx, dt, x, want, p.k * p.m, single(dt) ? 2e-4 : 1e-8, "LSQR 40 iterations");
    CHECK_STATUS(sl_lsqr(op, y, x, &(sl_solver_opts){.niter = 5, .atol = NAN}, &res), SL_ERR_ARG,
                 ctx);
    free(want);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    sl_op_destroy(op);
    free(p.a);
    free(p.y);
}

/* CG on the normal operator A^H A with A^H y: the least-squares solution again. */
static void test_cg(sl_context *ctx, sl_dtype dt)
{
    problem p = make_problem(dt, 30, 9, 1);
    sl_darray *y = NULL, *b = NULL, *x = NULL;
    sl_op *op = distribute(ctx, dt, &p, 0, 1, &y), *h = NULL, *normal = NULL;
    if (!op) return;
    CHECK_OK(sl_op_adjoint(op, &h), ctx);
    CHECK_OK(sl_op_product(h, op, &normal), ctx);
    CHECK_OK(sl_op_create_model(op, &b), ctx);
    CHECK_OK(sl_op_create_model(op, &x), ctx);
    CHECK_OK(sl_op_rmatvec(op, y, b), ctx);
    cplx *want = malloc(p.k * sizeof(cplx));
    direct_solution(&p, 0, want);
    sl_solver_opts o = {.niter = 60, .tol = single(dt) ? 1e-9 : 1e-24, .history = 1};
    sl_solve_result res;
    CHECK_OK(sl_cg(normal, b, x, &o, &res), ctx);
    expect_close(ctx, dt, x, want, p.k, single(dt) ? 2e-4 : 1e-8, "CG on A^H A");
    CHECK(res.istop == 1 && res.ncost == res.iterations, "CG: istop %d, %d costs for %d its",
          res.istop, res.ncost, res.iterations);
    sl_solve_result bad;
    CHECK_STATUS(sl_cg(op, y, x, &o, &bad), SL_ERR_SHAPE, ctx); /* not square */
    sl_solve_result_free(&res);
    free(want);
    sl_darray_destroy(x);
    sl_darray_destroy(b);
    sl_darray_destroy(y);
    sl_op_destroy(normal);
    sl_op_destroy(h);
    sl_op_destroy(op);
    free(p.a);
    free(p.y);
}

/* tol off: no host wait inside the iterations (the guard and the two final norms at the end);
 * tol > 0: one per iteration plus the initial check. */
static void test_host_waits(sl_context *ctx)
{
    problem p = make_problem(SL_F64, 24, 8, 1);
    sl_darray *y = NULL, *x = NULL;
    sl_op *op = distribute(ctx, SL_F64, &p, 0, 0, &y);
    if (!op) return;
    CHECK_OK(sl_op_create_model(op, &x), ctx);
    unsigned long before, after;
    sl_solve_result res;
    before = th_ctx(ctx).host_waits;
    CHECK_OK(sl_cgls(op, y, x, &(sl_solver_opts){.niter = 7, .tol = SL_TOL_NONE}, &res), ctx);
    after = th_ctx(ctx).host_waits;
    CHECK(after - before == 3, "tol off: %lu host waits for 7 iterations (expected 3)",
          after - before);
    before = th_ctx(ctx).host_waits;
    CHECK_OK(sl_cgls(op, y, x, &(sl_solver_opts){.niter = 5, .tol = 1e-300}, &res), ctx);
    after = th_ctx(ctx).host_waits;
    CHECK(after - before == 1 + 5 + 3, "tol>0: %lu host waits for 5 iterations (expected 9)",
          after - before);
    before = th_ctx(ctx).host_waits;
    CHECK_OK(sl_cgls(op, y, x, &(sl_solver_opts){.niter = 6, .history = 1, .tol = SL_TOL_NONE},
                     &res), ctx);
    after = th_ctx(ctx).host_waits;
    CHECK(res.ncost == 6 && after - before == 6 + 3, "history: %d costs, %lu waits", res.ncost,
          after - before);
    sl_solve_result_free(&res);
    CHECK_STATUS(sl_cgls(op, y, x, &(sl_solver_opts){.niter = -1}, &res), SL_ERR_ARG, ctx);
    int size;
    size = th_ctx(ctx).size;
    if (size > 1) /* ranks asking for different iteration counts: an error, not a hang */
        CHECK_STATUS(sl_cgls(op, y, x, &(sl_solver_opts){.niter = 3 + th_rank}, &res),
                     SL_ERR_RANK_MISMATCH, ctx);
    CHECK_STATUS(sl_cgls(op, x, y, NULL, &res), SL_ERR_SHAPE, ctx);
    CHECK_STATUS(sl_cgls(op, y, x, NULL, NULL), SL_ERR_NULL, ctx);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    sl_op_destroy(op);
    free(p.a);
    free(p.y);
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    for (int d = 0; d < 4; d++) {
        sl_dtype dt = th_dtypes[d];
        test_cgls(ctx, dt, 0, 0, 0.0);
        test_cgls(ctx, dt, 0, 1, 0.7);
        test_cgls(ctx, dt, 3, 1, 0.0);
        test_cg(ctx, dt);
        test_lsqr(ctx, dt, 0, 0, 0.0);
        test_lsqr(ctx, dt, 0, 1, 0.7);
        test_lsqr(ctx, dt, 2, 1, 0.0);
    }
    test_host_waits(ctx);
    return th_end(ctx, "test_solvers");
}
