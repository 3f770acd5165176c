/* Launcher of the stencil kernel (stencil.cu), called by stencil.c's CUDA function. */
#ifndef STARLOPS_STENCIL_CUDA_H
#define STARLOPS_STENCIL_CUDA_H

#include <cuda_runtime_api.h>

#include "stencil_point.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every output point of the task `p` (device pointers, each buffer's own strides: see
 * sl_stencil_point_task_of), one thread per point; queued on `stream`, the launch status. */
cudaError_t sl_cuda_stencil(const sl_point_task *p, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
