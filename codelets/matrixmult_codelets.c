/* Codelets of the 1D MatrixMult: forward products per data tile, partial adjoint products
 * accumulated in STARPU_REDUX mode, and copies of the combined result into model tiles. */
#include <string.h>

#include "codelets.h"

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

/* A tile (W) of a block := the same elements of a copy of the whole block (acc, R): the tile
 * starts at element `offset` of the block and its rows are ld elements apart in both. */
static void slice_copy_cpu(void *buffers[], void *cl_arg)
{
    size_t offset;
    starpu_codelet_unpack_args(cl_arg, &offset);
    void *x = buffers[0];
    size_t es = STARPU_MATRIX_GET_ELEMSIZE(x), nx = STARPU_MATRIX_GET_NX(x);
    size_t ld = STARPU_MATRIX_GET_LD(x);
    const char *src = (const char *)STARPU_VECTOR_GET_PTR(buffers[1]);
    for (size_t r = 0; r < STARPU_MATRIX_GET_NY(x); r++)
        memcpy((char *)STARPU_MATRIX_GET_PTR(x) + r * ld * es, src + (offset + r * ld) * es,
               nx * es);
}

static void vec_zero_cpu(void *buffers[], void *arg)
{
    (void)arg;
    memset((void *)STARPU_VECTOR_GET_PTR(buffers[0]), 0,
           STARPU_VECTOR_GET_NX(buffers[0]) * STARPU_VECTOR_GET_ELEMSIZE(buffers[0]));
}

/* Reduction of dtype vectors: a complex vector adds as twice as many reals. */
#define VEC_ADD(NAME, T)                                                              \
    static void NAME(void *buffers[], void *arg)                                      \
    {                                                                                 \
        (void)arg;                                                                    \
        T *dst = (T *)STARPU_VECTOR_GET_PTR(buffers[0]);                              \
        const T *src = (const T *)STARPU_VECTOR_GET_PTR(buffers[1]);                  \
        size_t n = STARPU_VECTOR_GET_NX(buffers[0]) * STARPU_VECTOR_GET_ELEMSIZE(buffers[0]) \
                   / sizeof(T);                                                       \
        for (size_t i = 0; i < n; i++)                                                \
            dst[i] += src[i];                                                         \
    }
VEC_ADD(vec_add_float_cpu, float)
VEC_ADD(vec_add_double_cpu, double)

static struct starpu_perfmodel model_fwd = {.type = STARPU_HISTORY_BASED, .symbol = "sl_mm_fwd"};
static struct starpu_perfmodel model_adj = {.type = STARPU_HISTORY_BASED, .symbol = "sl_mm_adj"};

struct starpu_codelet sl_cl_mm_forward = {
    .cpu_funcs = {mm_forward_cpu}, .nbuffers = STARPU_VARIABLE_NBUFFERS, .model = &model_fwd,
    .name = "matrixmult_fwd"};
struct starpu_codelet sl_cl_mm_adjoint = {
    .cpu_funcs = {mm_adjoint_cpu}, .nbuffers = 3, .modes = {STARPU_REDUX, STARPU_R, STARPU_R},
    .model = &model_adj, .name = "matrixmult_adj"};
SL_HISTORY_MODEL(model_slice, "slice_copy");
SL_HISTORY_MODEL(model_zero, "vec_zero");
SL_HISTORY_MODEL(model_init, "vec_init");
SL_HISTORY_MODEL(model_redux_f, "vec_redux_float");
SL_HISTORY_MODEL(model_redux_d, "vec_redux_double");
struct starpu_codelet sl_cl_slice_copy = {
    .cpu_funcs = {slice_copy_cpu}, .nbuffers = 2, .modes = {STARPU_W, STARPU_R},
    .model = &model_slice, .name = "slice_copy"};
struct starpu_codelet sl_cl_vec_zero = {
    .cpu_funcs = {vec_zero_cpu}, .nbuffers = 1, .modes = {STARPU_W}, .model = &model_zero,
    .name = "vec_zero"};
static struct starpu_codelet vec_init_cl = {
    .cpu_funcs = {vec_zero_cpu}, .nbuffers = 1, .modes = {STARPU_W}, .model = &model_init,
    .name = "vec_init"};
static struct starpu_codelet vec_redux_float_cl = {
    .cpu_funcs = {vec_add_float_cpu}, .nbuffers = 2, .modes = {STARPU_RW, STARPU_R},
    .model = &model_redux_f, .name = "vec_redux"};
static struct starpu_codelet vec_redux_double_cl = {
    .cpu_funcs = {vec_add_double_cpu}, .nbuffers = 2, .modes = {STARPU_RW, STARPU_R},
    .model = &model_redux_d, .name = "vec_redux"};

void sl_vec_set_sum_reduction(starpu_data_handle_t v, sl_dtype dtype)
{
    int single = dtype == SL_F32 || dtype == SL_C64;
    starpu_data_set_reduction_methods(v, single ? &vec_redux_float_cl : &vec_redux_double_cl,
                                      &vec_init_cl);
}
