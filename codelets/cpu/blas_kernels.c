/* Dense products on one tile through OpenBLAS (CBLAS), for the four dtypes.
 * C (m x n, row-major) = op(A) B + beta C with op(A) = A or A^H, alpha = 1. n == 1 uses gemv. */
#include <cblas.h>
#include <complex.h>

#include "cpu/kernels.h"

void sl_kernel_gemm(sl_dtype dtype, int adjoint_a, size_t m, size_t n, size_t k, const void *a,
                    size_t lda, const void *b, size_t ldb, int beta_one, void *c, size_t ldc)
{
    const enum CBLAS_ORDER row = CblasRowMajor;
    const enum CBLAS_TRANSPOSE ta =
        adjoint_a ? (sl_dtype_is_complex(dtype) ? CblasConjTrans : CblasTrans) : CblasNoTrans;
    /* op(A) is m x k: A itself is k x m when adjoint. gemv takes A's own dimensions. */
    const int am = (int)(adjoint_a ? k : m), an = (int)(adjoint_a ? m : k);
    const float f1 = 1.0f, fb = beta_one ? 1.0f : 0.0f;
    const double d1 = 1.0, db = beta_one ? 1.0 : 0.0;
    const float _Complex c1 = 1.0f, cb = beta_one ? 1.0f : 0.0f;
    const double _Complex z1 = 1.0, zb = beta_one ? 1.0 : 0.0;
    if (n == 1) {
        switch (dtype) {
        case SL_F32: cblas_sgemv(row, ta, am, an, f1, a, (int)lda, b, (int)ldb, fb, c, (int)ldc); break;
        case SL_F64: cblas_dgemv(row, ta, am, an, d1, a, (int)lda, b, (int)ldb, db, c, (int)ldc); break;
        case SL_C64: cblas_cgemv(row, ta, am, an, &c1, a, (int)lda, b, (int)ldb, &cb, c, (int)ldc); break;
        case SL_C128: cblas_zgemv(row, ta, am, an, &z1, a, (int)lda, b, (int)ldb, &zb, c, (int)ldc); break;
        }
        return;
    }
    const int M = (int)m, N = (int)n, K = (int)k;
    switch (dtype) {
    case SL_F32: cblas_sgemm(row, ta, CblasNoTrans, M, N, K, f1, a, (int)lda, b, (int)ldb, fb, c, (int)ldc); break;
    case SL_F64: cblas_dgemm(row, ta, CblasNoTrans, M, N, K, d1, a, (int)lda, b, (int)ldb, db, c, (int)ldc); break;
    case SL_C64: cblas_cgemm(row, ta, CblasNoTrans, M, N, K, &c1, a, (int)lda, b, (int)ldb, &cb, c, (int)ldc); break;
    case SL_C128: cblas_zgemm(row, ta, CblasNoTrans, M, N, K, &z1, a, (int)lda, b, (int)ldb, &zb, c, (int)ldc); break;
    }
}

void sl_blas_single_threaded(void)
{
    /* StarPU owns the cores: one BLAS thread per worker, never a pool per call. */
    openblas_set_num_threads(1);
}
