/* The 2D (SUMMA) MatrixMult against products of the gathered matrices computed here, on every
 * grid the rank count allows (1 x P, P x 1, and the factorisations between), for odd sizes,
 * tiles that divide nothing and tiles larger than the matrix, the four dtypes, vectors and
 * several right-hand sides; dot tests; CGLS with 8 right-hand sides against LAPACKE zgels; as
 * a block of StackedVStack; and misuse (every rank gets the error). */
#include <lapacke.h>

#include "harness.h"

typedef struct filler {
    const cplx *a;
    size_t k;
    sl_dtype dt;
} filler;

static void fill(size_t row0, size_t col0, size_t rows, size_t cols, void *block, void *user)
{
    const filler *f = user;
    size_t es = sl_dtype_size(f->dt);
    for (size_t r = 0; r < rows; r++)
        th_to_dtype(f->dt, f->a + (row0 + r) * f->k + col0, (char *)block + r * cols * es, cols);
}

static double tol_of(sl_dtype dt)
{
    return dt == SL_F32 || dt == SL_C64 ? 2e-5 : 1e-13;
}

/* Applies op (or its adjoint) to the natural matrix `in` through the packed arrays and
 * compares the gathered result with the serial product. */
static void check_side(sl_context *ctx, sl_op *op, const cplx *a, size_t n, size_t k, size_t m,
                       sl_dtype dt, int adjoint, const char *what)
{
    size_t rin = adjoint ? n : k, rout = adjoint ? k : n, es = sl_dtype_size(dt);
    cplx *in = malloc(rin * m * sizeof(cplx)), *want = malloc(rout * m * sizeof(cplx));
    cplx *got = malloc(rout * m * sizeof(cplx));
    void *raw_in = malloc(rin * m * es), *raw_out = malloc(rout * m * es);
    th_random(in, rin * m, sl_dtype_is_complex(dt), 40 + (uint64_t)adjoint);
    th_round(dt, in, rin * m);
    th_to_dtype(dt, in, raw_in, rin * m);
    th_matmul(a, n, k, m, in, want, adjoint);
    sl_darray *x = NULL, *y = NULL;
    CHECK_OK(sl_op_create_model(op, &x), ctx);
    CHECK_OK(sl_op_create_data(op, &y), ctx);
    sl_op_side in_side = adjoint ? SL_SIDE_DATA : SL_SIDE_MODEL;
    CHECK_OK(sl_matrixmult_scatter(op, in_side, raw_in, adjoint ? y : x), ctx);
    CHECK_OK(adjoint ? sl_op_rmatvec(op, y, x) : sl_op_matvec(op, x, y), ctx);
    CHECK_OK(sl_matrixmult_gather(op, adjoint ? SL_SIDE_MODEL : SL_SIDE_DATA, adjoint ? x : y,
                                  SL_ALL_RANKS, raw_out), ctx);
    th_from_dtype(dt, raw_out, got, rout * m);
    double err = th_rel_err(got, want, rout * m);
    CHECK(err <= tol_of(dt), "%s %s: relative error %g", what, adjoint ? "adjoint" : "forward",
          err);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    free(in);
    free(want);
    free(got);
    free(raw_in);
    free(raw_out);
}

static sl_op *make(sl_context *ctx, sl_dtype dt, const cplx *a, size_t n, size_t k,
                   size_t nrhs, const sl_summa_opts *opts, filler *f)
{
    *f = (filler){a, k, dt};
    sl_op *op = NULL;
    CHECK_OK(sl_op_matrixmult_summa(ctx, dt, n, k, nrhs, fill, f, opts, &op), ctx);
    return op;
}

static void check_case(sl_context *ctx, sl_dtype dt, size_t n, size_t k, size_t nrhs, int p,
                       int q, size_t tile)
{
    size_t m = nrhs ? nrhs : 1;
    cplx *a = malloc(n * k * sizeof(cplx));
    th_random(a, n * k, sl_dtype_is_complex(dt), 7 + n + k);
    th_round(dt, a, n * k);
    sl_summa_opts o = {p, q, tile ? tile : 0, tile ? tile + 2 : 0, tile ? tile + 1 : 0, 1, 0};
    filler f;
    sl_op *op = make(ctx, dt, a, n, k, nrhs, &o, &f);
    char what[128];
    snprintf(what, sizeof what, "SUMMA %s %zux%zux%zu grid %dx%d tile %zu", sl_dtype_name(dt), n,
             k, nrhs, p, q, tile);
    if (op) {
        int gp = 0, gq = 0;
        size_t mb = 0, kb = 0, nb = 0;
        CHECK_OK(sl_matrixmult_summa_info(op, &gp, &gq, &mb, &kb, &nb), ctx);
        CHECK(gp == p && gq == q, "%s: grid %dx%d", what, gp, gq);
        uint64_t s0, r0, s1, r1;
        s0 = th_ctx(ctx).bytes_sent;
        r0 = th_ctx(ctx).bytes_received;
        check_side(ctx, op, a, n, k, m, dt, 0, what);
        check_side(ctx, op, a, n, k, m, dt, 1, what);
        s1 = th_ctx(ctx).bytes_sent;
        r1 = th_ctx(ctx).bytes_received;
        if (p * q == 1) /* one rank: nothing travels (the dot test's sums come after) */
            CHECK(s1 == s0 && r1 == r0, "%s: %llu bytes moved on one rank", what,
                  (unsigned long long)(s1 - s0 + r1 - r0));
        int passed = 0;
        double err = 0;
        CHECK_OK(sl_dottest(op, dt == SL_F32 || dt == SL_C64 ? 1e-4 : 1e-12, &passed, &err), ctx);
        CHECK(passed, "%s: dottest %g", what, err);
    }
    sl_op_destroy(op);
    free(a);
}

/* Every grid of `size` ranks; on each, every size with each tile choice, the dtype rotating
 * through the four (and all four for 37 x 37 x 37 with odd tiles). */
static int quick; /* argument "quick" (sanitizer pass): fewer sizes, tiles and dtypes */

static void check_grids(sl_context *ctx, int size)
{
    static const size_t sizes[][3] = {{64, 64, 64}, {37, 37, 37}, {50, 30, 40}, {3, 4, 5},
                                      {1, 2, 1}, {9, 13, 0}};
    static const size_t tiles[3] = {0, 1000, 5};
    for (int p = 1; p <= size; p++) {
        if (size % p || (size == 6 && (p == 1 || p == 6))) /* 6 ranks: for 2x3 and 3x2 only */
            continue;
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            for (size_t t = 0; t < 3; t++) {
                size_t n = sizes[s][0], k = sizes[s][1], r = sizes[s][2];
                if ((tiles[t] == 5 && n * k > 2000) ||
                    ((size == 6 || quick) && (n == 64 || t == 1)))
                    continue; /* 6 ranks on 2 cores, or quick: the cases that stress the grids */
                int all = n == 37 && tiles[t] == 5;
                for (int d = 0; d < 4; d++)
                    if (all || (size_t)d == (s + t + (size_t)p) % 4)
                        check_case(ctx, th_dtypes[d], n, k, r, p, size / p, tiles[t]);
            }
    }
}

/* min ||Y - A X||_F over X, 8 right-hand sides at once, against zgels. */
static void check_cgls(sl_context *ctx, sl_dtype dt)
{
    size_t n = 40, k = 23, m = 8, es = sl_dtype_size(dt);
    cplx *a = malloc(n * k * sizeof(cplx)), *y = malloc(n * m * sizeof(cplx));
    th_random(a, n * k, sl_dtype_is_complex(dt), 3);
    th_random(y, n * m, sl_dtype_is_complex(dt), 4);
    for (size_t i = 0; i < k; i++)
        a[i * k + i] += 4; /* well conditioned: CGLS converges in few iterations */
    th_round(dt, a, n * k);
    th_round(dt, y, n * m);
    lapack_complex_double *aa = malloc(n * k * sizeof *aa), *bb = malloc(n * m * sizeof *bb);
    memcpy(aa, a, n * k * sizeof(cplx));
    memcpy(bb, y, n * m * sizeof(cplx));
    LAPACKE_zgels(LAPACK_ROW_MAJOR, 'N', (int)n, (int)k, (int)m, aa, (int)k, bb, (int)m);
    sl_summa_opts o = {0, 0, 16, 8, 4, 0, 0};
    filler f;
    sl_op *op = make(ctx, dt, a, n, k, m, &o, &f);
    if (op) {
        sl_darray *x = NULL, *d = NULL;
        void *raw = malloc(n * m * es);
        cplx *got = malloc(k * m * sizeof(cplx));
        th_to_dtype(dt, y, raw, n * m);
        CHECK_OK(sl_op_create_model(op, &x), ctx);
        CHECK_OK(sl_op_create_data(op, &d), ctx);
        CHECK_OK(sl_matrixmult_scatter(op, SL_SIDE_DATA, raw, d), ctx);
        sl_solver_opts so = {.niter = 30, .tol = SL_TOL_NONE};
        sl_solve_result res;
        CHECK_OK(sl_cgls(op, d, x, &so, &res), ctx);
        CHECK_OK(sl_matrixmult_gather(op, SL_SIDE_MODEL, x, SL_ALL_RANKS, raw), ctx);
        th_from_dtype(dt, raw, got, k * m);
        double err = th_rel_err(got, (cplx *)bb, k * m);
        CHECK(err <= (dt == SL_F32 || dt == SL_C64 ? 1e-4 : 1e-10),
              "CGLS 8 rhs %s vs zgels: relative error %g", sl_dtype_name(dt), err);
        sl_darray_destroy(x);
        sl_darray_destroy(d);
        free(raw);
        free(got);
    }
    sl_op_destroy(op);
    free(a);
    free(y);
    free(aa);
    free(bb);
}

/* StackedVStack[A1; A2] of two SUMMA operators sharing the model layout. */
static void check_vstack(sl_context *ctx, sl_dtype dt)
{
    size_t n1 = 21, n2 = 12, k = 17, m = 3;
    cplx *a = malloc((n1 + n2) * k * sizeof(cplx));
    th_random(a, (n1 + n2) * k, sl_dtype_is_complex(dt), 9);
    th_round(dt, a, (n1 + n2) * k);
    sl_summa_opts o = {0, 0, 5, 4, 2, 0, 0};
    filler f1, f2;
    /* The grid each would choose may differ (different N): A2 takes A1's to share its model. */
    sl_op *a1 = make(ctx, dt, a, n1, k, m, &o, &f1), *a2 = NULL;
    size_t mb, kb, nb;
    if (a1) CHECK_OK(sl_matrixmult_summa_info(a1, &o.grid_p, &o.grid_q, &mb, &kb, &nb), ctx);
    if (a1) a2 = make(ctx, dt, a + n1 * k, n2, k, m, &o, &f2);
    sl_op *v = NULL;
    if (a1 && a2) {
        const sl_op *ops[2] = {a1, a2};
        CHECK_OK(sl_op_stacked_vstack(2, ops, &v), ctx);
    }
    if (v) {
        int passed = 0;
        double err = 0;
        CHECK_OK(sl_dottest(v, dt == SL_F32 || dt == SL_C64 ? 1e-4 : 1e-12, &passed, &err), ctx);
        CHECK(passed, "VStack[SUMMA, SUMMA] %s: dottest %g", sl_dtype_name(dt), err);
        /* forward: component i is A_i X */
        size_t es = sl_dtype_size(dt);
        cplx *x = malloc(k * m * sizeof(cplx)), *want = malloc((n1 + n2) * m * sizeof(cplx));
        cplx *got = malloc((n1 + n2) * m * sizeof(cplx));
        void *raw = malloc((n1 + n2) * m * es);
        th_random(x, k * m, sl_dtype_is_complex(dt), 12);
        th_round(dt, x, k * m);
        th_matmul(a, n1 + n2, k, m, x, want, 0);
        th_to_dtype(dt, x, raw, k * m);
        sl_darray *xs = NULL, *ys = NULL;
        CHECK_OK(sl_op_create_model(v, &xs), ctx);
        CHECK_OK(sl_op_create_data(v, &ys), ctx);
        sl_darray *x0 = NULL, *y0 = NULL, *y1 = NULL;
        CHECK_OK(sl_darray_stack_part(xs, 0, &x0), ctx);
        CHECK_OK(sl_darray_stack_part(ys, 0, &y0), ctx);
        CHECK_OK(sl_darray_stack_part(ys, 1, &y1), ctx);
        CHECK_OK(sl_matrixmult_scatter(a1, SL_SIDE_MODEL, raw, x0), ctx);
        CHECK_OK(sl_op_matvec(v, xs, ys), ctx);
        CHECK_OK(sl_matrixmult_gather(a1, SL_SIDE_DATA, y0, SL_ALL_RANKS, raw), ctx);
        th_from_dtype(dt, raw, got, n1 * m);
        CHECK_OK(sl_matrixmult_gather(a2, SL_SIDE_DATA, y1, SL_ALL_RANKS, raw), ctx);
        th_from_dtype(dt, raw, got + n1 * m, n2 * m);
        double err2 = th_rel_err(got, want, (n1 + n2) * m);
        CHECK(err2 <= tol_of(dt), "VStack[SUMMA, SUMMA] %s forward: %g", sl_dtype_name(dt), err2);
        sl_darray_destroy(xs);
        sl_darray_destroy(ys);
        free(x);
        free(want);
        free(got);
        free(raw);
    }
    sl_op_destroy(v);
    sl_op_destroy(a1);
    sl_op_destroy(a2);
    free(a);
}

static void check_errors(sl_context *ctx, int size)
{
    cplx a[6] = {1, 2, 3, 4, 5, 6};
    filler f = {a, 3, SL_F64};
    sl_op *op = NULL;
    sl_summa_opts bad_grid = {size + 1, 1, 0, 0, 0, 0, 0};
    CHECK_STATUS(sl_op_matrixmult_summa(ctx, SL_F64, 2, 3, 0, fill, &f, &bad_grid, &op),
                 SL_ERR_ARG, ctx);
    sl_summa_opts half = {1, 0, 0, 0, 0, 0, 0};
    CHECK_STATUS(sl_op_matrixmult_summa(ctx, SL_F64, 2, 3, 0, fill, &f, &half, &op), SL_ERR_ARG,
                 ctx);
    CHECK_STATUS(sl_op_matrixmult_summa(ctx, SL_F64, 0, 3, 0, fill, &f, NULL, &op), SL_ERR_SHAPE,
                 ctx);
    CHECK_STATUS(sl_op_matrixmult_summa(ctx, (sl_dtype)9, 2, 3, 0, fill, &f, NULL, &op),
                 SL_ERR_DTYPE, ctx);
    /* NULL fill on one rank only: every rank fails */
    sl_status st = sl_op_matrixmult_summa(ctx, SL_F64, 2, 3, 0, th_rank == size - 1 ? NULL : fill,
                                          &f, NULL, &op);
    CHECK(st != SL_OK && op == NULL, "NULL fill on the last rank -> %s", sl_strerror(st));
    if (size > 1) {
        st = sl_op_matrixmult_summa(ctx, SL_F64, 2 + (size_t)(th_rank == 0), 3, 0, fill, &f, NULL,
                                    &op);
        CHECK(st == SL_ERR_RANK_MISMATCH, "rank-dependent N -> %s", sl_strerror(st));
    }
    CHECK_OK(sl_op_matrixmult_summa(ctx, SL_F64, 2, 3, 0, fill, &f, NULL, &op), ctx);
    if (op) {
        sl_darray *wrong = NULL;
        size_t shape[1] = {6};
        CHECK_OK(sl_darray_create(ctx, SL_F64, 1, shape, SL_BROADCAST, 0, NULL, NULL, &wrong),
                 ctx);
        double buf[6] = {0};
        CHECK(sl_matrixmult_scatter(op, SL_SIDE_DATA, buf, wrong) != SL_OK,
              "scatter into an array of the wrong layout");
        CHECK_STATUS(sl_matrixmult_scatter(op, (sl_op_side)5, buf, wrong), SL_ERR_ARG, ctx);
        sl_darray_destroy(wrong);
        sl_op *id = NULL;
        sl_darray *x = NULL;
        CHECK_OK(sl_op_create_model(op, &x), ctx);
        if (x) CHECK_STATUS(sl_matrixmult_gather(op, SL_SIDE_MODEL, x, size + 3, buf), SL_ERR_ARG,
                            ctx);
        if (x) CHECK_OK(sl_op_identity(x, &id), ctx);
        int p, q;
        size_t mb, kb, nb;
        if (id) CHECK_STATUS(sl_matrixmult_summa_info(id, &p, &q, &mb, &kb, &nb), SL_ERR_ARG, ctx);
        sl_op_destroy(id);
        sl_darray_destroy(x);
    }
    sl_op_destroy(op);
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    quick = argc > 1 && !strcmp(argv[1], "quick");
    int size;
    size = th_ctx(ctx).size;
    check_grids(ctx, size);
    for (int d = 0; d < 4; d++) {
        if ((size == 6 || quick) && d % 2 == 0)
            continue; /* two dtypes (the grids above had all four) */
        check_cgls(ctx, th_dtypes[d]);
        check_vstack(ctx, th_dtypes[d]);
    }
    check_errors(ctx, size);
    return th_end(ctx, "test_summa");
}
