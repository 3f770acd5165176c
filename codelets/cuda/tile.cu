/* Tile and vector sums on the device (tile_add and the vectors' REDUX method). */
#include "cuda/tile_cuda.h"

namespace {

template <typename T>
__global__ void add_kernel(T *dst, const T *src, size_t n)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)blockDim.x * gridDim.x)
        dst[i] += src[i];
}

} // namespace

extern "C" cudaError_t sl_cuda_add_reals(int single, void *dst, const void *src, size_t n,
                                         cudaStream_t stream)
{
    if (n == 0)
        return cudaSuccess;
    const unsigned threads = 256;
    size_t b = (n + threads - 1) / threads;
    unsigned blocks = (unsigned)(b > 4096 ? 4096 : b);
    if (single)
        add_kernel<float><<<blocks, threads, 0, stream>>>((float *)dst, (const float *)src, n);
    else
        add_kernel<double><<<blocks, threads, 0, stream>>>((double *)dst, (const double *)src, n);
    return cudaGetLastError();
}
