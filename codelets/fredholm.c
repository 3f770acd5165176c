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

/* One run of output slices as a uniform batch (fredholm_walk.h): product i multiplies
 * op(G) at g + i * g_ld by the input slice at in + i * in_slice into out + i * out_slice
 * (strides in elements). */
typedef struct fred_batch {
    sl_dtype dtype;
    int adjoint_g;
    size_t m, nz, k, lda;
    const char *g, *in;
    char *out;
    size_t g_ld, in_slice, out_slice, count;
} fred_batch;

/* Buffers: out (W), g (R), then the input tiles (R) in slice order. Hands each run of the
 * task's slices to `multiply` (the CPU's or the CUDA worker's). */
static void for_each_batch(void *buffers[], void *cl_arg, void (*multiply)(const fred_batch *))
{
    sl_fredholm_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    size_t es = sl_dtype_size(a.dtype);
    fred_batch b = {a.dtype, a.adjoint_g, a.m, a.nz, a.k, a.adjoint_g ? a.m : a.k, NULL, NULL,
                    NULL, STARPU_MATRIX_GET_LD(buffers[1]), a.k * a.nz, a.m * a.nz, 0};
    char *out = (char *)STARPU_MATRIX_GET_PTR(buffers[0]);
    const char *g = (const char *)STARPU_MATRIX_GET_PTR(buffers[1]);
    sl_fred_walk w = walk_start(buffers, &a);
    sl_fred_run r;
    while (sl_fred_walk_next(&w, &r)) {
        b.in = (const char *)STARPU_MATRIX_GET_PTR(w.in[r.tile]) + r.pos * b.in_slice * es;
        b.g = g + r.out0 * b.g_ld * es;
        b.out = out + r.out0 * b.out_slice * es;
        b.count = r.count;
        multiply(&b);
    }
}

/* A loop of OpenBLAS products, one per slice. */
static void multiply_cpu(const fred_batch *b)
{
    size_t es = sl_dtype_size(b->dtype);
    for (size_t i = 0; i < b->count; i++)
        sl_kernel_gemm(b->dtype, b->adjoint_g, b->m, b->nz, b->k, b->g + i * b->g_ld * es,
                       b->lda, b->in + i * b->in_slice * es, b->nz, 0,
                       b->out + i * b->out_slice * es, b->nz);
}

static void fredholm_cpu(void *buffers[], void *cl_arg)
{
    for_each_batch(buffers, cl_arg, multiply_cpu);
}

#ifdef STARLOPS_USE_CUDA
/* One cuBLAS strided-batched gemm on the worker's handle and stream (a plain gemm, or gemv for
 * one column, when the run is one slice). G's row stride is its buffer's (packed on the
 * device: one slice per row either way). */
static void multiply_cuda(const fred_batch *b)
{
    SL_CUBLAS_CHECK(sl_cuda_gemm_strided(b->dtype, b->adjoint_g, b->m, b->nz, b->k, b->g,
                                         b->lda, b->g_ld, b->in, b->nz, b->in_slice, b->out,
                                         b->nz, b->out_slice, b->count));
}

static void fredholm_cuda(void *buffers[], void *cl_arg)
{
    for_each_batch(buffers, cl_arg, multiply_cuda);
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
