/* The FFT codelet's CUDA function (cuFFT) against its CPU function (FFTW), through sl_op_fft
 * and sl_op_fftnd: each case is applied forward and adjoint once with the codelets pinned to
 * the CPU worker and once pinned to the CUDA worker (codelets/cuda/cuda_workers.h's
 * placement, as STARLOPS_CUDA_PLACEMENT=cpu / cuda would), and the results agree to 1e-12
 * (double) / 1e-5 (single), relative to the largest value. Cases: the four dtypes, 3-d arrays
 * split along their middle axis in several tiles, the FFT along each axis (tiles holding whole
 * lines, strided across rows; the distributed axis: one task over a rank's tiles, or the
 * redistribution at 2 ranks), nfft padded and truncated, real with its sqrt(2) weights, the
 * three norms and both shifts; FFTND over two axes. The CUDA phase must run tasks on the CUDA
 * worker (StarPU's profiling counters).
 * Without a CUDA worker on some rank it prints "skipped: no CUDA device" and exits 77. */
#include <starpu.h>
#include <starpu_profiling.h>

#include "cuda/cuda_workers.h"
#include "gpu_harness.h"

static sl_dtype complex_of(sl_dtype t)
{
    return t == SL_F32 || t == SL_C64 ? SL_C64 : SL_C128;
}

static void gather(const sl_darray *x, sl_dtype dt, size_t count, cplx *out)
{
    void *raw = malloc(count * sizeof(cplx));
    sl_darray_gather(x, SL_ALL_RANKS, raw);
    th_from_dtype(dt, raw, out, count);
    free(raw);
}

/* Forward of x0 into fwd, adjoint of y0 into adj, with the codelets on one kind of worker. */
static void apply_both(sl_context *ctx, const sl_op *op, sl_dtype model, const cplx *x0,
                       size_t nm, const cplx *y0, size_t nd, cplx *fwd, cplx *adj)
{
    sl_darray *x = NULL, *y = NULL;
    void *raw = malloc((nm > nd ? nm : nd) * sizeof(cplx));
    CHECK_OK(sl_op_create_model(op, &x), ctx);
    CHECK_OK(sl_op_create_data(op, &y), ctx);
    if (x && y) {
        th_to_dtype(model, x0, raw, nm);
        CHECK_OK(sl_darray_from_global(x, raw), ctx);
        CHECK_OK(sl_op_matvec(op, x, y), ctx);
        gather(y, complex_of(model), nd, fwd);
        th_to_dtype(complex_of(model), y0, raw, nd);
        CHECK_OK(sl_darray_from_global(y, raw), ctx);
        CHECK_OK(sl_op_rmatvec(op, y, x), ctx);
        gather(x, model, nm, adj);
        CHECK_OK(sl_wait(ctx), ctx);
    }
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    free(raw);
}

/* One operator under both placements; `name` describes it. */
static void compare_placements(sl_context *ctx, const sl_op *op, sl_dtype dt, size_t nm,
                               size_t nd, const char *name)
{
    cplx *x0 = malloc(nm * sizeof *x0), *y0 = malloc(nd * sizeof *y0);
    cplx *f[2] = {malloc(nd * sizeof(cplx)), malloc(nd * sizeof(cplx))};
    cplx *a[2] = {malloc(nm * sizeof(cplx)), malloc(nm * sizeof(cplx))};
    th_random(x0, nm, sl_dtype_is_complex(dt), 7 + nm);
    th_round(dt, x0, nm);
    th_random(y0, nd, 1, 13 + nd);
    th_round(complex_of(dt), y0, nd);
    for (int p = 0; p < 2; p++) {
        CHECK_OK(sl_cuda_set_placement(p == 0 ? SL_PLACE_CPU : SL_PLACE_CUDA), ctx);
        gpu_take_counts(); /* reset: the counters restart at every read */
        apply_both(ctx, op, dt, x0, nm, y0, nd, f[p], a[p]);
        long ran = gpu_take_counts().cuda;
        if (p == 0)
            CHECK(ran == 0, "%s: the CPU placement ran %ld tasks on the CUDA worker", name, ran);
        else
            CHECK(ran > 0, "%s: the CUDA placement ran no task on the CUDA worker", name);
    }
    CHECK_OK(sl_cuda_set_placement(SL_PLACE_AUTO), ctx);
    double ef = gpu_rel_diff(f[1], f[0], nd), ea = gpu_rel_diff(a[1], a[0], nm);
    CHECK(ef <= gpu_tol(dt), "%s: forward CUDA vs CPU %.3g", name, ef);
    CHECK(ea <= gpu_tol(dt), "%s: adjoint CUDA vs CPU %.3g", name, ea);
    free(x0), free(y0), free(f[0]), free(f[1]), free(a[0]), free(a[1]);
}

/* nfft offset from n, real, norm, shifts. */
typedef struct combo {
    int dn, real;
    sl_fft_norm norm;
    int ifs, fs;
} combo;
static const combo combos[] = {
    {0, 0, SL_FFT_NORM_ORTHO, 0, 0},    {3, 0, SL_FFT_NORM_NONE, 1, 0},
    {-2, 0, SL_FFT_NORM_1_OVER_N, 0, 1}, {0, 0, SL_FFT_NORM_NONE, 1, 1},
    {0, 1, SL_FFT_NORM_ORTHO, 0, 0},    {4, 1, SL_FFT_NORM_NONE, 1, 0},
    {-1, 1, SL_FFT_NORM_1_OVER_N, 0, 1}, {1, 1, SL_FFT_NORM_ORTHO, 1, 1},
};
#define NCOMBOS (sizeof combos / sizeof combos[0])

static const size_t shape[3] = {5, 40, 9}; /* 40 rows: more tiles than a launch's chunk */

static void check_fft(sl_context *ctx, sl_dtype dt)
{
    for (int axis = 0; axis < 3; axis++)
        for (size_t k = 0; k < NCOMBOS; k++) {
            const combo *c = &combos[k];
            if (c->real && sl_dtype_is_complex(dt))
                continue;
            size_t n = shape[axis], nfft = (size_t)((long)n + c->dn);
            size_t m = c->real ? nfft / 2 + 1 : nfft, nm = th_prod(shape, 3), nd = nm / n * m;
            sl_fft_opts o = {nfft, c->real, c->norm, c->ifs, c->fs, 1};
            char name[160];
            snprintf(name, sizeof name, "FFT %s axis %d nfft %zu real %d norm %s shifts %d/%d",
                     sl_dtype_name(dt), axis, nfft, c->real, sl_fft_norm_name(c->norm), c->ifs,
                     c->fs);
            sl_darray *like = NULL;
            sl_op *op = NULL;
            CHECK_OK(sl_darray_create(ctx, dt, 3, shape, SL_SCATTER, 1, NULL, NULL, &like), ctx);
            sl_status st = like ? sl_op_fft(like, axis, &o, &op) : SL_ERR_NOMEM;
            CHECK(st == SL_OK, "%s: sl_op_fft -> %s (%s)", name, sl_strerror(st),
                  sl_last_error(ctx));
            if (st == SL_OK)
                compare_placements(ctx, op, dt, nm, nd, name);
            sl_op_destroy(op);
            sl_darray_destroy(like);
        }
}

static void check_fftnd(sl_context *ctx, sl_dtype dt)
{
    static const int axes[2][2] = {{0, 2}, {1, 2}};
    for (int ai = 0; ai < 2; ai++)
        for (int real = 0; real < 2; real++) {
            if (real && sl_dtype_is_complex(dt))
                continue;
            const int *ax = axes[ai];
            sl_fft_opts o[2] = {{shape[ax[0]] + 2, 0, SL_FFT_NORM_ORTHO, 1, 0, 1},
                                {shape[ax[1]], real, SL_FFT_NORM_ORTHO, 0, 1, 1}};
            size_t nm = th_prod(shape, 3), m1 = real ? shape[ax[1]] / 2 + 1 : shape[ax[1]];
            size_t nd = nm / shape[ax[0]] / shape[ax[1]] * (shape[ax[0]] + 2) * m1;
            char name[120];
            snprintf(name, sizeof name, "FFTND %s axes %d,%d real %d", sl_dtype_name(dt), ax[0],
                     ax[1], real);
            sl_darray *like = NULL;
            sl_op *op = NULL;
            CHECK_OK(sl_darray_create(ctx, dt, 3, shape, SL_SCATTER, 1, NULL, NULL, &like), ctx);
            sl_status st = like ? sl_op_fftnd(like, 2, ax, o, &op) : SL_ERR_NOMEM;
            CHECK(st == SL_OK, "%s: sl_op_fftnd -> %s (%s)", name, sl_strerror(st),
                  sl_last_error(ctx));
            if (st == SL_OK)
                compare_placements(ctx, op, dt, nm, nd, name);
            sl_op_destroy(op);
            sl_darray_destroy(like);
        }
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    if (!gpu_every_rank_has_cuda())
        return gpu_skip(ctx);
    starpu_profiling_status_set(STARPU_PROFILING_ENABLE);
    for (int d = 0; d < SL_DTYPE_COUNT; d++) {
        check_fft(ctx, (sl_dtype)d);
        check_fftnd(ctx, (sl_dtype)d);
    }
    return th_end(ctx, "test_gpu_fft");
}
