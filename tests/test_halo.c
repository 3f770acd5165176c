/* The Cartesian halo operator against a serial reference written here: extended blocks cut
 * out of the global array (zeros beyond its edges) and, for the adjoint, every extended
 * sample added back at its global position. 1-d to 3-d, grids along each dim and MPI's
 * choice, asymmetric and zero widths, every dtype, dot tests, bad grids and widths. */
#include "harness.h"

#include <starlops/halo.h>

typedef struct config {
    int ndim;
    size_t dims[3];
    size_t halo[6];
    int grid_kind; /* 0: MPI_Dims_create, 1: all ranks along dim 0, 2: along the last dim */
} config;

static void grid_of(const config *c, int size, int *g)
{
    for (int d = 0; d < c->ndim; d++) g[d] = c->grid_kind ? 1 : 0;
    if (c->grid_kind == 1) g[0] = size;
    else if (c->grid_kind == 2) g[c->ndim - 1] = size;
    else MPI_Dims_create(size, c->ndim, g);
}

/* Block of grid position k along a dim of n over g ranks (PyLops-MPI's split). */
static void split(size_t n, int g, int k, size_t *off, size_t *len)
{
    size_t base = n / (size_t)g, extra = n % (size_t)g, kk = (size_t)k;
    *len = base + (kk < extra);
    *off = kk * base + (kk < extra ? kk : extra);
}

/* Walks every rank's block (or extended block) in rank order, calling fn with the position in
 * the concatenated vector and the global flat index (or -1 outside the array). */
typedef void (*visit_fn)(size_t at, long global, void *arg);
static void visit(const config *c, const int *g, int size, int extended, visit_fn fn, void *arg)
{
    size_t at = 0;
    for (int r = 0; r < size; r++) {
        int coord[3], rr = r;
        for (int d = c->ndim - 1; d >= 0; d--) { coord[d] = rr % g[d]; rr /= g[d]; }
        size_t off[3], len[3], ext[3], lo[3];
        for (int d = 0; d < c->ndim; d++) {
            split(c->dims[d], g[d], coord[d], &off[d], &len[d]);
            lo[d] = extended ? c->halo[2 * d] : 0;
            ext[d] = len[d] + (extended ? c->halo[2 * d] + c->halo[2 * d + 1] : 0);
        }
        size_t count = th_prod(ext, c->ndim);
        for (size_t i = 0; i < count; i++) {
            size_t rem = i, gl = 0;
            long inside = 1;
            size_t idx[3];
            for (int d = c->ndim - 1; d >= 0; d--) { idx[d] = rem % ext[d]; rem /= ext[d]; }
            for (int d = 0; d < c->ndim; d++) {
                long gi = (long)off[d] + (long)idx[d] - (long)lo[d];
                if (gi < 0 || gi >= (long)c->dims[d]) inside = 0;
                gl = gl * c->dims[d] + (size_t)(gi < 0 ? 0 : gi);
            }
            fn(at++, inside ? (long)gl : -1, arg);
        }
    }
}

typedef struct gather_arg {
    const cplx *src;
    cplx *dst;
} gather_arg;

static void take(size_t at, long global, void *p)
{
    gather_arg *a = p;
    a->dst[at] = global >= 0 ? a->src[global] : 0;
}

static void give(size_t at, long global, void *p)
{
    gather_arg *a = p; /* src: the concatenated vector, dst: the global array (summed) */
    if (global >= 0) a->dst[global] += a->src[at];
}

static size_t total(const config *c, const int *g, int size, int extended)
{
    size_t n = 0;
    for (int r = 0; r < size; r++) {
        int coord[3], rr = r;
        for (int d = c->ndim - 1; d >= 0; d--) { coord[d] = rr % g[d]; rr /= g[d]; }
        size_t p = 1;
        for (int d = 0; d < c->ndim; d++) {
            size_t off, len;
            split(c->dims[d], g[d], coord[d], &off, &len);
            p *= len + (extended ? c->halo[2 * d] + c->halo[2 * d + 1] : 0);
        }
        n += p;
    }
    return n;
}

static void apply_and_compare(sl_context *ctx, sl_dtype dt, const sl_op *op, int adjoint,
                              const cplx *in, const cplx *want, size_t nin, size_t nout,
                              const char *what)
{
    sl_darray *x = NULL, *y = NULL;
    CHECK_OK(adjoint ? sl_op_create_data(op, &x) : sl_op_create_model(op, &x), ctx);
    CHECK_OK(adjoint ? sl_op_create_model(op, &y) : sl_op_create_data(op, &y), ctx);
    void *raw = malloc((nin > nout ? nin : nout) * sl_dtype_size(dt) + 1);
    th_to_dtype(dt, in, raw, nin);
    CHECK_OK(sl_darray_from_global(x, raw), ctx);
    CHECK_OK(adjoint ? sl_op_rmatvec(op, x, y) : sl_op_matvec(op, x, y), ctx);
    CHECK_OK(sl_darray_gather(y, SL_ALL_RANKS, raw), ctx);
    cplx *got = malloc(nout * sizeof(cplx) + 1);
    th_from_dtype(dt, raw, got, nout);
    double e = th_rel_err(got, want, nout);
    CHECK(e <= 10 * th_tol(dt), "%s %s %s: rel err %g", what, adjoint ? "adjoint" : "forward",
          sl_dtype_name(dt), e);
    free(got);
    free(raw);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
}

static void test_config(sl_context *ctx, sl_dtype dt, const config *c)
{
    int size = 1, g[3];
    size = th_ctx(ctx).size;
    grid_of(c, size, g);
    char what[128];
    snprintf(what, sizeof what, "Halo %d-d grid %dx%dx%d widths %zu/%zu,%zu/%zu", c->ndim, g[0],
             c->ndim > 1 ? g[1] : 1, c->ndim > 2 ? g[2] : 1, c->halo[0], c->halo[1],
             c->halo[2], c->halo[3]);
    sl_op *op = NULL;
    CHECK_OK(sl_op_halo(ctx, dt, c->ndim, c->dims, c->grid_kind ? g : NULL, c->halo, &op), ctx);
    if (!op) return;
    size_t n = th_prod(c->dims, c->ndim), nm = total(c, g, size, 0), nd = total(c, g, size, 1);
    cplx *global = malloc(n * sizeof(cplx)), *model = malloc(nm * sizeof(cplx));
    cplx *data = malloc(nd * sizeof(cplx)), *back = calloc(n, sizeof(cplx));
    cplx *yin = malloc(nd * sizeof(cplx)), *want_adj = malloc(nm * sizeof(cplx));
    th_random(global, n, sl_dtype_is_complex(dt), 5);
    th_round(dt, global, n);
    gather_arg a = {global, model};
    visit(c, g, size, 0, take, &a); /* the model: blocks in rank order */
    a.dst = data;
    visit(c, g, size, 1, take, &a); /* expected forward */
    apply_and_compare(ctx, dt, op, 0, model, data, nm, nd, what);
    th_random(yin, nd, sl_dtype_is_complex(dt), 6);
    th_round(dt, yin, nd);
    a = (gather_arg){yin, back};
    visit(c, g, size, 1, give, &a); /* every extended sample added at its global place */
    a = (gather_arg){back, want_adj};
    visit(c, g, size, 0, take, &a);
    apply_and_compare(ctx, dt, op, 1, yin, want_adj, nd, nm, what);
    int passed = 0;
    double err = 0;
    CHECK_OK(sl_dottest(op, dt == SL_F32 || dt == SL_C64 ? 1e-5 : 1e-12, &passed, &err), ctx);
    CHECK(passed, "%s dottest %s: %g", what, sl_dtype_name(dt), err);
    /* this rank's block as the operator reports it */
    size_t off[3], len[3], ext[3];
    CHECK_OK(sl_op_halo_block(op, off, len, ext), ctx);
    int coord[3], rr = th_rank;
    for (int d = c->ndim - 1; d >= 0; d--) { coord[d] = rr % g[d]; rr /= g[d]; }
    for (int d = 0; d < c->ndim; d++) {
        size_t o, l;
        split(c->dims[d], g[d], coord[d], &o, &l);
        CHECK(off[d] == o && len[d] == l && ext[d] == l + c->halo[2 * d] + c->halo[2 * d + 1],
              "%s: block along dim %d", what, d);
    }
    sl_op_destroy(op);
    free(global); free(model); free(data); free(back); free(yin); free(want_adj);
}

/* out = 2 in: a local operator on each rank's extended block */
static void twice(const void *in, void *out, int adjoint, void *user)
{
    (void)adjoint;
    const size_t *n = user;
    for (size_t i = 0; i < *n; i++) ((double *)out)[i] = 2 * ((const double *)in)[i];
}

/* Halo^H . BlockDiag(local) . Halo composes (the layouts match) and equals 2 Halo^H Halo. */
static void test_composition(sl_context *ctx)
{
    size_t dims[2] = {9, 7}, halo[4] = {1, 1, 1, 1};
    sl_op *h = NULL, *hh = NULL, *bd = NULL, *inner = NULL, *all = NULL, *ref = NULL;
    CHECK_OK(sl_op_halo(ctx, SL_F64, 2, dims, NULL, halo, &h), ctx);
    if (!h) return;
    size_t off[2], len[2], ext[2];
    sl_op_halo_block(h, off, len, ext);
    size_t n = ext[0] * ext[1];
    sl_local_op local = {n, n, twice, &n};
    CHECK_OK(sl_op_blockdiag(ctx, SL_F64, 1, &local, &bd), ctx);
    CHECK_OK(sl_op_adjoint(h, &hh), ctx);
    CHECK_OK(sl_op_product(bd, h, &inner), ctx);
    CHECK_OK(sl_op_product(hh, inner, &all), ctx);
    CHECK_OK(sl_op_product(hh, h, &ref), ctx);
    if (all && ref) {
        sl_darray *x = NULL, *y1 = NULL, *y2 = NULL;
        sl_scalar *nrm = NULL;
        double e = 1;
        CHECK_OK(sl_op_create_model(all, &x), ctx);
        CHECK_OK(sl_op_create_model(all, &y1), ctx);
        CHECK_OK(sl_op_create_model(all, &y2), ctx);
        CHECK_OK(sl_darray_random(x, 3), ctx);
        CHECK_OK(sl_op_matvec(all, x, y1), ctx);
        CHECK_OK(sl_op_matvec(ref, x, y2), ctx);
        CHECK_OK(sl_darray_axpy(-2.0, y2, y1), ctx);
        CHECK_OK(sl_darray_norm(y1, INFINITY, &nrm), ctx);
        CHECK_OK(sl_scalar_get_real(nrm, &e), ctx);
        CHECK(e < 1e-13, "Halo^H BlockDiag(2 I) Halo - 2 Halo^H Halo: %g", e);
        int passed = 0;
        CHECK_OK(sl_dottest(all, 1e-12, &passed, NULL), ctx);
        CHECK(passed, "Halo^H BlockDiag Halo dottest");
        sl_scalar_destroy(nrm);
        sl_darray_destroy(x);
        sl_darray_destroy(y1);
        sl_darray_destroy(y2);
    }
    sl_op_destroy(ref);
    sl_op_destroy(all);
    sl_op_destroy(inner);
    sl_op_destroy(hh);
    sl_op_destroy(bd);
    sl_op_destroy(h);
}

static void test_errors(sl_context *ctx)
{
    int size = 1;
    size = th_ctx(ctx).size;
    size_t dims[2] = {9, 7}, halo[4] = {1, 1, 1, 1}, wide[4] = {5, 5, 0, 0};
    int bad_grid[2] = {size + 1, 1}, line[2] = {size, 1};
    sl_op *op = NULL;
    CHECK(sl_op_halo(ctx, SL_F64, 2, dims, bad_grid, halo, &op) != SL_OK && !op,
          "a grid of %d ranks: %s", size + 1, sl_last_error(ctx));
    sl_status st = sl_op_halo(ctx, SL_F64, 2, dims, line, wide, &op);
    if (size == 1) { /* no neighbour to read from: any width works */
        CHECK_OK(st, ctx);
        sl_op_destroy(op);
        op = NULL;
    } else {
        CHECK(st == SL_ERR_SHAPE && !op, "widths of 5 over blocks of 2-3: %s", sl_last_error(ctx));
    }
    size_t tiny[2] = {3, 7};
    int four[2] = {4, 1};
    if (size == 4)
        CHECK(sl_op_halo(ctx, SL_F64, 2, tiny, four, halo, &op) == SL_ERR_SHAPE,
              "4 ranks over 3 samples: %s", sl_last_error(ctx));
    size_t mine[4] = {1, (size_t)(th_rank == 0 ? 2 : 1), 1, 1};
    st = sl_op_halo(ctx, SL_F64, 2, dims, line, mine, &op);
    CHECK(size == 1 ? st == SL_OK : st == SL_ERR_RANK_MISMATCH, "rank-dependent widths: %d %s",
          (int)st, sl_last_error(ctx));
    sl_op_destroy(op);
    CHECK(sl_op_halo(ctx, SL_F64, 0, dims, NULL, halo, &op) == SL_ERR_ARG, "ndim 0");
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    static const config configs[] = {
        {1, {11, 0, 0}, {2, 1, 0, 0, 0, 0}, 1},
        {2, {9, 7, 0}, {1, 2, 2, 1, 0, 0}, 0},
        {2, {9, 7, 0}, {1, 2, 2, 1, 0, 0}, 1},
        {2, {9, 8, 0}, {0, 1, 1, 0, 0, 0}, 2},
        {3, {6, 5, 4}, {1, 1, 0, 2, 1, 0}, 0},
        {3, {6, 5, 8}, {1, 0, 1, 1, 1, 1}, 2},
    };
    for (int d = 0; d < 4; d++)
        for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++)
            test_config(ctx, th_dtypes[d], &configs[i]);
    test_composition(ctx);
    test_errors(ctx);
    return th_end(ctx, "test_halo");
}
