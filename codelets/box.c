/* The box-copy codelet of the halo operator (see box.h) and its insert helper. */
#include <string.h>

#include "box.h"

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

SL_HISTORY_MODEL(box_model, "halo_box");
static struct starpu_codelet box_cl = {
    .cpu_funcs = {box_cpu},
    SL_CUDA_PENDING(box_cuda)
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
