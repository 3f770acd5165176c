/* LSQR's recurrences as one-thread kernels: the code is lsqr_recurrence.h's, shared with the
 * CPU codelets, so both kinds of worker compute the same values. */
#include "cuda/lsqr_cuda.h"
#include "lsqr_recurrence.h"

namespace {

__global__ void norm_stage_kernel(double *state, int which, int initial, const double *n2,
                                  double *value, double *inverse)
{
    sl_lsqr_norm_stage(state, which, initial, n2[0], value, inverse);
}

__global__ void rotate_kernel(double *state, const double *ww, const double *bnorm, double *t1,
                              double *t2)
{
    sl_lsqr_rotate(state, ww[0], bnorm[0], t1, t2);
}

} // namespace

extern "C" cudaError_t sl_cuda_lsqr_norm_stage(double *state, int which, int initial,
                                               const double *n2, double *value,
                                               double *inverse, cudaStream_t stream)
{
    norm_stage_kernel<<<1, 1, 0, stream>>>(state, which, initial, n2, value, inverse);
    return cudaGetLastError();
}

extern "C" cudaError_t sl_cuda_lsqr_rotate(double *state, const double *ww, const double *bnorm,
                                           double *t1, double *t2, cudaStream_t stream)
{
    rotate_kernel<<<1, 1, 0, stream>>>(state, ww, bnorm, t1, t2);
    return cudaGetLastError();
}
