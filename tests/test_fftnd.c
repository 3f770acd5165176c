/* sl_op_fftnd (PyLops FFTND / FFT2D) against a dense reference computed here: the 1-d DFT
 * matrix of each axis (nfft padding or truncation, shifts, norm, the real transform's sqrt(2)
 * bins) applied along the listed axes, the last one first; the adjoint as the adjoints in the
 * reverse order (the real part for a real model). 3-d odd-sized arrays split along each axis,
 * several axis sets and orders, the four dtypes, dot tests, and the argument errors. */
#include "harness.h"

#include <starlops/fft.h>

typedef struct axis_fft {
    int axis;
    size_t n, m;  /* model and data lengths along the axis */
    cplx *a;      /* m x n */
} axis_fft;

/* The DFT matrix of one axis (the one-axis operator's, as test_fft.c writes it). */
static void make_axis(const sl_fft_opts *o, sl_fft_norm norm, int real, size_t n, axis_fft *f)
{
    size_t nfft = o->nfft ? o->nfft : n, m = real ? nfft / 2 + 1 : nfft;
    double s = norm == SL_FFT_NORM_ORTHO ? 1 / sqrt((double)nfft)
             : norm == SL_FFT_NORM_NONE  ? 1
                                         : 1 / (double)nfft;
    f->n = n;
    f->m = m;
    f->a = calloc(m * n, sizeof *f->a);
    for (size_t j = 0; j < m; j++) {
        size_t k = o->fftshift_after ? (j + m - m / 2) % m : j;
        double w = real && k >= 1 && k <= (nfft - 1) / 2 ? sqrt(2.0) : 1.0;
        for (size_t i = 0; i < n; i++) {
            size_t t = o->ifftshift_before ? (i + n - n / 2) % n : i;
            if (t >= nfft)
                continue;
            double ph = -2.0 * M_PI * (double)((k * t) % nfft) / (double)nfft;
            f->a[j * n + i] = s * w * CMPLX(cos(ph), sin(ph));
        }
    }
}

/* Applies one axis's matrix (or its adjoint) to a global array of shape `shape`, whose length
 * along the axis becomes the other side's. */
static void apply_axis(const axis_fft *f, size_t *shape, int ndim, int adjoint, const cplx *in,
                       cplx *out)
{
    size_t outer = 1, inner = 1;
    for (int d = 0; d < f->axis; d++)
        outer *= shape[d];
    for (int d = f->axis + 1; d < ndim; d++)
        inner *= shape[d];
    size_t lin = adjoint ? f->m : f->n, lout = adjoint ? f->n : f->m;
    for (size_t o = 0; o < outer; o++)
        for (size_t q = 0; q < inner; q++)
            for (size_t r = 0; r < lout; r++) {
                cplx sum = 0;
                for (size_t p = 0; p < lin; p++)
                    sum += (adjoint ? conj(f->a[p * f->n + r]) : f->a[r * f->n + p]) *
                           in[(o * lin + p) * inner + q];
                out[(o * lout + r) * inner + q] = sum;
            }
    shape[f->axis] = lout;
}

typedef struct ndcase {
    sl_dtype dtype;
    size_t shape[3];
    int split;
    int naxes, axes[3];
    sl_fft_opts o[3];
} ndcase;

static size_t count3(const size_t *s)
{
    return s[0] * s[1] * s[2];
}

/* Forward (axes from the last listed) or adjoint (from the first listed) of the whole case. */
static void reference(const ndcase *c, axis_fft *f, int adjoint, const cplx *in, cplx *out,
                      size_t *shape)
{
    size_t cap = 1;
    for (int d = 0; d < 3; d++)
        cap *= (c->shape[d] > 40 ? c->shape[d] : 40) + 1;
    cplx *cur = malloc(cap * sizeof *cur), *tmp = malloc(cap * sizeof *tmp);
    memcpy(cur, in, count3(shape) * sizeof *cur);
    for (int step = 0; step < c->naxes; step++) {
        int k = adjoint ? step : c->naxes - 1 - step;
        apply_axis(&f[k], shape, 3, adjoint, cur, tmp);
        cplx *t = cur;
        cur = tmp;
        tmp = t;
    }
    int real_model = !sl_dtype_is_complex(c->dtype);
    for (size_t i = 0; i < count3(shape); i++)
        out[i] = adjoint && real_model ? creal(cur[i]) : cur[i];
    free(cur);
    free(tmp);
}

static void to_array(sl_context *ctx, sl_darray *x, const cplx *g, size_t n)
{
    sl_dtype dt = th_info(x).dtype;
    void *raw = malloc(n * sizeof(cplx));
    th_to_dtype(dt, g, raw, n);
    CHECK_OK(sl_darray_from_global(x, raw), ctx);
    free(raw);
}

static void from_array(sl_context *ctx, const sl_darray *x, cplx *g, size_t n)
{
    sl_dtype dt = th_info(x).dtype;
    void *raw = malloc(n * sizeof(cplx));
    CHECK_OK(sl_darray_gather(x, SL_ALL_RANKS, raw), ctx);
    th_from_dtype(dt, raw, g, n);
    free(raw);
}

static double tol_of(sl_dtype t)
{
    return t == SL_F32 || t == SL_C64 ? 5e-5 : 1e-11;
}

static void run(sl_context *ctx, const ndcase *c, const char *what)
{
    int real = c->o[c->naxes - 1].real;
    axis_fft f[3];
    for (int k = 0; k < c->naxes; k++) {
        f[k].axis = c->axes[k];
        make_axis(&c->o[k], c->o[0].norm, k == c->naxes - 1 && real, c->shape[c->axes[k]], &f[k]);
    }
    sl_darray *like = NULL;
    CHECK_OK(sl_darray_create(ctx, c->dtype, 3, c->shape, SL_SCATTER, c->split, NULL, NULL,
                              &like), ctx);
    sl_op *op = NULL;
    CHECK_OK(sl_op_fftnd(like, c->naxes, c->axes, c->o, &op), ctx);
    if (op) {
        size_t ms[3], ds[3];
        memcpy(ms, c->shape, sizeof ms);
        memcpy(ds, c->shape, sizeof ds);
        for (int k = 0; k < c->naxes; k++)
            ds[c->axes[k]] = f[k].m;
        size_t nm = count3(ms), nd = count3(ds);
        cplx *x = malloc(nm * sizeof *x), *y = malloc(nd * sizeof *y);
        cplx *want = malloc((nm > nd ? nm : nd) * sizeof *want);
        cplx *got = malloc((nm > nd ? nm : nd) * sizeof *got);
        th_random(x, nm, sl_dtype_is_complex(c->dtype), 7);
        th_round(c->dtype, x, nm);
        th_random(y, nd, 1, 8);
        th_round(th_info(like).dtype == SL_F32 || th_info(like).dtype == SL_C64 ? SL_C64 : SL_C128,
                 y, nd);
        sl_darray *mx = NULL, *dy = NULL;
        CHECK_OK(sl_op_create_model(op, &mx), ctx);
        CHECK_OK(sl_op_create_data(op, &dy), ctx);
        to_array(ctx, mx, x, nm);
        CHECK_OK(sl_op_matvec(op, mx, dy), ctx);
        from_array(ctx, dy, got, nd);
        size_t sh[3];
        memcpy(sh, ms, sizeof sh);
        reference(c, f, 0, x, want, sh);
        double e = th_rel_err(got, want, nd);
        CHECK(e <= tol_of(c->dtype), "%s %s forward: rel err %g", what,
              sl_dtype_name(c->dtype), e);
        to_array(ctx, dy, y, nd);
        CHECK_OK(sl_op_rmatvec(op, dy, mx), ctx);
        from_array(ctx, mx, got, nm);
        memcpy(sh, ds, sizeof sh);
        reference(c, f, 1, y, want, sh);
        e = th_rel_err(got, want, nm);
        CHECK(e <= tol_of(c->dtype), "%s %s adjoint: rel err %g", what,
              sl_dtype_name(c->dtype), e);
        int passed = 0;
        double err = 0;
        CHECK_OK(sl_dottest(op, tol_of(c->dtype), &passed, &err), ctx);
        CHECK(passed, "%s %s dottest: %g", what, sl_dtype_name(c->dtype), err);
        sl_darray_destroy(mx);
        sl_darray_destroy(dy);
        free(x), free(y), free(want), free(got);
        sl_op_destroy(op);
    }
    sl_darray_destroy(like);
    for (int k = 0; k < c->naxes; k++)
        free(f[k].a);
}

static void test_cases(sl_context *ctx)
{
    const sl_dtype dts[4] = {SL_F32, SL_F64, SL_C64, SL_C128};
    for (int t = 0; t < 4; t++) {
        int cpx = sl_dtype_is_complex(dts[t]);
        for (int split = 0; split < 3; split++) {
            /* FFT2D over the last two axes (PyLops' default), real when the model is */
            ndcase c2 = {dts[t], {5, 6, 7}, split, 2, {1, 2}, {{0}}};
            c2.o[1].real = !cpx;
            run(ctx, &c2, "FFT2D axes (1, 2)");
            /* FFTND over all three, padded and truncated, shifts, norm "none" */
            ndcase c3 = {dts[t], {5, 6, 7}, split, 3, {0, 1, 2}, {{0}}};
            c3.o[0].nfft = 8, c3.o[0].norm = SL_FFT_NORM_NONE, c3.o[0].ifftshift_before = 1;
            c3.o[1].nfft = 4, c3.o[1].fftshift_after = 1;
            c3.o[2].real = !cpx, c3.o[2].nfft = 9;
            run(ctx, &c3, "FFTND axes (0, 1, 2) padded/truncated, shifts, none");
            /* axes listed out of order: the real transform along the last listed (axis 0) */
            ndcase cr = {dts[t], {5, 6, 7}, split, 2, {2, 0}, {{0}}};
            cr.o[0].norm = SL_FFT_NORM_1_OVER_N;
            cr.o[1].real = !cpx;
            run(ctx, &cr, "FFTND axes (2, 0), 1/n");
        }
    }
}

static void test_errors(sl_context *ctx)
{
    size_t shape[3] = {4, 5, 6};
    sl_darray *like = NULL;
    CHECK_OK(sl_darray_create(ctx, SL_F64, 3, shape, SL_SCATTER, 0, NULL, NULL, &like), ctx);
    sl_op *op = NULL;
    int twice[2] = {1, -2}, outside[1] = {3};
    sl_fft_opts real_first[2] = {{.real = 1}, {0}};
    int two[2] = {1, 2};
    CHECK_STATUS(sl_op_fftnd(like, 2, twice, NULL, &op), SL_ERR_ARG, ctx);
    CHECK_STATUS(sl_op_fftnd(like, 1, outside, NULL, &op), SL_ERR_ARG, ctx);
    CHECK_STATUS(sl_op_fftnd(like, 0, two, NULL, &op), SL_ERR_ARG, ctx);
    CHECK_STATUS(sl_op_fftnd(like, 2, two, real_first, &op), SL_ERR_ARG, ctx);
    CHECK_STATUS(sl_op_fftnd(like, 2, NULL, NULL, &op), SL_ERR_NULL, ctx);
    CHECK(op == NULL, "an operator after an error");
    sl_darray_destroy(like);
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    test_cases(ctx);
    test_errors(ctx);
    return th_end(ctx, "test_fftnd");
}
