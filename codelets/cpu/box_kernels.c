/* See box_kernels.h. The last dimension is contiguous: each box row is one memcpy or one
 * summing loop; the other dimensions are walked with an odometer. */
#include <string.h>

#include "cpu/box_kernels.h"

/* Offset (elements) of the box's first element plus index `idx` (all dims but the last). */
static size_t offset_of(const sl_box *b, const size_t *idx)
{
    size_t off = 0;
    for (int d = 0; d < b->ndim; d++)
        off = off * b->shape[d] + b->start[d] + (d < b->ndim - 1 ? idx[d] : 0);
    return off;
}

/* Advances the odometer over dims [0, ndim - 1); returns 0 when done. */
static int next(size_t *idx, const size_t *count, int ndim)
{
    for (int d = ndim - 2; d >= 0; d--) {
        if (++idx[d] < count[d])
            return 1;
        idx[d] = 0;
    }
    return 0;
}

static int empty(const size_t *count, int ndim)
{
    for (int d = 0; d < ndim; d++)
        if (count[d] == 0)
            return 1;
    return 0;
}

void sl_kernel_box(void *dst, const sl_box *db, const void *src, const sl_box *sb,
                   const size_t *count, size_t esize, int add, int single)
{
    int nd = db->ndim;
    if (empty(count, nd))
        return;
    size_t idx[SL_BOX_MAX_NDIM] = {0}, row = count[nd - 1];
    do {
        char *d = (char *)dst + offset_of(db, idx) * esize;
        const char *s = (const char *)src + offset_of(sb, idx) * esize;
        if (!add) {
            memcpy(d, s, row * esize);
        } else if (single) {
            size_t n = row * esize / sizeof(float);
            for (size_t i = 0; i < n; i++)
                ((float *)d)[i] += ((const float *)s)[i];
        } else {
            size_t n = row * esize / sizeof(double);
            for (size_t i = 0; i < n; i++)
                ((double *)d)[i] += ((const double *)s)[i];
        }
    } while (nd > 1 && next(idx, count, nd));
}

void sl_kernel_box_zero(void *dst, const sl_box *db, const size_t *count, size_t esize)
{
    int nd = db->ndim;
    if (empty(count, nd))
        return;
    size_t idx[SL_BOX_MAX_NDIM] = {0};
    do
        memset((char *)dst + offset_of(db, idx) * esize, 0, count[nd - 1] * esize);
    while (nd > 1 && next(idx, count, nd));
}
