/* sl_op_fft against a dense DFT computed here: forward, adjoint and dot test for every option
 * that changes the result (nfft above and below the length, real, each norm, both shifts),
 * along every axis of odd-sized 3-d arrays split along every axis (even and uneven splits, a
 * rank with no rows), 1-d and 2-d arrays, replicated arrays, the four dtypes; and the errors
 * (on every rank). */
#include "harness.h"

typedef struct fcase {
    sl_dtype dtype;
    int ndim;
    size_t shape[3];
    sl_partition partition;
    int split;    /* distributed axis */
    int uneven;   /* the last rank holds no rows, the others an even split */
    int axis;
    sl_fft_opts o;
} fcase;

/* The operator's matrix along one line: A[j][i] maps model sample i to data sample j. */
static cplx *dense_matrix(const fcase *c, size_t n, size_t *m_out)
{
    size_t nfft = c->o.nfft ? c->o.nfft : n, m = c->o.real ? nfft / 2 + 1 : nfft;
    double s = c->o.norm == SL_FFT_NORM_ORTHO ? 1 / sqrt((double)nfft)
             : c->o.norm == SL_FFT_NORM_NONE  ? 1
                                              : 1 / (double)nfft;
    cplx *a = calloc(m * n, sizeof *a);
    for (size_t j = 0; j < m; j++) {
        size_t k = c->o.fftshift_after ? (j + m - m / 2) % m : j; /* fftshift: y[j] = z[k] */
        double w = c->o.real && k >= 1 && k <= (nfft - 1) / 2 ? sqrt(2.0) : 1.0;
        for (size_t i = 0; i < n; i++) {
            size_t t = c->o.ifftshift_before ? (i + n - n / 2) % n : i; /* its time sample */
            if (t >= nfft)
                continue; /* truncated */
            /* the phase reduced modulo nfft first: exact twiddles at any size */
            double ph = -2.0 * M_PI * (double)((k * t) % nfft) / (double)nfft;
            a[j * n + i] = s * w * CMPLX(cos(ph), sin(ph));
        }
    }
    *m_out = m;
    return a;
}

/* Forward (y = A x line by line) or adjoint (x = A^H y, real part for a real model) of a
 * global array of `shape` along `axis`. */
static void dense_apply(const fcase *c, const cplx *a, size_t n, size_t m, const cplx *in,
                        cplx *out, int adjoint)
{
    size_t outer = 1, inner = 1;
    for (int d = 0; d < c->axis; d++)
        outer *= c->shape[d];
    for (int d = c->axis + 1; d < c->ndim; d++)
        inner *= c->shape[d];
    size_t lin = adjoint ? m : n, lout = adjoint ? n : m;
    for (size_t o = 0; o < outer; o++)
        for (size_t q = 0; q < inner; q++)
            for (size_t r = 0; r < lout; r++) {
                cplx sum = 0;
                for (size_t p = 0; p < lin; p++) {
                    cplx coef = adjoint ? conj(a[p * n + r]) : a[r * n + p];
                    sum += coef * in[(o * lin + p) * inner + q];
                }
                if (adjoint && !sl_dtype_is_complex(c->dtype))
                    sum = creal(sum);
                out[(o * lout + r) * inner + q] = sum;
            }
}

static sl_dtype complex_of(sl_dtype t)
{
    return t == SL_F32 || t == SL_C64 ? SL_C64 : SL_C128;
}

/* An array of the case's layout. */
static sl_status make_like(sl_context *ctx, const fcase *c, int nranks, sl_darray **x)
{
    size_t sizes[16];
    const size_t *ls = NULL;
    if (c->uneven && nranks > 1 && c->partition == SL_SCATTER) {
        size_t len = c->shape[c->split], parts = (size_t)nranks - 1;
        for (int r = 0; r < nranks; r++) /* the last rank gets none, the first the remainder */
            sizes[r] = r < nranks - 1 ? len / parts + ((size_t)r < len % parts) : 0;
        ls = sizes;
    }
    return sl_darray_create(ctx, c->dtype, c->ndim, c->shape, c->partition, c->split, ls, NULL,
                            x);
}

static double tol_of(sl_dtype t)
{
    return t == SL_F32 || t == SL_C64 ? 2e-5 : 1e-12;
}

static void describe(const fcase *c, char *buf, size_t len)
{
    snprintf(buf, len, "%s %dd (%zu,%zu,%zu) split %d%s%s axis %d nfft %zu real %d norm %s "
             "ifftshift %d fftshift %d", sl_dtype_name(c->dtype), c->ndim, c->shape[0],
             c->ndim > 1 ? c->shape[1] : 0, c->ndim > 2 ? c->shape[2] : 0, c->split,
             c->uneven ? " uneven" : "", c->partition == SL_BROADCAST ? " broadcast" : "",
             c->axis, c->o.nfft, c->o.real, sl_fft_norm_name(c->o.norm), c->o.ifftshift_before,
             c->o.fftshift_after);
}

/* Gathers x to every rank as complex values. */
static void gather(sl_darray *x, sl_dtype dt, size_t count, cplx *out)
{
    void *raw = malloc(count * sizeof(cplx));
    sl_darray_gather(x, SL_ALL_RANKS, raw);
    th_from_dtype(dt, raw, out, count);
    free(raw);
}

static void run_case(sl_context *ctx, const fcase *c, int nranks)
{
    char name[256];
    describe(c, name, sizeof name);
    size_t n = c->shape[c->axis], m, nm = th_prod(c->shape, c->ndim);
    cplx *a = dense_matrix(c, n, &m);
    size_t nd = nm / n * m;
    sl_dtype ddt = complex_of(c->dtype);
    cplx *xg = malloc(nm * sizeof *xg), *yg = malloc(nd * sizeof *yg);
    cplx *ref_y = malloc(nd * sizeof *yg), *ref_x = malloc(nm * sizeof *xg);
    cplx *got_y = malloc(nd * sizeof *yg), *got_x = malloc(nm * sizeof *xg);
    void *raw = malloc((nm > nd ? nm : nd) * sizeof(cplx));
    th_random(xg, nm, sl_dtype_is_complex(c->dtype), 11 + nm);
    th_round(c->dtype, xg, nm);
    th_random(yg, nd, 1, 29 + nd);
    th_round(ddt, yg, nd);
    fcase geo = *c; /* the data's shape for the adjoint reference's loops */
    dense_apply(c, a, n, m, xg, ref_y, 0);
    geo.shape[c->axis] = m;
    dense_apply(&geo, a, n, m, yg, ref_x, 1);

    sl_darray *x = NULL, *y = NULL, *x2 = NULL, *y2 = NULL;
    sl_op *op = NULL;
    CHECK_OK(make_like(ctx, c, nranks, &x), ctx);
    sl_status st = sl_op_fft(x, c->axis, &c->o, &op);
    CHECK(st == SL_OK, "%s: sl_op_fft -> %s (%s)", name, sl_strerror(st), sl_last_error(ctx));
    if (st == SL_OK) {
        th_to_dtype(c->dtype, xg, raw, nm);
        CHECK_OK(sl_darray_from_global(x, raw), ctx);
        CHECK_OK(sl_op_create_data(op, &y), ctx);
        CHECK_OK(sl_op_create_data(op, &y2), ctx);
        CHECK_OK(sl_op_create_model(op, &x2), ctx);
        CHECK_OK(sl_op_matvec(op, x, y), ctx);
        gather(y, ddt, nd, got_y);
        double e = th_rel_err(got_y, ref_y, nd);
        CHECK(e <= tol_of(c->dtype), "%s: forward error %.3g", name, e);
        th_to_dtype(ddt, yg, raw, nd);
        CHECK_OK(sl_darray_from_global(y2, raw), ctx);
        CHECK_OK(sl_op_rmatvec(op, y2, x2), ctx);
        gather(x2, c->dtype, nm, got_x);
        e = th_rel_err(got_x, ref_x, nm);
        CHECK(e <= tol_of(c->dtype), "%s: adjoint error %.3g", name, e);
        int passed = 0;
        double derr = 1;
        CHECK_OK(sl_dottest(op, c->dtype == SL_F32 || c->dtype == SL_C64 ? 1e-4 : 1e-10,
                            &passed, &derr), ctx);
        CHECK(passed, "%s: dot test error %.3g", name, derr);
    }
    sl_op_destroy(op);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    sl_darray_destroy(x2);
    sl_darray_destroy(y2);
    free(a), free(xg), free(yg), free(ref_y), free(ref_x), free(got_y), free(got_x), free(raw);
}

/* nfft offsets from n, real, norm and shifts of the option sets. */
typedef struct combo {
    int dn, real;
    sl_fft_norm norm;
    int ifs, fs;
} combo;
static const combo combos[] = {
    {0, 0, SL_FFT_NORM_ORTHO, 0, 0},  {3, 0, SL_FFT_NORM_NONE, 1, 0},
    {4, 0, SL_FFT_NORM_1_OVER_N, 0, 1}, {0, 0, SL_FFT_NORM_ORTHO, 1, 1},
    {-2, 0, SL_FFT_NORM_NONE, 0, 0},  {0, 1, SL_FFT_NORM_ORTHO, 0, 0},
    {3, 1, SL_FFT_NORM_NONE, 1, 0},   {1, 1, SL_FFT_NORM_1_OVER_N, 0, 1},
    {2, 1, SL_FFT_NORM_ORTHO, 1, 1},  {-1, 1, SL_FFT_NORM_ORTHO, 0, 0},
};
#define NCOMBOS (sizeof combos / sizeof combos[0])

static fcase with_combo(fcase c, const combo *k)
{
    size_t n = c.shape[c.axis];
    c.o = (sl_fft_opts){0};
    c.o.nfft = k->dn == 0 ? 0 : (size_t)((long)n + k->dn);
    c.o.real = k->real;
    c.o.norm = k->norm;
    c.o.ifftshift_before = k->ifs;
    c.o.fftshift_after = k->fs;
    c.o.estimate = 1;
    return c;
}

/* Every axis of a 3-d array split along every axis; each dtype goes through its option sets
 * (real ones only for real models), spread over the geometries. */
static void three_d(sl_context *ctx, int nranks)
{
    int idx = 0;
    for (int t = 0; t < 4; t++)
        for (int split = 0; split < 3; split++)
            for (int axis = 0; axis < 3; axis++)
                for (size_t k = 0; k < NCOMBOS; k++) {
                    if (combos[k].real && sl_dtype_is_complex(th_dtypes[t]))
                        continue;
                    if ((k + (size_t)split + (size_t)axis) % 3 != 0)
                        continue; /* a third of the combinations per geometry, all overall */
                    fcase c = {th_dtypes[t], 3, {5, 7, 9}, SL_SCATTER, split, idx++ % 2, axis, {0}};
                    c = with_combo(c, &combos[k]);
                    run_case(ctx, &c, nranks);
                }
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    int nranks = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    three_d(ctx, nranks);
    return th_end(ctx, "test_fft");
}
