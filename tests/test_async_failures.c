/* Failures inside tasks reach the caller (issue 14): a communication failure on one rank,
 * raised through the comm layer's test hook (sl_comm_inject_failure, as a failed operation
 * counts itself), is reported by sl_scalar_get on that rank, poisons the context's reductions
 * on every rank, and makes CGLS and LSQR return SL_ERR_MPI with the communication reason on
 * every rank, without a hang and without NaN in x, whether the host watches every iteration
 * or not. SL_TRY's trace: a message says which path it took back to the caller.
 * Each case gets a fresh context (a failure poisons its context for good), so this
 * test owns MPI, as test_context does. */
#include <complex.h>
#include <string.h>

#include "harness.h"
#include "runtime/context_internal.h"
#include "runtime/try.h"

static int size;

static sl_context *fresh_context(void)
{
    sl_context *ctx = NULL;
    if (sl_init_comm(MPI_COMM_WORLD, &ctx) != SL_OK) {
        fprintf(stderr, "sl_init_comm failed: %s\n", sl_init_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    return ctx;
}

/* sl_scalar_get after a failure: SL_ERR_MPI once on the failing rank; the next reduction is
 * NaN everywhere when ranks combine (at 1 rank nothing is combined: the value stays exact). */
static void test_scalar_get(void)
{
    sl_context *ctx = fresh_context();
    size_t shape[1] = {10};
    sl_darray *v = NULL;
    CHECK_OK(sl_darray_create(ctx, SL_F64, 1, shape, SL_SCATTER, 0, NULL, NULL, &v), ctx);
    CHECK_OK(sl_darray_fill(v, 2.0), ctx);
    int failing = size - 1;
    if (th_rank == failing)
        sl_comm_inject_failure(ctx->comm);
    sl_scalar *d = NULL;
    CHECK_OK(sl_darray_dot(v, v, &d), ctx);
    double _Complex value = 0;
    sl_status st = sl_scalar_get(d, &value);
    if (th_rank == failing)
        CHECK(st == SL_ERR_MPI && strstr(sl_last_error(ctx), "communication"),
              "sl_scalar_get after a failure: %s (%s)", sl_strerror(st), sl_last_error(ctx));
    else
        CHECK(st == SL_OK, "sl_scalar_get on a rank without failure: %s", sl_strerror(st));
    if (size > 1)
        CHECK(isnan(creal(value)), "a reduction after a failure on rank %d is %g, not NaN",
              failing, creal(value));
    else
        CHECK(creal(value) == 40.0, "1 rank: dot = %g, expected 40", creal(value));
    CHECK_OK(sl_scalar_get(d, &value), ctx); /* reported once */
    CHECK_OK(sl_wait(ctx), ctx);
    sl_scalar_destroy(d);
    sl_darray_destroy(v);
    CHECK_OK(sl_finalize(ctx), NULL);
}

typedef struct injection {
    sl_context *ctx;
    int iteration, rank;
} injection;

static void inject_at(int iteration, const sl_darray *x, void *arg)
{
    (void)x;
    const injection *j = arg;
    if (iteration == j->iteration && th_rank == j->rank)
        sl_comm_inject_failure(j->ctx->comm);
}

typedef sl_status (*solver_fn)(const sl_op *, const sl_darray *, sl_darray *,
                               const sl_solver_opts *, sl_solve_result *);

/* A diagonally dominant n x k MatrixMult (rows split as evenly as possible): CGLS and LSQR
 * need about k iterations, so a failure at iteration 2 lands mid-solve. */
static sl_op *dominant_matrix(sl_context *ctx, sl_dtype dt, size_t n, size_t k)
{
    size_t rows = n / (size_t)size + ((size_t)th_rank < n % (size_t)size), row0 = 0;
    for (int r = 0; r < th_rank; r++)
        row0 += n / (size_t)size + ((size_t)r < n % (size_t)size);
    cplx *a = malloc(rows * k * sizeof(cplx) + 1);
    th_random(a, rows * k, sl_dtype_is_complex(dt), 11 + row0);
    for (size_t i = 0; i < rows; i++)
        if (row0 + i < k)
            a[i * k + row0 + i] += 4.0;
    void *raw = malloc(rows * k * sl_dtype_size(dt) + 1);
    th_to_dtype(dt, a, raw, rows * k);
    sl_op *op = NULL;
    CHECK_OK(sl_op_matrixmult(ctx, dt, n, k, 0, raw, NULL, &op), ctx);
    free(raw);
    free(a);
    return op;
}

/* One solve in a fresh context, the failure raised on rank `rank` after iteration `at` (0:
 * before the solve, from the host). `watch`: the default tests (the host reads every
 * iteration) or none (only the callback synchronises). */
static void solve_with_failure(const char *name, solver_fn solve, int lsqr, sl_dtype dt,
                               int at, int rank, int watch)
{
    sl_context *ctx = fresh_context();
    size_t n = 23, k = 17;
    sl_op *op = dominant_matrix(ctx, dt, n, k);
    sl_darray *y = NULL, *x = NULL;
    CHECK_OK(sl_op_create_data(op, &y), ctx);
    CHECK_OK(sl_op_create_model(op, &x), ctx);
    CHECK_OK(sl_darray_fill(y, 1.0), ctx);
    injection j = {ctx, at, rank};
    sl_solver_opts o = {.niter = 40, .callback = inject_at, .callback_arg = &j};
    if (!watch)
        o.tol = o.atol = o.btol = o.conlim = SL_TOL_NONE;
    if (at == 0 && th_rank == rank)
        sl_comm_inject_failure(ctx->comm);
    sl_solve_result res;
    sl_status st = solve(op, y, x, &o, &res);
    CHECK(st == SL_ERR_MPI && res.reason == SL_STOP_COMM && res.istop == (lsqr ? 10 : 5),
          "%s %s, failure on rank %d at iteration %d%s: %s, reason %s, istop %d (%s)", name,
          sl_dtype_name(dt), rank, at, watch ? "" : ", no tests", sl_strerror(st),
          sl_stop_reason_name(res.reason), res.istop, sl_last_error(ctx));
    if (size > 1) /* at 1 rank nothing is combined, so nothing is poisoned: the solve goes on */
        CHECK(res.iterations < 40, "%s: ran all %d iterations after the failure", name,
              res.iterations);
    void *raw = malloc(k * sl_dtype_size(dt) + 1);
    cplx *got = malloc(k * sizeof(cplx));
    CHECK_OK(sl_darray_gather(x, SL_ALL_RANKS, raw), ctx);
    th_from_dtype(dt, raw, got, k);
    int finite = 1;
    for (size_t i = 0; i < k; i++)
        finite &= isfinite(creal(got[i])) && isfinite(cimag(got[i]));
    CHECK(finite, "%s %s: x holds NaN or Inf after a communication failure", name,
          sl_dtype_name(dt));
    free(raw);
    free(got);
    sl_solve_result_free(&res);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    sl_op_destroy(op);
    CHECK_OK(sl_finalize(ctx), NULL);
}

static sl_status inner_fails(sl_context *ctx)
{
    return sl_fail(ctx, SL_ERR_ARG, "inner: bad value");
}
static sl_status middle(sl_context *ctx)
{
    SL_TRY(inner_fails(ctx));
    return SL_OK;
}
static sl_status outer(sl_context *ctx)
{
    SL_TRY(middle(ctx));
    return SL_OK;
}
static sl_status bare_nomem(void)
{
    return SL_ERR_NOMEM; /* a status without a message of its own */
}
static sl_status outer_bare(void)
{
    SL_TRY(bare_nomem());
    return SL_OK;
}

/* The trace follows its message and no other. */
static void test_trace(void)
{
    sl_context *ctx = fresh_context();
    CHECK(outer(ctx) == SL_ERR_ARG, "outer: status");
    const char *m = sl_last_error(ctx);
    CHECK(strstr(m, "inner: bad value [via middle (") && strstr(m, ") < outer (") &&
              strstr(m, "test_async_failures.c:"), "trace: %s", m);
    CHECK(outer_bare() == SL_ERR_NOMEM, "outer_bare: status");
    CHECK(!strstr(sl_last_error(ctx), "outer_bare"), "a bare status joined another error's "
          "trace: %s", sl_last_error(ctx));
    sl_fail(ctx, SL_ERR_SHAPE, "a later error");
    CHECK(strcmp(sl_last_error(ctx), "a later error") == 0, "an old trace leaked: %s",
          sl_last_error(ctx));
    CHECK_OK(sl_finalize(ctx), NULL);
}

int main(int argc, char **argv)
{
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &th_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    test_trace();
    test_scalar_get();
    solve_with_failure("sl_cgls", sl_cgls, 0, SL_F64, 2, size - 1, 1);
    solve_with_failure("sl_cgls", sl_cgls, 0, SL_C64, 3, 0, 0);
    solve_with_failure("sl_lsqr", sl_lsqr, 1, SL_F32, 2, 0, 1);
    solve_with_failure("sl_lsqr", sl_lsqr, 1, SL_C128, 1, size - 1, 0);
    solve_with_failure("sl_cgls", sl_cgls, 0, SL_F64, 0, size - 1, 1);
    int rc = th_finish(MPI_COMM_WORLD, "test_async_failures");
    MPI_Finalize();
    return rc;
}
