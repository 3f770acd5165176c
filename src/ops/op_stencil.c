/* See stencil_op.h. */
#include <stdlib.h>
#include <string.h>

#include "ops/stencil_op.h"

enum { SEND_PREV, SEND_NEXT, RECV_PREV, RECV_NEXT };

/* Rows (reals) from which a multi-term stencil goes row by row, and the size (reals) of the
 * blocks a row is then cut into so that a block's input and output stay in L2. */
#define FUSE_MIN_ROW 1024
#define FUSE_BLOCK 16384

typedef struct stencil_state {
    int nterms;
    int axis_of[SL_STENCIL_MAX_TERMS];
    sl_stencil *table; /* nterms stencils, registered as one vector */
    starpu_data_handle_t table_h;
    size_t halo;     /* rows read beyond a tile along the distributed axis (0: none) */
    int prev, next;  /* neighbouring ranks holding rows, or -1 */
    void *ghost[4];  /* send/recv slabs of outer x halo x inner elements */
    starpu_data_handle_t ghost_h[4];
} stencil_state;

static void stencil_destroy(sl_op *op)
{
    stencil_state *s = op->state;
    /* unregistering waits for the tasks still reading the table or the slabs */
    if (s->table_h)
        starpu_data_unregister(s->table_h);
    for (int i = 0; i < 4; i++) {
        if (s->ghost_h[i])
            starpu_data_unregister(s->ghost_h[i]);
        free(s->ghost[i]);
    }
    free(s->table);
    free(s);
}

static size_t prod(const size_t *v, int from, int to)
{
    size_t p = 1;
    for (int d = from; d < to; d++)
        p *= v[d];
    return p;
}

/* The walk of one term over local rows [row0, row0 + nrows) of x (a tile, or one row when
 * fused), in reals. `chunk` is how much of the first dimension after the split axis (d1) the
 * walk covers, starting at the pointer it is given: all of it, or a block when fused rows are
 * cut into blocks; a term along d1 then covers rows [0, chunk) of it (the kernel's caller
 * shifts row0 per block). */
static sl_stencil_geometry geometry(const sl_darray *x, size_t row0, size_t nrows, int axis,
                                    size_t chunk)
{
    const sl_layout *l = &x->layout;
    size_t f = sl_dtype_is_complex(l->dtype) ? 2 : 1, ld = x->local_rows * x->inner;
    size_t offset = l->partition == SL_SCATTER ? x->row_offset_of[x->ctx->rank] : 0;
    int d1 = l->axis + 1;
    size_t row_run = d1 < l->ndim ? chunk * prod(l->shape, d1 + 1, l->ndim) : x->inner;
    sl_stencil_geometry g = {.n = l->shape[axis], .pre1 = 1, .pre2 = 1, .post = 1};
    if (axis == l->axis) { /* along the tiles: rows of `inner` elements */
        g.row0 = offset + row0;
        g.pre1 = x->outer, g.s_pre1 = ld;
        g.len = nrows, g.s_len = x->inner;
        g.run = row_run;
    } else if (axis > l->axis) { /* inside each row: (row x I1) x L x I2 */
        size_t i1 = prod(l->shape, l->axis + 1, axis), i2 = prod(l->shape, axis + 1, l->ndim);
        if (axis > d1)
            i1 = i1 / l->shape[d1] * chunk;
        g.pre1 = x->outer, g.s_pre1 = ld;
        g.pre2 = nrows * i1, g.s_pre2 = l->shape[axis] * i2;
        g.len = axis == d1 ? chunk : l->shape[axis], g.s_len = i2;
        g.run = i2;
    } else { /* across rows: O1 x L x O2, each a run of the rows */
        size_t o2 = prod(l->shape, axis + 1, l->axis);
        g.pre1 = prod(l->shape, 0, axis), g.s_pre1 = l->shape[axis] * o2 * ld;
        g.len = l->shape[axis], g.s_len = o2 * ld;
        g.post = o2, g.s_post = ld;
        g.run = nrows * row_run;
    }
    g.s_pre1 *= f, g.s_pre2 *= f, g.s_len *= f, g.s_post *= f, g.run *= f;
    return g;
}

/* How fused rows are cut: blocks of `chunk` of dimension d1 (0: not cut). */
static size_t fused_chunk(const sl_darray *x)
{
    int d1 = x->layout.axis + 1;
    if (d1 >= x->layout.ndim)
        return 0;
    size_t f = sl_dtype_is_complex(x->layout.dtype) ? 2 : 1;
    size_t line = prod(x->layout.shape, d1 + 1, x->layout.ndim) * f, chunk = FUSE_BLOCK / line;
    chunk = chunk ? chunk : 1;
    return chunk < x->layout.shape[d1] ? chunk : 0;
}

/* Handles and descriptions of tile t's pieces: the tiles and ghost slabs within the halo. */
static void add_pieces(const stencil_state *s, const sl_darray *in, size_t t,
                       starpu_data_handle_t *h, sl_stencil_task_args *a)
{
    if (s->halo == 0)
        return;
    size_t f = sl_dtype_is_complex(in->layout.dtype) ? 2 : 1, ld = in->local_rows * in->inner;
    size_t offset = in->layout.partition == SL_SCATTER ? in->row_offset_of[in->ctx->rank] : 0;
    size_t lo = in->tiles[t].row0, hi = lo + in->tiles[t].nrows; /* local rows */
    for (size_t u = 0; u < in->ntiles; u++) {
        const sl_tile *tu = &in->tiles[u];
        if (u == t || tu->row0 + tu->nrows + s->halo <= lo || tu->row0 >= hi + s->halo)
            continue;
        h[a->npieces] = tu->handle;
        a->pieces[a->npieces++] = (sl_stencil_piece_args){0, offset + tu->row0, tu->nrows, ld * f};
    }
    if (s->prev >= 0 && lo < s->halo) {
        h[a->npieces] = s->ghost_h[RECV_PREV];
        a->pieces[a->npieces++] =
            (sl_stencil_piece_args){1, offset - s->halo, s->halo, s->halo * in->inner * f};
    }
    if (s->next >= 0 && hi + s->halo > in->local_rows) {
        h[a->npieces] = s->ghost_h[RECV_NEXT];
        a->pieces[a->npieces++] = (sl_stencil_piece_args){1, offset + in->local_rows, s->halo,
                                                          s->halo * in->inner * f};
    }
}

/* The tiles holding local rows [first, first + rows) packed into slab `which`. */
static sl_status pack(const stencil_state *s, const sl_darray *in, size_t first, int which)
{
    sl_pack_args a = {first, s->halo, in->outer, in->inner * in->elem_size, 0, {0}, {0}};
    starpu_data_handle_t tiles[SL_STENCIL_MAX_PIECES];
    for (size_t u = 0; u < in->ntiles && a.ntiles < SL_STENCIL_MAX_PIECES; u++) {
        const sl_tile *tu = &in->tiles[u];
        if (tu->row0 + tu->nrows <= first || tu->row0 >= first + s->halo)
            continue;
        a.tile_row0[a.ntiles] = tu->row0;
        a.tile_nrows[a.ntiles] = tu->nrows;
        tiles[a.ntiles++] = tu->handle;
    }
    if (sl_task_pack_rows(&a, s->ghost_h[which], tiles) != 0)
        return sl_fail(in->ctx, SL_ERR_STARPU, "starpu_task_insert failed for pack_rows");
    return SL_OK;
}

/* Boundary rows to the neighbours, as tasks: pack, then one neighbour-exchange task. */
static sl_status exchange_halo(const stencil_state *s, const sl_darray *in)
{
    sl_status st = SL_OK;
    if (s->prev >= 0)
        st = pack(s, in, 0, SEND_PREV);
    if (st == SL_OK && s->next >= 0)
        st = pack(s, in, in->local_rows - s->halo, SEND_NEXT);
    if (st != SL_OK || (s->prev < 0 && s->next < 0))
        return st;
    sl_comm_neighbours nb = {s->prev, s->next,
                             s->prev >= 0 ? s->ghost_h[SEND_PREV] : NULL,
                             s->next >= 0 ? s->ghost_h[SEND_NEXT] : NULL,
                             s->prev >= 0 ? s->ghost_h[RECV_PREV] : NULL,
                             s->next >= 0 ? s->ghost_h[RECV_NEXT] : NULL};
    sl_comm_group group = {in->ctx->task_comm};
    return sl_comm_neighbour_exchange(in->ctx->comm, group, &nb, SL_COMM_BYTE);
}

void sl_stencil_tile_args(const sl_op *op, int adjoint, const sl_darray *in, size_t t,
                          sl_stencil_task_args *a, starpu_data_handle_t *pieces,
                          starpu_data_handle_t *table)
{
    const stencil_state *s = op->state;
    size_t f = sl_dtype_is_complex(in->layout.dtype) ? 2 : 1;
    size_t offset = in->layout.partition == SL_SCATTER ? in->row_offset_of[in->ctx->rank] : 0;
    const sl_tile *tile = &in->tiles[t];
    memset(a, 0, sizeof *a);
    a->single = in->layout.dtype == SL_F32 || in->layout.dtype == SL_C64;
    a->adjoint = adjoint;
    a->failures = &in->ctx->task_failures;
    a->nterms = s->nterms;
    /* several terms: row by row while a row is big enough to amortise the calls, so each
     * row is read from memory once for all the terms */
    a->fused = s->nterms > 1 && in->inner * f >= FUSE_MIN_ROW;
    a->rows = tile->nrows;
    a->row_stride = in->inner * f;
    a->tile_row0 = offset + tile->row0;
    a->tile_pre_stride = in->local_rows * in->inner * f;
    size_t chunk = a->fused ? fused_chunk(in) : 0;
    if (chunk) {
        int d1 = in->layout.axis + 1;
        a->chunk = chunk;
        a->chunk_count = in->layout.shape[d1];
        a->chunk_stride = prod(in->layout.shape, d1 + 1, in->layout.ndim) * f;
    }
    const sl_layout *il = &in->layout;
    size_t full = il->axis + 1 < il->ndim ? il->shape[il->axis + 1] : 1;
    a->flat = a->fused && in->outer == 1;
    a->split_n = in->layout.shape[in->layout.axis];
    for (int k = 0; k < s->nterms; k++)
        a->flat = a->flat && s->axis_of[k] >= in->layout.axis;
    int stream = in->ctx->config.stream_stores;
    size_t tile_bytes = tile->nrows * in->inner * in->outer * in->elem_size;
    a->stream = stream == 1 || (stream == -1 && tile_bytes >= SL_STENCIL_STREAM_BYTES);
    for (int k = 0; k < s->nterms; k++) {
        int ax = s->axis_of[k];
        size_t rows = a->fused ? 1 : tile->nrows;
        a->terms[k] = (sl_stencil_term_args){
            k, ax == in->layout.axis, chunk && ax == in->layout.axis + 1,
            geometry(in, tile->row0, rows, ax, chunk ? chunk : full),
            geometry(in, tile->row0, rows, ax,
                     chunk && a->chunk_count % chunk ? a->chunk_count % chunk
                                                     : (chunk ? chunk : full)),
            in->layout.shape[ax], prod(in->layout.shape, ax + 1, in->layout.ndim) * f,
            ax < in->layout.axis ? prod(in->layout.shape, ax + 1, in->layout.axis) : 0};
    }
    add_pieces(s, in, t, pieces, a);
    *table = s->table_h;
}

static sl_status stencil_apply(const sl_op *op, int adjoint, const sl_darray *in, sl_darray *out)
{
    sl_status st = exchange_halo(op->state, in);
    for (size_t t = 0; t < out->ntiles && st == SL_OK; t++) {
        sl_stencil_task_args a;
        starpu_data_handle_t pieces[SL_STENCIL_MAX_PIECES], table;
        sl_stencil_tile_args(op, adjoint, in, t, &a, pieces, &table);
        if (sl_task_stencil(&a, out->tiles[t].handle, table, in->tiles[t].handle,
                            pieces) != 0)
            st = sl_fail(op->ctx, SL_ERR_STARPU, "starpu_task_insert failed for %s",
                         op->vt->name);
    }
    return st;
}

/* ---- construction ---- */

sl_status sl_stencil_refuse(const sl_darray *like, sl_status local, const char *what)
{
    int64_t none = 0; /* the same shape of agreement as sl_op_stencil's */
    sl_status agreed = sl_agree(like->ctx, &none, 1, 0, what);
    return local != SL_OK ? local : agreed;
}

int64_t sl_stencil_terms_hash(int nterms, const sl_stencil_term *terms)
{
    uint64_t h = SL_FNV1A_SEED; /* over the axes and the stencils' bytes */
    for (int k = 0; k < nterms; k++) {
        h = sl_fnv1a(h, &terms[k].axis, sizeof terms[k].axis);
        h = sl_fnv1a(h, &terms[k].stencil, sizeof terms[k].stencil);
    }
    return sl_fnv1a_value(h);
}

/* Terms against the array: axes, lengths, coefficient ranges. */
static sl_status check_terms(const char *what, const sl_darray *x, int nterms,
                             const sl_stencil_term *terms)
{
    sl_context *ctx = x->ctx;
    if (nterms < 1 || nterms > SL_STENCIL_MAX_TERMS)
        return sl_fail(ctx, SL_ERR_ARG, "%s: %d terms (1 to %d)", what, nterms,
                       SL_STENCIL_MAX_TERMS);
    for (int k = 0; k < nterms; k++) {
        const sl_stencil_term *t = &terms[k];
        const sl_stencil *st = &t->stencil;
        if (t->axis < 0 || t->axis >= x->layout.ndim)
            return sl_fail(ctx, SL_ERR_ARG, "%s: axis %d outside [0, %d)", what, t->axis,
                           x->layout.ndim);
        if (st->lo > 0 || st->hi < 0 || st->hi - st->lo >= SL_STENCIL_MAX_TAPS ||
            st->nhead < 0 || st->ntail < 0 || st->nhead > SL_STENCIL_MAX_EDGE ||
            st->ntail > SL_STENCIL_MAX_EDGE)
            return sl_fail(ctx, SL_ERR_ARG, "%s: stencil of %d taps is too long (at most %d)",
                           what, st->hi - st->lo + 1, SL_STENCIL_MAX_TAPS);
        size_t n = x->layout.shape[t->axis];
        if (n < (size_t)(st->nhead + st->ntail) || n == 0)
            return sl_fail(ctx, SL_ERR_SHAPE, "%s: axis %d has %zu samples, fewer than the "
                           "stencil's %d boundary rows", what, t->axis, n,
                           st->nhead + st->ntail);
    }
    return SL_OK;
}

/* The rows read beyond a tile along the distributed axis, and the neighbouring ranks. */
static void plan_halo(const sl_darray *x, int nterms, const sl_stencil_term *terms,
                      stencil_state *s)
{
    sl_context *ctx = x->ctx;
    s->prev = s->next = -1;
    for (int k = 0; k < nterms; k++)
        if (terms[k].axis == x->layout.axis &&
            (size_t)sl_stencil_margin(&terms[k].stencil) > s->halo)
            s->halo = (size_t)sl_stencil_margin(&terms[k].stencil);
    if (s->halo == 0 || x->layout.partition != SL_SCATTER || x->local_rows == 0)
        return;
    for (int r = ctx->rank - 1; r >= 0 && s->prev < 0; r--)
        if (x->layout.local_sizes[r] > 0)
            s->prev = r;
    for (int r = ctx->rank + 1; r < ctx->size && s->next < 0; r++)
        if (x->layout.local_sizes[r] > 0)
            s->next = r;
}

/* Every rank evaluates every rank's block, so all reach the same verdict without talking. */
static sl_status check_halo(const char *what, const sl_darray *x, size_t halo)
{
    sl_context *ctx = x->ctx;
    if (halo == 0 || x->layout.partition != SL_SCATTER)
        return SL_OK;
    int holders = 0;
    for (int r = 0; r < ctx->size; r++)
        holders += x->layout.local_sizes[r] > 0;
    for (int r = 0; r < ctx->size && holders > 1; r++)
        if (x->layout.local_sizes[r] > 0 && x->layout.local_sizes[r] < halo)
            return sl_fail(ctx, SL_ERR_SHAPE, "%s: rank %d holds %zu rows along the distributed "
                           "axis %d, fewer than the %zu the stencil reads from a neighbour "
                           "(use fewer ranks or another split)", what, r, x->layout.local_sizes[r],
                           x->layout.axis, halo);
    return SL_OK;
}

/* Tiles thinner than the halo need several neighbours; bounded by the task's buffer list. */
static sl_status check_tiles(const char *what, const sl_darray *x, size_t halo)
{
    for (size_t t = 0; halo > 0 && t < x->ntiles; t++) {
        size_t lo = x->tiles[t].row0, hi = lo + x->tiles[t].nrows, count = 2;
        for (size_t u = 0; u < x->ntiles; u++)
            count += u != t && x->tiles[u].row0 + x->tiles[u].nrows + halo > lo &&
                     x->tiles[u].row0 < hi + halo;
        if (count > SL_STENCIL_MAX_PIECES)
            return sl_fail(x->ctx, SL_ERR_SHAPE, "%s: tiles of %zu rows are too thin for a "
                           "stencil reading %zu rows beyond them (raise STARLOPS_TILE)", what,
                           x->tiles[t].nrows, halo);
    }
    return SL_OK;
}

static sl_status make_slabs(const sl_darray *x, stencil_state *s)
{
    size_t bytes = x->outer * s->halo * x->inner * x->elem_size;
    int want[4] = {s->prev >= 0, s->next >= 0, s->prev >= 0, s->next >= 0};
    for (int i = 0; i < 4; i++) {
        if (!want[i] || bytes == 0)
            continue;
        s->ghost[i] = malloc(bytes);
        if (!s->ghost[i])
            return sl_fail(x->ctx, SL_ERR_NOMEM, "stencil operator: out of memory");
        starpu_vector_data_register(&s->ghost_h[i], STARPU_MAIN_RAM, (uintptr_t)s->ghost[i],
                                    (uint32_t)bytes, 1);
    }
    return SL_OK;
}

static const sl_op_vtable stencil_vt[SL_STENCIL_KIND_COUNT] = {
    [SL_STENCIL_FIRST_DERIVATIVE] = {"FirstDerivative", stencil_apply, stencil_destroy, NULL},
    [SL_STENCIL_SECOND_DERIVATIVE] = {"SecondDerivative", stencil_apply, stencil_destroy, NULL},
    [SL_STENCIL_LAPLACIAN] = {"Laplacian", stencil_apply, stencil_destroy, NULL},
    [SL_STENCIL_CONVOLVE1D] = {"Convolve1D", stencil_apply, stencil_destroy, NULL},
};

sl_status sl_op_stencil(const char *what, sl_stencil_kind kind, const sl_darray *like,
                        int nterms, const sl_stencil_term *terms, sl_op **out)
{
    if (!like || !terms || !out)
        return sl_null_error(__func__);
    sl_context *ctx = like->ctx;
    stencil_state *s = calloc(1, sizeof *s);
    sl_status local = s ? check_terms(what, like, nterms, terms)
                        : sl_fail(ctx, SL_ERR_NOMEM, "%s: out of memory", what);
    if (local == SL_OK) {
        plan_halo(like, nterms, terms, s);
        local = check_halo(what, like, s->halo);
    }
    if (local == SL_OK)
        local = check_tiles(what, like, s->halo);
    /* the tile check depends on this rank's tiles, and ranks must build the same stencils:
     * agree on both before anyone exchanges */
    int64_t h = local == SL_OK ? sl_stencil_terms_hash(nterms, terms) : 0;
    sl_status st = sl_agree(ctx, &h, 1, local == SL_OK, what);
    if (local != SL_OK)
        st = local;
    if (st == SL_OK) {
        s->nterms = nterms;
        s->table = malloc((size_t)nterms * sizeof *s->table);
        if (!s->table)
            st = sl_fail(ctx, SL_ERR_NOMEM, "%s: out of memory", what);
    }
    if (st == SL_OK) {
        for (int k = 0; k < nterms; k++) {
            s->table[k] = terms[k].stencil;
            s->axis_of[k] = terms[k].axis;
        }
        starpu_vector_data_register(&s->table_h, STARPU_MAIN_RAM, (uintptr_t)s->table,
                                    (uint32_t)nterms, sizeof *s->table);
        st = make_slabs(like, s);
    }
    sl_layout l = {0};
    if (st == SL_OK)
        st = sl_layout_from_darray(like, &l);
    if (st == SL_OK)
        st = sl_op_new(ctx, &stencil_vt[kind], &l, &l, s, out);
    sl_layout_free(&l);
    if (st != SL_OK && s)
        stencil_destroy(&(sl_op){.state = s});
    return st;
}
