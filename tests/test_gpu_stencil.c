/* The CUDA stencil and ghost-packing codelets against the CPU ones, through the public API
 * (STARPU_NCPU=1 STARPU_NCUDA=1 per rank, set by tests/CMakeLists.txt): FirstDerivative,
 * SecondDerivative, Laplacian and Convolve1D, forward and adjoint, each axis of 3-d arrays split
 * along each axis, all four dtypes, applied once with the codelets pinned to the CPU worker and
 * once pinned to the CUDA worker (codelets/cuda/cuda_workers.h's placement); the results agree
 * to 1e-12 (double) / 1e-5 (single). At 2 ranks the boundary rows travel as ghost slabs packed
 * by pack_rows (on the GPU under CUDA placement); several tiles per rank make tasks read their
 * neighbours' tiles. A long-row case covers what the CPU does in its fused paths.
 * Without a CUDA worker on every rank it prints "skipped: no CUDA device" and exits 77. */
#include <starpu.h>
#include <starpu_profiling.h>

#include <starlops/convolve.h>
#include <starlops/derivatives.h>

#include "cuda/cuda_workers.h"
#include "gpu_harness.h"

typedef struct op_case {
    const char *name;
    int kind; /* 0 first, 1 second derivative, 2 Laplacian, 3 convolution */
    int axis;
    size_t nh, offset;
} op_case;

static sl_op *make_op(sl_context *ctx, const sl_darray *x, const op_case *c)
{
    static const int axes[3] = {0, 1, 2};
    static const double weights[3] = {1.0, -2.0, 0.5}, sampling[3] = {1.0, 0.5, 2.0};
    double h[64];
    uint64_t s = 5 + c->nh;
    for (size_t k = 0; k < c->nh && k < 64; k++)
        h[k] = th_rand(&s);
    sl_op *op = NULL;
    sl_status st;
    if (c->kind == 0)
        st = sl_op_first_derivative(x, c->axis, SL_DERIV_CENTERED, 5, 1, 0.5, &op);
    else if (c->kind == 1)
        st = sl_op_second_derivative(x, c->axis, SL_DERIV_CENTERED, 1, 2.0, &op);
    else if (c->kind == 2)
        st = sl_op_laplacian(x, 3, axes, weights, sampling, 1, SL_DERIV_CENTERED, &op);
    else
        st = sl_op_convolve1d(x, c->axis, h, c->nh, c->offset, &op);
    CHECK(st == SL_OK, "%s: %s (%s)", c->name, sl_strerror(st), sl_last_error(ctx));
    return op;
}

/* op (or its adjoint) on x under one placement, gathered on every rank. */
static void apply_on(sl_context *ctx, sl_cuda_placement where, const sl_op *op, int adjoint,
                     const sl_darray *x, sl_darray *y, sl_dtype dt, cplx *g, size_t n,
                     gpu_worker_counts *ran)
{
    CHECK_OK(sl_wait(ctx), ctx);
    CHECK_OK(sl_cuda_set_placement(where), ctx);
    gpu_take_counts(); /* reset: the counters restart at every read */
    CHECK_OK(adjoint ? sl_op_rmatvec(op, x, y) : sl_op_matvec(op, x, y), ctx);
    CHECK_OK(sl_wait(ctx), ctx);
    *ran = gpu_take_counts();
    CHECK_OK(sl_cuda_set_placement(SL_PLACE_AUTO), ctx);
    void *raw = malloc(n * sl_dtype_size(dt));
    CHECK_OK(sl_darray_gather(y, SL_ALL_RANKS, raw), ctx);
    th_from_dtype(dt, raw, g, n);
    free(raw);
}

static void run_case(sl_context *ctx, sl_dtype dt, const size_t *shape, int split,
                     const op_case *c)
{
    size_t n = th_prod(shape, 3);
    sl_darray *x = NULL, *y = NULL;
    CHECK_OK(sl_darray_create(ctx, dt, 3, shape, SL_SCATTER, split, NULL, NULL, &x), ctx);
    CHECK_OK(sl_darray_create(ctx, dt, 3, shape, SL_SCATTER, split, NULL, NULL, &y), ctx);
    sl_op *op = x && y ? make_op(ctx, x, c) : NULL;
    cplx *on_cpu = malloc(n * sizeof(cplx)), *on_gpu = malloc(n * sizeof(cplx));
    for (int adjoint = 0; op && adjoint < 2; adjoint++) {
        CHECK_OK(sl_cuda_set_placement(SL_PLACE_CPU), ctx);
        CHECK_OK(sl_darray_random(x, 3 + (uint64_t)adjoint), ctx);
        gpu_worker_counts cpu_ran, gpu_ran;
        apply_on(ctx, SL_PLACE_CPU, op, adjoint, x, y, dt, on_cpu, n, &cpu_ran);
        apply_on(ctx, SL_PLACE_CUDA, op, adjoint, x, y, dt, on_gpu, n, &gpu_ran);
        const char *dir = adjoint ? "adjoint" : "forward";
        CHECK(cpu_ran.cuda == 0, "%s %s: CPU placement ran %ld CUDA tasks", c->name, dir,
              cpu_ran.cuda);
        CHECK(gpu_ran.cuda > 0, "%s %s: CUDA placement ran no CUDA task", c->name, dir);
        double e = gpu_rel_diff(on_gpu, on_cpu, n);
        CHECK(e <= gpu_tol(dt), "%s %s split %d %s: CUDA vs CPU %g", c->name, dir, split,
              sl_dtype_name(dt), e);
    }
    free(on_cpu);
    free(on_gpu);
    if (op)
        sl_op_destroy(op);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    if (!gpu_every_rank_has_cuda())
        return gpu_skip(ctx);
    starpu_profiling_status_set(STARPU_PROFILING_ENABLE);
    static const op_case cases[] = {
        {"FirstDerivative axis 0", 0, 0, 0, 0},  {"FirstDerivative axis 1", 0, 1, 0, 0},
        {"FirstDerivative axis 2", 0, 2, 0, 0},  {"SecondDerivative axis 0", 1, 0, 0, 0},
        {"SecondDerivative axis 1", 1, 1, 0, 0}, {"SecondDerivative axis 2", 1, 2, 0, 0},
        {"Laplacian axes 0-2", 2, 0, 0, 0},      {"Convolve1D axis 2 (9 taps)", 3, 2, 9, 6}};
    static const op_case long_filter = {"Convolve1D axis 1 (31 taps)", 3, 1, 31, 12};
    static const op_case long_rows = {"Laplacian axes 0-2 (long rows)", 2, 0, 0, 0};
    const size_t small[3] = {16, 24, 20}, conv[3] = {6, 80, 10}, big[3] = {4, 40, 1100};
    for (int d = 0; d < SL_DTYPE_COUNT; d++) {
        sl_dtype dt = (sl_dtype)d;
        for (int split = 0; split < 3; split++)
            for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
                run_case(ctx, dt, small, split, &cases[c]);
        run_case(ctx, dt, conv, 1, &long_filter);
        for (int split = 0; split < 2; split++)
            run_case(ctx, dt, big, split, &long_rows);
    }
    return th_end(ctx, "test_gpu_stencil");
}
