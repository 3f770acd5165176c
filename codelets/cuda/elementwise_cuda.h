/* Launcher of the elementwise kernel (elementwise.cu), called by elementwise.c's CUDA function. */
#ifndef STARLOPS_ELEMENTWISE_CUDA_H
#define STARLOPS_ELEMENTWISE_CUDA_H

#include <cuda_runtime_api.h>

#include "cpu/kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One tile of `op` (cpu/kernels.h's sl_ew_op) on device memory. Each operand has its own row
 * stride: StarPU packs a tile's copy on a device (ld == nx) whatever the stride in main memory.
 * alpha/beta are the host coefficients; alpha_dev/beta_dev, when not NULL, the scalar futures
 * (re, im in device memory) that multiply them, read by the kernel itself so the host never
 * waits for them. A future that is exactly zero drops its term, as on the CPU. */
typedef struct sl_cuda_ew {
    sl_ew_op op;
    sl_dtype dtype;
    size_t nx, ny;
    void *out;
    size_t ld_out;
    const void *a, *b; /* NULL when absent */
    size_t ld_a, ld_b;
    double alpha[2], beta[2];
    const double *alpha_dev, *beta_dev;
} sl_cuda_ew;

/* Queues the kernel on `stream`; the launch status. */
cudaError_t sl_cuda_elementwise(const sl_cuda_ew *p, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
