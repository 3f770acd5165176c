/* Dense tile products through cuBLAS, on the calling CUDA worker's handle (StarPU binds it to
 * the worker's stream: starpu_cublas_init at context start). cuBLAS is column-major and the
 * tiles are row-major: a row-major X is the column-major X^T, so C = op(A) B is computed as
 * C^T = B^T op(A)^T, i.e. gemm(N, op, n, m, k, B, A). */
#include <cuda_runtime_api.h>
#include <starpu.h>
#include <starpu_cublas_v2.h>

#include "cuda/blas_cuda.h"

/* k == 0: op(A) B is the empty sum, so C = (beta_one ? C : 0); cuBLAS would reject the
 * zero leading dimensions such a tile has. */
static cublasStatus_t empty_product(sl_dtype dtype, size_t m, size_t n, int beta_one, void *c,
                                    size_t ldc)
{
    if (beta_one || m == 0 || n == 0)
        return CUBLAS_STATUS_SUCCESS;
    size_t es = sl_dtype_size(dtype);
    cudaError_t e = cudaMemset2DAsync(c, ldc * es, 0, n * es, m, starpu_cuda_get_local_stream());
    return e == cudaSuccess ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_EXECUTION_FAILED;
}

/* y = op(A) x as gemv on the stored (column-major) A^T: y = A x is (A^T)^T x, and for real
 * types y = A^T x (adjoint of a k x m A) is the stored matrix times x. A complex adjoint would
 * need conj(stored) x, which gemv has no operation for: the caller uses gemm then. */
static cublasStatus_t gemv(cublasHandle_t h, sl_dtype dtype, int adjoint_a, int m, int k,
                           const void *a, int lda, const void *x, int incx, int beta_one, void *y,
                           int incy)
{
    const cublasOperation_t op = adjoint_a ? CUBLAS_OP_N : CUBLAS_OP_T;
    /* The stored matrix: k x m (A is m x k) for the product, m x k (A is k x m) for the adjoint. */
    const int rows = adjoint_a ? m : k, cols = adjoint_a ? k : m;
    const float f1 = 1.0f, fb = beta_one ? 1.0f : 0.0f;
    const double d1 = 1.0, db = beta_one ? 1.0 : 0.0;
    const cuComplex c1 = {1.0f, 0.0f}, cb = {beta_one ? 1.0f : 0.0f, 0.0f};
    const cuDoubleComplex z1 = {1.0, 0.0}, zb = {beta_one ? 1.0 : 0.0, 0.0};
    switch (dtype) {
    case SL_F32: return cublasSgemv(h, op, rows, cols, &f1, a, lda, x, incx, &fb, y, incy);
    case SL_F64: return cublasDgemv(h, op, rows, cols, &d1, a, lda, x, incx, &db, y, incy);
    case SL_C64: return cublasCgemv(h, op, rows, cols, &c1, a, lda, x, incx, &cb, y, incy);
    default: return cublasZgemv(h, op, rows, cols, &z1, a, lda, x, incx, &zb, y, incy);
    }
}

cublasStatus_t sl_cuda_gemm(sl_dtype dtype, int adjoint_a, size_t m, size_t n, size_t k,
                            const void *a, size_t lda, const void *b, size_t ldb, int beta_one,
                            void *c, size_t ldc)
{
    if (m == 0 || n == 0 || k == 0)
        return empty_product(dtype, m, n, beta_one, c, ldc);
    cublasHandle_t h = starpu_cublas_get_local_handle();
    const int complex_adjoint = adjoint_a && sl_dtype_is_complex(dtype);
    if (n == 1 && !complex_adjoint)
        return gemv(h, dtype, adjoint_a, (int)m, (int)k, a, (int)lda, b, (int)ldb, beta_one, c,
                    (int)ldc);
    /* C^T (n x m) = B^T (n x k) op(A)^T (k x m); op(A)^T is the stored m x k matrix as is
     * (op(A) = A), or its transpose / conjugate transpose (op(A) = A^H). */
    const cublasOperation_t opa =
        adjoint_a ? (sl_dtype_is_complex(dtype) ? CUBLAS_OP_C : CUBLAS_OP_T) : CUBLAS_OP_N;
    const int M = (int)n, N = (int)m, K = (int)k;
    const int LB = (int)ldb, LA = (int)lda, LC = (int)ldc;
    const float f1 = 1.0f, fb = beta_one ? 1.0f : 0.0f;
    const double d1 = 1.0, db = beta_one ? 1.0 : 0.0;
    const cuComplex c1 = {1.0f, 0.0f}, cb = {beta_one ? 1.0f : 0.0f, 0.0f};
    const cuDoubleComplex z1 = {1.0, 0.0}, zb = {beta_one ? 1.0 : 0.0, 0.0};
    switch (dtype) {
    case SL_F32:
        return cublasSgemm(h, CUBLAS_OP_N, opa, M, N, K, &f1, b, LB, a, LA, &fb, c, LC);
    case SL_F64:
        return cublasDgemm(h, CUBLAS_OP_N, opa, M, N, K, &d1, b, LB, a, LA, &db, c, LC);
    case SL_C64:
        return cublasCgemm(h, CUBLAS_OP_N, opa, M, N, K, &c1, b, LB, a, LA, &cb, c, LC);
    default:
        return cublasZgemm(h, CUBLAS_OP_N, opa, M, N, K, &z1, b, LB, a, LA, &zb, c, LC);
    }
}

/* k == 0 for a batch: each C_i (m rows of n, ldc apart) = 0. */
static cublasStatus_t empty_batch(sl_dtype dtype, size_t m, size_t n, void *c, size_t ldc,
                                  size_t stride_c, size_t batch)
{
    size_t es = sl_dtype_size(dtype);
    for (size_t i = 0; i < batch; i++) {
        cublasStatus_t st = empty_product(dtype, m, n, 0, (char *)c + i * stride_c * es, ldc);
        if (st != CUBLAS_STATUS_SUCCESS)
            return st;
    }
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t sl_cuda_gemm_strided(sl_dtype dtype, int adjoint_a, size_t m, size_t n, size_t k,
                                    const void *a, size_t lda, size_t stride_a, const void *b,
                                    size_t ldb, size_t stride_b, void *c, size_t ldc,
                                    size_t stride_c, size_t batch)
{
    if (batch == 1)
        return sl_cuda_gemm(dtype, adjoint_a, m, n, k, a, lda, b, ldb, 0, c, ldc);
    if (batch == 0 || m == 0 || n == 0)
        return CUBLAS_STATUS_SUCCESS;
    if (k == 0)
        return empty_batch(dtype, m, n, c, ldc, stride_c, batch);
    cublasHandle_t h = starpu_cublas_get_local_handle();
    /* as in sl_cuda_gemm: C_i^T (n x m) = B_i^T (n x k) op(A_i)^T (k x m) */
    const cublasOperation_t opa =
        adjoint_a ? (sl_dtype_is_complex(dtype) ? CUBLAS_OP_C : CUBLAS_OP_T) : CUBLAS_OP_N;
    const int M = (int)n, N = (int)m, K = (int)k, NB = (int)batch;
    const int LB = (int)ldb, LA = (int)lda, LC = (int)ldc;
    const long long SA = (long long)stride_a, SB = (long long)stride_b, SC = (long long)stride_c;
    const float f1 = 1.0f, f0 = 0.0f;
    const double d1 = 1.0, d0 = 0.0;
    const cuComplex c1 = {1.0f, 0.0f}, c0 = {0.0f, 0.0f};
    const cuDoubleComplex z1 = {1.0, 0.0}, z0 = {0.0, 0.0};
    switch (dtype) {
    case SL_F32:
        return cublasSgemmStridedBatched(h, CUBLAS_OP_N, opa, M, N, K, &f1, b, LB, SB, a, LA, SA,
                                         &f0, c, LC, SC, NB);
    case SL_F64:
        return cublasDgemmStridedBatched(h, CUBLAS_OP_N, opa, M, N, K, &d1, b, LB, SB, a, LA, SA,
                                         &d0, c, LC, SC, NB);
    case SL_C64:
        return cublasCgemmStridedBatched(h, CUBLAS_OP_N, opa, M, N, K, &c1, b, LB, SB, a, LA, SA,
                                         &c0, c, LC, SC, NB);
    default:
        return cublasZgemmStridedBatched(h, CUBLAS_OP_N, opa, M, N, K, &z1, b, LB, SB, a, LA, SA,
                                         &z0, c, LC, SC, NB);
    }
}
