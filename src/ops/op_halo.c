/* The N-d Cartesian halo operator (PyLops-MPI MPIHalo; see include/starlops/halo.h). The
 * forward fills the halos one dimension after the other, each step's slabs spanning the halos
 * already filled along the earlier dimensions, so corners arrive in two (or more) hops. The
 * adjoint runs the steps backwards on a scratch copy: each halo slab goes back to its owner,
 * who adds it to its boundary rows. Every step is tasks: pack, one neighbour exchange through
 * the communication layer, unpack. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <starlops/halo.h>

#include "ops/op_internal.h"
#include "codelets.h"

enum { SEND_PREV, SEND_NEXT, RECV_PREV, RECV_NEXT };

typedef struct halo_state {
    int ndim;
    sl_dtype dtype;
    size_t esize;
    size_t n[SL_MAX_NDIM], e[SL_MAX_NDIM];    /* this rank's block and extended block */
    size_t offset[SL_MAX_NDIM];               /* the block's first global index */
    size_t lo[SL_MAX_NDIM], hi[SL_MAX_NDIM];  /* halo widths before / after, per dim */
    int prev[SL_MAX_NDIM], next[SL_MAX_NDIM]; /* neighbouring ranks per dim, or -1 */
    /* slabs per dim and direction (0 forward, 1 adjoint): send/recv prev/next */
    void *slab[SL_MAX_NDIM][2][4];
    starpu_data_handle_t slab_h[SL_MAX_NDIM][2][4];
    size_t slab_rows[SL_MAX_NDIM][2][4]; /* rows along the dim each slab carries */
    void *scratch;                       /* adjoint: the extended block being summed */
    starpu_data_handle_t scratch_h;
} halo_state;

static void halo_destroy(sl_op *op)
{
    halo_state *s = op->state;
    for (int d = 0; d < SL_MAX_NDIM; d++)
        for (int dir = 0; dir < 2; dir++)
            for (int i = 0; i < 4; i++) {
                if (s->slab_h[d][dir][i])
                    starpu_data_unregister(s->slab_h[d][dir][i]); /* waits for its tasks */
                free(s->slab[d][dir][i]);
            }
    if (s->scratch_h)
        starpu_data_unregister(s->scratch_h);
    free(s->scratch);
    free(s);
}

static size_t product(const size_t *v, int n)
{
    size_t p = 1;
    for (int d = 0; d < n; d++)
        p *= v[d];
    return p;
}

/* ---- one side of a box task: a rank block (all tiles of a 1-d array) or a vector ---- */

typedef struct side {
    const sl_darray *array; /* or */
    starpu_data_handle_t vector;
} side;

/* The side's handles from h on; returns how many. */
static int add_side(starpu_data_handle_t *h, side sd)
{
    if (!sd.array) {
        h[0] = sd.vector;
        return 1;
    }
    for (size_t t = 0; t < sd.array->ntiles; t++)
        h[t] = sd.array->tiles[t].handle;
    return (int)sd.array->ntiles;
}

/* The region of the extended block a step touches along dim d: rows [row0, row0 + rows)
 * along d, the whole extended range along the dims before d (already filled), the interior
 * along the dims after. */
static void step_box(const halo_state *s, int d, size_t row0, size_t rows, sl_box *b,
                     size_t *count)
{
    b->ndim = s->ndim;
    for (int k = 0; k < s->ndim; k++) {
        b->shape[k] = s->e[k];
        b->start[k] = k < d ? 0 : k == d ? row0 : s->lo[k];
        count[k] = k < d ? s->e[k] : k == d ? rows : s->n[k];
    }
}

/* A slab (a dense array of `count`) as a box. */
static void slab_box(int ndim, const size_t *count, sl_box *b)
{
    b->ndim = ndim;
    memcpy(b->shape, count, (size_t)ndim * sizeof *count);
    memset(b->start, 0, sizeof b->start);
}

static sl_status box_task(const sl_op *op, side dst, enum starpu_data_access_mode dst_mode,
                          side src, enum starpu_data_access_mode src_mode, sl_box_args *a)
{
    const halo_state *s = op->state;
    int nd_dst = dst.array ? (int)dst.array->ntiles : 1;
    int nd_src = src.array ? (int)src.array->ntiles : 1;
    if (nd_dst == 0 || nd_src == 0) /* a rank without elements has nothing to move */
        return SL_OK;
    starpu_data_handle_t *h = malloc((size_t)(nd_dst + nd_src) * sizeof *h);
    if (!h)
        return sl_fail(op->ctx, SL_ERR_NOMEM, "Halo: out of memory");
    a->ndst = add_side(h, dst);
    a->nsrc = add_side(h + a->ndst, src);
    a->dst_vector = !dst.array, a->src_vector = !src.array;
    a->esize = s->esize;
    a->single = s->dtype == SL_F32 || s->dtype == SL_C64;
    int rc = sl_task_box(a, h, dst_mode, h + a->ndst, src_mode);
    free(h);
    if (rc == -ENOMEM)
        return sl_fail(op->ctx, SL_ERR_NOMEM, "Halo: out of memory");
    return rc == 0 ? SL_OK : sl_fail(op->ctx, SL_ERR_STARPU, "starpu_task_insert failed (Halo)");
}

/* ---- forward and adjoint ---- */

/* Copies `rows` rows at row0 along d of the block side into (or, with add, onto) a slab. */
static sl_status slab_io(const sl_op *op, int d, int to_slab, side block,
                         enum starpu_data_access_mode block_mode, starpu_data_handle_t slab,
                         size_t row0, size_t rows, int add, int zero_after)
{
    const halo_state *s = op->state;
    sl_box_args a;
    memset(&a, 0, sizeof a);
    sl_box bb, sb;
    step_box(s, d, row0, rows, &bb, a.count);
    slab_box(s->ndim, a.count, &sb);
    side sl = {NULL, slab};
    if (to_slab) {
        a.db = sb, a.sb = bb, a.zero_src = zero_after;
        return box_task(op, sl, STARPU_W, block, block_mode, &a);
    }
    a.db = bb, a.sb = sb, a.add = add;
    return box_task(op, block, block_mode, sl, STARPU_R, &a);
}

static sl_status exchange(const sl_op *op, int d, int dir)
{
    const halo_state *s = op->state;
    starpu_data_handle_t const *h = s->slab_h[d][dir];
    if (s->prev[d] < 0 && s->next[d] < 0)
        return SL_OK;
    sl_comm_neighbours nb = {s->prev[d], s->next[d], h[SEND_PREV], h[SEND_NEXT], h[RECV_PREV],
                             h[RECV_NEXT]};
    sl_comm_group group = {op->ctx->task_comm};
    return sl_comm_neighbour_exchange(op->ctx->comm, group, &nb, SL_COMM_BYTE);
}

/* y = extended blocks: the block in the interior, zeros beyond the global edges, then the
 * halos dimension by dimension. */
static sl_status halo_forward(const sl_op *op, const sl_darray *x, sl_darray *y)
{
    const halo_state *s = op->state;
    side xs = {x, NULL}, ys = {y, NULL};
    sl_box_args a;
    memset(&a, 0, sizeof a);
    size_t zero[SL_MAX_NDIM] = {0};
    a.db.ndim = a.sb.ndim = s->ndim;
    memcpy(a.db.shape, s->e, sizeof s->e);
    memcpy(a.db.start, s->lo, sizeof s->lo);
    memcpy(a.sb.shape, s->n, sizeof s->n);
    memcpy(a.sb.start, zero, sizeof zero);
    memcpy(a.count, s->n, sizeof s->n);
    a.zero_dst = 1;
    a.nbytes_dst = product(s->e, s->ndim) * s->esize;
    sl_status st = box_task(op, ys, STARPU_W, xs, STARPU_R, &a);
    for (int d = 0; d < s->ndim && st == SL_OK; d++) {
        starpu_data_handle_t const *h = s->slab_h[d][0];
        if (h[SEND_NEXT]) /* my last lo rows: the next rank's front halo */
            st = slab_io(op, d, 1, ys, STARPU_R, h[SEND_NEXT], s->n[d], s->lo[d], 0, 0);
        if (st == SL_OK && h[SEND_PREV]) /* my first hi rows: the previous rank's back halo */
            st = slab_io(op, d, 1, ys, STARPU_R, h[SEND_PREV], s->lo[d], s->hi[d], 0, 0);
        if (st == SL_OK)
            st = exchange(op, d, 0);
        if (st == SL_OK && h[RECV_PREV])
            st = slab_io(op, d, 0, ys, STARPU_RW, h[RECV_PREV], 0, s->lo[d], 0, 0);
        if (st == SL_OK && h[RECV_NEXT])
            st = slab_io(op, d, 0, ys, STARPU_RW, h[RECV_NEXT], s->lo[d] + s->n[d], s->hi[d],
                         0, 0);
    }
    return st;
}

/* x = the interior of the extended blocks after every halo value was added to its owner. */
static sl_status halo_adjoint(const sl_op *op, const sl_darray *y, sl_darray *x)
{
    const halo_state *s = op->state;
    side ys = {y, NULL}, xs = {x, NULL}, ss = {NULL, s->scratch_h};
    sl_box_args a;
    memset(&a, 0, sizeof a);
    a.db.ndim = a.sb.ndim = s->ndim;
    memcpy(a.db.shape, s->e, sizeof s->e);
    memcpy(a.sb.shape, s->e, sizeof s->e);
    memcpy(a.count, s->e, sizeof s->e);
    sl_status st = s->scratch_h ? box_task(op, ss, STARPU_W, ys, STARPU_R, &a) : SL_OK;
    for (int d = s->ndim - 1; d >= 0 && st == SL_OK && s->scratch_h; d--) {
        starpu_data_handle_t const *h = s->slab_h[d][1];
        if (h[SEND_PREV]) /* my front halo goes back to the previous rank */
            st = slab_io(op, d, 1, ss, STARPU_RW, h[SEND_PREV], 0, s->lo[d], 0, 1);
        if (st == SL_OK && h[SEND_NEXT]) /* my back halo to the next rank */
            st = slab_io(op, d, 1, ss, STARPU_RW, h[SEND_NEXT], s->lo[d] + s->n[d], s->hi[d],
                         0, 1);
        if (st == SL_OK)
            st = exchange(op, d, 1);
        if (st == SL_OK && h[RECV_NEXT]) /* the next rank's front halo: my last lo rows */
            st = slab_io(op, d, 0, ss, STARPU_RW, h[RECV_NEXT], s->n[d], s->lo[d], 1, 0);
        if (st == SL_OK && h[RECV_PREV]) /* the previous rank's back halo: my first hi rows */
            st = slab_io(op, d, 0, ss, STARPU_RW, h[RECV_PREV], s->lo[d], s->hi[d], 1, 0);
    }
    if (st != SL_OK || !s->scratch_h)
        return st;
    memset(&a, 0, sizeof a);
    a.db.ndim = a.sb.ndim = s->ndim;
    memcpy(a.db.shape, s->n, sizeof s->n);
    memcpy(a.sb.shape, s->e, sizeof s->e);
    memcpy(a.sb.start, s->lo, sizeof s->lo);
    memcpy(a.count, s->n, sizeof s->n);
    return box_task(op, xs, STARPU_W, ss, STARPU_R, &a);
}

static sl_status halo_apply(const sl_op *op, int adjoint, const sl_darray *in, sl_darray *out)
{
    return adjoint ? halo_adjoint(op, in, out) : halo_forward(op, in, out);
}

static const sl_op_vtable halo_vt = {.name = "Halo", .apply = halo_apply, .destroy = halo_destroy};

/* ---- construction ---- */

/* Block of grid coordinate c along a dim of n samples over g ranks: the arrays' split. */
static void split_of(size_t n, int g, int c, size_t *offset, size_t *size)
{
    sl_split_block(n, (size_t)g, (size_t)c, offset, size);
}

static sl_status check_args(sl_context *ctx, int ndim, const size_t *dims, const int *grid,
                            const size_t *halo)
{
    const char *what = "sl_op_halo";
    if (ndim < 1 || ndim > SL_MAX_NDIM)
        return sl_fail(ctx, SL_ERR_ARG, "%s: ndim %d (1 to %d)", what, ndim, SL_MAX_NDIM);
    long ranks = 1;
    size_t extended = 16; /* bytes of the largest extended block, at the largest dtype */
    for (int d = 0; d < ndim; d++) {
        if (grid[d] < 1)
            return sl_fail(ctx, SL_ERR_ARG, "%s: grid[%d] = %d", what, d, grid[d]);
        if (grid[d] > ctx->size || ranks * grid[d] > ctx->size) /* (no overflow either) */
            return sl_fail(ctx, SL_ERR_ARG, "%s: the grid holds more ranks than the "
                           "context's %d", what, ctx->size);
        ranks *= grid[d];
        size_t side;
        if (__builtin_add_overflow(halo[2 * d], dims[d], &side) ||
            __builtin_add_overflow(side, halo[2 * d + 1], &side) ||
            __builtin_mul_overflow(extended, side, &extended) || extended > UINT32_MAX)
            return sl_fail(ctx, SL_ERR_SHAPE, "%s: halo widths (%zu, %zu) along dim %d make "
                           "the extended blocks too large (StarPU 1.3 buffers hold at most "
                           "4 GiB)", what, halo[2 * d], halo[2 * d + 1], d);
        if ((size_t)grid[d] > dims[d])
            return sl_fail(ctx, SL_ERR_SHAPE, "%s: %d ranks along dim %d of %zu samples leave "
                           "some without any", what, grid[d], d, dims[d]);
        for (int c = 0; c < grid[d]; c++) { /* every block feeds its neighbours' halos */
            size_t off, n;
            split_of(dims[d], grid[d], c, &off, &n);
            if ((c + 1 < grid[d] && n < halo[2 * d]) || (c > 0 && n < halo[2 * d + 1]))
                return sl_fail(ctx, SL_ERR_SHAPE, "%s: along dim %d the block at grid position "
                               "%d has %zu samples, fewer than the halo widths (%zu before, "
                               "%zu after) its neighbours need", what, d, c, n, halo[2 * d],
                               halo[2 * d + 1]);
        }
    }
    if (ranks != ctx->size)
        return sl_fail(ctx, SL_ERR_ARG, "%s: the grid holds %ld ranks, the context %d", what,
                       ranks, ctx->size);
    return SL_OK;
}

static sl_status make_slabs(sl_context *ctx, halo_state *s)
{
    for (int d = 0; d < s->ndim; d++) {
        size_t other = 1; /* elements per row along d of a step's slab */
        for (int k = 0; k < s->ndim; k++)
            other *= k < d ? s->e[k] : k == d ? 1 : s->n[k];
        /* rows: forward sends hi back and lo forward; the adjoint the reverse */
        size_t rows[2][4] = {{s->hi[d], s->lo[d], s->lo[d], s->hi[d]},
                             {s->lo[d], s->hi[d], s->hi[d], s->lo[d]}};
        int has[4] = {s->prev[d] >= 0, s->next[d] >= 0, s->prev[d] >= 0, s->next[d] >= 0};
        for (int dir = 0; dir < 2; dir++)
            for (int i = 0; i < 4; i++) {
                size_t bytes = rows[dir][i] * other * s->esize;
                s->slab_rows[d][dir][i] = rows[dir][i];
                if (!has[i] || bytes == 0)
                    continue;
                if (!(s->slab[d][dir][i] = malloc(bytes)))
                    return sl_fail(ctx, SL_ERR_NOMEM, "sl_op_halo: out of memory");
                starpu_vector_data_register(&s->slab_h[d][dir][i], STARPU_MAIN_RAM,
                                            (uintptr_t)s->slab[d][dir][i], (uint32_t)bytes, 1);
            }
    }
    size_t bytes = product(s->e, s->ndim) * s->esize;
    if (bytes > 0) {
        if (!(s->scratch = malloc(bytes)))
            return sl_fail(ctx, SL_ERR_NOMEM, "sl_op_halo: out of memory");
        starpu_vector_data_register(&s->scratch_h, STARPU_MAIN_RAM, (uintptr_t)s->scratch,
                                    (uint32_t)bytes, 1);
    }
    return SL_OK;
}

/* The model (blocks) and data (extended blocks) as 1-d scattered layouts, every rank's size. */
static sl_status layouts(sl_context *ctx, sl_dtype dtype, int ndim, const size_t *dims,
                         const int *grid, MPI_Comm cart, const size_t *halo, sl_layout *model,
                         sl_layout *data)
{
    size_t *mrows = calloc((size_t)ctx->size, sizeof *mrows);
    size_t *drows = calloc((size_t)ctx->size, sizeof *drows);
    sl_status st = mrows && drows ? SL_OK : sl_fail(ctx, SL_ERR_NOMEM, "sl_op_halo: out of memory");
    for (int r = 0; r < ctx->size && st == SL_OK; r++) {
        int c[SL_MAX_NDIM];
        MPI_Cart_coords(cart, r, ndim, c);
        size_t bm = 1, be = 1;
        for (int d = 0; d < ndim; d++) {
            size_t off, n;
            split_of(dims[d], grid[d], c[d], &off, &n);
            bm *= n;
            be *= halo[2 * d] + n + halo[2 * d + 1]; /* zeros beyond the global edges */
        }
        mrows[r] = bm, drows[r] = be;
    }
    if (st == SL_OK)
        st = sl_layout_rows(ctx, dtype, mrows, model);
    if (st == SL_OK)
        st = sl_layout_rows(ctx, dtype, drows, data);
    free(mrows);
    free(drows);
    return st;
}

static void describe_block(sl_context *ctx, int ndim, const size_t *dims, const int *grid,
                           MPI_Comm cart, const size_t *halo, halo_state *s)
{
    int c[SL_MAX_NDIM];
    MPI_Cart_coords(cart, ctx->rank, ndim, c);
    for (int d = 0; d < ndim; d++) {
        split_of(dims[d], grid[d], c[d], &s->offset[d], &s->n[d]);
        s->lo[d] = halo[2 * d];
        s->hi[d] = halo[2 * d + 1];
        s->e[d] = s->lo[d] + s->n[d] + s->hi[d];
        MPI_Cart_shift(cart, d, 1, &s->prev[d], &s->next[d]);
        s->prev[d] = s->prev[d] == MPI_PROC_NULL ? -1 : s->prev[d];
        s->next[d] = s->next[d] == MPI_PROC_NULL ? -1 : s->next[d];
    }
}

sl_status sl_op_halo(sl_context *ctx, sl_dtype dtype, int ndim, const size_t *dims,
                     const int *grid, const size_t *halo, sl_op **out)
{
    if (!ctx || !dims || !halo || !out)
        return sl_null_error(__func__);
    int g[SL_MAX_NDIM] = {0};
    sl_status local = ndim >= 1 && ndim <= SL_MAX_NDIM
                          ? SL_OK
                          : sl_fail(ctx, SL_ERR_ARG, "sl_op_halo: ndim %d (1 to %d)", ndim,
                                    SL_MAX_NDIM);
    if (local == SL_OK && sl_dtype_size(dtype) == 0)
        local = sl_fail(ctx, SL_ERR_DTYPE, "sl_op_halo: invalid dtype %d", (int)dtype);
    if (local == SL_OK) {
        if (grid)
            memcpy(g, grid, (size_t)ndim * sizeof *g);
        else
            MPI_Dims_create(ctx->size, ndim, g);
        local = check_args(ctx, ndim, dims, g, halo);
    }
    /* one agreement on everything the layouts depend on */
    int64_t v[1 + 4 * SL_MAX_NDIM] = {ndim};
    for (int d = 0; local == SL_OK && d < ndim; d++) {
        v[1 + 4 * d] = (int64_t)dims[d], v[2 + 4 * d] = g[d];
        v[3 + 4 * d] = (int64_t)halo[2 * d], v[4 + 4 * d] = (int64_t)halo[2 * d + 1];
    }
    sl_status st = sl_agree(ctx, v, 1 + 4 * SL_MAX_NDIM, local == SL_OK, "sl_op_halo");
    if (local != SL_OK || st != SL_OK)
        return local != SL_OK ? local : st;
    /* MPI's Cartesian topology over the context's ranks, in their order (no reordering: the
     * arrays' blocks are laid out by rank): coordinates and neighbours */
    int periodic[SL_MAX_NDIM] = {0};
    MPI_Comm cart;
    if (MPI_Cart_create(ctx->host_comm, ndim, g, periodic, 0, &cart) != MPI_SUCCESS)
        return sl_fail(ctx, SL_ERR_MPI, "sl_op_halo: MPI_Cart_create failed");
    halo_state *s = calloc(1, sizeof *s);
    if (!s) {
        MPI_Comm_free(&cart);
        return sl_fail(ctx, SL_ERR_NOMEM, "sl_op_halo: out of memory");
    }
    s->ndim = ndim;
    s->dtype = dtype;
    s->esize = sl_dtype_size(dtype);
    describe_block(ctx, ndim, dims, g, cart, halo, s);
    sl_layout lm = {0}, ld = {0};
    st = make_slabs(ctx, s);
    if (st == SL_OK)
        st = layouts(ctx, dtype, ndim, dims, g, cart, halo, &lm, &ld);
    MPI_Comm_free(&cart);
    if (st == SL_OK) st = sl_op_new(ctx, &halo_vt, &lm, &ld, s, out);
    if (st != SL_OK)
        halo_destroy(&(sl_op){.state = s});
    sl_layout_free(&lm);
    sl_layout_free(&ld);
    return st;
}

sl_status sl_op_halo_block(const sl_op *op, size_t *offset, size_t *size, size_t *extended)
{
    if (!op || !offset || !size || !extended)
        return sl_null_error(__func__);
    if (op->vt != &halo_vt)
        return sl_fail(op->ctx, SL_ERR_ARG, "sl_op_halo_block: %s is not a Halo operator",
                       op->vt->name);
    const halo_state *s = op->state;
    for (int d = 0; d < s->ndim; d++) {
        offset[d] = s->offset[d];
        size[d] = s->n[d];
        extended[d] = s->e[d];
    }
    return SL_OK;
}
