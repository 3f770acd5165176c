/* User-defined operators from per-rank callbacks: BlockDiag (both scattered), VStack
 * (replicated model, scattered data, adjoint summed over ranks) and HStack (the reverse), each
 * rank holding its own dense block; against serial references and dot tests, every dtype,
 * uneven blocks. */
#include <starpu.h>

#include "harness.h"

typedef struct local_block {
    sl_dtype dt;
    size_t rows, cols; /* this rank's block: rows x cols */
    cplx *a;
} local_block;

/* out = A in, or A^H in, in the arrays' dtype */
static void apply_block(const void *in, void *out, int adjoint, void *user)
{
    const local_block *b = user;
    size_t nin = adjoint ? b->rows : b->cols, nout = adjoint ? b->cols : b->rows;
    cplx *x = malloc((nin + 1) * sizeof(cplx)), *y = malloc((nout + 1) * sizeof(cplx));
    if (nin) th_from_dtype(b->dt, in, x, nin);
    for (size_t i = 0; i < nout; i++) {
        cplx s = 0;
        for (size_t j = 0; j < nin; j++)
            s += adjoint ? conj(b->a[j * b->cols + i]) * x[j] : b->a[i * b->cols + j] * x[j];
        y[i] = s;
    }
    if (nout) th_to_dtype(b->dt, y, out, nout);
    free(x);
    free(y);
}

/* rank r's block, from a global matrix G (nr x nc) at (r0, c0) */
static local_block block_of(sl_dtype dt, const cplx *g, size_t nc, size_t r0, size_t rows,
                            size_t c0, size_t cols)
{
    local_block b = {dt, rows, cols, malloc((rows * cols + 1) * sizeof(cplx))};
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            b.a[i * cols + j] = g[(r0 + i) * nc + c0 + j];
    return b;
}

static void gather_c(sl_context *ctx, sl_dtype dt, const sl_darray *x, size_t n, cplx *out)
{
    void *raw = malloc(n * sl_dtype_size(dt));
    CHECK_OK(sl_darray_gather(x, SL_ALL_RANKS, raw), ctx);
    th_from_dtype(dt, raw, out, n);
    free(raw);
}

/* Global operator G (nd x nm) vs the distributed one, both directions, plus dottest. */
static void check_op(sl_context *ctx, sl_dtype dt, const sl_op *op, const cplx *g, size_t nd,
                     size_t nm, const char *what)
{
    sl_darray *x = NULL, *y = NULL;
    CHECK_OK(sl_op_create_model(op, &x), ctx);
    CHECK_OK(sl_op_create_data(op, &y), ctx);
    cplx *gx = malloc(nm * sizeof(cplx)), *gy = malloc(nd * sizeof(cplx));
    cplx *got = malloc((nd + nm) * sizeof(cplx)), *want = malloc((nd + nm) * sizeof(cplx));
    CHECK_OK(sl_darray_random(x, 3), ctx);
    CHECK_OK(sl_darray_random(y, 4), ctx);
    gather_c(ctx, dt, x, nm, gx);
    gather_c(ctx, dt, y, nd, gy);
    CHECK_OK(sl_op_matvec(op, x, y), ctx);
    gather_c(ctx, dt, y, nd, got);
    for (size_t i = 0; i < nd; i++) {
        want[i] = 0;
        for (size_t j = 0; j < nm; j++) want[i] += g[i * nm + j] * gx[j];
    }
    CHECK(th_rel_err(got, want, nd) <= 50 * th_tol(dt), "%s forward %s: err %g", what,
          sl_dtype_name(dt), th_rel_err(got, want, nd));
    CHECK_OK(sl_darray_random(y, 4), ctx);
    CHECK_OK(sl_op_rmatvec(op, y, x), ctx);
    gather_c(ctx, dt, x, nm, got);
    for (size_t j = 0; j < nm; j++) {
        want[j] = 0;
        for (size_t i = 0; i < nd; i++) want[j] += conj(g[i * nm + j]) * gy[i];
    }
    CHECK(th_rel_err(got, want, nm) <= 50 * th_tol(dt), "%s adjoint %s: err %g", what,
          sl_dtype_name(dt), th_rel_err(got, want, nm));
    int passed = 0;
    double err = 0;
    CHECK_OK(sl_dottest(op, sl_dtype_is_complex(dt) || dt == SL_F32 ? 1e-4 : 1e-12, &passed, &err), ctx);
    CHECK(passed, "%s dottest %s: %g", what, sl_dtype_name(dt), err);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    free(gx); free(gy); free(got); free(want);
}

static void run(sl_context *ctx, sl_dtype dt)
{
    int size;
    size = th_ctx(ctx).size;
    size_t mr[64], dr[64], nm = 0, nd = 0, m0 = 0, d0 = 0;
    for (int r = 0; r < size; r++) {
        mr[r] = r == 1 ? 0 : 2 + (size_t)(r % 2); /* rank 1 holds no model */
        dr[r] = 3 + (size_t)r;
        if (r < th_rank) { m0 += mr[r]; d0 += dr[r]; }
        nm += mr[r];
        nd += dr[r];
    }
    size_t K = 5, N = 4;
    int cpx = sl_dtype_is_complex(dt);
    sl_darray *ms = NULL, *ds = NULL, *mb = NULL, *db = NULL;
    CHECK_OK(sl_darray_create(ctx, dt, 1, &nm, SL_SCATTER, 0, mr, NULL, &ms), ctx);
    CHECK_OK(sl_darray_create(ctx, dt, 1, &nd, SL_SCATTER, 0, dr, NULL, &ds), ctx);
    CHECK_OK(sl_darray_create(ctx, dt, 1, &K, SL_BROADCAST, 0, NULL, NULL, &mb), ctx);
    CHECK_OK(sl_darray_create(ctx, dt, 1, &N, SL_BROADCAST, 0, NULL, NULL, &db), ctx);

    /* BlockDiag: G is block diagonal with rank r's dr x mr block */
    cplx *g = calloc(nd * nm, sizeof(cplx)), *dense = malloc(nd * (nm + K + 1) * sizeof(cplx) + N * nm * sizeof(cplx));
    th_random(dense, nd * nm, cpx, 50);
    th_round(dt, dense, nd * nm);
    size_t rr = 0, cc = 0;
    for (int r = 0; r < size; r++) {
        for (size_t i = 0; i < dr[r]; i++)
            for (size_t j = 0; j < mr[r]; j++)
                g[(rr + i) * nm + cc + j] = dense[(rr + i) * nm + cc + j];
        rr += dr[r];
        cc += mr[r];
    }
    local_block bd = block_of(dt, g, nm, d0, dr[th_rank], m0, mr[th_rank]);
    sl_op *op = NULL;
    CHECK_OK(sl_op_from_callbacks(ms, ds, apply_block, &bd, &op), ctx);
    if (op) check_op(ctx, dt, op, g, nd, nm, "BlockDiag");
    sl_op_destroy(op);

    /* VStack: G (nd x K), rank r holds rows d0..d0+dr */
    cplx *gv = malloc(nd * K * sizeof(cplx));
    th_random(gv, nd * K, cpx, 51);
    th_round(dt, gv, nd * K);
    local_block bv = block_of(dt, gv, K, d0, dr[th_rank], 0, K);
    CHECK_OK(sl_op_from_callbacks(mb, ds, apply_block, &bv, &op), ctx);
    if (op) check_op(ctx, dt, op, gv, nd, K, "VStack");
    sl_op_destroy(op);

    /* HStack: G (N x nm), rank r holds columns m0..m0+mr */
    cplx *gh = malloc(N * nm * sizeof(cplx));
    th_random(gh, N * nm, cpx, 52);
    th_round(dt, gh, N * nm);
    local_block bh = block_of(dt, gh, nm, 0, N, m0, mr[th_rank]);
    CHECK_OK(sl_op_from_callbacks(ms, db, apply_block, &bh, &op), ctx);
    if (op) check_op(ctx, dt, op, gh, N, nm, "HStack");
    sl_op_destroy(op);

    CHECK_STATUS(sl_op_from_callbacks(ms, NULL, apply_block, &bh, &op), SL_ERR_NULL, ctx);
    free(bd.a); free(bv.a); free(bh.a);
    free(g); free(dense); free(gv); free(gh);
    sl_darray_destroy(ms);
    sl_darray_destroy(ds);
    sl_darray_destroy(mb);
    sl_darray_destroy(db);
}

/* Named stacks over per-rank lists of two local dense operators each. Sizes differ by rank and
 * by operator; the serial reference is the assembled global matrix. */
static void run_stacks(sl_context *ctx, sl_dtype dt)
{
    int size;
    size = th_ctx(ctx).size;
    int cpx = sl_dtype_is_complex(dt);
    size_t nops_all = (size_t)size * 2, rows[128], cols[128], nr = 0, nc = 0;
    for (size_t i = 0; i < nops_all; i++) {
        rows[i] = 2 + i % 3;
        cols[i] = 1 + (i * 2) % 3;
        nr += rows[i];
        nc += cols[i];
    }
    const size_t K = 4, N = 3;
    for (int kind = 0; kind < 3; kind++) {
        /* global matrix: BlockDiag nr x nc; VStack nr x K; HStack N x nc */
        size_t gr = kind == 2 ? N : nr, gc = kind == 1 ? K : nc;
        cplx *g = calloc(gr * gc, sizeof(cplx)), *dense = malloc(gr * gc * sizeof(cplx));
        th_random(dense, gr * gc, cpx, 60 + (uint64_t)kind);
        th_round(dt, dense, gr * gc);
        local_block blocks[2];
        sl_local_op ops[2];
        size_t r0 = 0, c0 = 0;
        for (size_t i = 0; i < nops_all; i++) {
            size_t br = kind == 2 ? N : rows[i], bc = kind == 1 ? K : cols[i];
            size_t gr0 = kind == 2 ? 0 : r0, gc0 = kind == 1 ? 0 : c0;
            for (size_t a = 0; a < br; a++)
                for (size_t b = 0; b < bc; b++)
                    g[(gr0 + a) * gc + gc0 + b] = dense[(gr0 + a) * gc + gc0 + b];
            if (i / 2 == (size_t)th_rank) {
                blocks[i % 2] = block_of(dt, g, gc, gr0, br, gc0, bc);
                ops[i % 2] = (sl_local_op){br, bc, apply_block, NULL};
            }
            r0 += br;
            c0 += bc;
        }
        ops[0].user = &blocks[0];
        ops[1].user = &blocks[1];
        sl_op *op = NULL;
        const char *names[3] = {"sl_op_blockdiag", "sl_op_vstack", "sl_op_hstack"};
        sl_status st = kind == 0 ? sl_op_blockdiag(ctx, dt, 2, ops, &op)
                       : kind == 1 ? sl_op_vstack(ctx, dt, 2, ops, &op)
                                   : sl_op_hstack(ctx, dt, 2, ops, &op);
        CHECK(st == SL_OK, "%s: %s (%s)", names[kind], sl_strerror(st), sl_last_error(ctx));
        if (op)
            check_op(ctx, dt, op, g, gr, gc, names[kind]);
        sl_op_destroy(op);
        free(blocks[0].a);
        free(blocks[1].a);
        free(g);
        free(dense);
    }
    /* a VStack whose ranks disagree on the model length fails everywhere */
    local_block lb = {dt, 2, (size_t)(th_rank == 0 ? 3 : 4), calloc(8, sizeof(cplx))};
    sl_local_op bad = {lb.rows, lb.cols, apply_block, &lb};
    sl_op *op = NULL;
    sl_status st = sl_op_vstack(ctx, dt, 1, &bad, &op);
    CHECK(size == 1 ? st == SL_OK : st == SL_ERR_SHAPE, "vstack with mismatched columns: %s",
          sl_strerror(st));
    sl_op_destroy(op);
    sl_local_op two[2] = {bad, {2, 5, apply_block, &lb}};
    CHECK_STATUS(sl_op_vstack(ctx, dt, 2, two, &op), SL_ERR_SHAPE, ctx);
    free(lb.a);
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    for (int d = 0; d < 4; d++) {
        run(ctx, th_dtypes[d]);
        run_stacks(ctx, th_dtypes[d]);
    }
    /* codelet operators must be tile-local: differently tiled arrays are refused everywhere */
    size_t n1 = 40, s2[2] = {40, 3};
    sl_darray *a1 = NULL, *a2 = NULL;
    CHECK_OK(sl_darray_create(ctx, SL_F64, 1, &n1, SL_SCATTER, 0, NULL, NULL, &a1), ctx);
    CHECK_OK(sl_darray_create(ctx, SL_F64, 2, s2, SL_SCATTER, 0, NULL, NULL, &a2), ctx);
    static struct starpu_codelet dummy = {.nbuffers = 2, .modes = {STARPU_W, STARPU_R}};
    sl_op *op = NULL;
    CHECK_STATUS(sl_op_from_codelets(a1, a2, &dummy, &dummy, NULL, 0, &op), SL_ERR_SHAPE, ctx);
    CHECK_STATUS(sl_op_from_codelets(a1, a1, NULL, &dummy, NULL, 0, &op), SL_ERR_NULL, ctx);
    sl_darray_destroy(a1);
    sl_darray_destroy(a2);
    return th_end(ctx, "test_user_ops");
}
