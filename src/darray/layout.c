/* How a global array is split across ranks and a rank's block into tiles. */
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
