/* The CUDA codelets against the CPU ones, through the public API, in one process holding a CPU
 * and a CUDA worker (STARPU_NCPU=1 STARPU_NCUDA=1, set by tests/CMakeLists.txt):
 *   kernels: each family (elementwise, reductions and norms, tile sums and copies, 1D and SUMMA
 *            MatrixMult, scalar futures via CGLS) runs once with its codelets pinned to the CPU
 *            worker and once pinned to the CUDA worker (codelets/cuda/cuda_workers.h's
 *            placement); the results agree to 1e-12 (double) / 1e-5 (single), all four dtypes.
 *   mixed:   a CGLS with the scheduler free to use both workers gives the same answer, and
 *            both kinds of worker executed tasks (StarPU's per-worker profiling counts).
 *   placement: the host side of the placement (runs without a GPU too; not in label gpu).
 * Without a CUDA worker it prints "skipped: no CUDA device" and exits 77 (ctest: not run). */
#include <starpu.h>
#include <starpu_profiling.h>

#include "cuda/cuda_workers.h"
#include "gpu_harness.h"

/* Everything one placement computes, gathered on the host as double complex. */
enum { NSCALARS = 9, NROWS = 6, NCOLS = 173, NVEC = 1000 };
typedef struct results {
    cplx scalars[NSCALARS]; /* dot, vdot, norms 2, 1, inf, -inf, 0, 3, and ||ew|| */
    cplx ew[NVEC];          /* elementwise chain on vectors */
    cplx ew2d[NROWS * NCOLS]; /* the same on a 2-d array split along its last axis */
    cplx axis0[NCOLS], axis1[NROWS]; /* norm along each axis of the 2-d array */
    cplx mm_y[64 * 3], mm_x[24 * 3]; /* 1D MatrixMult, 3 right-hand sides: A X, A^H Y */
    cplx mv_y[64], mv_x[24];         /* ... and vectors */
    cplx su_y[40 * 2], su_x[30 * 2]; /* SUMMA, 2 right-hand sides */
    cplx cgls_x[24];
    cplx lsqr_x[24]; /* LSQR: its recurrence tasks (lsqr_recurrence.h) on each placement */
} results;

static sl_darray *array_from(sl_context *ctx, sl_dtype dt, int ndim, const size_t *shape,
                             int axis, const cplx *values)
{
    size_t n = th_prod(shape, ndim);
    void *raw = malloc(n * sl_dtype_size(dt));
    th_to_dtype(dt, values, raw, n);
    sl_darray *x = NULL;
    CHECK_OK(sl_darray_create(ctx, dt, ndim, shape, SL_SCATTER, axis, NULL, NULL, &x), ctx);
    CHECK_OK(sl_darray_from_global(x, raw), ctx);
    free(raw);
    return x;
}

static void gather(sl_context *ctx, sl_dtype dt, const sl_darray *x, size_t n, cplx *out)
{
    void *raw = malloc(n * sl_dtype_size(dt));
    CHECK_OK(sl_darray_gather(x, SL_ALL_RANKS, raw), ctx);
    th_from_dtype(dt, raw, out, n);
    free(raw);
}

static cplx scalar_value(sl_context *ctx, sl_scalar *s)
{
    double _Complex v = NAN;
    CHECK_OK(sl_scalar_get(s, &v), ctx);
    sl_scalar_destroy(s);
    return v;
}

/* A coefficient the array's dtype can take (the library refuses a complex one for a real
 * array). */
static double _Complex coef(sl_dtype dt, double _Complex z)
{
    return sl_dtype_is_complex(dt) ? z : creal(z);
}

/* out = 3 b + c2 out with out = conj(a) (2 a + c1 b): host coefficients, zero and one among
 * them, a complex product with a conjugate, and outputs aliasing inputs. */
static void elementwise_chain(sl_context *ctx, sl_dtype dt, sl_darray *a, sl_darray *b,
                              sl_darray *out)
{
    sl_darray *t = NULL;
    CHECK_OK(sl_darray_create_like(a, &t), ctx);
    CHECK_OK(sl_darray_axpby(2.0, a, 0.0, t), ctx);
    CHECK_OK(sl_darray_axpby(coef(dt, -0.5 + 0.25 * I), b, 1.0, t), ctx);
    CHECK_OK(sl_darray_conj_multiply(a, t, out), ctx);
    CHECK_OK(sl_darray_axpby(3.0, b, coef(dt, 0.75 - 0.5 * I), out), ctx);
    sl_darray_destroy(t);
}

static void run_arrays(sl_context *ctx, sl_dtype dt, results *r)
{
    int cx = sl_dtype_is_complex(dt);
    /* Values for the 1-d arrays and the (larger) 2-d ones. */
    const size_t nv = NROWS * NCOLS > NVEC ? NROWS * NCOLS : NVEC;
    cplx *va = malloc(nv * sizeof *va), *vb = malloc(nv * sizeof *vb);
    th_random(va, nv, cx, 11);
    th_random(vb, nv, cx, 12);
    size_t n = NVEC;
    sl_darray *a = array_from(ctx, dt, 1, &n, 0, va), *b = array_from(ctx, dt, 1, &n, 0, vb);
    sl_darray *o = NULL;
    CHECK_OK(sl_darray_create_like(a, &o), ctx);

    sl_scalar *s = NULL;
    CHECK_OK(sl_darray_dot(a, b, &s), ctx);
    r->scalars[0] = scalar_value(ctx, s);
    CHECK_OK(sl_darray_vdot(a, b, &s), ctx);
    r->scalars[1] = scalar_value(ctx, s);
    const double ords[6] = {2, 1, INFINITY, -INFINITY, 0, 3};
    for (int i = 0; i < 6; i++) {
        CHECK_OK(sl_darray_norm(a, ords[i], &s), ctx);
        r->scalars[2 + i] = scalar_value(ctx, s);
    }
    elementwise_chain(ctx, dt, a, b, o);
    CHECK_OK(sl_darray_norm(o, 2, &s), ctx);
    r->scalars[8] = scalar_value(ctx, s);
    gather(ctx, dt, o, NVEC, r->ew);
    sl_darray_destroy(a);
    sl_darray_destroy(b);
    sl_darray_destroy(o);

    /* 2-d, split along the last axis: each tile is NROWS strided rows in main memory and a
     * packed copy on the device, the case where the two row strides differ. */
    size_t shape[2] = {NROWS, NCOLS};
    a = array_from(ctx, dt, 2, shape, 1, va);
    b = array_from(ctx, dt, 2, shape, 1, vb);
    CHECK_OK(sl_darray_create_like(a, &o), ctx);
    elementwise_chain(ctx, dt, a, b, o);
    gather(ctx, dt, o, NROWS * NCOLS, r->ew2d);
    double axis0[NCOLS], axis1[NROWS];
    CHECK_OK(sl_darray_norm_axis(a, 2, 0, axis0, NCOLS), ctx);
    CHECK_OK(sl_darray_norm_axis(a, 1, 1, axis1, NROWS), ctx);
    for (int i = 0; i < NCOLS; i++)
        r->axis0[i] = axis0[i];
    for (int i = 0; i < NROWS; i++)
        r->axis1[i] = axis1[i];
    sl_darray_destroy(a);
    sl_darray_destroy(b);
    sl_darray_destroy(o);
    free(va);
    free(vb);
}

/* Rows of a row-major matrix for this rank's block of the balanced split. */
static void *local_rows(sl_context *ctx, sl_dtype dt, const cplx *a, size_t n, size_t k,
                        size_t *rows)
{
    int rank = th_ctx(ctx).rank, size = th_ctx(ctx).size;
    size_t base = n / (size_t)size, extra = n % (size_t)size;
    size_t r0 = (size_t)rank * base + ((size_t)rank < extra ? (size_t)rank : extra);
    *rows = base + ((size_t)rank < extra);
    void *raw = malloc((*rows * k + 1) * sl_dtype_size(dt));
    th_to_dtype(dt, a + r0 * k, raw, *rows * k);
    return raw;
}

/* The 1D MatrixMult (64 x 24) forward and adjoint, vectors and 3 columns, and a CGLS. */
static void run_matrixmult(sl_context *ctx, sl_dtype dt, results *r)
{
    const size_t n = 64, k = 24;
    int cx = sl_dtype_is_complex(dt);
    cplx *a = malloc(n * k * sizeof *a), *xin = malloc(k * 3 * sizeof *xin);
    cplx *yin = malloc(n * 3 * sizeof *yin);
    th_random(a, n * k, cx, 21);
    th_random(xin, k * 3, cx, 22);
    th_random(yin, n * 3, cx, 23);
    size_t rows = 0;
    void *a_local = local_rows(ctx, dt, a, n, k, &rows);
    for (size_t nrhs = 0; nrhs <= 3; nrhs += 3) {
        size_t m = nrhs ? nrhs : 1;
        sl_op *op = NULL;
        CHECK_OK(sl_op_matrixmult(ctx, dt, n, k, nrhs, a_local, NULL, &op), ctx);
        sl_darray *x = NULL, *y = NULL;
        CHECK_OK(sl_op_create_model(op, &x), ctx);
        CHECK_OK(sl_op_create_data(op, &y), ctx);
        void *raw = malloc(n * m * sl_dtype_size(dt));
        th_to_dtype(dt, xin, raw, k * m);
        CHECK_OK(sl_darray_from_global(x, raw), ctx);
        CHECK_OK(sl_op_matvec(op, x, y), ctx);
        gather(ctx, dt, y, n * m, nrhs ? r->mm_y : r->mv_y);
        th_to_dtype(dt, yin, raw, n * m);
        CHECK_OK(sl_darray_from_global(y, raw), ctx);
        CHECK_OK(sl_op_rmatvec(op, y, x), ctx);
        gather(ctx, dt, x, k * m, nrhs ? r->mm_x : r->mv_x);
        if (nrhs == 0) { /* CGLS: ratios, guards and scalar-weighted axpys on the workers */
            sl_darray *sol = NULL;
            CHECK_OK(sl_op_create_model(op, &sol), ctx);
            sl_solver_opts so = {.niter = 12, .tol = SL_TOL_NONE};
            sl_solve_result res;
            CHECK_OK(sl_cgls(op, y, sol, &so, &res), ctx);
            gather(ctx, dt, sol, k, r->cgls_x);
            sl_solve_result_free(&res);
            sl_solver_opts lo = {.niter = 12, .atol = SL_TOL_NONE, .btol = SL_TOL_NONE,
                                 .conlim = SL_TOL_NONE};
            CHECK_OK(sl_lsqr(op, y, sol, &lo, &res), ctx);
            gather(ctx, dt, sol, k, r->lsqr_x);
            sl_solve_result_free(&res);
            sl_darray_destroy(sol);
        }
        free(raw);
        sl_darray_destroy(x);
        sl_darray_destroy(y);
        sl_op_destroy(op);
    }
    free(a_local);
    free(a);
    free(xin);
    free(yin);
}

typedef struct summa_fill {
    const cplx *a;
    size_t k;
    sl_dtype dt;
} summa_fill;

static void fill_block(size_t row0, size_t col0, size_t rows, size_t cols, void *block,
                       void *user)
{
    const summa_fill *f = user;
    for (size_t i = 0; i < rows; i++)
        th_to_dtype(f->dt, f->a + (row0 + i) * f->k + col0,
                    (char *)block + i * cols * sl_dtype_size(f->dt), cols);
}

/* SUMMA (40 x 30, 2 columns) on small tiles: several panels, partial sums (tile_add/zero) and
 * packed-block copies. Its arrays are compared as gathered (whatever their layout). */
static void run_summa(sl_context *ctx, sl_dtype dt, results *r)
{
    const size_t n = 40, k = 30, m = 2;
    int cx = sl_dtype_is_complex(dt);
    cplx *a = malloc(n * k * sizeof *a);
    th_random(a, n * k, cx, 31);
    summa_fill f = {a, k, dt};
    sl_summa_opts opts = {.mb = 8, .kb = 7, .nb = 2};
    sl_op *op = NULL;
    CHECK_OK(sl_op_matrixmult_summa(ctx, dt, n, k, m, fill_block, &f, &opts, &op), ctx);
    sl_darray *x = NULL, *y = NULL;
    CHECK_OK(sl_op_create_model(op, &x), ctx);
    CHECK_OK(sl_op_create_data(op, &y), ctx);
    CHECK_OK(sl_darray_random(x, 41), ctx);
    CHECK_OK(sl_op_matvec(op, x, y), ctx);
    gather(ctx, dt, y, n * m, r->su_y);
    CHECK_OK(sl_op_rmatvec(op, y, x), ctx);
    gather(ctx, dt, x, k * m, r->su_x);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    sl_op_destroy(op);
    free(a);
}

static void run_all(sl_context *ctx, sl_dtype dt, results *r)
{
    run_arrays(ctx, dt, r);
    run_matrixmult(ctx, dt, r);
    run_summa(ctx, dt, r);
    CHECK_OK(sl_wait(ctx), ctx);
}

#define COMPARE(field, what)                                                                \
    do {                                                                                    \
        double e = gpu_rel_diff(gpu->field, cpu->field, sizeof cpu->field / sizeof(cplx));      \
        CHECK(e <= gpu_tol(dt), "%s %s: CUDA vs CPU relative difference %g", sl_dtype_name(dt), \
              what, e);                                                                     \
    } while (0)

static void compare(sl_dtype dt, const results *cpu, const results *gpu)
{
    static const char *names[NSCALARS] = {"dot", "vdot", "norm2", "norm1", "norm_inf",
                                          "norm_minf", "norm0", "norm3", "norm2(chain)"};
    for (int i = 0; i < NSCALARS; i++) {
        double e = gpu_rel_diff(&gpu->scalars[i], &cpu->scalars[i], 1);
        CHECK(e <= gpu_tol(dt), "%s %s: CUDA %g%+gi vs CPU %g%+gi", sl_dtype_name(dt), names[i],
              creal(gpu->scalars[i]), cimag(gpu->scalars[i]), creal(cpu->scalars[i]),
              cimag(cpu->scalars[i]));
    }
    COMPARE(ew, "elementwise chain (1-d)");
    COMPARE(ew2d, "elementwise chain (2-d, strided tiles)");
    COMPARE(axis0, "norm along axis 0");
    COMPARE(axis1, "norm along the distributed axis");
    COMPARE(mv_y, "MatrixMult forward (vector)");
    COMPARE(mv_x, "MatrixMult adjoint (vector)");
    COMPARE(mm_y, "MatrixMult forward (3 columns)");
    COMPARE(mm_x, "MatrixMult adjoint (3 columns)");
    COMPARE(su_y, "SUMMA forward");
    COMPARE(su_x, "SUMMA adjoint");
    COMPARE(cgls_x, "CGLS solution");
    COMPARE(lsqr_x, "LSQR solution");
}

static void check_kernels(sl_context *ctx)
{
    results *cpu = calloc(1, sizeof *cpu), *gpu = calloc(1, sizeof *gpu);
    for (int d = 0; d < SL_DTYPE_COUNT; d++) {
        sl_dtype dt = (sl_dtype)d;
        gpu_take_counts();
        CHECK(sl_cuda_set_placement(SL_PLACE_CPU) == SL_OK, "CPU placement refused");
        run_all(ctx, dt, cpu);
        gpu_worker_counts on_cpu = gpu_take_counts();
        CHECK(sl_cuda_set_placement(SL_PLACE_CUDA) == SL_OK, "CUDA placement refused");
        run_all(ctx, dt, gpu);
        gpu_worker_counts on_gpu = gpu_take_counts();
        CHECK_OK(sl_cuda_set_placement(SL_PLACE_AUTO), ctx);
        CHECK(on_cpu.cuda == 0 && on_cpu.cpu > 0, "%s: CPU placement ran %ld CUDA / %ld CPU "
              "tasks", sl_dtype_name(dt), on_cpu.cuda, on_cpu.cpu);
        /* Under CUDA placement the CPU worker runs only the codelets without a CUDA version
         * (communication, host I/O): far fewer than the CUDA worker. */
        CHECK(on_gpu.cuda > on_gpu.cpu, "%s: CUDA placement ran %ld CUDA / %ld CPU tasks",
              sl_dtype_name(dt), on_gpu.cuda, on_gpu.cpu);
        compare(dt, cpu, gpu);
    }
    free(cpu);
    free(gpu);
}

/* One CGLS per placement on the same problem: CPU only (reference), CUDA where possible
 * (baseline of what the CPU worker must run anyway), then free (both kinds of worker). */
static void check_mixed(sl_context *ctx)
{
    static const sl_cuda_placement order[3] = {SL_PLACE_CPU, SL_PLACE_CUDA, SL_PLACE_AUTO};
    for (int d = 0; d < SL_DTYPE_COUNT; d++) {
        sl_dtype dt = (sl_dtype)d;
        results *r[3];
        gpu_worker_counts counts[3];
        for (int p = 0; p < 3; p++) {
            r[p] = calloc(1, sizeof *r[p]);
            gpu_take_counts();
            CHECK(sl_cuda_set_placement(order[p]) == SL_OK, "placement %d refused", p);
            run_matrixmult(ctx, dt, r[p]);
            CHECK_OK(sl_wait(ctx), ctx);
            counts[p] = gpu_take_counts();
        }
        CHECK_OK(sl_cuda_set_placement(SL_PLACE_AUTO), ctx);
        double e = gpu_rel_diff(r[2]->cgls_x, r[0]->cgls_x, 24);
        CHECK(e <= gpu_tol(dt), "%s mixed CGLS: relative difference %g to the CPU solution",
              sl_dtype_name(dt), e);
        CHECK(counts[2].cuda > 0, "%s mixed CGLS: no task ran on the CUDA worker",
              sl_dtype_name(dt));
        CHECK(counts[2].cpu > counts[1].cpu, "%s mixed CGLS: the CPU worker ran %ld tasks, no "
              "more than the %ld it runs when the GPU takes every task it can",
              sl_dtype_name(dt), counts[2].cpu, counts[1].cpu);
        if (th_rank == 0)
            printf("%s mixed CGLS: CPU worker %ld tasks, CUDA worker %ld tasks\n",
                   sl_dtype_name(dt), counts[2].cpu, counts[2].cuda);
        for (int p = 0; p < 3; p++)
            free(r[p]);
    }
}

/* Host-side placement logic, with or without a GPU (mode "placement", not a GPU test): CUDA
 * placement is refused without a CUDA worker, and pinning the codelets to the CPU workers
 * (their can_execute hook, compiled in every CUDA build) changes nothing in the results. */
static void check_placement(sl_context *ctx)
{
    if (starpu_cuda_worker_get_count() == 0)
        CHECK(sl_cuda_set_placement(SL_PLACE_CUDA) == SL_ERR_ARG,
              "CUDA placement accepted without a CUDA worker");
    CHECK(sl_cuda_set_placement((sl_cuda_placement)7) == SL_ERR_ARG, "placement 7 accepted");
    results *r[2] = {calloc(1, sizeof(results)), calloc(1, sizeof(results))};
    for (int d = 0; d < SL_DTYPE_COUNT; d++) {
        sl_dtype dt = (sl_dtype)d;
        for (int p = 0; p < 2; p++) {
            CHECK_OK(sl_cuda_set_placement(p == 0 ? SL_PLACE_CPU : SL_PLACE_AUTO), ctx);
            CHECK(sl_cuda_get_placement() == (p == 0 ? SL_PLACE_CPU : SL_PLACE_AUTO),
                  "placement not recorded");
            run_matrixmult(ctx, dt, r[p]);
            run_arrays(ctx, dt, r[p]);
            CHECK_OK(sl_wait(ctx), ctx);
        }
        /* Without a GPU both runs are CPU runs: identical. With one, AUTO may use it. */
        double e = gpu_rel_diff(r[1]->cgls_x, r[0]->cgls_x, 24);
        double want = starpu_cuda_worker_get_count() == 0 ? 0.0 : gpu_tol(dt);
        CHECK(e <= want, "%s CGLS under CPU vs automatic placement: %g", sl_dtype_name(dt), e);
        e = gpu_rel_diff(r[1]->ew2d, r[0]->ew2d, NROWS * NCOLS);
        CHECK(e <= want, "%s elementwise under CPU vs automatic placement: %g",
              sl_dtype_name(dt), e);
    }
    CHECK_OK(sl_cuda_set_placement(SL_PLACE_AUTO), ctx);
    free(r[0]);
    free(r[1]);
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    if (argc > 1 && strcmp(argv[1], "placement") == 0) {
        check_placement(ctx);
        return th_end(ctx, "test_gpu_kernels placement");
    }
    if (!gpu_every_rank_has_cuda())
        return gpu_skip(ctx);
    starpu_profiling_status_set(STARPU_PROFILING_ENABLE);
    int mixed = argc > 1 && strcmp(argv[1], "mixed") == 0;
    if (mixed)
        check_mixed(ctx);
    else
        check_kernels(ctx);
    return th_end(ctx, mixed ? "test_gpu_kernels mixed" : "test_gpu_kernels");
}
