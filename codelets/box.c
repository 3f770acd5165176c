/* The box-copy codelet of the halo operator (see box.h) and its insert helper. */
#include <string.h>

#include "box.h"
#ifdef STARLOPS_USE_CUDA
#include "cuda/box_cuda.h"
#include "cuda/cuda_scratch.h"
#endif

static void *base_of(void *buffer, int is_vector)
{
    return is_vector ? (void *)STARPU_VECTOR_GET_PTR(buffer)
                     : (void *)STARPU_MATRIX_GET_PTR(buffer);
}

static void box_cpu(void *buffers[], void *cl_arg)
{
    sl_box_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    void *dst = base_of(buffers[0], a.dst_vector);
    void *src = base_of(buffers[a.ndst], a.src_vector);
    if (a.zero_dst)
        memset(dst, 0, a.nbytes_dst);
    sl_kernel_box(dst, &a.db, src, &a.sb, a.count, a.esize, a.add, a.single);
    if (a.zero_src)
        sl_kernel_box_zero(src, &a.sb, a.count, a.esize);
}

#ifdef STARLOPS_USE_CUDA
/* A buffer as box_point.h's tile of esize-byte elements: its own pointer, sizes and row stride
 * (on the device a packed copy, a separate allocation per tile). Slabs and the scratch are
 * vectors of bytes. */
static sl_box_tile tile_of(void *buffer, int is_vector, size_t esize)
{
    if (is_vector) {
        size_t n = STARPU_VECTOR_GET_NX(buffer);
        return sl_box_tile_of((char *)STARPU_VECTOR_GET_PTR(buffer), n, 1, n,
                              STARPU_VECTOR_GET_ELEMSIZE(buffer), esize);
    }
    return sl_box_tile_of((char *)STARPU_MATRIX_GET_PTR(buffer), STARPU_MATRIX_GET_NX(buffer),
                          STARPU_MATRIX_GET_NY(buffer), STARPU_MATRIX_GET_LD(buffer),
                          STARPU_MATRIX_GET_ELEMSIZE(buffer), esize);
}

static int launch_cuda(const sl_box_launch *p, void *ctx)
{
    (void)ctx;
    cudaError_t e = sl_cuda_box(p, starpu_cuda_get_local_stream());
    if (e != cudaSuccess)
        sl_cuda_note_failure((int)e, __FILE__, __LINE__);
    return e != cudaSuccess;
}

static int zero_tile_cuda(const sl_box_tile *t, size_t esize, void *ctx)
{
    (void)ctx;
    cudaError_t e = cudaMemset2DAsync(t->ptr, t->ld * esize, 0, t->nx * esize, t->ny,
                                      starpu_cuda_get_local_stream());
    if (e != cudaSuccess)
        sl_cuda_note_failure((int)e, __FILE__, __LINE__);
    return e != cudaSuccess;
}

/* The same work as box_cpu, addressing every element through the tile that holds it
 * (box_point.h): zero_dst zeroes each dst tile rather than nbytes_dst from the first one. */
static void box_cuda(void *buffers[], void *cl_arg)
{
    sl_box_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    sl_box_tile *t = malloc((size_t)(a.ndst + a.nsrc) * sizeof *t);
    if (!t) {
        sl_cuda_note_failure((int)cudaErrorMemoryAllocation, __FILE__, __LINE__);
        return;
    }
    for (int i = 0; i < a.ndst + a.nsrc; i++)
        t[i] = tile_of(buffers[i], i < a.ndst ? a.dst_vector : a.src_vector, a.esize);
    const sl_box_exec ex = {launch_cuda, zero_tile_cuda, NULL};
    sl_box_run(t, a.ndst, t + a.ndst, a.nsrc, &a.db, &a.sb, a.count, a.esize, a.add, a.single,
               a.zero_dst, a.zero_src, &ex);
    free(t);
}
#endif

SL_HISTORY_MODEL(box_model, "halo_box");
static struct starpu_codelet box_cl = {
    .cpu_funcs = {box_cpu},
    SL_CUDA_FUNCS(box_cuda)
    .model = &box_model,
    .nbuffers = STARPU_VARIABLE_NBUFFERS,
    .name = "halo_box",
};

int sl_task_box(const sl_box_args *args, const starpu_data_handle_t *dst,
                enum starpu_data_access_mode dst_mode, const starpu_data_handle_t *src,
                enum starpu_data_access_mode src_mode)
{
    sl_task_buffers tb;
    if (sl_task_buffers_init(&tb, args->ndst + args->nsrc) != 0)
        return -ENOMEM;
    sl_task_buffers_add_all(&tb, dst, args->ndst, dst_mode);
    sl_task_buffers_add_all(&tb, src, args->nsrc, src_mode);
    int ret = starpu_task_insert(&box_cl, STARPU_VALUE, args, sizeof *args,
                                 STARPU_DATA_MODE_ARRAY, tb.d, tb.n, 0);
    sl_task_buffers_free(&tb);
    return ret;
}
