/* Codelet of Fredholm1: one task multiplies the slices of one output tile by their kernel
 * slices (a batched gemm: on a CPU worker a loop of OpenBLAS calls, each slice being one
 * independent product; on a CUDA worker one cuBLAS strided-batched gemm per run of slices read
 * from one input tile, see fredholm_walk.h), reading them from the input tiles that overlap the
 * output tile: model and data rows differ in size (ny*nz against nx*nz elements), so their
 * tiles cut the slices at different places. One codelet serves both directions; only the roles
 * of m, k and op(G) change. */
#include "fredholm.h"
#include "fredholm_walk.h"

#ifdef STARLOPS_USE_CUDA
#include "cuda/blas_cuda.h"
#include "cuda/cuda_scratch.h"
#endif

/* Slices held by a tile (a StarPU matrix of one row of whole slices, `slice` elements each;
 * on a device too, since a one-row tile's packed copy is the same row). */
static size_t tile_slices(void *buffer, size_t slice)
{
    return slice ? STARPU_MATRIX_GET_NX(buffer) / slice : 0;
}

/* The walk over the output slices (fredholm_walk.h), from a task's buffers. */
static sl_fred_walk walk_start(void *buffers[], const sl_fredholm_args *a)
{
    int nbuffers = STARPU_TASK_GET_NBUFFERS(starpu_task_get_current());
    return sl_fred_walk_start(buffers + 2, nbuffers - 2, tile_slices, a->k * a->nz,
                              tile_slices(buffers[0], a->m * a->nz), a->skip);
}

/* Buffers: out (W), g (R), then the input tiles (R) in slice order. */
static void fredholm_cpu(void *buffers[], void *cl_arg)
{
    sl_fredholm_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    size_t es = sl_dtype_size(a.dtype), out_slice = a.m * a.nz, in_slice = a.k * a.nz;
    size_t g_ld = STARPU_MATRIX_GET_LD(buffers[1]);
    size_t lda = a.adjoint_g ? a.m : a.k;
    char *out = (char *)STARPU_MATRIX_GET_PTR(buffers[0]);
    const char *g = (const char *)STARPU_MATRIX_GET_PTR(buffers[1]);
    sl_fred_walk w = walk_start(buffers, &a);
    sl_fred_run r;
    while (sl_fred_walk_next(&w, &r)) {
        const char *in = (const char *)STARPU_MATRIX_GET_PTR(w.in[r.tile]) + r.pos * in_slice * es;
        for (size_t i = 0; i < r.count; i++) {
            size_t s = r.out0 + i;
            sl_kernel_gemm(a.dtype, a.adjoint_g, a.m, a.nz, a.k, g + s * g_ld * es, lda,
                           in + i * in_slice * es, a.nz, 0, out + s * out_slice * es, a.nz);
        }
    }
}

#ifdef STARLOPS_USE_CUDA
/* The same products through cuBLAS on the worker's handle and stream: one strided-batched
 * gemm per run (a plain gemm, or gemv for one column, when the run is one slice). G's row
 * stride is its buffer's (packed on the device: one slice per row either way). */
static void fredholm_cuda(void *buffers[], void *cl_arg)
{
    sl_fredholm_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    size_t es = sl_dtype_size(a.dtype), out_slice = a.m * a.nz, in_slice = a.k * a.nz;
    size_t g_ld = STARPU_MATRIX_GET_LD(buffers[1]);
    size_t lda = a.adjoint_g ? a.m : a.k;
    char *out = (char *)STARPU_MATRIX_GET_PTR(buffers[0]);
    const char *g = (const char *)STARPU_MATRIX_GET_PTR(buffers[1]);
    sl_fred_walk w = walk_start(buffers, &a);
    sl_fred_run r;
    while (sl_fred_walk_next(&w, &r)) {
        const char *in = (const char *)STARPU_MATRIX_GET_PTR(w.in[r.tile]) + r.pos * in_slice * es;
        SL_CUBLAS_CHECK(sl_cuda_gemm_strided(a.dtype, a.adjoint_g, a.m, a.nz, a.k,
                                             g + r.out0 * g_ld * es, lda, g_ld, in, a.nz,
                                             in_slice, out + r.out0 * out_slice * es, a.nz,
                                             out_slice, r.count));
    }
}
#endif

SL_HISTORY_MODEL(fredholm_model, "sl_fredholm");

static struct starpu_codelet fredholm_cl = {
    .cpu_funcs = {fredholm_cpu}, SL_CUDA_FUNCS(fredholm_cuda)
    .nbuffers = STARPU_VARIABLE_NBUFFERS, .model = &fredholm_model, .name = "fredholm"};

int sl_task_fredholm(const sl_fredholm_args *args, starpu_data_handle_t out,
                     starpu_data_handle_t g, const starpu_data_handle_t *in, int nin)
{
    sl_task_buffers tb;
    if (sl_task_buffers_init(&tb, 2 + nin) != 0)
        return -ENOMEM;
    sl_task_buffers_add(&tb, out, STARPU_W);
    sl_task_buffers_add(&tb, g, STARPU_R);
    sl_task_buffers_add_all(&tb, in, nin, STARPU_R);
    int ret = starpu_task_insert(&fredholm_cl, STARPU_VALUE, args, sizeof *args,
                                 STARPU_DATA_MODE_ARRAY, tb.d, tb.n, 0);
    sl_task_buffers_free(&tb);
    return ret;
}
