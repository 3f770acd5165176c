/* Launcher of the tile-sum kernel (tile.cu), called by tile.c's CUDA functions. */
#ifndef STARLOPS_TILE_CUDA_H
#define STARLOPS_TILE_CUDA_H

#include <cuda_runtime_api.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* dst[i] += src[i] for n reals: floats when single, else doubles (a complex array adds as
 * twice as many reals). */
cudaError_t sl_cuda_add_reals(int single, void *dst, const void *src, size_t n,
                              cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
