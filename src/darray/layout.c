/* How a global array is split across ranks and a rank's block into tiles. */
#include "darray/darray_internal.h"

void sl_split_balanced(size_t n, int nranks, size_t *sizes)
{
    size_t base = n / (size_t)nranks, extra = n % (size_t)nranks;
    for (int r = 0; r < nranks; r++)
        sizes[r] = base + ((size_t)r < extra ? 1 : 0);
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
    size_t base = rows / ntiles, extra = rows % ntiles;
    *row0 = t * base + (t < extra ? t : extra);
    *nrows = base + (t < extra ? 1 : 0);
}
