/* Launchers of the reduction kernels (reduce.cu), called by reduce.c's CUDA functions. Every
 * accumulator is device memory holding doubles, as on the CPU. */
#ifndef STARLOPS_REDUCE_CUDA_H
#define STARLOPS_REDUCE_CUDA_H

#include <cuda_runtime_api.h>

#include "cpu/kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One tile's partial of `kind` folded into acc (re, im), as sl_kernel_reduce: partial sums in
 * double for every dtype. Two passes, per-block partials in `scratch` (the worker's, room for
 * SL_CUDA_MAX_BLOCKS blocks) then one block in a fixed order: the result does not depend on
 * timing, only on the tile's shape. b is NULL when absent. */
typedef struct sl_cuda_red {
    sl_reduce_kind kind;
    sl_dtype dtype;
    size_t nx, ny;
    const void *a, *b;
    size_t ld_a, ld_b;
    double p;
} sl_cuda_red;
cudaError_t sl_cuda_reduce(const sl_cuda_red *r, double *acc, double *scratch,
                           cudaStream_t stream);

/* A reduction along an axis, as sl_kernel_reduce_axis: element (row, i) of the tile is flat
 * element tile_offset + row * block_ld + i of the rank's block (block_ld: the block's row
 * stride, not the tile copy's). Sums use atomic adds (their order, hence the last bits, may
 * vary between runs); max/min are exact. */
cudaError_t sl_cuda_reduce_axis(sl_reduce_kind kind, sl_dtype dtype, size_t nx, size_t ny,
                                const void *a, size_t ld_a, double p,
                                const sl_axis_geometry *g, size_t block_ld, double *acc,
                                cudaStream_t stream);

/* Accumulators: acc[0..n) = v; dst = dst (+, max, min) src (how: 0, 1, 2 as sl_acc_combine);
 * the last step of a norm (root_p: v^(1/p), else sqrt; scalar: only v[0], and v[1] = 0). */
cudaError_t sl_cuda_acc_fill(double *acc, size_t n, double v, cudaStream_t stream);
cudaError_t sl_cuda_acc_combine(double *dst, const double *src, size_t n, int how,
                                cudaStream_t stream);
cudaError_t sl_cuda_acc_finish(double *v, size_t n, int scalar, int root_p, double p,
                               cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
