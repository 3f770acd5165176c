/* The stencil task on a device: one thread per output point (grid-stride over the tile), each
 * summing its terms' taps through stencil_point.h, the code the host test checks against the
 * CPU codelet. The interior coefficients of every term (what nearly every point reads) are
 * copied once per block into shared memory; the few boundary rows read theirs from the table
 * in device memory. */
#include "cuda/stencil_cuda.h"

namespace {

__device__ __forceinline__ float point(const sl_point_task *p, const double *const *interior,
                                       size_t o, size_t r, size_t j, float)
{
    return sl_stencil_point_f32(p, interior, o, r, j);
}

__device__ __forceinline__ double point(const sl_point_task *p, const double *const *interior,
                                        size_t o, size_t r, size_t j, double)
{
    return sl_stencil_point_f64(p, interior, o, r, j);
}

template <typename T>
__global__ void stencil_kernel(const __grid_constant__ sl_point_task p)
{
    __shared__ double coefs[SL_STENCIL_MAX_TERMS][SL_STENCIL_MAX_TAPS];
    const double *interior[SL_STENCIL_MAX_TERMS];
    for (int t = 0; t < p.nterms; t++) {
        const sl_stencil *st = p.terms[t].st;
        for (int i = threadIdx.x; i <= st->hi - st->lo; i += blockDim.x)
            coefs[t][i] = st->interior[i];
        interior[t] = coefs[t];
    }
    __syncthreads();
    const size_t total = p.outer * p.rows * p.row_len;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (size_t)blockDim.x * gridDim.x) {
        size_t o, r, j, at = sl_point_locate(&p, i, &o, &r, &j);
        ((T *)p.out)[at] = point(&p, interior, o, r, j, T());
    }
}

} // namespace

extern "C" cudaError_t sl_cuda_stencil(const sl_point_task *p, cudaStream_t stream)
{
    size_t total = p->outer * p->rows * p->row_len;
    if (total == 0)
        return cudaSuccess;
    const unsigned threads = 256;
    size_t b = (total + threads - 1) / threads;
    unsigned blocks = (unsigned)(b > 65536 ? 65536 : b);
    if (p->single)
        stencil_kernel<float><<<blocks, threads, 0, stream>>>(*p);
    else
        stencil_kernel<double><<<blocks, threads, 0, stream>>>(*p);
    return cudaGetLastError();
}
