/* Codelet of Fredholm1: one task multiplies the slices of one output tile by their kernel
 * slices (a batched gemm as a loop of OpenBLAS calls, each slice being one independent
 * product), reading them from the input tiles that overlap the output tile: model and data
 * rows differ in size (ny*nz against nx*nz elements), so their tiles cut the slices at
 * different places. One codelet serves both directions; only the roles of m, k and op(G)
 * change. */
#include "fredholm.h"

/* Slices held by a tile (a StarPU matrix of one row of whole slices, `slice` elements each). */
static size_t tile_slices(void *buffer, size_t slice)
{
    return STARPU_MATRIX_GET_NX(buffer) / slice;
}

/* Buffers: out (W), g (R), then the input tiles (R) in slice order. */
static void fredholm_cpu(void *buffers[], void *cl_arg)
{
    sl_fredholm_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    size_t es = sl_dtype_size(a.dtype), out_slice = a.m * a.nz, in_slice = a.k * a.nz;
    size_t nslices = tile_slices(buffers[0], out_slice);
    size_t g_ld = STARPU_MATRIX_GET_LD(buffers[1]);
    size_t lda = a.adjoint_g ? a.m : a.k;
    char *out = (char *)STARPU_MATRIX_GET_PTR(buffers[0]);
    const char *g = (const char *)STARPU_MATRIX_GET_PTR(buffers[1]);
    int nbuffers = STARPU_TASK_GET_NBUFFERS(starpu_task_get_current());
    int j = 2;
    size_t pos = a.skip; /* slice within input tile j */
    for (size_t s = 0; s < nslices; s++, pos++) {
        while (j + 1 < nbuffers && pos >= tile_slices(buffers[j], in_slice)) {
            pos -= tile_slices(buffers[j], in_slice);
            j++;
        }
        const char *in = (const char *)STARPU_MATRIX_GET_PTR(buffers[j]) + pos * in_slice * es;
        sl_kernel_gemm(a.dtype, a.adjoint_g, a.m, a.nz, a.k, g + s * g_ld * es, lda, in, a.nz,
                       0, out + s * out_slice * es, a.nz);
    }
}

SL_HISTORY_MODEL(fredholm_model, "sl_fredholm");

static struct starpu_codelet fredholm_cl = {
    .cpu_funcs = {fredholm_cpu}, SL_CUDA_PENDING(fredholm_cuda)
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
