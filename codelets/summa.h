/* Codelets of the 2D (SUMMA) MatrixMult (summa.c). Tiles are StarPU matrices with contiguous
 * rows (ld == nx). Its partial sums also use tile.h's tile_add and tile_zero. */
#ifndef STARLOPS_CL_SUMMA_H
#define STARLOPS_CL_SUMMA_H

#include "codelet_common.h"
#include "cpu/kernels.h"

/* C (RW) = op(A) B (+ C when beta_one), A and B (R); one codelet per dtype so traces name the
 * precision (summa_gemm_s/d/c/z). */
typedef struct sl_summa_gemm_args {
    sl_dtype dtype;
    int adjoint_a, beta_one;
} sl_summa_gemm_args;
int sl_task_summa_gemm(sl_summa_gemm_args args, starpu_data_handle_t c, starpu_data_handle_t a,
                       starpu_data_handle_t b);

/* Copy of a range of a rank's packed block: dst (W) holds elements [dst0, dst0 + its size) of
 * the block, the nsrc tiles of src (R) are consecutive pieces of the block starting at src0.
 * Returns -ENOMEM when the helper cannot allocate. */
int sl_task_summa_copy(size_t dst0, size_t src0, starpu_data_handle_t dst,
                       const starpu_data_handle_t *src, int nsrc);

#endif
