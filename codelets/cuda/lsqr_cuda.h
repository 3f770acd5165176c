/* Launchers of LSQR's recurrence kernels (lsqr.cu), called by lsqr.c's CUDA functions. All
 * pointers are device memory: the state vector, and scalars as (re, im) pairs. */
#ifndef STARLOPS_LSQR_CUDA_H
#define STARLOPS_LSQR_CUDA_H

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

/* sl_lsqr_norm_stage on the device, n2 read from a scalar. */
cudaError_t sl_cuda_lsqr_norm_stage(double *state, int which, int initial, const double *n2,
                                    double *value, double *inverse, cudaStream_t stream);
/* sl_lsqr_rotate on the device, ww and bnorm read from scalars. */
cudaError_t sl_cuda_lsqr_rotate(double *state, const double *ww, const double *bnorm,
                                double *t1, double *t2, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
