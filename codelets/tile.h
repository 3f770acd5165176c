/* Generic codelets on whole tiles and vectors (tile.c): zeroing, sums, and copies of a tile
 * out of a vector holding its whole block; used by several operators. */
#ifndef STARLOPS_CL_TILE_H
#define STARLOPS_CL_TILE_H

#include "codelet_common.h"
#include "cpu/kernels.h"

/* dst (RW) += src (R): matrix tiles of the same shape with contiguous rows. */
int sl_task_tile_add(sl_dtype dtype, starpu_data_handle_t dst, starpu_data_handle_t src);
/* dst (W) = 0: a matrix tile with contiguous rows. */
int sl_task_tile_zero(starpu_data_handle_t dst);

/* v (W) = 0: a vector. */
int sl_task_vec_zero(starpu_data_handle_t v);
/* tile (W, matrix) := its elements of block (R, a vector holding the tile's whole block): the
 * tile starts at element `offset` of the block, its rows are ld elements apart in both. */
int sl_task_slice_copy(size_t offset, starpu_data_handle_t tile, starpu_data_handle_t block);

/* Installs elementwise-sum REDUX methods on a vector of `dtype` elements. */
void sl_vec_set_sum_reduction(starpu_data_handle_t v, sl_dtype dtype);

#endif
