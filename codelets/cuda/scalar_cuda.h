/* Launchers of the scalar-future kernels (scalar.cu), called by scalar.c's CUDA functions. A
 * scalar is two doubles (re, im) in device memory. These are single-thread kernels: they exist
 * so that a solver's chain dot -> ratio -> axpby stays on the device, instead of moving 16
 * bytes to the host and back (and waiting for them) at every step. */
#ifndef STARLOPS_SCALAR_CUDA_H
#define STARLOPS_SCALAR_CUDA_H

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

cudaError_t sl_cuda_scalar_set(double *s, double re, double im, cudaStream_t stream);

/* out := combination of parts[0..n) (how and p as sl_combine_args). */
#define SL_CUDA_COMBINE_MAX_PARTS 16
cudaError_t sl_cuda_scalar_combine(double *out, const double *const *parts, int n, int how,
                                   double p, cudaStream_t stream);

/* out = num / (den1 + w den2) with scalar_ratio_cpu's guard rules; den2 and guard may be NULL. */
cudaError_t sl_cuda_scalar_ratio(double *out, const double *num, const double *den1,
                                 const double *den2, double w, double *guard, double completed,
                                 cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
