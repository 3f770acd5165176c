/* Generic codelets on whole tiles and vectors: zeroing, sums (tile adds and the vector REDUX
 * methods), and copies of a tile out of a vector holding its whole block; with their insert
 * helpers. Each has a CUDA function: copies and zeroing are cudaMemcpy/cudaMemset calls on
 * the worker's stream, sums a kernel (codelets/cuda/tile.cu). */
#include <string.h>

#include "tile.h"
#ifdef STARLOPS_USE_CUDA
#include "cuda/cuda_scratch.h"
#include "cuda/tile_cuda.h"
#endif

/* Elements of a matrix tile whose rows are contiguous (ld == nx, or a single row). */
static size_t tile_elems(void *m)
{
    return (size_t)STARPU_MATRIX_GET_NX(m) * STARPU_MATRIX_GET_NY(m);
}

/* ---- matrix tiles with contiguous rows ---- */

static void tile_add_cpu(void *buffers[], void *cl_arg)
{
    sl_dtype dtype;
    starpu_codelet_unpack_args(cl_arg, &dtype);
    size_t reals = tile_elems(buffers[0]) * (sl_dtype_is_complex(dtype) ? 2 : 1);
    if (dtype == SL_F32 || dtype == SL_C64) {
        float *d = (float *)STARPU_MATRIX_GET_PTR(buffers[0]);
        const float *s = (const float *)STARPU_MATRIX_GET_PTR(buffers[1]);
        for (size_t i = 0; i < reals; i++)
            d[i] += s[i];
    } else {
        double *d = (double *)STARPU_MATRIX_GET_PTR(buffers[0]);
        const double *s = (const double *)STARPU_MATRIX_GET_PTR(buffers[1]);
        for (size_t i = 0; i < reals; i++)
            d[i] += s[i];
    }
}

static void tile_zero_cpu(void *buffers[], void *cl_arg)
{
    (void)cl_arg;
    memset((void *)STARPU_MATRIX_GET_PTR(buffers[0]), 0,
           tile_elems(buffers[0]) * STARPU_MATRIX_GET_ELEMSIZE(buffers[0]));
}

#ifdef STARLOPS_USE_CUDA
static void tile_add_cuda(void *buffers[], void *cl_arg)
{
    sl_dtype dtype;
    starpu_codelet_unpack_args(cl_arg, &dtype);
    size_t reals = tile_elems(buffers[0]) * (sl_dtype_is_complex(dtype) ? 2 : 1);
    SL_CUDA_CHECK(sl_cuda_add_reals(dtype == SL_F32 || dtype == SL_C64,
                                    (void *)STARPU_MATRIX_GET_PTR(buffers[0]),
                                    (const void *)STARPU_MATRIX_GET_PTR(buffers[1]), reals,
                                    starpu_cuda_get_local_stream()));
}

static void tile_zero_cuda(void *buffers[], void *cl_arg)
{
    (void)cl_arg;
    SL_CUDA_CHECK(cudaMemsetAsync((void *)STARPU_MATRIX_GET_PTR(buffers[0]), 0,
                                  tile_elems(buffers[0]) * STARPU_MATRIX_GET_ELEMSIZE(buffers[0]),
                                  starpu_cuda_get_local_stream()));
}
#endif

SL_HISTORY_MODEL(add_model, "tile_add");
SL_HISTORY_MODEL(zero_model, "tile_zero");
static struct starpu_codelet tile_add_cl = {
    .cpu_funcs = {tile_add_cpu}, SL_CUDA_FUNCS(tile_add_cuda) .nbuffers = 2,
    .modes = {STARPU_RW, STARPU_R}, .model = &add_model, .name = "tile_add"};
static struct starpu_codelet tile_zero_cl = {
    .cpu_funcs = {tile_zero_cpu}, SL_CUDA_FUNCS(tile_zero_cuda) .nbuffers = 1,
    .modes = {STARPU_W}, .model = &zero_model, .name = "tile_zero"};

int sl_task_tile_add(sl_dtype dtype, starpu_data_handle_t dst, starpu_data_handle_t src)
{
    return starpu_task_insert(&tile_add_cl, STARPU_VALUE, &dtype, sizeof dtype, STARPU_RW, dst,
                              STARPU_R, src, 0);
}

int sl_task_tile_zero(starpu_data_handle_t dst)
{
    return starpu_task_insert(&tile_zero_cl, STARPU_W, dst, 0);
}

/* ---- vectors ---- */

/* A tile (W) of a block := the same elements of a copy of the whole block (R): the tile
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

#ifdef STARLOPS_USE_CUDA
/* On a device the tile's copy is packed (its ld is nx), while the block keeps main memory's
 * layout: the block's row stride is its size over the tile's rows (the tile has one row per
 * row of the block, the dimensions before the distributed axis). */
static void slice_copy_cuda(void *buffers[], void *cl_arg)
{
    size_t offset;
    starpu_codelet_unpack_args(cl_arg, &offset);
    void *x = buffers[0];
    size_t es = STARPU_MATRIX_GET_ELEMSIZE(x), nx = STARPU_MATRIX_GET_NX(x);
    size_t ny = STARPU_MATRIX_GET_NY(x), ld = STARPU_MATRIX_GET_LD(x);
    size_t block_ld = ny > 1 ? STARPU_VECTOR_GET_NX(buffers[1]) / ny : nx;
    const char *src = (const char *)STARPU_VECTOR_GET_PTR(buffers[1]) + offset * es;
    SL_CUDA_CHECK(cudaMemcpy2DAsync((void *)STARPU_MATRIX_GET_PTR(x), ld * es, src,
                                    block_ld * es, nx * es, ny, cudaMemcpyDeviceToDevice,
                                    starpu_cuda_get_local_stream()));
}

static void vec_zero_cuda(void *buffers[], void *arg)
{
    (void)arg;
    SL_CUDA_CHECK(cudaMemsetAsync((void *)STARPU_VECTOR_GET_PTR(buffers[0]), 0,
                                  STARPU_VECTOR_GET_NX(buffers[0]) *
                                      STARPU_VECTOR_GET_ELEMSIZE(buffers[0]),
                                  starpu_cuda_get_local_stream()));
}

#define VEC_ADD_CUDA(NAME, SINGLE, T)                                                     \
    static void NAME(void *buffers[], void *arg)                                          \
    {                                                                                     \
        (void)arg;                                                                        \
        size_t n = STARPU_VECTOR_GET_NX(buffers[0]) * STARPU_VECTOR_GET_ELEMSIZE(buffers[0]) \
                   / sizeof(T);                                                           \
        SL_CUDA_CHECK(sl_cuda_add_reals(SINGLE, (void *)STARPU_VECTOR_GET_PTR(buffers[0]),  \
                                        (const void *)STARPU_VECTOR_GET_PTR(buffers[1]), n, \
                                        starpu_cuda_get_local_stream()));                 \
    }
VEC_ADD_CUDA(vec_add_float_cuda, 1, float)
VEC_ADD_CUDA(vec_add_double_cuda, 0, double)
#endif

SL_HISTORY_MODEL(model_slice, "slice_copy");
SL_HISTORY_MODEL(model_zero, "vec_zero");
SL_HISTORY_MODEL(model_init, "vec_init");
SL_HISTORY_MODEL(model_redux_f, "vec_redux_float");
SL_HISTORY_MODEL(model_redux_d, "vec_redux_double");
static struct starpu_codelet slice_copy_cl = {
    .cpu_funcs = {slice_copy_cpu}, SL_CUDA_FUNCS(slice_copy_cuda) .nbuffers = 2,
    .modes = {STARPU_W, STARPU_R}, .model = &model_slice, .name = "slice_copy"};
static struct starpu_codelet vec_zero_cl = {
    .cpu_funcs = {vec_zero_cpu}, SL_CUDA_FUNCS(vec_zero_cuda) .nbuffers = 1,
    .modes = {STARPU_W}, .model = &model_zero, .name = "vec_zero"};
static struct starpu_codelet vec_init_cl = {
    .cpu_funcs = {vec_zero_cpu}, SL_CUDA_FUNCS(vec_zero_cuda) .nbuffers = 1,
    .modes = {STARPU_W}, .model = &model_init, .name = "vec_init"};
static struct starpu_codelet vec_redux_float_cl = {
    .cpu_funcs = {vec_add_float_cpu}, SL_CUDA_FUNCS(vec_add_float_cuda) .nbuffers = 2,
    .modes = {STARPU_RW, STARPU_R}, .model = &model_redux_f, .name = "vec_redux"};
static struct starpu_codelet vec_redux_double_cl = {
    .cpu_funcs = {vec_add_double_cpu}, SL_CUDA_FUNCS(vec_add_double_cuda) .nbuffers = 2,
    .modes = {STARPU_RW, STARPU_R}, .model = &model_redux_d, .name = "vec_redux"};

int sl_task_vec_zero(starpu_data_handle_t v)
{
    return starpu_task_insert(&vec_zero_cl, STARPU_W, v, 0);
}

int sl_task_slice_copy(size_t offset, starpu_data_handle_t tile, starpu_data_handle_t block)
{
    return starpu_task_insert(&slice_copy_cl, STARPU_VALUE, &offset, sizeof offset, STARPU_W,
                              tile, STARPU_R, block, 0);
}

void sl_vec_set_sum_reduction(starpu_data_handle_t v, sl_dtype dtype)
{
    int single = dtype == SL_F32 || dtype == SL_C64;
    starpu_data_set_reduction_methods(v, single ? &vec_redux_float_cl : &vec_redux_double_cl,
                                      &vec_init_cl);
}
