/* Launcher of the halo box kernel (box.cu), called by box.c's CUDA function through
 * box_point.h's sl_box_run. */
#ifndef STARLOPS_BOX_CUDA_H
#define STARLOPS_BOX_CUDA_H

#include <cuda_runtime_api.h>

#include "box_point.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Queues one launch (every element i < p->total, box_point.h's sl_box_point) on `stream`; the
 * launch status. The tiles' pointers are device memory. */
cudaError_t sl_cuda_box(const sl_box_launch *p, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
