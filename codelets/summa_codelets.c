/* Codelets of the 2D (SUMMA) MatrixMult: tile products, copies between a rank's packed block
 * and its tiles, and the sums of partial adjoint products. */
#include <string.h>

#include "codelets.h"

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

static void summa_add_cpu(void *buffers[], void *cl_arg)
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

static void summa_zero_cpu(void *buffers[], void *cl_arg)
{
    (void)cl_arg;
    memset((void *)STARPU_MATRIX_GET_PTR(buffers[0]), 0,
           tile_elems(buffers[0]) * STARPU_MATRIX_GET_ELEMSIZE(buffers[0]));
}

static struct starpu_perfmodel gemm_models[4] = {
    {.type = STARPU_HISTORY_BASED, .symbol = "summa_gemm_s"},
    {.type = STARPU_HISTORY_BASED, .symbol = "summa_gemm_d"},
    {.type = STARPU_HISTORY_BASED, .symbol = "summa_gemm_c"},
    {.type = STARPU_HISTORY_BASED, .symbol = "summa_gemm_z"}};
static struct starpu_perfmodel copy_model = {.type = STARPU_HISTORY_BASED,
                                             .symbol = "summa_copy"};
static struct starpu_perfmodel add_model = {.type = STARPU_HISTORY_BASED, .symbol = "summa_add"};
static struct starpu_perfmodel zero_model = {.type = STARPU_HISTORY_BASED,
                                             .symbol = "summa_zero"};

#define GEMM_CL(I, NAME)                                                                   \
    {.cpu_funcs = {summa_gemm_cpu}, .nbuffers = 3, .modes = {STARPU_RW, STARPU_R, STARPU_R}, \
     .model = &gemm_models[I], .name = NAME}
/* Indexed by sl_dtype (SL_F32, SL_F64, SL_C64, SL_C128). */
struct starpu_codelet sl_cl_summa_gemm[4] = {GEMM_CL(SL_F32, "summa_gemm_s"),
                                             GEMM_CL(SL_F64, "summa_gemm_d"),
                                             GEMM_CL(SL_C64, "summa_gemm_c"),
                                             GEMM_CL(SL_C128, "summa_gemm_z")};
struct starpu_codelet sl_cl_summa_copy = {.cpu_funcs = {summa_copy_cpu},
                                          .nbuffers = STARPU_VARIABLE_NBUFFERS,
                                          .model = &copy_model, .name = "summa_copy"};
struct starpu_codelet sl_cl_summa_add = {.cpu_funcs = {summa_add_cpu}, .nbuffers = 2,
                                         .modes = {STARPU_RW, STARPU_R}, .model = &add_model,
                                         .name = "summa_add"};
struct starpu_codelet sl_cl_summa_zero = {.cpu_funcs = {summa_zero_cpu}, .nbuffers = 1,
                                          .modes = {STARPU_W}, .model = &zero_model,
                                          .name = "summa_zero"};
