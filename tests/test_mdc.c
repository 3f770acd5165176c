/* sl_op_mdc against a dense reference of PyLops' MDC computed here: the real FFT along time as
 * a matrix (ortho, sqrt(2) on the bins other than DC and Nyquist, ifftshift of a twosided
 * model), the per-frequency products with dr dt sqrt(nt) G (or conj(G), or G prescaled) on the
 * first nfmax bins, and the adjoint FFT (real part). Forward, adjoint, dot test, float32 and
 * float64, twosided and onesided, nfmax below, at and above nt/2 + 1, split axes with empty
 * ranks; argument errors on every rank. */
#include "harness.h"

#include <starlops/mdc.h>

typedef struct mcase {
    sl_dtype dtype;
    size_t nt, nv, nfmax, ns, nr;
    sl_mdc_opts o;
} mcase;

/* The kernel: a smooth deterministic G[f][s][r]. */
static cplx g_at(size_t f, size_t s, size_t r)
{
    double ph = 0.7 * (double)f + 0.3 * (double)s - 0.5 * (double)r;
    return CMPLX((1.0 + 0.1 * (double)s) * cos(ph), (0.5 + 0.05 * (double)r) * sin(ph));
}

static void fill(size_t f, void *block, void *user)
{
    const mcase *c = user;
    for (size_t s = 0; s < c->ns; s++)
        for (size_t r = 0; r < c->nr; r++) {
            cplx v = g_at(f, s, r);
            if (c->dtype == SL_F32)
                ((float _Complex *)block)[s * c->nr + r] = (float _Complex)v;
            else
                ((double _Complex *)block)[s * c->nr + r] = v;
        }
}

/* A[k][t] of the real FFT along time, nb x nt (ifftshift: column t reads sample (t+nt-nt/2)%nt
 * of the model, i.e. A[k][i] with i the model sample). */
static cplx *fft_matrix(size_t nt, int ifftshift, size_t *nb_out)
{
    size_t nb = nt / 2 + 1;
    cplx *a = calloc(nb * nt, sizeof *a);
    for (size_t k = 0; k < nb; k++) {
        double w = k >= 1 && k <= (nt - 1) / 2 ? sqrt(2.0) : 1.0;
        for (size_t i = 0; i < nt; i++) {
            size_t t = ifftshift ? (i + nt - nt / 2) % nt : i;
            double ph = -2.0 * M_PI * (double)((k * t) % nt) / (double)nt;
            a[k * nt + i] = w / sqrt((double)nt) * CMPLX(cos(ph), sin(ph));
        }
    }
    *nb_out = nb;
    return a;
}

/* y (nt, ns, nv) = MDC x (nt, nr, nv), or the adjoint (in: (nt, ns, nv), out (nt, nr, nv)). */
static void reference(const mcase *c, int adjoint, const double *in, double *out)
{
    size_t nb, nt = c->nt, nv = c->nv, nf = c->nfmax < nt / 2 + 1 ? c->nfmax : nt / 2 + 1;
    cplx *af = fft_matrix(nt, !c->o.onesided, &nb), *af1 = fft_matrix(nt, 0, &nb);
    double dt = c->o.dt ? c->o.dt : 1, dr = c->o.dr ? c->o.dr : 1;
    double scale = c->o.prescaled ? 1.0 : dr * dt * sqrt((double)nt);
    size_t nin = adjoint ? c->ns : c->nr, nout = adjoint ? c->nr : c->ns;
    const cplx *a_in = adjoint ? af1 : af, *a_out = adjoint ? af : af1;
    cplx *xf = calloc(nb * nin * nv, sizeof *xf), *yf = calloc(nb * nout * nv, sizeof *yf);
    for (size_t k = 0; k < nb; k++) /* to frequency */
        for (size_t j = 0; j < nin * nv; j++)
            for (size_t t = 0; t < nt; t++)
                xf[k * nin * nv + j] += a_in[k * nt + t] * in[t * nin * nv + j];
    for (size_t f = 0; f < nf; f++) /* the products: G (nout x nin) or G^H */
        for (size_t o = 0; o < nout; o++)
            for (size_t v = 0; v < nv; v++) {
                cplx acc = 0;
                for (size_t i = 0; i < nin; i++) {
                    cplx g = adjoint ? conj(g_at(f, i, o)) : g_at(f, o, i);
                    if (c->o.conj)
                        g = conj(g);
                    acc += g * xf[(f * nin + i) * nv + v];
                }
                yf[(f * nout + o) * nv + v] = scale * acc;
            }
    for (size_t t = 0; t < nt; t++) /* back to time: the adjoint FFT, real part */
        for (size_t j = 0; j < nout * nv; j++) {
            cplx acc = 0;
            for (size_t k = 0; k < nb; k++)
                acc += conj(a_out[k * nt + t]) * yf[k * nout * nv + j];
            out[t * nout * nv + j] = creal(acc);
        }
    free(af), free(af1), free(xf), free(yf);
}

static void set_global(sl_context *ctx, sl_darray *x, const double *g, size_t n)
{
    sl_dtype dt = th_info(x).dtype;
    void *raw = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        if (dt == SL_F32)
            ((float *)raw)[i] = (float)g[i];
        else
            ((double *)raw)[i] = g[i];
    }
    CHECK_OK(sl_darray_from_global(x, raw), ctx);
    free(raw);
}

static void get_global(sl_context *ctx, const sl_darray *x, double *g, size_t n)
{
    sl_dtype dt = th_info(x).dtype;
    void *raw = malloc(n * sizeof(double));
    CHECK_OK(sl_darray_gather(x, SL_ALL_RANKS, raw), ctx);
    for (size_t i = 0; i < n; i++)
        g[i] = dt == SL_F32 ? ((float *)raw)[i] : ((double *)raw)[i];
    free(raw);
}

static double rel_err(const double *a, const double *b, size_t n)
{
    double e = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        e = fmax(e, fabs(a[i] - b[i]));
        s = fmax(s, fabs(b[i]));
    }
    return s > 0 ? e / s : e;
}

static void run(sl_context *ctx, mcase *c, const char *what)
{
    sl_op *op = NULL;
    CHECK_OK(sl_op_mdc(ctx, c->dtype, c->nt, c->nv, c->nfmax, c->ns, c->nr, fill, c, &c->o,
                       &op), ctx);
    if (!op)
        return;
    double tol = c->dtype == SL_F32 ? 2e-5 : 1e-12;
    size_t nm = c->nt * c->nr * c->nv, nd = c->nt * c->ns * c->nv;
    double *x = malloc(nm * sizeof *x), *y = malloc(nd * sizeof *y);
    double *want = malloc((nm > nd ? nm : nd) * sizeof *want);
    double *got = malloc((nm > nd ? nm : nd) * sizeof *got);
    for (size_t i = 0; i < nm; i++)
        x[i] = sin(0.37 * (double)i + 0.1) + (c->dtype == SL_F32 ? 0 : 1e-3 * cos((double)i));
    for (size_t i = 0; i < nd; i++)
        y[i] = cos(0.23 * (double)i - 0.4);
    if (c->dtype == SL_F32) { /* what the array holds */
        for (size_t i = 0; i < nm; i++) x[i] = (float)x[i];
        for (size_t i = 0; i < nd; i++) y[i] = (float)y[i];
    }
    sl_darray *mx = NULL, *dy = NULL;
    CHECK_OK(sl_op_create_model(op, &mx), ctx);
    CHECK_OK(sl_op_create_data(op, &dy), ctx);
    sl_darray_info mi = th_info(mx);
    CHECK(mi.ndim == 3 && mi.shape[0] == c->nt && mi.shape[1] == c->nr && mi.axis == 1,
          "%s: model layout", what);
    set_global(ctx, mx, x, nm);
    CHECK_OK(sl_op_matvec(op, mx, dy), ctx);
    get_global(ctx, dy, got, nd);
    reference(c, 0, x, want);
    double e = rel_err(got, want, nd);
    CHECK(e <= tol, "%s %s forward: rel err %g", what, sl_dtype_name(c->dtype), e);
    set_global(ctx, dy, y, nd);
    CHECK_OK(sl_op_rmatvec(op, dy, mx), ctx);
    get_global(ctx, mx, got, nm);
    reference(c, 1, y, want);
    e = rel_err(got, want, nm);
    CHECK(e <= tol, "%s %s adjoint: rel err %g", what, sl_dtype_name(c->dtype), e);
    int passed = 0;
    double err = 0;
    CHECK_OK(sl_dottest(op, c->dtype == SL_F32 ? 1e-4 : 1e-11, &passed, &err), ctx);
    CHECK(passed, "%s %s dottest: %g", what, sl_dtype_name(c->dtype), err);
    sl_darray_destroy(mx);
    sl_darray_destroy(dy);
    free(x), free(y), free(want), free(got);
    sl_op_destroy(op);
}

static void test_cases(sl_context *ctx)
{
    const sl_dtype dts[2] = {SL_F32, SL_F64};
    for (int t = 0; t < 2; t++) {
        mcase a = {dts[t], 9, 2, 4, 3, 4, {.dt = 0}};
        run(ctx, &a, "twosided nt 9, nfmax 4 of 5");
        mcase b = {dts[t], 9, 1, 7, 5, 2, {.dt = 0.004, .dr = 10, .conj = 1}};
        run(ctx, &b, "twosided, nfmax above nt/2+1, dt dr, conj");
        mcase c = {dts[t], 8, 3, 5, 2, 3, {.onesided = 1, .no_saveGt = 1, .prescaled = 1}};
        run(ctx, &c, "onesided nt 8, no saveGt, prescaled");
    }
}

static void test_errors(sl_context *ctx)
{
    sl_op *op = NULL;
    mcase c = {SL_F64, 8, 1, 3, 2, 2, {.dt = 0}};
    CHECK_STATUS(sl_op_mdc(ctx, SL_F64, 8, 1, 3, 2, 2, fill, &c, NULL, &op), SL_ERR_ARG, ctx);
    CHECK(strstr(sl_last_error(ctx), "odd"), "even nt twosided: %s", sl_last_error(ctx));
    CHECK_STATUS(sl_op_mdc(ctx, SL_C128, 9, 1, 3, 2, 2, fill, &c, NULL, &op), SL_ERR_DTYPE, ctx);
    CHECK_STATUS(sl_op_mdc(ctx, SL_F64, 9, 0, 3, 2, 2, fill, &c, NULL, &op), SL_ERR_SHAPE, ctx);
    CHECK_STATUS(sl_op_mdc(ctx, SL_F64, 9, 1, 3, 2, 2, NULL, &c, NULL, &op), SL_ERR_NULL, ctx);
    if (th_ctx(ctx).size > 1) { /* one rank's dt differs: every rank fails, none hangs */
        sl_mdc_opts o = {.dt = th_rank == 0 ? 0.5 : 1};
        CHECK_STATUS(sl_op_mdc(ctx, SL_F64, 9, 1, 3, 2, 2, fill, &c, &o, &op),
                     SL_ERR_RANK_MISMATCH, ctx);
    }
    CHECK(op == NULL, "an operator after an error");
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    test_cases(ctx);
    test_errors(ctx);
    return th_end(ctx, "test_mdc");
}
