/* The NCCL backend (STARLOPS_COMM=nccl) where a machine has one GPU:
 *   one:    at 1 rank, sl_init sets the backend up (NCCL communicator from a unique id sent
 *           over MPI) and arrays and a CGLS on CUDA workers give the results of the mpi
 *           backend (at one rank NCCL has nothing to combine: the set-up is what runs); the
 *           backend asks for ordered transfers and refuses lone sends and receives, and a
 *           SUMMA MatrixMult built for it (process rows' and columns' communicators) gives the
 *           product.
 *   shared: at 2 ranks on one GPU (NCCL refuses two ranks on one GPU), sl_init fails on every
 *           rank with SL_ERR_UNSUPPORTED and a message naming the shared GPU: never a hang,
 *           never NCCL's own abort.
 * The backend's data paths need a GPU per rank (the multi-GPU plan in docs/gpu.md). Without a
 * CUDA device (probed with the mpi backend first) it prints "skipped: no CUDA device" and exits
 * 77 (ctest: not run). */
#include <starpu.h>

#include "gpu_harness.h"
#include "runtime/context_internal.h"

/* 1 if this process gets a CUDA worker (a context with the default backend, then closed). */
static int have_cuda(void)
{
    char saved[64] = "";
    snprintf(saved, sizeof saved, "%s", getenv("STARLOPS_COMM") ? getenv("STARLOPS_COMM") : "");
    unsetenv("STARLOPS_COMM");
    sl_context *probe = NULL;
    int have = 0;
    if (sl_init_comm(MPI_COMM_WORLD, &probe) == SL_OK) {
        have = starpu_cuda_worker_get_count() > 0;
        sl_finalize(probe);
    }
    if (saved[0])
        setenv("STARLOPS_COMM", saved, 1);
    int all = 0;
    MPI_Allreduce(&have, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all;
}

static void fill_a(size_t row0, size_t col0, size_t rows, size_t cols, void *block, void *user)
{
    (void)user;
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            ((double *)block)[r * cols + c] = (double)(row0 + r) - 0.5 * (double)(col0 + c);
}

/* Ordered transfers under nccl: no lone send, and SUMMA (several panels) forward and adjoint
 * against the product computed here. */
static void check_ordered(sl_context *ctx)
{
    CHECK(sl_ordered_transfers(ctx), "nccl does not ask for ordered transfers");
    double one = 1;
    starpu_data_handle_t h;
    starpu_vector_data_register(&h, STARPU_MAIN_RAM, (uintptr_t)&one, 1, sizeof one);
    CHECK(sl_comm_send(ctx->comm, h, 0, 1000, ctx->task_comm) == SL_ERR_UNSUPPORTED,
          "nccl accepted a lone send");
    starpu_data_unregister(h);
    enum { N = 7, K = 5, M = 3 };
    sl_summa_opts o = {1, 1, 3, 2, 2, 1, 0};
    sl_op *op = NULL;
    CHECK_OK(sl_op_matrixmult_summa(ctx, SL_F64, N, K, M, fill_a, NULL, &o, &op), ctx);
    if (!op)
        return;
    double x[K * M], y[N * M], got_y[N * M], got_x[K * M], want_x[K * M] = {0};
    for (int i = 0; i < K * M; i++)
        x[i] = 1.0 + i % 4;
    for (int i = 0; i < N * M; i++)
        y[i] = 0.25 * (i % 5) - 0.5;
    sl_darray *dx = NULL, *dy = NULL;
    CHECK_OK(sl_op_create_model(op, &dx), ctx);
    CHECK_OK(sl_op_create_data(op, &dy), ctx);
    CHECK_OK(sl_matrixmult_scatter(op, SL_SIDE_MODEL, x, dx), ctx);
    CHECK_OK(sl_op_matvec(op, dx, dy), ctx);
    CHECK_OK(sl_matrixmult_gather(op, SL_SIDE_DATA, dy, SL_ALL_RANKS, got_y), ctx);
    CHECK_OK(sl_matrixmult_scatter(op, SL_SIDE_DATA, y, dy), ctx);
    CHECK_OK(sl_op_rmatvec(op, dy, dx), ctx);
    CHECK_OK(sl_matrixmult_gather(op, SL_SIDE_MODEL, dx, SL_ALL_RANKS, got_x), ctx);
    double err = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < M; j++) {
            double want = 0;
            for (int l = 0; l < K; l++) {
                double a = (double)i - 0.5 * (double)l;
                want += a * x[l * M + j];
                want_x[l * M + j] += a * y[i * M + j];
            }
            err = fmax(err, fabs(got_y[i * M + j] - want));
        }
    for (int i = 0; i < K * M; i++)
        err = fmax(err, fabs(got_x[i] - want_x[i]));
    CHECK(err <= 1e-12, "SUMMA under nccl: error %g", err);
    sl_darray_destroy(dx);
    sl_darray_destroy(dy);
    sl_op_destroy(op);
}

/* x = 1..n, y = 1/(i+1): dot = n exactly; and a tiny CGLS on a diagonal operator. */
static void check_one(void)
{
    sl_context *ctx = NULL;
    sl_status st = sl_init_comm(MPI_COMM_WORLD, &ctx);
    CHECK(st == SL_OK, "sl_init with STARLOPS_COMM=nccl: %s (%s)", sl_strerror(st),
          sl_init_error());
    if (!ctx)
        return;
    CHECK(th_ctx(ctx).comm_kind == SL_COMM_NCCL, "backend %d", (int)th_ctx(ctx).comm_kind);
    size_t n = 1000;
    sl_darray *x = NULL, *y = NULL, *d = NULL;
    CHECK_OK(sl_darray_create(ctx, SL_F64, 1, &n, SL_SCATTER, 0, NULL, NULL, &x), ctx);
    CHECK_OK(sl_darray_create_like(x, &y), ctx);
    CHECK_OK(sl_darray_create_like(x, &d), ctx);
    double *gx = malloc(n * sizeof *gx), *gy = malloc(n * sizeof *gy);
    for (size_t i = 0; i < n; i++) {
        gx[i] = (double)(i + 1);
        gy[i] = 1.0 / (double)(i + 1);
    }
    CHECK_OK(sl_darray_from_global(x, gx), ctx);
    CHECK_OK(sl_darray_from_global(y, gy), ctx);
    sl_scalar *dot = NULL;
    double v = 0;
    CHECK_OK(sl_darray_dot(x, y, &dot), ctx);
    CHECK_OK(sl_scalar_get_real(dot, &v), ctx);
    CHECK(fabs(v - (double)n) <= 1e-12 * (double)n, "dot %.17g, expected %zu", v, n);
    sl_scalar_destroy(dot);
    check_ordered(ctx);
    /* CGLS on diag(x): the solution of diag(x) m = 1 is y */
    sl_op *op = NULL;
    CHECK_OK(sl_darray_fill(d, 1.0), ctx);
    CHECK_OK(sl_op_diagonal(x, &op), ctx);
    sl_darray *m = NULL;
    CHECK_OK(sl_darray_create_like(x, &m), ctx);
    sl_solver_opts o = {.niter = 200, .tol = 1e-28};
    sl_solve_result r;
    CHECK_OK(sl_cgls(op, d, m, &o, &r), ctx);
    double *gm = malloc(n * sizeof *gm);
    CHECK_OK(sl_darray_gather(m, SL_ALL_RANKS, gm), ctx);
    double err = 0;
    for (size_t i = 0; i < n; i++)
        err = fmax(err, fabs(gm[i] - gy[i]) / gy[i]);
    CHECK(err <= 1e-8, "CGLS on diag(1..n): rel err %g after %d iterations", err, r.iterations);
    sl_solve_result_free(&r);
    sl_op_destroy(op);
    sl_darray_destroy(m);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    sl_darray_destroy(d);
    free(gx), free(gy), free(gm);
    CHECK(sl_finalize(ctx) == SL_OK, "sl_finalize");
}

static void check_shared(void)
{
    sl_context *ctx = NULL;
    sl_status st = sl_init_comm(MPI_COMM_WORLD, &ctx);
    CHECK(st == SL_ERR_UNSUPPORTED && !ctx, "two ranks on one GPU with nccl: %s (%s)",
          sl_strerror(st), sl_init_error());
    CHECK(strstr(sl_init_error(), "share the GPU") || strstr(sl_init_error(), "another rank"),
          "message: %s", sl_init_error());
    if (ctx)
        sl_finalize(ctx);
}

int main(int argc, char **argv)
{
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &th_rank);
    if (!have_cuda()) {
        if (th_rank == 0)
            printf("skipped: no CUDA device\n");
        MPI_Finalize();
        return GPU_SKIP_CODE;
    }
    if (argc > 1 && strcmp(argv[1], "shared") == 0)
        check_shared();
    else
        check_one();
    int rc = th_finish(MPI_COMM_WORLD, "test_gpu_nccl");
    MPI_Finalize();
    return rc;
}
