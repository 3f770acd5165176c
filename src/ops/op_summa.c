/* The SUMMA MatrixMult operator: its grid and tiles, the tiles this rank owns or receives into,
 * and the conversions between natural matrices and its packed distributed arrays. The task
 * graph itself is in summa_apply.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/summa_state.h"

/* A contiguous rows x cols tile registered with StarPU (NULL when out of memory). */
static starpu_data_handle_t new_tile(sl_summa_state *s, size_t rows, size_t cols, int ci, int cj)
{
    if (s->nmem == s->capmem) {
        size_t cap = s->capmem ? 2 * s->capmem : 64;
        void **m = realloc(s->mem, cap * sizeof *m);
        if (!m)
            return NULL;
        s->mem = m;
        s->capmem = cap;
    }
    void *buf = NULL;
    if (posix_memalign(&buf, 64, rows * cols * s->es + 1) != 0)
        return NULL;
    memset(buf, 0, rows * cols * s->es);
    s->mem[s->nmem++] = buf;
    starpu_data_handle_t h;
    starpu_matrix_data_register(&h, STARPU_MAIN_RAM, (uintptr_t)buf, (uint32_t)cols,
                                (uint32_t)cols, (uint32_t)rows, s->es);
    starpu_data_set_coordinates(h, 2, ci, cj);
    return h;
}

static void free_handles(starpu_data_handle_t *h, size_t n)
{
    for (size_t i = 0; h && i < n; i++)
        if (h[i])
            starpu_data_unregister(h[i]);
    free(h);
}

static void tile_set_free(sl_tile_set *t)
{
    free_handles(t->h, t->geom.rt * t->geom.ct);
    free(t->offset);
    free(t->owned);
}

static void state_free(sl_summa_state *s)
{
    const sl_summa_plan *pl = &s->plan;
    size_t slots = (size_t)s->depth + 1;
    tile_set_free(&s->a);
    tile_set_free(&s->x);
    tile_set_free(&s->y);
    free_handles(s->acc, pl->x.rt * pl->x.ct);
    free_handles(s->xin, pl->x.rt * pl->x.ct);
    free_handles(s->ring_a, slots * pl->y.rt);
    free_handles(s->ring_x, slots * pl->y.ct);
    free_handles(s->ring_y, slots * pl->y.ct);
    for (size_t i = 0; i < s->nmem; i++)
        free(s->mem[i]);
    free(s->mem);
    free(s);
}

/* Registers this rank's tiles of a tiled matrix and records the packed order. */
static sl_status tile_set_init(sl_summa_state *s, sl_tile_set *t, sl_tiled geom)
{
    size_t n = geom.rt * geom.ct;
    t->geom = geom;
    t->h = calloc(n + 1, sizeof *t->h);
    t->offset = calloc(n + 1, sizeof *t->offset);
    t->owned = calloc(n + 1, sizeof *t->owned);
    if (!t->h || !t->offset || !t->owned)
        return SL_ERR_NOMEM;
    t->packed = sl_summa_pack_offsets(&s->plan, &geom, s->ctx->rank, t->offset);
    for (size_t idx = 0; idx < n; idx++) {
        if (t->offset[idx] == SIZE_MAX)
            continue;
        size_t ti = idx / geom.ct, tj = idx % geom.ct;
        t->owned[t->nowned++] = idx;
        t->h[idx] = new_tile(s, sl_tiled_tile_rows(&geom, ti), sl_tiled_tile_cols(&geom, tj),
                             (int)ti, (int)tj);
        if (!t->h[idx])
            return SL_ERR_NOMEM;
    }
    return SL_OK;
}

static starpu_data_handle_t *handle_array(size_t n)
{
    return calloc(n + 1, sizeof(starpu_data_handle_t));
}

/* Receive slots for the streams of tile rows (by_rows) or tile columns of Y selected by
 * `use`: per stream, `depth` slots spanning a full panel (`panel` wide along the other
 * dimension) and one spanning the last panel (`panel_last`). Tile sl * count + i. */
static sl_status ring_init(sl_summa_state *s, starpu_data_handle_t **ring, int by_rows,
                           const int *use, size_t panel, size_t panel_last)
{
    const sl_tiled *y = &s->plan.y;
    size_t slots = (size_t)s->depth + 1, count = by_rows ? y->rt : y->ct;
    *ring = handle_array(slots * count);
    if (!*ring)
        return SL_ERR_NOMEM;
    for (size_t i = 0; i < count; i++) {
        if (!use[i])
            continue;
        size_t extent = by_rows ? sl_tiled_tile_rows(y, i) : sl_tiled_tile_cols(y, i);
        for (size_t sl = 0; sl < slots; sl++) {
            size_t width = sl == slots - 1 ? panel_last : panel;
            if (!((*ring)[sl * count + i] = new_tile(s, by_rows ? extent : width,
                                                     by_rows ? width : extent, -1, (int)i)))
                return SL_ERR_NOMEM;
        }
    }
    return SL_OK;
}

/* Forward: remote A(i, l) for this process row's tile rows (when it has Y columns), remote
 * X(l, j) for this column's tile columns (when it has Y rows). Adjoint: remote Y(i, j) of this
 * row (when it holds A columns). */
static sl_status rings_init(sl_summa_state *s)
{
    const sl_summa_plan *pl = &s->plan;
    size_t mt = pl->y.rt, nt = pl->y.ct, kt = pl->a.ct, P = (size_t)pl->p, Q = (size_t)pl->q;
    size_t pr = (size_t)s->pr, pc = (size_t)s->pc;
    int *use = calloc((mt > nt ? mt : nt) + 1, sizeof *use);
    if (!use)
        return SL_ERR_NOMEM;
    size_t kb = pl->a.cb, kb_last = sl_tiled_tile_cols(&pl->a, kt - 1);
    size_t mb = pl->y.rb, mb_last = sl_tiled_tile_rows(&pl->y, mt - 1);
    for (size_t i = 0; i < mt; i++)
        use[i] = Q > 1 && pc < nt && i % P == pr;
    sl_status st = ring_init(s, &s->ring_a, 1, use, kb, kb_last);
    for (size_t j = 0; j < nt; j++)
        use[j] = P > 1 && pr < mt && j % Q == pc;
    if (st == SL_OK)
        st = ring_init(s, &s->ring_x, 0, use, kb, kb_last);
    for (size_t j = 0; j < nt; j++)
        use[j] = Q > 1 && pc < kt && pr < mt && j % Q != pc;
    if (st == SL_OK)
        st = ring_init(s, &s->ring_y, 0, use, mb, mb_last);
    free(use);
    return st;
}

/* acc(l, j) where this rank holds column l of A; xin(l, j) where it owns X(l, j) and some
 * other rank holds a partial sum of it. */
static sl_status partials_init(sl_summa_state *s)
{
    const sl_summa_plan *pl = &s->plan;
    size_t mt = pl->y.rt, nt = pl->y.ct, kt = pl->a.ct, P = (size_t)pl->p, Q = (size_t)pl->q;
    size_t pr = (size_t)s->pr, pc = (size_t)s->pc;
    s->acc = handle_array(kt * nt);
    s->xin = handle_array(kt * nt);
    if (!s->acc || !s->xin)
        return SL_ERR_NOMEM;
    for (size_t l = 0; l < kt; l++)
        for (size_t j = 0; j < nt; j++) {
            size_t rows = sl_tiled_tile_rows(&pl->x, l), cols = sl_tiled_tile_cols(&pl->x, j);
            int holds = l % Q == pc && pr < mt;
            int owns = sl_summa_owner(pl, l, j) == s->ctx->rank;
            int remote = (P < mt ? P : mt) > (holds ? 1u : 0u);
            if (holds && !(s->acc[l * nt + j] = new_tile(s, rows, cols, (int)l, (int)j)))
                return SL_ERR_NOMEM;
            if (owns && remote && !(s->xin[l * nt + j] = new_tile(s, rows, cols, (int)l, (int)j)))
                return SL_ERR_NOMEM;
        }
    return SL_OK;
}

static sl_status fill_a(sl_summa_state *s, sl_matrix_fill_fn fill, void *user)
{
    const sl_tiled *g = &s->a.geom;
    for (size_t o = 0; o < s->a.nowned; o++) {
        size_t idx = s->a.owned[o], ti = idx / g->ct, tj = idx % g->ct;
        starpu_data_handle_t h = s->a.h[idx];
        if (starpu_data_acquire(h, STARPU_W) != 0)
            return SL_ERR_STARPU;
        fill(ti * g->rb, tj * g->cb, sl_tiled_tile_rows(g, ti), sl_tiled_tile_cols(g, tj),
             (void *)starpu_matrix_get_local_ptr(h), user);
        starpu_data_release(h);
    }
    return SL_OK;
}

static sl_status state_create(sl_context *ctx, sl_dtype dtype, const sl_summa_plan *plan,
                              int lookahead, sl_matrix_fill_fn fill, void *user,
                              sl_summa_state **out)
{
    sl_summa_state *s = calloc(1, sizeof *s);
    if (!s)
        return SL_ERR_NOMEM;
    s->ctx = ctx;
    s->dtype = dtype;
    s->es = sl_dtype_size(dtype);
    s->plan = *plan;
    int me = ctx->rank - plan->base, inside = me >= 0 && me < plan->p * plan->q;
    s->pr = inside ? me / plan->q : -1;
    s->pc = inside ? me % plan->q : -1;
    s->depth = lookahead + 1;
    s->ordered = sl_ordered_transfers(ctx);
    s->row = s->col = MPI_COMM_NULL;
    sl_status st = tile_set_init(s, &s->a, plan->a);
    if (st == SL_OK)
        st = tile_set_init(s, &s->x, plan->x);
    if (st == SL_OK)
        st = tile_set_init(s, &s->y, plan->y);
    if (st == SL_OK)
        st = rings_init(s);
    if (st == SL_OK)
        st = partials_init(s);
    if (st == SL_OK)
        st = fill_a(s, fill, user);
    if (st != SL_OK) {
        state_free(s);
        return st;
    }
    *out = s;
    return SL_OK;
}

/* Ordered transfers: the communicators of the process rows and columns (the context's mask
 * groups: operators on the same grid share them, and NCCL's set-up is paid once), prepared now
 * rather than at the first panel. Ranks outside the grid get singletons. Collective over the
 * context's ranks. */
static sl_status lines_init(sl_summa_state *s)
{
    sl_context *ctx = s->ctx;
    const sl_summa_plan *pl = &s->plan;
    const char *what = "sl_op_matrixmult_summa";
    int *rows = malloc((size_t)ctx->size * sizeof *rows);
    int *cols = malloc((size_t)ctx->size * sizeof *cols);
    int ok = rows && cols;
    for (int r = 0; ok && r < ctx->size; r++) {
        int me = r - pl->base, inside = me >= 0 && me < pl->p * pl->q;
        rows[r] = inside ? me / pl->q : pl->p + r;
        cols[r] = inside ? me % pl->q : pl->q + r;
    }
    if (!ok)
        sl_fail(ctx, SL_ERR_NOMEM, "%s: out of memory", what);
    /* each step is collective: every rank learns whether all can take the next one */
    sl_status st = sl_agree(ctx, NULL, 0, ok, what);
    if (st == SL_OK) {
        ok = sl_mask_comm(ctx, rows, &s->row) == SL_OK;
        ok = sl_mask_comm(ctx, cols, &s->col) == SL_OK && ok;
        st = sl_agree(ctx, NULL, 0, ok, what);
    }
    if (st == SL_OK) {
        ok = sl_comm_prepare(ctx->comm, (sl_comm_group){s->row}) == SL_OK;
        ok = sl_comm_prepare(ctx->comm, (sl_comm_group){s->col}) == SL_OK && ok;
        if (!ok)
            sl_fail(ctx, SL_ERR_MPI, "%s: the %s backend cannot set up the process rows' and "
                    "columns' communicators", what, ctx->comm->ops->name);
        st = sl_agree(ctx, NULL, 0, ok, what);
    }
    free(rows);
    free(cols);
    return st;
}

static sl_status summa_apply(const sl_op *op, int adjoint, const sl_darray *in, sl_darray *out)
{
    return adjoint ? sl_summa_adjoint(op->state, in, out) : sl_summa_forward(op->state, in, out);
}

static void summa_destroy(sl_op *op)
{
    state_free(op->state);
}

static const sl_op_vtable summa_vt = {.name = "MatrixMult(SUMMA)", .apply = summa_apply,
                                      .destroy = summa_destroy};

typedef struct summa_request {
    size_t n, k, m;
    int p, q, lookahead;
    size_t mb, kb, nb;
    int base, nranks; /* the ranks of the grid: base .. base + nranks - 1 */
} summa_request;

/* Fills the grid, tiles and lookahead from opts, STARLOPS_GRID and the defaults; checks them. */
static sl_status resolve(sl_context *ctx, const sl_summa_opts *o, summa_request *r)
{
    sl_summa_opts none = {0};
    if (!o)
        o = &none;
    if ((o->grid_p > 0) != (o->grid_q > 0) || o->grid_p < 0 || o->grid_q < 0)
        return sl_fail(ctx, SL_ERR_ARG, "sl_op_matrixmult_summa: grid %dx%d: give both P and Q "
                       "(> 0) or neither", o->grid_p, o->grid_q);
    if (o->grid_p > 0 && o->grid_p * o->grid_q != r->nranks)
        return sl_fail(ctx, SL_ERR_ARG, "sl_op_matrixmult_summa: grid %dx%d needs %d ranks, "
                       "there are %d", o->grid_p, o->grid_q, o->grid_p * o->grid_q, r->nranks);
    if (o->lookahead < 0 || o->lookahead > 64)
        return sl_fail(ctx, SL_ERR_ARG, "sl_op_matrixmult_summa: lookahead %d is outside "
                       "[0, 64]", o->lookahead);
    int want_p = o->grid_p, want_q = o->grid_q;
    if (want_p == 0 && ctx->config.grid_given &&
        ctx->config.grid_p * ctx->config.grid_q == r->nranks) {
        want_p = ctx->config.grid_p;
        want_q = ctx->config.grid_q;
    }
    sl_summa_choose_grid(r->n, r->k, r->m, r->nranks, want_p, want_q, &r->p, &r->q);
    sl_summa_default_tiles(r->n, r->k, r->m, r->p, r->q, &r->mb, &r->kb, &r->nb);
    if (o->mb) r->mb = o->mb;
    if (o->kb) r->kb = o->kb;
    if (o->nb) r->nb = o->nb;
    r->lookahead = o->lookahead ? o->lookahead : 2;
    size_t limit = (size_t)1 << 30, asked[3] = {r->mb, r->kb, r->nb};
    /* A tile larger than the matrix is the matrix. */
    r->mb = r->mb < r->n ? r->mb : r->n;
    r->kb = r->kb < r->k ? r->kb : r->k;
    r->nb = r->nb < r->m ? r->nb : r->m;
    /* StarPU 1.3 registers tiles with 32-bit sizes: A, X and Y tiles stay below 2^30. */
    if (asked[0] > limit || asked[1] > limit || asked[2] > limit || r->mb * r->kb > limit ||
        r->kb * r->nb > limit || r->mb * r->nb > limit)
        return sl_fail(ctx, SL_ERR_SHAPE, "sl_op_matrixmult_summa: tiles %zu x %zu x %zu are "
                       "too large (at most 2^30 elements per tile)", asked[0], asked[1],
                       asked[2]);
    return SL_OK;
}

/* a * b * c bytes fit in a size_t (and so in any allocation request). */
static int product_fits(size_t a, size_t b, size_t c)
{
    size_t ab, abc;
    return !__builtin_mul_overflow(a, b, &ab) && !__builtin_mul_overflow(ab, c, &abc) &&
           abc <= (size_t)INT64_MAX;
}

static sl_status validate(sl_context *ctx, sl_dtype dtype, size_t n, size_t k, size_t m,
                          sl_matrix_fill_fn fill)
{
    if (sl_dtype_size(dtype) == 0)
        return sl_fail(ctx, SL_ERR_DTYPE, "sl_op_matrixmult_summa: dtype %d is invalid",
                       (int)dtype);
    if (n == 0 || k == 0)
        return sl_fail(ctx, SL_ERR_SHAPE, "sl_op_matrixmult_summa: A is %zu x %zu; both sizes "
                       "must be positive", n, k);
    size_t es = sl_dtype_size(dtype);
    if (!product_fits(n, k, es) || !product_fits(n, m, es) || !product_fits(k, m, es))
        return sl_fail(ctx, SL_ERR_SHAPE, "sl_op_matrixmult_summa: A %zu x %zu with %zu "
                       "right-hand side(s) is too large (the byte counts overflow)", n, k, m);
    if (!fill)
        return sl_fail(ctx, SL_ERR_NULL, "sl_op_matrixmult_summa: fill is NULL on rank %d",
                       ctx->rank);
    return SL_OK;
}

static sl_summa_plan plan_of(const summa_request *r)
{
    sl_summa_plan p = {r->p, r->q, sl_tiled_make(r->n, r->k, r->mb, r->kb),
                       sl_tiled_make(r->k, r->m, r->kb, r->nb),
                       sl_tiled_make(r->n, r->m, r->mb, r->nb), r->base};
    return p;
}

/* The 1-d layout of a packed tiled matrix: each rank's packed count, computed alike on every
 * rank from the agreed plan (no array is made, nothing to agree again). */
static sl_status packed_layout(sl_context *ctx, sl_dtype dtype, const sl_summa_plan *plan,
                               const sl_tiled *t, sl_layout *out)
{
    size_t *sizes = malloc((size_t)ctx->size * sizeof *sizes);
    if (!sizes)
        return sl_fail(ctx, SL_ERR_NOMEM, "sl_op_matrixmult_summa: out of memory");
    for (int r = 0; r < ctx->size; r++)
        sizes[r] = sl_summa_pack_offsets(plan, t, r, NULL);
    sl_status st = sl_layout_rows(ctx, dtype, sizes, out);
    free(sizes);
    return st;
}

static void report(sl_context *ctx, const summa_request *r, int chosen)
{
    if (ctx->rank != 0)
        return;
    fprintf(stderr, "starlops: SUMMA MatrixMult %zu x %zu, %zu right-hand side(s): grid %dx%d "
            "(%s), tiles mb=%zu kb=%zu nb=%zu, lookahead %d, model %.3g elements received per "
            "rank per forward+adjoint\n", r->n, r->k, r->m, r->p, r->q,
            chosen ? "least modelled volume" : "requested", r->mb, r->kb, r->nb, r->lookahead,
            sl_summa_volume(r->n, r->k, r->m, r->p, r->q));
}

sl_status sl_op_matrixmult_summa(sl_context *ctx, sl_dtype dtype, size_t n, size_t k,
                                 size_t nrhs, sl_matrix_fill_fn fill, void *user,
                                 const sl_summa_opts *opts, sl_op **out)
{
    if (!ctx || !out)
        return sl_null_error(__func__);
    return sl_op_matrixmult_summa_group(ctx, dtype, n, k, nrhs, fill, user, opts, 0, ctx->size,
                                        out);
}

sl_status sl_op_matrixmult_summa_group(sl_context *ctx, sl_dtype dtype, size_t n, size_t k,
                                       size_t nrhs, sl_matrix_fill_fn fill, void *user,
                                       const sl_summa_opts *opts, int base, int nranks,
                                       sl_op **out)
{
    if (!ctx || !out)
        return sl_null_error(__func__);
    *out = NULL;
    summa_request r = {n, k, nrhs ? nrhs : 1, 0, 0, 0, 0, 0, 0, base, nranks};
    sl_status local = SL_OK;
    if (base < 0 || nranks < 1 || base > ctx->size - nranks)
        local = sl_fail(ctx, SL_ERR_ARG, "sl_op_matrixmult_summa: ranks %d .. %d are not "
                        "within the %d ranks", base, base + nranks - 1, ctx->size);
    else
        local = validate(ctx, dtype, n, k, r.m, fill);
    if (local == SL_OK)
        local = resolve(ctx, opts, &r);
    int64_t v[12] = {dtype, (int64_t)n, (int64_t)k, (int64_t)nrhs, r.p, r.q, (int64_t)r.mb,
                     (int64_t)r.kb, (int64_t)r.nb, r.lookahead, base, nranks};
    sl_status agreed = sl_agree(ctx, v, 12, local == SL_OK, "sl_op_matrixmult_summa");
    if (local != SL_OK || agreed != SL_OK)
        return local != SL_OK ? local : agreed;
    if (opts && opts->verbose)
        report(ctx, &r, opts->grid_p == 0 && !ctx->config.grid_given);
    sl_summa_plan plan = plan_of(&r);
    sl_summa_state *s = NULL;
    sl_status st = state_create(ctx, dtype, &plan, r.lookahead, fill, user, &s);
    sl_status all = sl_agree(ctx, NULL, 0, st == SL_OK, "sl_op_matrixmult_summa");
    if (st != SL_OK || all != SL_OK) {
        if (s)
            state_free(s);
        return st != SL_OK ? sl_fail(ctx, st, "sl_op_matrixmult_summa: out of memory or StarPU "
                                     "failure while setting up the tiles") : all;
    }
    if (s->ordered && (st = lines_init(s)) != SL_OK) {
        state_free(s);
        return st;
    }
    sl_layout ml = {0}, dl = {0};
    st = packed_layout(ctx, dtype, &plan, &plan.x, &ml);
    if (st == SL_OK)
        st = packed_layout(ctx, dtype, &plan, &plan.y, &dl);
    if (st == SL_OK)
        st = sl_op_new(ctx, &summa_vt, &ml, &dl, s, out);
    if (st != SL_OK)
        state_free(s);
    sl_layout_free(&ml);
    sl_layout_free(&dl);
    return st;
}

const sl_summa_state *sl_summa_state_of(const sl_op *op)
{
    return op && op->vt == &summa_vt ? op->state : NULL;
}

sl_status sl_matrixmult_summa_info(const sl_op *op, int *p, int *q, size_t *mb, size_t *kb,
                                   size_t *nb)
{
    const sl_summa_state *s = sl_summa_state_of(op);
    if (!op || !p || !q || !mb || !kb || !nb)
        return sl_null_error(__func__);
    if (!s)
        return sl_fail(op->ctx, SL_ERR_ARG, "sl_matrixmult_summa_info: the operator is a %s, "
                       "not a SUMMA MatrixMult", op->vt->name);
    *p = s->plan.p;
    *q = s->plan.q;
    *mb = s->plan.a.rb;
    *kb = s->plan.a.cb;
    *nb = s->plan.x.cb;
    return SL_OK;
}

double sl_matrixmult_summa_volume(size_t n, size_t k, size_t m, int p, int q)
{
    return p > 0 && q > 0 ? sl_summa_volume(n, k, m, p, q) : 0;
}
