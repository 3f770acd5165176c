/* The halo box copy on the device: one thread per element of the box (grid-stride), each
 * running box_point.h's sl_box_point, the code tests/test_box_point.c runs on the host. */
#include "cuda/box_cuda.h"

/* The launch travels as one __grid_constant__ parameter: read in place by every thread (no
 * per-thread copy of the tile tables), and within the 4 KiB every architecture accepts. */
static_assert(sizeof(sl_box_launch) <= 4096, "sl_box_launch exceeds 4 KiB of kernel parameters");

namespace {

__global__ void box_kernel(const __grid_constant__ sl_box_launch p)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < p.total;
         i += (size_t)blockDim.x * gridDim.x)
        sl_box_point(&p, i);
}

} // namespace

extern "C" cudaError_t sl_cuda_box(const sl_box_launch *p, cudaStream_t stream)
{
    if (p->total == 0)
        return cudaSuccess;
    const unsigned threads = 256;
    size_t b = (p->total + threads - 1) / threads;
    unsigned blocks = (unsigned)(b > 4096 ? 4096 : b);
    box_kernel<<<blocks, threads, 0, stream>>>(*p);
    return cudaGetLastError();
}
