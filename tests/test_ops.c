/* Operators against serial references computed here, and dot tests: MatrixMult (vectors and
 * several right-hand sides, uneven row splits with empty ranks), Identity, Diagonal, and the
 * algebra (adjoint, scale, sum, product) — every dtype. */
#include "harness.h"

static void split_rows(size_t n, int size, int uneven, size_t *sizes)
{
    for (int r = 0; r < size; r++)
        sizes[r] = n / (size_t)size + ((size_t)r < n % (size_t)size);
    if (uneven && size > 1) { /* rank 0 empty, its rows to the last rank */
        sizes[size - 1] += sizes[0];
        sizes[0] = 0;
    }
}

static void gather_c(sl_context *ctx, sl_dtype dt, const sl_darray *x, size_t n, cplx *out)
{
    void *raw = malloc(n * sl_dtype_size(dt));
    CHECK_OK(sl_darray_gather(x, SL_ALL_RANKS, raw), ctx);
    th_from_dtype(dt, raw, out, n);
    free(raw);
}

static void load(sl_context *ctx, sl_dtype dt, sl_darray *x, const cplx *g, size_t n)
{
    void *raw = malloc(n * sl_dtype_size(dt));
    th_to_dtype(dt, g, raw, n);
    CHECK_OK(sl_darray_from_global(x, raw), ctx);
    free(raw);
}

static double dot_tol(sl_dtype dt)
{
    return (dt == SL_F32 || dt == SL_C64) ? 1e-4 : 1e-12;
}

static void expect_dottest(sl_context *ctx, const sl_op *op, sl_dtype dt, const char *what)
{
    int passed = 0;
    double err = -1;
    CHECK_OK(sl_dottest(op, dot_tol(dt), &passed, &err), ctx);
    CHECK(passed, "dottest %s %s: rel err %g", what, sl_dtype_name(dt), err);
}

/* Applies op forward and adjoint to random inputs and compares with the references. */
static void expect_apply(sl_context *ctx, const sl_op *op, sl_dtype dt, size_t nd, size_t nm,
                         void (*ref)(const void *arg, const cplx *in, cplx *out, int adjoint),
                         const void *arg, const char *what)
{
    sl_darray *x = NULL, *y = NULL;
    CHECK_OK(sl_op_create_model(op, &x), ctx);
    CHECK_OK(sl_op_create_data(op, &y), ctx);
    if (!x || !y)
        return;
    cplx *gx = malloc(nm * sizeof(cplx)), *gy = malloc(nd * sizeof(cplx));
    cplx *got = malloc((nd > nm ? nd : nm) * sizeof(cplx)), *want = malloc((nd > nm ? nd : nm) * sizeof(cplx));
    th_random(gx, nm, sl_dtype_is_complex(dt), 3);
    th_random(gy, nd, sl_dtype_is_complex(dt), 4);
    th_round(dt, gx, nm);
    th_round(dt, gy, nd);
    load(ctx, dt, x, gx, nm);
    CHECK_OK(sl_op_matvec(op, x, y), ctx);
    gather_c(ctx, dt, y, nd, got);
    ref(arg, gx, want, 0);
    double e = th_rel_err(got, want, nd);
    CHECK(e <= 50 * th_tol(dt), "%s forward %s: err %g", what, sl_dtype_name(dt), e);
    load(ctx, dt, y, gy, nd);
    CHECK_OK(sl_op_rmatvec(op, y, x), ctx);
    gather_c(ctx, dt, x, nm, got);
    ref(arg, gy, want, 1);
    e = th_rel_err(got, want, nm);
    CHECK(e <= 50 * th_tol(dt), "%s adjoint %s: err %g", what, sl_dtype_name(dt), e);
    expect_dottest(ctx, op, dt, what);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    free(gx); free(gy); free(got); free(want);
}

typedef struct mm_ref {
    const cplx *a;
    size_t n, k, m;
    cplx alpha;     /* scale */
    const cplx *a2; /* sum: second matrix */
    int normal;     /* A^H A */
} mm_ref;

static void mm_apply_ref(const void *arg, const cplx *in, cplx *out, int adjoint)
{
    const mm_ref *r = arg;
    size_t rows = adjoint ? r->k : r->n;
    if (r->normal) { /* A^H A is Hermitian: the same both ways */
        cplx *t = malloc(r->n * r->m * sizeof(cplx));
        th_matmul(r->a, r->n, r->k, r->m, in, t, 0);
        th_matmul(r->a, r->n, r->k, r->m, t, out, 1);
        free(t);
        return;
    }
    th_matmul(r->a, r->n, r->k, r->m, in, out, adjoint);
    if (r->a2) {
        cplx *t = malloc(rows * r->m * sizeof(cplx));
        th_matmul(r->a2, r->n, r->k, r->m, in, t, adjoint);
        for (size_t i = 0; i < rows * r->m; i++) out[i] += t[i];
        free(t);
    }
    for (size_t i = 0; i < rows * r->m; i++)
        out[i] *= adjoint ? conj(r->alpha) : r->alpha;
}

static void adjoint_ref(const void *arg, const cplx *in, cplx *out, int adjoint)
{
    mm_apply_ref(arg, in, out, !adjoint);
}

static sl_op *make_mm(sl_context *ctx, sl_dtype dt, const cplx *a, size_t n, size_t k,
                      size_t nrhs, const size_t *sizes)
{
    size_t row0 = 0;
    for (int r = 0; r < th_rank; r++) row0 += sizes[r];
    void *mine = malloc(sizes[th_rank] * k * sl_dtype_size(dt) + 1);
    th_to_dtype(dt, a + row0 * k, mine, sizes[th_rank] * k);
    sl_op *op = NULL;
    CHECK_OK(sl_op_matrixmult(ctx, dt, n, k, nrhs, mine, sizes, &op), ctx);
    free(mine);
    return op;
}

static void test_matrixmult(sl_context *ctx, sl_dtype dt, size_t nrhs, int uneven)
{
    int size;
    size = th_ctx(ctx).size;
    size_t n = 11, k = 7, m = nrhs ? nrhs : 1, sizes[64];
    split_rows(n, size, uneven, sizes);
    cplx *a = malloc(n * k * sizeof(cplx)), *a2 = malloc(n * k * sizeof(cplx));
    th_random(a, n * k, sl_dtype_is_complex(dt), 10);
    th_random(a2, n * k, sl_dtype_is_complex(dt), 11);
    th_round(dt, a, n * k);
    th_round(dt, a2, n * k);
    sl_op *op = make_mm(ctx, dt, a, n, k, nrhs, sizes), *op2 = make_mm(ctx, dt, a2, n, k, nrhs, sizes);
    if (op && op2) {
        char what[64];
        snprintf(what, sizeof what, "MatrixMult nrhs=%zu %s", nrhs, uneven ? "uneven" : "balanced");
        mm_ref r = {a, n, k, m, 1, NULL, 0};
        expect_apply(ctx, op, dt, n * m, k * m, mm_apply_ref, &r, what);

        sl_op *h = NULL, *sc = NULL, *sum = NULL, *normal = NULL;
        CHECK_OK(sl_op_adjoint(op, &h), ctx);
        if (h) expect_apply(ctx, h, dt, k * m, n * m, adjoint_ref, &r, "Adjoint(MatrixMult)");
        cplx alpha = sl_dtype_is_complex(dt) ? CMPLX(2, -1) : 2;
        CHECK_OK(sl_op_scale(op, alpha, &sc), ctx);
        mm_ref rs = {a, n, k, m, alpha, NULL, 0};
        if (sc) expect_apply(ctx, sc, dt, n * m, k * m, mm_apply_ref, &rs, "Scale(MatrixMult)");
        CHECK_OK(sl_op_sum(op, op2, &sum), ctx);
        mm_ref rsum = {a, n, k, m, 1, a2, 0};
        if (sum) expect_apply(ctx, sum, dt, n * m, k * m, mm_apply_ref, &rsum, "Sum");
        CHECK_OK(sl_op_product(h, op, &normal), ctx);
        mm_ref rn = {a, n, k, m, 1, NULL, 1};
        if (normal) expect_apply(ctx, normal, dt, k * m, k * m, mm_apply_ref, &rn, "A^H A");
        /* conj(A), A^T, (A^H A)^2 */
        sl_op *cj = NULL, *tr = NULL, *pw = NULL;
        size_t nk = n * k;
        cplx *ac = malloc(nk * sizeof(cplx)), *at = malloc(nk * sizeof(cplx));
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < k; j++) {
                ac[i * k + j] = conj(a[i * k + j]);
                at[j * n + i] = a[i * k + j];
            }
        CHECK_OK(sl_op_conj(op, &cj), ctx);
        mm_ref rc = {ac, n, k, m, 1, NULL, 0};
        if (cj) expect_apply(ctx, cj, dt, n * m, k * m, mm_apply_ref, &rc, "Conj(MatrixMult)");
        CHECK_OK(sl_op_transpose(op, &tr), ctx);
        mm_ref rt = {at, k, n, m, 1, NULL, 0};
        if (tr) expect_apply(ctx, tr, dt, k * m, n * m, mm_apply_ref, &rt, "Transpose(MatrixMult)");
        if (normal) {
            CHECK_OK(sl_op_power(normal, 2, &pw), ctx);
            int passed = 0;
            double err = 0;
            if (pw) CHECK_OK(sl_dottest(pw, dot_tol(dt), &passed, &err), ctx);
            CHECK(passed, "dottest (A^H A)^2 %s: %g", sl_dtype_name(dt), err);
        }
        sl_op *bad = NULL;
        CHECK_STATUS(sl_op_power(op, 2, &bad), SL_ERR_SHAPE, ctx);
        sl_op_destroy(pw);
        sl_op_destroy(tr);
        sl_op_destroy(cj);
        free(ac);
        free(at);
        CHECK_STATUS(sl_op_product(op, op, &bad), SL_ERR_SHAPE, ctx);
        CHECK_STATUS(sl_op_sum(op, h, &bad), SL_ERR_SHAPE, ctx);
        if (!sl_dtype_is_complex(dt))
            CHECK_STATUS(sl_op_scale(op, CMPLX(0, 1), &bad), SL_ERR_DTYPE, ctx);
        /* wrong arrays */
        sl_darray *x = NULL, *y = NULL;
        sl_op_create_model(op, &x);
        sl_op_create_data(op, &y);
        CHECK_STATUS(sl_op_matvec(op, y, x), SL_ERR_SHAPE, ctx);
        CHECK_STATUS(sl_op_matvec(op, x, NULL), SL_ERR_NULL, ctx);
        sl_darray_destroy(x);
        sl_darray_destroy(y);
        sl_op_destroy(normal);
        sl_op_destroy(sum);
        sl_op_destroy(sc);
        sl_op_destroy(h);
    }
    sl_op_destroy(op);
    sl_op_destroy(op2);
    free(a);
    free(a2);
}

typedef struct diag_ref {
    const cplx *d;
    size_t n;
} diag_ref;

static void diag_apply_ref(const void *arg, const cplx *in, cplx *out, int adjoint)
{
    const diag_ref *r = arg;
    for (size_t i = 0; i < r->n; i++)
        out[i] = (adjoint ? conj(r->d[i]) : r->d[i]) * in[i];
}

static void test_diagonal_identity(sl_context *ctx, sl_dtype dt)
{
    size_t shape[2] = {9, 4}, n = 36;
    cplx *g = malloc(n * sizeof(cplx)), *ones = malloc(n * sizeof(cplx));
    th_random(g, n, sl_dtype_is_complex(dt), 8);
    th_round(dt, g, n);
    for (size_t i = 0; i < n; i++) ones[i] = 1;
    sl_darray *d = NULL;
    CHECK_OK(sl_darray_create(ctx, dt, 2, shape, SL_SCATTER, 1, NULL, NULL, &d), ctx);
    load(ctx, dt, d, g, n);
    sl_op *dop = NULL, *id = NULL;
    CHECK_OK(sl_op_diagonal(d, &dop), ctx);
    CHECK_OK(sl_op_identity(d, &id), ctx);
    diag_ref r = {g, n}, ri = {ones, n};
    if (dop) expect_apply(ctx, dop, dt, n, n, diag_apply_ref, &r, "Diagonal");
    if (id) expect_apply(ctx, id, dt, n, n, diag_apply_ref, &ri, "Identity");
    sl_op_destroy(dop);
    sl_op_destroy(id);
    sl_darray_destroy(d);
    free(g);
    free(ones);
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    for (int d = 0; d < 4; d++) {
        for (int uneven = 0; uneven < 2; uneven++) {
            test_matrixmult(ctx, th_dtypes[d], 0, uneven);
            test_matrixmult(ctx, th_dtypes[d], 3, uneven);
        }
        test_diagonal_identity(ctx, th_dtypes[d]);
    }
    /* bad input */
    sl_op *op = NULL;
    size_t sizes[64] = {0};
    CHECK_STATUS(sl_op_matrixmult(ctx, SL_F64, 5, 3, 0, NULL, NULL, &op),
                 th_rank < 5 ? SL_ERR_NULL : SL_ERR_ARG, ctx);
    CHECK_STATUS(sl_op_matrixmult(ctx, SL_F64, 5, 3, 0, NULL, sizes, &op), SL_ERR_SHAPE, ctx);
    CHECK_STATUS(sl_op_matrixmult(ctx, (sl_dtype)7, 5, 3, 0, NULL, NULL, &op), SL_ERR_DTYPE, ctx);
    CHECK_STATUS(sl_op_matrixmult(ctx, SL_F64, 5, 3, 0, NULL, NULL, NULL), SL_ERR_NULL, ctx);
    return th_end(ctx, "test_ops");
}
