/* Fredholm1 in the 2D-blocked layout (every slice a SUMMA product over the process grid):
 * forward and adjoint against a serial batched matrix product, dot tests, every dtype, odd
 * sizes and tiles, nz = 1 and nz > 1, the default grid and explicit 1 x P and P x 1 grids,
 * batch groups (2, P, and groups of unequal sizes),
 * natural arrays through scatter / gather, a CGLS solve against per-slice least squares
 * (LAPACKE zgels), and errors reported on every rank. */
#include "fredholm_fixture.h"

/* out = op (or op^H) in, natural arrays in and out. */
static void apply_natural(sl_context *ctx, sl_dtype dt, const sl_op *op, int adjoint,
                          const cplx *in, cplx *out, size_t n_in, size_t n_out)
{
    sl_darray *a = NULL, *b = NULL;
    CHECK_OK(adjoint ? sl_op_create_data(op, &a) : sl_op_create_model(op, &a), ctx);
    CHECK_OK(adjoint ? sl_op_create_model(op, &b) : sl_op_create_data(op, &b), ctx);
    size_t es = sl_dtype_size(dt);
    void *buf = malloc((n_in > n_out ? n_in : n_out) * es);
    th_to_dtype(dt, in, buf, n_in);
    sl_op_side side_in = adjoint ? SL_SIDE_DATA : SL_SIDE_MODEL;
    sl_op_side side_out = adjoint ? SL_SIDE_MODEL : SL_SIDE_DATA;
    CHECK_OK(sl_fredholm1_blocked_scatter(op, side_in, buf, a), ctx);
    CHECK_OK(adjoint ? sl_op_rmatvec(op, a, b) : sl_op_matvec(op, a, b), ctx);
    CHECK_OK(sl_fredholm1_blocked_gather(op, side_out, b, SL_ALL_RANKS, buf), ctx);
    th_from_dtype(dt, buf, out, n_out);
    free(buf);
    sl_darray_destroy(a);
    sl_darray_destroy(b);
}

static void check_case(sl_context *ctx, sl_dtype dt, const shape *s, int groups,
                       const sl_summa_opts *o, const char *what)
{
    size_t ng = s->nsl * s->nx * s->ny, nm = s->nsl * s->ny * s->nz, nd = s->nsl * s->nx * s->nz;
    int cpx = sl_dtype_is_complex(dt);
    cplx *g = malloc(ng * sizeof *g), *x = malloc(nm * sizeof *x), *y = malloc(nd * sizeof *y);
    cplx *want = malloc((nm + nd) * sizeof *want), *got = malloc((nm + nd) * sizeof *got);
    th_random(g, ng, cpx, 41 + s->nsl);
    th_random(x, nm, cpx, 43 + s->nx);
    th_random(y, nd, cpx, 47 + s->ny);
    th_round(dt, g, ng);
    th_round(dt, x, nm);
    th_round(dt, y, nd);
    kernel k = {s, g, dt};
    sl_op *op = NULL;
    CHECK_OK(sl_op_fredholm1_blocked(ctx, dt, s->nsl, s->nx, s->ny, s->nz, fill, &k, groups, o,
                                     &op), ctx);
    if (op) {
        batched_matmul(s, g, x, want, 0);
        apply_natural(ctx, dt, op, 0, x, got, nm, nd);
        double e = th_rel_err(got, want, nd);
        CHECK(e <= tol_of(dt), "%s %s forward: rel err %g", what, sl_dtype_name(dt), e);
        batched_matmul(s, g, y, want, 1);
        apply_natural(ctx, dt, op, 1, y, got, nd, nm);
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
    static const shape shapes[] = {{3, 7, 5, 2}, {2, 9, 4, 1}, {1, 5, 6, 3}};
    int nranks = th_ctx(ctx).size;
    /* the default grid, then 1 x P and P x 1, with tiles that divide nothing */
    sl_summa_opts grids[3] = {{.mb = 3, .kb = 2, .nb = 2},
                              {.grid_p = 1, .grid_q = nranks, .mb = 2, .kb = 3, .nb = 1},
                              {.grid_p = nranks, .grid_q = 1, .mb = 2, .kb = 2, .nb = 2}};
    char what[96];
    for (size_t c = 0; c < sizeof shapes / sizeof *shapes; c++)
        for (int gi = 0; gi < 3; gi++)
            for (int d = 0; d < 4; d++) {
                const shape *s = &shapes[c];
                snprintf(what, sizeof what, "(%zu,%zu,%zu) nz=%zu grid %d", s->nsl, s->nx, s->ny,
                         s->nz, gi);
                check_case(ctx, th_dtypes[d], s, 1, &grids[gi], what);
            }
}

/* With one group per rank, each slice lives on one rank only: its model part is empty on all
 * the others (the groups really split the ranks). */
static void check_one_rank_per_slice(sl_context *ctx)
{
    int nranks = th_ctx(ctx).size;
    shape s = {5, 4, 3, 2};
    cplx g[5 * 4 * 3] = {0};
    kernel k = {&s, g, SL_F64};
    sl_op *op = NULL;
    sl_darray *x = NULL;
    CHECK_OK(sl_op_fredholm1_blocked(ctx, SL_F64, s.nsl, s.nx, s.ny, s.nz, fill, &k, nranks,
                                     NULL, &op), ctx);
    CHECK_OK(sl_op_create_model(op, &x), ctx);
    for (int i = 0; x && i < (int)s.nsl; i++) {
        sl_darray *part = NULL;
        CHECK_OK(sl_darray_stack_part(x, i, &part), ctx);
        int holds = th_info(part).local_size > 0, holders = 0;
        MPI_Allreduce(&holds, &holders, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        CHECK(holders == 1, "slice %d held by %d ranks with %d groups", i, holders, nranks);
    }
    sl_darray_destroy(x);
    sl_op_destroy(op);
}

/* Batch groups: 2 groups, P groups (1 x 1 grids: the slice split), and at 3+ ranks groups of
 * unequal sizes (P = 3: 2 + 1 ranks; P = 4 with 3 groups: 2 + 1 + 1), with more or fewer
 * slices than groups. */
static void test_groups(sl_context *ctx)
{
    static const shape shapes[] = {{5, 7, 5, 2}, {2, 6, 4, 1}, {4, 5, 6, 3}};
    int nranks = th_ctx(ctx).size;
    int groups[3] = {2, nranks, nranks > 2 ? nranks - 1 : 1};
    sl_summa_opts tiles = {.mb = 3, .kb = 2, .nb = 2};
    char what[96];
    for (size_t c = 0; c < sizeof shapes / sizeof *shapes; c++)
        for (int gi = 0; gi < 3; gi++)
            for (int d = 0; d < 4; d++) {
                const shape *s = &shapes[c];
                int pb = groups[gi] <= nranks ? groups[gi] : nranks;
                snprintf(what, sizeof what, "(%zu,%zu,%zu) nz=%zu %d group(s)", s->nsl, s->nx,
                         s->ny, s->nz, pb);
                check_case(ctx, th_dtypes[d], s, pb, &tiles, what);
            }
    check_one_rank_per_slice(ctx);
}

static void test_errors(sl_context *ctx)
{
    sl_context_info ci = th_ctx(ctx);
    shape s = {2, 3, 2, 2};
    cplx g[2 * 3 * 2] = {0};
    kernel k = {&s, g, SL_F64};
    sl_op *op = NULL;
    sl_status st = sl_op_fredholm1_blocked(ctx, SL_F64, 2, 3, 2, 0, fill, &k, 1, NULL, &op);
    expect_error(ctx, st, op, "nz = 0");
    st = sl_op_fredholm1_blocked(ctx, SL_F64, 0, 3, 2, 2, fill, &k, 1, NULL, &op);
    expect_error(ctx, st, op, "nsl = 0");
    st = sl_op_fredholm1_blocked(ctx, SL_F64, 2, 3, 2, 2, ci.rank == 0 ? NULL : fill, &k, 1,
                                 NULL, &op);
    expect_error(ctx, st, op, "fill NULL on rank 0");
    sl_summa_opts bad = {.grid_p = ci.size + 1, .grid_q = 1};
    st = sl_op_fredholm1_blocked(ctx, SL_F64, 2, 3, 2, 2, fill, &k, 1, &bad, &op);
    expect_error(ctx, st, op, "a grid of P + 1 ranks");
    st = sl_op_fredholm1_blocked(ctx, SL_F64, 2, 3, 2, 2, fill, &k, ci.size + 1, NULL, &op);
    expect_error(ctx, st, op, "P + 1 batch groups");
    st = sl_op_fredholm1_blocked(ctx, SL_F64, 2, 3, 2, 2, fill, &k, -1, NULL, &op);
    expect_error(ctx, st, op, "-1 batch groups");
    if (ci.size > 1) {
        int last = ci.rank == ci.size - 1;
        st = sl_op_fredholm1_blocked(ctx, SL_F64, 2, 3 + last, 2, 2, fill, &k, 1, NULL, &op);
        expect_error(ctx, st, op, "nx differing on the last rank");
        st = sl_op_fredholm1_blocked(ctx, SL_F64, 2, 3, 2, 2, fill, &k, 1 + last, NULL, &op);
        expect_error(ctx, st, op, "groups differing on the last rank");
        /* a grid given for all P ranks fits no group of 2 */
        sl_summa_opts all = {.grid_p = ci.size, .grid_q = 1};
        st = sl_op_fredholm1_blocked(ctx, SL_F64, 2, 3, 2, 2, fill, &k, 2, &all, &op);
        expect_error(ctx, st, op, "a P-rank grid for 2 groups");
    }
    /* scatter / gather refuse another operator and arrays of another shape */
    st = sl_op_fredholm1_blocked(ctx, SL_F64, 2, 3, 2, 2, fill, &k, 1, NULL, &op);
    CHECK_OK(st, ctx);
    if (op) {
        double buf[2 * 3 * 2] = {0};
        sl_darray *x = NULL, *part = NULL;
        CHECK_OK(sl_op_create_model(op, &x), ctx);
        CHECK_OK(sl_darray_stack_part(x, 0, &part), ctx);
        CHECK(sl_fredholm1_blocked_scatter(op, SL_SIDE_MODEL, buf, part) != SL_OK,
              "scatter into one part accepted");
        CHECK(sl_fredholm1_blocked_scatter(op, SL_SIDE_MODEL, ci.rank ? buf : NULL, x) != SL_OK,
              "scatter from NULL on rank 0 accepted");
        CHECK(sl_fredholm1_blocked_gather(op, SL_SIDE_DATA, x, SL_ALL_RANKS, buf) != SL_OK,
              "gather of the model as data accepted");
        sl_darray_destroy(x);
    }
    sl_op_destroy(op);
}

static void test_cgls(sl_context *ctx, sl_dtype dt)
{
    shape s = {3, 8, 5, 2};
    size_t ng = s.nsl * s.nx * s.ny, nm = s.nsl * s.ny * s.nz, nd = s.nsl * s.nx * s.nz;
    int cpx = sl_dtype_is_complex(dt), sp = dt == SL_F32 || dt == SL_C64;
    cplx *g = malloc(ng * sizeof *g), *y = malloc(nd * sizeof *y);
    cplx *want = malloc(nm * sizeof *want), *got = malloc(nm * sizeof *got);
    th_random(g, ng, cpx, 8);
    th_random(y, nd, cpx, 9);
    th_round(dt, g, ng);
    th_round(dt, y, nd);
    lstsq_slices(&s, g, y, want);
    kernel k = {&s, g, dt};
    sl_summa_opts o = {.mb = 3, .kb = 2, .nb = 1};
    sl_op *op = NULL;
    int groups = th_ctx(ctx).size > 1 ? 2 : 1;
    CHECK_OK(sl_op_fredholm1_blocked(ctx, dt, s.nsl, s.nx, s.ny, s.nz, fill, &k, groups, &o, &op),
             ctx);
    sl_darray *yd = NULL, *xd = NULL;
    CHECK_OK(sl_op_create_data(op, &yd), ctx);
    CHECK_OK(sl_op_create_model(op, &xd), ctx);
    void *buf = malloc(nd * sl_dtype_size(dt));
    th_to_dtype(dt, y, buf, nd);
    CHECK_OK(sl_fredholm1_blocked_scatter(op, SL_SIDE_DATA, buf, yd), ctx);
    sl_solver_opts so = {.niter = 100, .tol = sp ? 1e-10 : 1e-26};
    sl_solve_result res = {0};
    CHECK_OK(sl_cgls(op, yd, xd, &so, &res), ctx);
    CHECK_OK(sl_fredholm1_blocked_gather(op, SL_SIDE_MODEL, xd, SL_ALL_RANKS, buf), ctx);
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
    test_products(ctx);
    test_groups(ctx);
    test_errors(ctx);
    for (int d = 0; d < 4; d++)
        test_cgls(ctx, th_dtypes[d]);
    return th_end(ctx, "test_fredholm_blocked");
}
