/* Ghost cells along the distributed axis (PyLops-MPI add_ghost_cells): boundary rows travel
 * through the communication layer's neighbour-exchange task; the host packs and unpacks. */
#include <stdlib.h>
#include <string.h>

#include "darray/darray_internal.h"

typedef struct ghost_buffers {
    void *mem[4]; /* send_prev, send_next, recv_prev, recv_next */
    starpu_data_handle_t h[4];
} ghost_buffers;

static sl_status check_widths(const sl_darray *x, size_t front, size_t back, size_t need,
                              void *out, size_t capacity)
{
    sl_context *ctx = x->ctx;
    if (x->layout.partition != SL_SCATTER)
        return sl_fail(ctx, SL_ERR_PARTITION, "sl_darray_add_ghost_cells: the array is "
                       "replicated (broadcast); ghost cells need a scattered array");
    /* Every rank checks every sender, so all ranks reach the same verdict. */
    for (int r = 0; r < ctx->size; r++) {
        if (r + 1 < ctx->size && front > x->layout.local_sizes[r])
            return sl_fail(ctx, SL_ERR_SHAPE, "sl_darray_add_ghost_cells: front=%zu rows but "
                           "rank %d holds only %zu", front, r, x->layout.local_sizes[r]);
        if (r > 0 && back > x->layout.local_sizes[r])
            return sl_fail(ctx, SL_ERR_SHAPE, "sl_darray_add_ghost_cells: back=%zu rows but "
                           "rank %d holds only %zu", back, r, x->layout.local_sizes[r]);
    }
    if (need > 0 && !out)
        return sl_fail(ctx, SL_ERR_NULL, "sl_darray_add_ghost_cells: out is NULL");
    if (capacity < need)
        return sl_fail(ctx, SL_ERR_ARG, "sl_darray_add_ghost_cells: out holds %zu elements, "
                       "%zu needed on rank %d", capacity, need, ctx->rank);
    return SL_OK;
}

/* Rows [row0, row0 + rows) of the block, packed as (outer x rows x inner). */
static void pack(const sl_darray *x, void *dst, size_t row0, size_t rows)
{
    sl_copy_rows(dst, rows, 0, x->data, x->local_rows, row0, rows, x->outer, x->inner,
                 x->elem_size);
}

/* A packed (outer x rows x inner) slab into rows [row0, row0 + rows) of `out`. */
static void unpack(const sl_darray *x, void *out, size_t out_rows, size_t row0,
                   const void *src, size_t rows)
{
    sl_copy_rows(out, out_rows, row0, src, rows, 0, rows, x->outer, x->inner, x->elem_size);
}

static sl_status exchange(const sl_darray *x, size_t front, size_t back, ghost_buffers *g)
{
    sl_context *ctx = x->ctx;
    int has_prev = ctx->rank > 0, has_next = ctx->rank + 1 < ctx->size;
    /* send_prev carries my first `back` rows (the previous rank's back ghosts), send_next my
     * last `front` rows (the next rank's front ghosts). */
    size_t rows[4] = {has_prev ? back : 0, has_next ? front : 0, has_prev ? front : 0,
                      has_next ? back : 0};
    size_t row_bytes = x->outer * x->inner * x->elem_size;
    for (int i = 0; i < 4; i++) {
        if (rows[i] == 0)
            continue;
        g->mem[i] = malloc(rows[i] * row_bytes);
        if (!g->mem[i])
            return sl_fail(ctx, SL_ERR_NOMEM, "sl_darray_add_ghost_cells: out of memory");
        starpu_vector_data_register(&g->h[i], STARPU_MAIN_RAM, (uintptr_t)g->mem[i],
                                    (uint32_t)(rows[i] * row_bytes), 1);
    }
    if (g->mem[0])
        pack(x, g->mem[0], 0, back);
    if (g->mem[1])
        pack(x, g->mem[1], x->local_rows - front, front);
    sl_comm_neighbours nb = {has_prev ? ctx->rank - 1 : -1, has_next ? ctx->rank + 1 : -1,
                             g->h[0], g->h[1], g->h[2], g->h[3]};
    sl_comm_group group = {ctx->task_comm};
    sl_status st = sl_comm_neighbour_exchange(ctx->comm, group, &nb, SL_COMM_BYTE);
    for (int i = 2; i < 4 && st == SL_OK; i++)
        if (g->h[i] && starpu_data_acquire(g->h[i], STARPU_R) == 0)
            starpu_data_release(g->h[i]);
    return st;
}

sl_status sl_darray_add_ghost_cells(const sl_darray *x, size_t front, size_t back, void *out,
                                    size_t capacity)
{
    if (!x)
        return sl_null_error(__func__);
    if (sl_darray_is_stack(x))
        return sl_darray_need_plain(x, __func__);
    sl_context *ctx = x->ctx;
    size_t f = ctx->rank > 0 ? front : 0, b = ctx->rank + 1 < ctx->size ? back : 0;
    size_t out_rows = f + x->local_rows + b;
    sl_status local = check_widths(x, front, back, x->outer * out_rows * x->inner, out,
                                   capacity);
    int64_t widths[2] = {(int64_t)front, (int64_t)back};
    sl_status agreed = sl_agree(ctx, widths, 2, local == SL_OK, "sl_darray_add_ghost_cells");
    if (local != SL_OK)
        return local;
    if (agreed != SL_OK)
        return agreed;

    ghost_buffers g;
    memset(&g, 0, sizeof g);
    sl_status st = sl_darray_acquire_tiles(x, STARPU_R);
    if (st != SL_OK)
        return st;
    st = exchange(x, front, back, &g);
    if (st == SL_OK) {
        unpack(x, out, out_rows, f, x->data, x->local_rows);
        if (g.mem[2])
            unpack(x, out, out_rows, 0, g.mem[2], f);
        if (g.mem[3])
            unpack(x, out, out_rows, f + x->local_rows, g.mem[3], b);
    }
    sl_darray_release_tiles(x);
    for (int i = 0; i < 4; i++) {
        if (g.h[i])
            starpu_data_unregister(g.h[i]);
        free(g.mem[i]);
    }
    return st;
}
