/* How a global array is split across ranks and a rank's block into tiles, and the layout
 * descriptor (darray_internal.h) arrays and operators share. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "darray/darray_internal.h"

/* PyLops-MPI's split (local_split): the first n % parts blocks get one more. */
void sl_split_block(size_t n, size_t parts, size_t i, size_t *offset, size_t *size)
{
    size_t base = n / parts, extra = n % parts;
    *offset = i * base + (i < extra ? i : extra);
    *size = base + (i < extra ? 1 : 0);
}

void sl_split_balanced(size_t n, int nranks, size_t *sizes)
{
    size_t offset;
    for (int r = 0; r < nranks; r++)
        sl_split_block(n, (size_t)nranks, (size_t)r, &offset, &sizes[r]);
}

size_t sl_tile_count(size_t rows, size_t row_elems, size_t tile_elems)
{
    if (rows == 0)
        return 0;
    size_t rows_per_tile = row_elems >= tile_elems ? 1 : tile_elems / row_elems;
    return (rows + rows_per_tile - 1) / rows_per_tile;
}

/* Tiles get balanced row counts (differing by at most one) rather than a short last tile. */
void sl_tile_range(size_t rows, size_t ntiles, size_t t, size_t *row0, size_t *nrows)
{
    sl_split_block(rows, ntiles, t, row0, nrows);
}

void sl_copy_rows(void *dst, size_t dst_rows, size_t dst_row0, const void *src, size_t src_rows,
                  size_t src_row0, size_t rows, size_t outer, size_t inner, size_t esize)
{
    size_t run = rows * inner * esize;
    for (size_t o = 0; o < outer && run > 0; o++)
        memcpy((char *)dst + ((o * dst_rows + dst_row0) * inner) * esize,
               (const char *)src + ((o * src_rows + src_row0) * inner) * esize, run);
}

sl_status sl_darray_acquire_tiles(const sl_darray *x, enum starpu_data_access_mode mode)
{
    for (size_t t = 0; t < x->ntiles; t++)
        if (starpu_data_acquire(x->tiles[t].handle, mode) != 0) {
            while (t-- > 0)
                starpu_data_release(x->tiles[t].handle);
            return sl_fail(x->ctx, SL_ERR_STARPU, "starpu_data_acquire failed on a tile");
        }
    return SL_OK;
}

void sl_darray_release_tiles(const sl_darray *x)
{
    for (size_t t = 0; t < x->ntiles; t++)
        starpu_data_release(x->tiles[t].handle);
}

sl_status sl_layout_clone(const sl_layout *src, int nranks, sl_layout *dst)
{
    *dst = *src;
    dst->local_sizes = malloc((size_t)nranks * sizeof(size_t));
    dst->mask = src->mask ? malloc((size_t)nranks * sizeof(int)) : NULL;
    if (!dst->local_sizes || (src->mask && !dst->mask)) {
        sl_layout_free(dst);
        return SL_ERR_NOMEM;
    }
    memcpy(dst->local_sizes, src->local_sizes, (size_t)nranks * sizeof(size_t));
    if (src->mask)
        memcpy(dst->mask, src->mask, (size_t)nranks * sizeof(int));
    return SL_OK;
}

sl_status sl_layout_from_darray(const sl_darray *x, sl_layout *l)
{
    memset(l, 0, sizeof *l);
    if (sl_darray_is_stack(x))
        return sl_darray_need_plain(x, "the operator's `like` array");
    return sl_layout_clone(&x->layout, x->ctx->size, l);
}

sl_status sl_layout_rows(const sl_context *ctx, sl_dtype dtype, const size_t *rows, sl_layout *l)
{
    size_t n = (size_t)ctx->size;
    memset(l, 0, sizeof *l);
    for (size_t r = 0; r < n; r++) /* the same rows everywhere: the same verdict everywhere */
        if (rows[r] > UINT32_MAX)
            return sl_fail(ctx, SL_ERR_SHAPE, "rank %zu's block would hold %zu elements, above "
                           "StarPU 1.3's 2^32-1 per tile row stride; use more ranks", r, rows[r]);
    l->dtype = dtype;
    l->ndim = 1;
    l->partition = SL_SCATTER;
    l->local_sizes = malloc(n * sizeof(size_t));
    if (!l->local_sizes)
        return sl_fail(ctx, SL_ERR_NOMEM, "out of memory for a layout");
    memcpy(l->local_sizes, rows, n * sizeof(size_t));
    for (size_t r = 0; r < n; r++)
        l->shape[0] += rows[r];
    return SL_OK;
}

void sl_layout_free(sl_layout *l)
{
    free(l->local_sizes);
    free(l->mask);
    l->local_sizes = NULL;
    l->mask = NULL;
}

size_t sl_layout_local_count(const sl_layout *l, int rank)
{
    size_t n = l->local_sizes[rank];
    for (int d = 0; d < l->ndim; d++)
        n *= d == l->axis ? 1 : l->shape[d];
    return n;
}

size_t sl_layout_count(const sl_layout *l)
{
    size_t n = 1;
    for (int d = 0; d < l->ndim; d++)
        n *= l->shape[d];
    return n;
}

int sl_layout_equal(const sl_layout *a, const sl_layout *b, int nranks)
{
    if (a->dtype != b->dtype || a->ndim != b->ndim || a->partition != b->partition ||
        a->axis != b->axis || memcmp(a->shape, b->shape, (size_t)a->ndim * sizeof(size_t)) ||
        memcmp(a->local_sizes, b->local_sizes, (size_t)nranks * sizeof(size_t)))
        return 0;
    if ((a->mask == NULL) != (b->mask == NULL))
        return 0;
    return !a->mask || !memcmp(a->mask, b->mask, (size_t)nranks * sizeof(int));
}

sl_layout sl_layout_view(const sl_darray *x)
{
    return x->layout;
}

sl_status sl_layout_compare(sl_context *ctx, const sl_layout *want, const sl_layout *got,
                            const char *what)
{
    size_t nwant = sl_layout_count(want), ngot = sl_layout_count(got);
    if (got->dtype != want->dtype)
        return sl_fail(ctx, SL_ERR_DTYPE, "%s: dtypes differ (%s vs %s expected)", what,
                       sl_dtype_name(got->dtype), sl_dtype_name(want->dtype));
    if (got->ndim != want->ndim ||
        memcmp(got->shape, want->shape, (size_t)want->ndim * sizeof(size_t)))
        return sl_fail(ctx, SL_ERR_SHAPE, "%s: global shapes differ (%zu elements in %d dims vs "
                       "%zu in %d dims expected)", what, ngot, got->ndim, nwant, want->ndim);
    if (got->partition != want->partition)
        return sl_fail(ctx, SL_ERR_PARTITION, "%s: partitions differ (%d vs %d expected)", what,
                       (int)got->partition, (int)want->partition);
    if (got->axis != want->axis ||
        memcmp(got->local_sizes, want->local_sizes, (size_t)ctx->size * sizeof(size_t)))
        return sl_fail(ctx, SL_ERR_SHAPE, "%s: splits differ (rank %d holds %zu rows along axis "
                       "%d vs %zu along axis %d expected)", what, ctx->rank,
                       got->local_sizes[ctx->rank], got->axis, want->local_sizes[ctx->rank],
                       want->axis);
    if ((got->mask == NULL) != (want->mask == NULL) ||
        (got->mask && memcmp(got->mask, want->mask, (size_t)ctx->size * sizeof(int))))
        return sl_fail(ctx, SL_ERR_MASK, "%s: masks differ", what);
    return SL_OK;
}

sl_status sl_layout_check(sl_context *ctx, const sl_layout *l, const sl_darray *x,
                          const char *what)
{
    if (x->ctx != ctx)
        return sl_fail(ctx, SL_ERR_ARG, "%s: array of another context", what);
    sl_layout got = sl_layout_view(x);
    return sl_layout_compare(ctx, l, &got, what);
}
