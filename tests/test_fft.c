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
    int negative; /* the operator is given axis - ndim */
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
    snprintf(buf, len, "%s %dd (%zu,%zu,%zu) split %d%s%s axis %d%s nfft %zu real %d norm %s "
             "ifftshift %d fftshift %d", sl_dtype_name(c->dtype), c->ndim, c->shape[0],
             c->ndim > 1 ? c->shape[1] : 0, c->ndim > 2 ? c->shape[2] : 0, c->split,
             c->uneven ? " uneven" : "", c->partition == SL_BROADCAST ? " broadcast" : "",
             c->axis, c->negative ? " (negative)" : "", c->o.nfft, c->o.real, sl_fft_norm_name(c->o.norm), c->o.ifftshift_before,
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
    sl_status st = sl_op_fft(x, c->negative ? c->axis - c->ndim : c->axis, &c->o, &op);
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
                    fcase c = {th_dtypes[t], 3, {5, 7, 9}, SL_SCATTER, split, idx++ % 2, axis, {0}, 0};
                    c = with_combo(c, &combos[k]);
                    run_case(ctx, &c, nranks);
                }
}

/* 1-d and 2-d arrays, replicated arrays, negative axes, larger arrays planned with
 * FFTW_MEASURE (several lines per plan execution, interleaved and contiguous). */
static void other_shapes(sl_context *ctx, int nranks)
{
    fcase cs[] = {
        /* 1-d replicated: the whole axis on every rank, cut into tiles */
        {SL_C128, 1, {50}, SL_BROADCAST, 0, 0, 0, {0}, 0},
        {SL_F64, 1, {41}, SL_BROADCAST, 0, 0, -1, {0}, 0},
        {SL_F32, 1, {64}, SL_BROADCAST, 0, 0, 0, {0}, 0},
        /* 2-d: along and across the split axis, uneven */
        {SL_C128, 2, {6, 11}, SL_SCATTER, 0, 1, 0, {0}, 0},
        {SL_F64, 2, {6, 11}, SL_SCATTER, 0, 0, 1, {0}, 0},
        {SL_C64, 2, {13, 4}, SL_SCATTER, 1, 0, 1, {0}, 0},
        {SL_F32, 2, {13, 4}, SL_SCATTER, 1, 1, -2, {0}, 0},
        /* 3-d replicated, along the split axis */
        {SL_F64, 3, {7, 3, 5}, SL_BROADCAST, 0, 0, 0, {0}, 0},
        {SL_C64, 3, {7, 3, 5}, SL_BROADCAST, 2, 0, 2, {0}, 0},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
        for (size_t k = 0; k < NCOMBOS; k++) {
            if (combos[k].real && sl_dtype_is_complex(cs[i].dtype))
                continue;
            fcase c = cs[i];
            c.negative = c.axis < 0;
            c.axis = c.axis < 0 ? c.axis + c.ndim : c.axis;
            c = with_combo(c, &combos[k]);
            run_case(ctx, &c, nranks);
        }
    fcase big[] = {
        {SL_C128, 3, {16, 33, 20}, SL_SCATTER, 0, 0, 0, {0}, 0},
        {SL_F64, 3, {16, 33, 20}, SL_SCATTER, 0, 1, 1, {0}, 0},
        {SL_F32, 3, {16, 33, 20}, SL_SCATTER, 1, 0, 2, {0}, 0},
        {SL_C64, 3, {16, 33, 20}, SL_SCATTER, 2, 1, 0, {0}, 0},
    };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        for (size_t k = 0; k < NCOMBOS; k += 3) {
            if (combos[k].real && sl_dtype_is_complex(big[i].dtype))
                continue;
            fcase c = with_combo(big[i], &combos[k]);
            c.o.estimate = 0;
            run_case(ctx, &c, nranks);
        }
}

/* A 1-d array scattered along its only axis: transformed when one rank holds it all,
 * refused on every rank otherwise. */
static void one_d_scattered(sl_context *ctx, int nranks)
{
    size_t n = 23, sizes[16] = {0};
    sizes[nranks - 1] = n;
    fcase c = {SL_C128, 1, {23}, SL_SCATTER, 0, 0, 0, {0}, 0};
    if (nranks == 1) {
        run_case(ctx, &c, nranks);
        return;
    }
    sl_darray *x = NULL;
    sl_op *op = NULL;
    CHECK_OK(sl_darray_create(ctx, SL_C128, 1, &n, SL_SCATTER, 0, NULL, NULL, &x), ctx);
    CHECK_STATUS(sl_op_fft(x, 0, NULL, &op), SL_ERR_ARG, ctx);
    CHECK(op == NULL, "no operator on failure");
    CHECK(strstr(sl_last_error(ctx), "1-d array scattered") != NULL, "message: %s",
          sl_last_error(ctx));
    sl_darray_destroy(x);
    /* wholly on the last rank: that rank transforms it */
    CHECK_OK(sl_darray_create(ctx, SL_C128, 1, &n, SL_SCATTER, 0, sizes, NULL, &x), ctx);
    sl_fft_opts o = {.nfft = 30, .fftshift_after = 1, .estimate = 1};
    CHECK_OK(sl_op_fft(x, 0, &o, &op), ctx);
    int passed = 0;
    double err = 1;
    if (op)
        CHECK_OK(sl_dottest(op, 1e-10, &passed, &err), ctx);
    CHECK(passed, "1-d on one rank: dot test error %.3g", err);
    sl_op_destroy(op);
    sl_darray_destroy(x);
}

/* Bad arguments: the same error on every rank, never a crash or a hang. */
static void errors(sl_context *ctx, int nranks, int rank)
{
    size_t shape[3] = {4, 5, 6};
    sl_darray *x = NULL, *z = NULL;
    sl_op *op = NULL;
    CHECK_OK(sl_darray_create(ctx, SL_F64, 3, shape, SL_SCATTER, 1, NULL, NULL, &x), ctx);
    CHECK_OK(sl_darray_create(ctx, SL_C128, 3, shape, SL_SCATTER, 0, NULL, NULL, &z), ctx);
    CHECK_STATUS(sl_op_fft(x, 3, NULL, &op), SL_ERR_ARG, ctx);
    CHECK_STATUS(sl_op_fft(x, -4, NULL, &op), SL_ERR_ARG, ctx);
    sl_fft_opts o = {.real = 1};
    CHECK_STATUS(sl_op_fft(z, 0, &o, &op), SL_ERR_DTYPE, ctx);
    o = (sl_fft_opts){.norm = (sl_fft_norm)7};
    CHECK_STATUS(sl_op_fft(x, 0, &o, &op), SL_ERR_ARG, ctx);
    o = (sl_fft_opts){.nfft = (size_t)1 << 40};
    CHECK_STATUS(sl_op_fft(x, 0, &o, &op), SL_ERR_ARG, ctx);
    CHECK_STATUS(sl_op_fft(NULL, 0, NULL, &op), SL_ERR_NULL, ctx);
    CHECK_STATUS(sl_op_fft(x, 0, NULL, NULL), SL_ERR_NULL, ctx);
    if (nranks > 1) { /* ranks disagree on nfft */
        o = (sl_fft_opts){.nfft = 8 + (size_t)rank, .estimate = 1};
        CHECK_STATUS(sl_op_fft(x, 0, &o, &op), SL_ERR_RANK_MISMATCH, ctx);
        /* one rank's bad axis: an error on every rank */
        CHECK(sl_op_fft(x, rank == 0 ? 5 : 0, NULL, &op) != SL_OK, "bad axis on rank 0 only");
    }
    CHECK(op == NULL, "no operator was made");
    /* arrays of the wrong layout */
    CHECK_OK(sl_op_fft(x, 2, &(sl_fft_opts){.nfft = 9, .estimate = 1}, &op), ctx);
    if (op) {
        sl_darray *y = NULL;
        CHECK_OK(sl_op_create_data(op, &y), ctx);
        CHECK(sl_op_matvec(op, y, y) != SL_OK, "data array as model");
        CHECK(sl_op_rmatvec(op, x, x) != SL_OK, "model array as data");
        sl_darray_destroy(y);
    }
    sl_op_destroy(op);
    sl_darray_destroy(x);
    sl_darray_destroy(z);
    sl_fft_norm norm = SL_FFT_NORM_NONE;
    CHECK(sl_fft_norm_from_name("ortho", &norm) == SL_OK && norm == SL_FFT_NORM_ORTHO, "ortho");
    CHECK(sl_fft_norm_from_name("1/N", &norm) == SL_OK && norm == SL_FFT_NORM_1_OVER_N, "1/N");
    CHECK(sl_fft_norm_from_name("backward", &norm) == SL_ERR_ARG, "backward is refused");
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    int nranks = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    three_d(ctx, nranks);
    other_shapes(ctx, nranks);
    one_d_scattered(ctx, nranks);
    errors(ctx, nranks, th_rank);
    return th_end(ctx, "test_fft");
}
