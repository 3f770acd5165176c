/* Tasks of user-defined operators: the codelet running a per-rank callback on whole blocks
 * (sl_op_from_callbacks) and the insertion of the user's per-tile codelets
 * (sl_op_from_codelets), whose CUDA variants are the user's. */
#include "user_op.h"

typedef struct callback_args {
    sl_local_apply_fn fn;
    void *user;
    int adjoint;
    const void *in;
    void *out;
} callback_args;

static void callback_cpu(void *buffers[], void *cl_arg)
{
    (void)buffers;
    callback_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    a.fn(a.in, a.out, a.adjoint, a.user);
}

/* One model for every user callback: StarPU tells them apart only by the data sizes. No CUDA
 * slot: the callback is a host function on the blocks' host copies. */
static struct starpu_perfmodel callback_model = {.type = STARPU_HISTORY_BASED,
                                                 .symbol = "user_op"};
static struct starpu_codelet callback_cl = {
    .cpu_funcs = {callback_cpu}, .nbuffers = STARPU_VARIABLE_NBUFFERS,
    .model = &callback_model, .name = "user_op"};

int sl_task_user_callback(sl_local_apply_fn fn, void *user, int adjoint, const void *in,
                          void *out, const starpu_data_handle_t *reads, int nread,
                          const starpu_data_handle_t *writes, int nwrite)
{
    sl_task_buffers tb;
    if (sl_task_buffers_init(&tb, nread + nwrite) != 0)
        return -ENOMEM;
    sl_task_buffers_add_all(&tb, reads, nread, STARPU_R);
    sl_task_buffers_add_all(&tb, writes, nwrite, STARPU_W);
    callback_args a = {fn, user, adjoint, in, out};
    int ret = starpu_task_insert(&callback_cl, STARPU_VALUE, &a, sizeof a,
                                 STARPU_DATA_MODE_ARRAY, tb.d, tb.n, 0);
    sl_task_buffers_free(&tb);
    return ret;
}

int sl_task_user_tile(struct starpu_codelet *cl, const sl_tile_info *info, void *arg,
                      size_t arg_size, starpu_data_handle_t out, starpu_data_handle_t in)
{
    return starpu_task_insert(cl, STARPU_VALUE, info, sizeof *info, STARPU_VALUE, arg, arg_size,
                              STARPU_W, out, STARPU_R, in, 0);
}
