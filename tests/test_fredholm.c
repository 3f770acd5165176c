/* Fredholm1: forward and adjoint against a serial batched matrix product computed here, dot
 * tests, every dtype, odd sizes, nz = 1 and nz > 1, saveGt on and off, balanced and uneven slice
 * splits (a rank with one slice, ranks with none), argument errors reported on every rank, and
 * a CGLS solve against per-slice least-squares solutions (LAPACKE zgels). */
#include "fredholm_fixture.h"

/* Slice splits exercised: balanced (NULL), one slice on rank 0 and none on the last rank,
 * none on rank 0. */
enum { SPLIT_BALANCED, SPLIT_ONE_FIRST, SPLIT_NONE_FIRST, SPLIT_COUNT };

static const char *split_name[SPLIT_COUNT] = {"balanced", "one-first", "none-first"};

/* The per-rank slice counts of a split into sizes; returns 0 if the split does not apply
 * (too few ranks or slices). */
static int make_split(int kind, size_t nsl, int nranks, size_t *sizes)
{
    int lo = 0, hi = nranks; /* ranks sharing the remaining slices */
    size_t rest = nsl;
    memset(sizes, 0, (size_t)nranks * sizeof *sizes);
    if (kind == SPLIT_ONE_FIRST) {
        if (nranks < 2 || nsl < 2)
            return 0;
        sizes[0] = 1;
        rest = nsl - 1;
        lo = 1;
        hi = nranks >= 3 ? nranks - 1 : nranks;
    } else if (kind == SPLIT_NONE_FIRST) {
        if (nranks < 2)
            return 0;
        lo = 1;
    }
    for (int r = lo; r < hi; r++)
        sizes[r] = rest / (size_t)(hi - lo) + ((size_t)(r - lo) < rest % (size_t)(hi - lo));
    return 1;
}

/* The operator for global G, each rank passing its slices (NULL where it has none). */
static sl_status make_op(sl_context *ctx, sl_dtype dt, const shape *s, const cplx *g,
                         const size_t *split, int save_gt, sl_op **op)
{
    sl_context_info ci = th_ctx(ctx);
    size_t counts[16], first = 0;
    if (split)
        memcpy(counts, split, (size_t)ci.size * sizeof *counts);
    else
        make_split(SPLIT_BALANCED, s->nsl, ci.size, counts);
    for (int r = 0; r < ci.rank; r++)
        first += counts[r];
    size_t n = counts[ci.rank] * s->nx * s->ny;
    void *gl = n ? malloc(n * sl_dtype_size(dt)) : NULL;
    if (gl)
        th_to_dtype(dt, g + first * s->nx * s->ny, gl, n);
    sl_status st = sl_op_fredholm1(ctx, dt, s->nsl, s->nx, s->ny, s->nz, gl, split, save_gt, op);
    free(gl);
    return st;
}

/* out = op (or op^H) applied to the global `in`, gathered on every rank. */
static void apply_global(sl_context *ctx, sl_dtype dt, const sl_op *op, int adjoint,
                         const cplx *in, cplx *out, size_t n_in, size_t n_out)
{
    sl_darray *a = NULL, *b = NULL;
    CHECK_OK(adjoint ? sl_op_create_data(op, &a) : sl_op_create_model(op, &a), ctx);
    CHECK_OK(adjoint ? sl_op_create_model(op, &b) : sl_op_create_data(op, &b), ctx);
    size_t es = sl_dtype_size(dt);
    void *buf = malloc((n_in > n_out ? n_in : n_out) * es);
    th_to_dtype(dt, in, buf, n_in);
    CHECK_OK(sl_darray_from_global(a, buf), ctx);
    CHECK_OK(adjoint ? sl_op_rmatvec(op, a, b) : sl_op_matvec(op, a, b), ctx);
    CHECK_OK(sl_darray_gather(b, SL_ALL_RANKS, buf), ctx);
    th_from_dtype(dt, buf, out, n_out);
    free(buf);
    sl_darray_destroy(a);
    sl_darray_destroy(b);
}

/* Forward, adjoint and dot test of one configuration. */
static void check_case(sl_context *ctx, sl_dtype dt, const shape *s, const size_t *split,
                       int save_gt, const char *what)
{
    size_t ng = s->nsl * s->nx * s->ny, nm = s->nsl * s->ny * s->nz, nd = s->nsl * s->nx * s->nz;
    int cpx = sl_dtype_is_complex(dt);
    cplx *g = malloc(ng * sizeof *g), *x = malloc(nm * sizeof *x), *y = malloc(nd * sizeof *y);
    cplx *want = malloc((nm + nd) * sizeof *want), *got = malloc((nm + nd) * sizeof *got);
    th_random(g, ng, cpx, 11 + s->nsl);
    th_random(x, nm, cpx, 23 + s->nx);
    th_random(y, nd, cpx, 37 + s->ny);
    th_round(dt, g, ng);
    th_round(dt, x, nm);
    th_round(dt, y, nd);
    sl_op *op = NULL;
    CHECK_OK(make_op(ctx, dt, s, g, split, save_gt, &op), ctx);
    if (op) {
        batched_matmul(s, g, x, want, 0);
        apply_global(ctx, dt, op, 0, x, got, nm, nd);
        double e = th_rel_err(got, want, nd);
        CHECK(e <= tol_of(dt), "%s %s forward: rel err %g", what, sl_dtype_name(dt), e);
        batched_matmul(s, g, y, want, 1);
        apply_global(ctx, dt, op, 1, y, got, nd, nm);
        e = th_rel_err(got, want, nm);
        CHECK(e <= tol_of(dt), "%s %s adjoint: rel err %g", what, sl_dtype_name(dt), e);
        int passed = 0;
        double err = 0;
        CHECK_OK(sl_dottest(op, tol_of(dt) * 10, &passed, &err), ctx);
        CHECK(passed, "%s %s: dot test error %g", what, sl_dtype_name(dt), err);
    }
    sl_op_destroy(op);
    free(g), free(x), free(y), free(want), free(got);
}

static void test_products(sl_context *ctx)
{
    static const shape shapes[] = {
        {7, 5, 3, 1}, /* nz = 1: gemv per slice */
        {6, 3, 4, 2}, /* more columns than rows in G */
        {5, 4, 7, 3},
        {1, 3, 2, 2}, /* one slice: one rank holds it */
    };
    int nranks = th_ctx(ctx).size;
    size_t split[16];
    char what[96];
    for (size_t c = 0; c < sizeof shapes / sizeof *shapes; c++)
        for (int k = 0; k < SPLIT_COUNT; k++) {
            if (!make_split(k, shapes[c].nsl, nranks, split))
                continue;
            for (int d = 0; d < 4; d++)
                for (int save_gt = 0; save_gt < 2; save_gt++) {
                    const shape *s = &shapes[c];
                    snprintf(what, sizeof what, "(%zu,%zu,%zu) nz=%zu %s saveGt=%d", s->nsl,
                             s->nx, s->ny, s->nz, split_name[k], save_gt);
                    check_case(ctx, th_dtypes[d], s, k == SPLIT_BALANCED ? NULL : split,
                               save_gt, what);
                }
        }
}

static void test_errors(sl_context *ctx)
{
    sl_context_info ci = th_ctx(ctx);
    shape s = {5, 3, 2, 2};
    cplx g[5 * 3 * 2];
    th_random(g, 5 * 3 * 2, 0, 3);
    sl_op *op = NULL;
    double gl[5 * 3 * 2] = {0};

    /* G NULL on rank 0, which holds slices (balanced split: every rank but maybe the last) */
    sl_status st = sl_op_fredholm1(ctx, SL_F64, s.nsl, s.nx, s.ny, s.nz,
                                   ci.rank == 0 ? NULL : gl, NULL, 0, &op);
    expect_error(ctx, st, op, "G NULL on rank 0");
    if (ci.rank == 0)
        CHECK(st == SL_ERR_NULL && strstr(sl_last_error(ctx), "rank 0"),
              "G NULL: %s (%s)", sl_strerror(st), sl_last_error(ctx));

    /* local counts summing to more than nsl, and to less */
    size_t split[16] = {0};
    split[0] = s.nsl + 1;
    st = sl_op_fredholm1(ctx, SL_F64, s.nsl, s.nx, s.ny, s.nz, gl, split, 0, &op);
    expect_error(ctx, st, op, "counts summing to nsl + 1");
    split[0] = s.nsl - 1;
    st = sl_op_fredholm1(ctx, SL_F64, s.nsl, s.nx, s.ny, s.nz, gl, split, 0, &op);
    expect_error(ctx, st, op, "counts summing to nsl - 1");

    /* zero sizes */
    st = sl_op_fredholm1(ctx, SL_F64, s.nsl, s.nx, s.ny, 0, gl, NULL, 0, &op);
    expect_error(ctx, st, op, "nz = 0");
    st = sl_op_fredholm1(ctx, SL_F64, 0, s.nx, s.ny, s.nz, gl, NULL, 0, &op);
    expect_error(ctx, st, op, "nsl = 0");
    st = sl_op_fredholm1(NULL, SL_F64, s.nsl, s.nx, s.ny, s.nz, gl, NULL, 0, &op);
    CHECK(st == SL_ERR_NULL, "NULL context: %s", sl_strerror(st));

    if (ci.size < 2)
        return;
    /* sizes, dtype or saveGt differing on the last rank */
    int last = ci.rank == ci.size - 1;
    st = sl_op_fredholm1(ctx, SL_F64, s.nsl, s.nx + last, s.ny, s.nz, gl, NULL, 0, &op);
    expect_error(ctx, st, op, "nx differing on the last rank");
    st = sl_op_fredholm1(ctx, SL_F64, s.nsl, s.nx, s.ny, s.nz + last, gl, NULL, 0, &op);
    expect_error(ctx, st, op, "nz differing on the last rank");
    st = sl_op_fredholm1(ctx, last ? SL_F32 : SL_F64, s.nsl, s.nx, s.ny, s.nz, gl, NULL, 0, &op);
    expect_error(ctx, st, op, "dtype differing on the last rank");
    st = sl_op_fredholm1(ctx, SL_F64, s.nsl, s.nx, s.ny, s.nz, gl, NULL, last, &op);
    expect_error(ctx, st, op, "saveGt differing on the last rank");
    /* split tables differing between ranks */
    make_split(SPLIT_BALANCED, s.nsl, ci.size, split);
    if (last && split[0] > 0) {
        split[0]--;
        split[ci.size - 1]++;
    }
    st = sl_op_fredholm1(ctx, SL_F64, s.nsl, s.nx, s.ny, s.nz, gl, split, 0, &op);
    expect_error(ctx, st, op, "split differing on the last rank");

    /* G NULL on a rank without slices is fine */
    make_split(SPLIT_NONE_FIRST, s.nsl, ci.size, split);
    st = sl_op_fredholm1(ctx, SL_F64, s.nsl, s.nx, s.ny, s.nz, ci.rank == 0 ? NULL : gl, split,
                         0, &op);
    CHECK(st == SL_OK, "G NULL on a rank without slices: %s (%s)", sl_strerror(st),
          sl_last_error(ctx));
    /* arrays of the other space are refused */
    if (op) {
        sl_darray *x = NULL, *y = NULL;
        CHECK_OK(sl_op_create_model(op, &x), ctx);
        CHECK_OK(sl_op_create_model(op, &y), ctx);
        CHECK(sl_op_matvec(op, x, y) != SL_OK, "matvec into a model-shaped array accepted");
        sl_darray_destroy(x);
        sl_darray_destroy(y);
    }
    sl_op_destroy(op);
}

static void test_cgls(sl_context *ctx, sl_dtype dt)
{
    shape s = {5, 7, 4, 3};
    size_t ng = s.nsl * s.nx * s.ny, nm = s.nsl * s.ny * s.nz, nd = s.nsl * s.nx * s.nz;
    int cpx = sl_dtype_is_complex(dt), sp = dt == SL_F32 || dt == SL_C64;
    cplx *g = malloc(ng * sizeof *g), *y = malloc(nd * sizeof *y);
    cplx *want = malloc(nm * sizeof *want), *got = malloc(nm * sizeof *got);
    th_random(g, ng, cpx, 5);
    th_random(y, nd, cpx, 6);
    th_round(dt, g, ng);
    th_round(dt, y, nd);
    lstsq_slices(&s, g, y, want);
    sl_op *op = NULL;
    CHECK_OK(make_op(ctx, dt, &s, g, NULL, 1, &op), ctx);
    sl_darray *yd = NULL, *xd = NULL;
    CHECK_OK(sl_op_create_data(op, &yd), ctx);
    CHECK_OK(sl_op_create_model(op, &xd), ctx);
    size_t es = sl_dtype_size(dt);
    void *buf = malloc(nd * es);
    th_to_dtype(dt, y, buf, nd);
    CHECK_OK(sl_darray_from_global(yd, buf), ctx);
    sl_solver_opts o = {.niter = 100, .tol = sp ? 1e-10 : 1e-26};
    sl_solve_result res = {0};
    CHECK_OK(sl_cgls(op, yd, xd, &o, &res), ctx);
    CHECK_OK(sl_darray_gather(xd, SL_ALL_RANKS, buf), ctx);
    th_from_dtype(dt, buf, got, nm);
    double e = th_rel_err(got, want, nm);
    CHECK(e <= (sp ? 2e-4 : 1e-8), "CGLS %s: rel err %g after %d iterations (istop %d)",
          sl_dtype_name(dt), e, res.iterations, res.istop);
    sl_solve_result_free(&res);
    sl_darray_destroy(yd);
    sl_darray_destroy(xd);
    sl_op_destroy(op);
    free(buf), free(g), free(y), free(want), free(got);
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    if (th_ctx(ctx).size > 16) {
        fprintf(stderr, "test_fredholm: at most 16 ranks\n");
        return th_end(ctx, "test_fredholm") + 1;
    }
    test_products(ctx);
    test_errors(ctx);
    for (int d = 0; d < 4; d++)
        test_cgls(ctx, th_dtypes[d]);
    return th_end(ctx, "test_fredholm");
}
