/* Dense products on one tile through cuBLAS (blas_cuda.c): the device twin of cpu/kernels.h's
 * sl_kernel_gemm, used by the MatrixMult and SUMMA codelets' CUDA functions. */
#ifndef STARLOPS_BLAS_CUDA_H
#define STARLOPS_BLAS_CUDA_H

#include <cublas_v2.h>
#include <stddef.h>

#include <starlops/dtype.h>

/* C (m x n, row-major, ldc) = op(A) B + (beta_one ? C : 0), op(A) = A (m x k) or, with
 * adjoint_a, A^H where A is k x m; B is k x n (ldb). All pointers are device memory; runs on
 * the calling CUDA worker's cuBLAS handle, hence on its stream (asynchronously). n == 1 uses
 * gemv where cuBLAS has the operation. Returns cuBLAS's status. */
cublasStatus_t sl_cuda_gemm(sl_dtype dtype, int adjoint_a, size_t m, size_t n, size_t k,
                            const void *a, size_t lda, const void *b, size_t ldb, int beta_one,
                            void *c, size_t ldc);

/* `batch` independent products C_i = op(A_i) B_i (beta 0), the i-th operands being stride_a,
 * stride_b and stride_c elements after the (i-1)-th: one cublas<t>gemmStridedBatched call
 * (sl_cuda_gemm when batch == 1). Same layout rules as sl_cuda_gemm; k == 0 zeroes the C_i. */
cublasStatus_t sl_cuda_gemm_strided(sl_dtype dtype, int adjoint_a, size_t m, size_t n, size_t k,
                                    const void *a, size_t lda, size_t stride_a, const void *b,
                                    size_t ldb, size_t stride_b, void *c, size_t ldc,
                                    size_t stride_c, size_t batch);

#endif
