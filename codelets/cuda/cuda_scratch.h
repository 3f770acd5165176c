/* Shared by the CUDA codelets (C and CUDA sources): the calling CUDA worker's reduction
 * scratch, and how a CUDA function reports a failed launch. */
#ifndef STARLOPS_CUDA_SCRATCH_H
#define STARLOPS_CUDA_SCRATCH_H

#ifdef __cplusplus
extern "C" {
#endif

/* Per-block partials of a two-pass reduction (reduce.cu): room for SL_CUDA_MAX_BLOCKS blocks of
 * (re, im). Allocated once per CUDA worker by sl_cuda_start, so a reduction task neither
 * allocates (cudaMalloc synchronises the device) nor shares it with another stream. */
#define SL_CUDA_MAX_BLOCKS 1024
#define SL_CUDA_SCRATCH_DOUBLES (2 * SL_CUDA_MAX_BLOCKS)
double *sl_cuda_scratch(void);

#ifdef __cplusplus
}
#endif

/* A launch that failed leaves the worker's stream (and usually the context) unusable, and the
 * task has no way to hand a status back: report where, as StarPU's own CUDA code does, and
 * abort (STARPU_CUDA_REPORT_ERROR). */
#define SL_CUDA_CHECK(call)                      \
    do {                                         \
        cudaError_t sl_cuda_err_ = (call);       \
        if (sl_cuda_err_ != cudaSuccess)         \
            STARPU_CUDA_REPORT_ERROR(sl_cuda_err_); \
    } while (0)

#endif
