/* The box-copy codelet of the halo operator (see codelets.h). */
#include <string.h>

#include "codelets.h"

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
struct starpu_codelet sl_cl_box = {
    .cpu_funcs = {box_cpu},
    .model = &box_model,
    .nbuffers = STARPU_VARIABLE_NBUFFERS,
    .name = "halo_box",
};
