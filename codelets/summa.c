/* Codelets of the 2D (SUMMA) MatrixMult: tile products and copies between a rank's packed
 * block and its tiles (the sums of partial adjoint products are tile.c's tile_add), with their
 * insert helpers. On a CUDA worker the products are cuBLAS calls (codelets/cuda/blas_cuda.c)
 * and the copies cudaMemcpyAsync, both on the worker's stream. */
#include <string.h>

#include "summa.h"
#ifdef STARLOPS_USE_CUDA
#include "cuda/blas_cuda.h"
#include "cuda/cuda_scratch.h"
#endif

/* Elements of a matrix tile whose rows are contiguous (ld == nx, or a single row). */
static size_t tile_elems(void *m)
{
    return (size_t)STARPU_MATRIX_GET_NX(m) * STARPU_MATRIX_GET_NY(m);
}

static void summa_gemm_cpu(void *buffers[], void *cl_arg)
{
    sl_summa_gemm_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    void *c = buffers[0], *am = buffers[1], *b = buffers[2];
    size_t m = STARPU_MATRIX_GET_NY(c), n = STARPU_MATRIX_GET_NX(c);
    size_t k = a.adjoint_a ? STARPU_MATRIX_GET_NY(am) : STARPU_MATRIX_GET_NX(am);
    sl_kernel_gemm(a.dtype, a.adjoint_a, m, n, k, (const void *)STARPU_MATRIX_GET_PTR(am),
                   STARPU_MATRIX_GET_LD(am), (const void *)STARPU_MATRIX_GET_PTR(b),
                   STARPU_MATRIX_GET_LD(b), a.beta_one, (void *)STARPU_MATRIX_GET_PTR(c),
                   STARPU_MATRIX_GET_LD(c));
}

/* The destination covers [dst0, dst0 + size); the sources are consecutive pieces of the same
 * block starting at src0: copy where they overlap. */
static void summa_copy_cpu(void *buffers[], void *cl_arg)
{
    size_t dst0, src0;
    starpu_codelet_unpack_args(cl_arg, &dst0, &src0);
    void *dst = buffers[0];
    size_t es = STARPU_MATRIX_GET_ELEMSIZE(dst), dn = tile_elems(dst);
    char *d = (char *)STARPU_MATRIX_GET_PTR(dst);
    int nsrc = STARPU_TASK_GET_NBUFFERS(starpu_task_get_current()) - 1;
    size_t pos = src0;
    for (int s = 0; s < nsrc; s++) {
        void *src = buffers[1 + s];
        size_t sn = tile_elems(src);
        size_t lo = pos > dst0 ? pos : dst0;
        size_t hi = pos + sn < dst0 + dn ? pos + sn : dst0 + dn;
        if (hi > lo)
            memcpy(d + (lo - dst0) * es, (const char *)STARPU_MATRIX_GET_PTR(src) + (lo - pos) * es,
                   (hi - lo) * es);
        pos += sn;
    }
}

#ifdef STARLOPS_USE_CUDA
static void summa_gemm_cuda(void *buffers[], void *cl_arg)
{
    sl_summa_gemm_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    void *c = buffers[0], *am = buffers[1], *b = buffers[2];
    size_t m = STARPU_MATRIX_GET_NY(c), n = STARPU_MATRIX_GET_NX(c);
    size_t k = a.adjoint_a ? STARPU_MATRIX_GET_NY(am) : STARPU_MATRIX_GET_NX(am);
    SL_CUBLAS_CHECK(sl_cuda_gemm(a.dtype, a.adjoint_a, m, n, k,
                                 (const void *)STARPU_MATRIX_GET_PTR(am),
                                 STARPU_MATRIX_GET_LD(am),
                                 (const void *)STARPU_MATRIX_GET_PTR(b),
                                 STARPU_MATRIX_GET_LD(b), a.beta_one,
                                 (void *)STARPU_MATRIX_GET_PTR(c), STARPU_MATRIX_GET_LD(c)));
}

static void summa_copy_cuda(void *buffers[], void *cl_arg)
{
    size_t dst0, src0;
    starpu_codelet_unpack_args(cl_arg, &dst0, &src0);
    void *dst = buffers[0];
    size_t es = STARPU_MATRIX_GET_ELEMSIZE(dst), dn = tile_elems(dst);
    char *d = (char *)STARPU_MATRIX_GET_PTR(dst);
    int nsrc = STARPU_TASK_GET_NBUFFERS(starpu_task_get_current()) - 1;
    size_t pos = src0;
    for (int s = 0; s < nsrc; s++) {
        void *src = buffers[1 + s];
        size_t sn = tile_elems(src);
        size_t lo = pos > dst0 ? pos : dst0;
        size_t hi = pos + sn < dst0 + dn ? pos + sn : dst0 + dn;
        if (hi > lo)
            SL_CUDA_CHECK(cudaMemcpyAsync(d + (lo - dst0) * es,
                                          (const char *)STARPU_MATRIX_GET_PTR(src) +
                                              (lo - pos) * es,
                                          (hi - lo) * es, cudaMemcpyDeviceToDevice,
                                          starpu_cuda_get_local_stream()));
        pos += sn;
    }
}
#endif

static struct starpu_perfmodel gemm_models[4] = {
    {.type = STARPU_HISTORY_BASED, .symbol = "summa_gemm_s"},
    {.type = STARPU_HISTORY_BASED, .symbol = "summa_gemm_d"},
    {.type = STARPU_HISTORY_BASED, .symbol = "summa_gemm_c"},
    {.type = STARPU_HISTORY_BASED, .symbol = "summa_gemm_z"}};
static struct starpu_perfmodel copy_model = {.type = STARPU_HISTORY_BASED,
                                             .symbol = "summa_copy"};
#define GEMM_CL(I, NAME)                                                                   \
    {.cpu_funcs = {summa_gemm_cpu}, SL_CUDA_FUNCS(summa_gemm_cuda) .nbuffers = 3,          \
     .modes = {STARPU_RW, STARPU_R, STARPU_R}, .model = &gemm_models[I], .name = NAME}
/* Indexed by sl_dtype (SL_F32, SL_F64, SL_C64, SL_C128). */
static struct starpu_codelet summa_gemm_cl[4] = {GEMM_CL(SL_F32, "summa_gemm_s"),
                                                 GEMM_CL(SL_F64, "summa_gemm_d"),
                                                 GEMM_CL(SL_C64, "summa_gemm_c"),
                                                 GEMM_CL(SL_C128, "summa_gemm_z")};
static struct starpu_codelet summa_copy_cl = {
    .cpu_funcs = {summa_copy_cpu}, SL_CUDA_FUNCS(summa_copy_cuda)
    .nbuffers = STARPU_VARIABLE_NBUFFERS, .model = &copy_model, .name = "summa_copy"};

int sl_task_summa_gemm(sl_summa_gemm_args args, starpu_data_handle_t c, starpu_data_handle_t a,
                       starpu_data_handle_t b)
{
    return starpu_task_insert(&summa_gemm_cl[args.dtype], STARPU_VALUE, &args, sizeof args,
                              STARPU_RW, c, STARPU_R, a, STARPU_R, b, 0);
}

int sl_task_summa_copy(size_t dst0, size_t src0, starpu_data_handle_t dst,
                       const starpu_data_handle_t *src, int nsrc)
{
    sl_task_buffers tb;
    if (sl_task_buffers_init(&tb, 1 + nsrc) != 0)
        return -ENOMEM;
    sl_task_buffers_add(&tb, dst, STARPU_W);
    sl_task_buffers_add_all(&tb, src, nsrc, STARPU_R);
    int ret = starpu_task_insert(&summa_copy_cl, STARPU_VALUE, &dst0, sizeof dst0, STARPU_VALUE,
                                 &src0, sizeof src0, STARPU_DATA_MODE_ARRAY, tb.d, tb.n, 0);
    sl_task_buffers_free(&tb);
    return ret;
}
