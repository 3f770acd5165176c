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

/* A CUDA call that failed inside a task: the task has no status to hand back, so the failure
 * is counted (with the first one's error and place) and reported by the next host
 * synchronisation, as every failure inside a task is (sl_wait, sl_scalar_get, the end of a
 * solve): never an abort in the library. The task's outputs are not to be trusted. */
#ifdef __cplusplus
extern "C" {
#endif
void sl_cuda_note_failure(int error, const char *file, int line);
/* The same for a cuBLAS call (its status, named by cublasGetStatusString): counted with the
 * CUDA failures, never an abort (StarPU's STARPU_CUBLAS_REPORT_ERROR aborts). */
void sl_cuda_note_cublas_failure(int status, const char *file, int line);
#ifdef __cplusplus
}
#endif
#define SL_CUDA_CHECK(call)                                              \
    do {                                                                 \
        cudaError_t sl_cuda_err_ = (call);                               \
        if (sl_cuda_err_ != cudaSuccess)                                 \
            sl_cuda_note_failure((int)sl_cuda_err_, __FILE__, __LINE__); \
    } while (0)
/* A cuBLAS call (cublasStatus_t; 0 is CUBLAS_STATUS_SUCCESS), counted likewise. */
#define SL_CUBLAS_CHECK(call)                                                   \
    do {                                                                        \
        int sl_cublas_st_ = (int)(call);                                        \
        if (sl_cublas_st_ != 0)                                                 \
            sl_cuda_note_cublas_failure(sl_cublas_st_, __FILE__, __LINE__);     \
    } while (0)

#endif
