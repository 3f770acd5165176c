/* Copies and sums of N-d boxes between C-order arrays (the halo operator's packing): a box is
 * a start and a count per dimension inside an array of a given shape. Plain CPU code. */
#ifndef STARLOPS_BOX_KERNELS_H
#define STARLOPS_BOX_KERNELS_H

#include <stddef.h>

#define SL_BOX_MAX_NDIM 8

typedef struct sl_box {
    int ndim;
    size_t shape[SL_BOX_MAX_NDIM]; /* of the array the box lies in */
    size_t start[SL_BOX_MAX_NDIM];
} sl_box;

/* dst box (=, or += when add) src box, both `count` elements per dimension; elements of
 * `esize` bytes, summed as `reals` floats (single) or doubles per element when add. */
void sl_kernel_box(void *dst, const sl_box *db, const void *src, const sl_box *sb,
                   const size_t *count, size_t esize, int add, int single);
/* Zeroes a box. */
void sl_kernel_box_zero(void *dst, const sl_box *db, const size_t *count, size_t esize);

#endif
