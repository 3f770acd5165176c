/* Codelets of the 1D MatrixMult (matrixmult.c). Its adjoint also uses tile.h's vec_zero,
 * slice_copy and vector sums. */
#ifndef STARLOPS_CL_MATRIXMULT_H
#define STARLOPS_CL_MATRIXMULT_H

#include "codelet_common.h"
#include "cpu/kernels.h"

typedef struct sl_mm_args {
    sl_dtype dtype;
    size_t k, nrhs; /* nrhs >= 1 */
} sl_mm_args;

/* Y_t (W) = A_t (R) X, X being every tile of the replicated model (R), in order. */
int sl_task_mm_forward(const sl_mm_args *args, starpu_data_handle_t y, starpu_data_handle_t a,
                       const starpu_data_handle_t *x, int nx);
/* acc (REDUX, a K x nrhs vector) += A_t (R)^H Y_t (R). */
int sl_task_mm_adjoint(const sl_mm_args *args, starpu_data_handle_t acc, starpu_data_handle_t a,
                       starpu_data_handle_t y);

#endif
