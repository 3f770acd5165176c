/* Codelets of the 1D MatrixMult: forward products per data tile and partial adjoint products
 * accumulated in STARPU_REDUX mode (the copies of the combined result into model tiles are
 * tile.c's slice_copy), with their insert helpers. The CUDA functions make the same cuBLAS
 * calls on the worker's handle and stream (codelets/cuda/blas_cuda.c). */
#include "matrixmult.h"
#ifdef STARLOPS_USE_CUDA
#include "cuda/blas_cuda.h"
#include "cuda/cuda_scratch.h"
#endif

/* Y_t = A_t X: buffers Y_t (W), A_t (R), then every tile of X (R) in order. */
static void mm_forward_cpu(void *buffers[], void *cl_arg)
{
    sl_mm_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    size_t es = sl_dtype_size(a.dtype), m = a.nrhs, k = a.k;
    void *y = (void *)STARPU_MATRIX_GET_PTR(buffers[0]);
    size_t rows = STARPU_MATRIX_GET_NX(buffers[0]) / m;
    const char *at = (const char *)STARPU_MATRIX_GET_PTR(buffers[1]);
    int nx_tiles = STARPU_TASK_GET_NBUFFERS(starpu_task_get_current()) - 2;
    size_t col0 = 0;
    for (int j = 0; j < nx_tiles; j++) {
        void *xb = buffers[2 + j];
        size_t cols = STARPU_MATRIX_GET_NX(xb) / m;
        sl_kernel_gemm(a.dtype, 0, rows, m, cols, at + col0 * es, k,
                       (const void *)STARPU_MATRIX_GET_PTR(xb), m, j > 0, y, m);
        col0 += cols;
    }
}

/* acc (K x nrhs) += A_t^H Y_t: buffers acc (REDUX), A_t (R), Y_t (R). */
static void mm_adjoint_cpu(void *buffers[], void *cl_arg)
{
    sl_mm_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    size_t m = a.nrhs;
    size_t rows = STARPU_MATRIX_GET_NX(buffers[2]) / m;
    sl_kernel_gemm(a.dtype, 1, a.k, m, rows, (const void *)STARPU_MATRIX_GET_PTR(buffers[1]),
                   a.k, (const void *)STARPU_MATRIX_GET_PTR(buffers[2]), m, 1,
                   (void *)STARPU_VECTOR_GET_PTR(buffers[0]), m);
}

#ifdef STARLOPS_USE_CUDA
static void mm_forward_cuda(void *buffers[], void *cl_arg)
{
    sl_mm_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    size_t es = sl_dtype_size(a.dtype), m = a.nrhs, k = a.k;
    void *y = (void *)STARPU_MATRIX_GET_PTR(buffers[0]);
    size_t rows = STARPU_MATRIX_GET_NX(buffers[0]) / m;
    const char *at = (const char *)STARPU_MATRIX_GET_PTR(buffers[1]);
    int nx_tiles = STARPU_TASK_GET_NBUFFERS(starpu_task_get_current()) - 2;
    size_t col0 = 0;
    for (int j = 0; j < nx_tiles; j++) {
        void *xb = buffers[2 + j];
        size_t cols = STARPU_MATRIX_GET_NX(xb) / m;
        SL_CUBLAS_CHECK(sl_cuda_gemm(a.dtype, 0, rows, m, cols, at + col0 * es, k,
                                     (const void *)STARPU_MATRIX_GET_PTR(xb), m, j > 0, y, m));
        col0 += cols;
    }
}

static void mm_adjoint_cuda(void *buffers[], void *cl_arg)
{
    sl_mm_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    size_t m = a.nrhs;
    size_t rows = STARPU_MATRIX_GET_NX(buffers[2]) / m;
    SL_CUBLAS_CHECK(sl_cuda_gemm(a.dtype, 1, a.k, m, rows,
                                 (const void *)STARPU_MATRIX_GET_PTR(buffers[1]), a.k,
                                 (const void *)STARPU_MATRIX_GET_PTR(buffers[2]), m, 1,
                                 (void *)STARPU_VECTOR_GET_PTR(buffers[0]), m));
}
#endif

static struct starpu_perfmodel model_fwd = {.type = STARPU_HISTORY_BASED, .symbol = "sl_mm_fwd"};
static struct starpu_perfmodel model_adj = {.type = STARPU_HISTORY_BASED, .symbol = "sl_mm_adj"};

static struct starpu_codelet mm_forward_cl = {
    .cpu_funcs = {mm_forward_cpu}, SL_CUDA_FUNCS(mm_forward_cuda)
    .nbuffers = STARPU_VARIABLE_NBUFFERS, .model = &model_fwd, .name = "matrixmult_fwd"};
static struct starpu_codelet mm_adjoint_cl = {
    .cpu_funcs = {mm_adjoint_cpu}, SL_CUDA_FUNCS(mm_adjoint_cuda) .nbuffers = 3,
    .modes = {STARPU_REDUX, STARPU_R, STARPU_R}, .model = &model_adj, .name = "matrixmult_adj"};

int sl_task_mm_forward(const sl_mm_args *args, starpu_data_handle_t y, starpu_data_handle_t a,
                       const starpu_data_handle_t *x, int nx)
{
    sl_task_buffers tb;
    if (sl_task_buffers_init(&tb, 2 + nx) != 0)
        return -ENOMEM;
    sl_task_buffers_add(&tb, y, STARPU_W);
    sl_task_buffers_add(&tb, a, STARPU_R);
    sl_task_buffers_add_all(&tb, x, nx, STARPU_R);
    int ret = starpu_task_insert(&mm_forward_cl, STARPU_VALUE, args, sizeof *args,
                                 STARPU_DATA_MODE_ARRAY, tb.d, tb.n, 0);
    sl_task_buffers_free(&tb);
    return ret;
}

int sl_task_mm_adjoint(const sl_mm_args *args, starpu_data_handle_t acc, starpu_data_handle_t a,
                       starpu_data_handle_t y)
{
    struct starpu_data_descr d[3] = {{acc, STARPU_REDUX}, {a, STARPU_R}, {y, STARPU_R}};
    return starpu_task_insert(&mm_adjoint_cl, STARPU_VALUE, args, sizeof *args,
                              STARPU_DATA_MODE_ARRAY, d, 3, 0);
}
