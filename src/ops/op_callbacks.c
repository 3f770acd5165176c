/* User-defined operators from a per-rank callback pair on local blocks (like subclassing
 * PyLops-MPI's MPILinearOperator). The callback runs inside one task per application, which
 * holds every tile of the input (R) and of the output (W), so the blocks it sees are complete
 * and nothing else touches them meanwhile. When the output is replicated and the input
 * scattered (VStack's adjoint, HStack's forward), the ranks' results are summed: the callback
 * writes into a per-rank scratch block, an allreduce task sums it, copy tasks fill the tiles. */
#include <stdlib.h>
#include <string.h>

#include "codelets.h"
#include "ops/op_internal.h"

typedef struct callback_state {
    sl_local_apply_fn fn;
    void *user;
    void (*free_user)(void *user); /* internal operators own their user state */
    void *scratch[2];                 /* per direction: output block, when summed */
    starpu_data_handle_t scratch_h[2];
} callback_state;

static int summed(const sl_op *op, int adjoint)
{
    const sl_layout *in = adjoint ? sl_op_data_layout(op) : sl_op_model_layout(op);
    const sl_layout *out = adjoint ? sl_op_model_layout(op) : sl_op_data_layout(op);
    return in->partition == SL_SCATTER && out->partition != SL_SCATTER;
}

static sl_status callback_apply(const sl_op *op, int adjoint, const sl_darray *in,
                                sl_darray *out)
{
    callback_state *s = op->state;
    sl_context *ctx = op->ctx;
    int sum = summed(op, adjoint);
    size_t n = in->ntiles + (sum ? 1 : out->ntiles);
    starpu_data_handle_t *h = malloc((n + 1) * sizeof *h);
    if (!h)
        return sl_fail(ctx, SL_ERR_NOMEM, "user operator: out of memory");
    size_t i = 0;
    for (size_t t = 0; t < in->ntiles; t++)
        h[i++] = in->tiles[t].handle;
    if (sum)
        h[i++] = s->scratch_h[adjoint];
    else
        for (size_t t = 0; t < out->ntiles; t++)
            h[i++] = out->tiles[t].handle;
    sl_status st = SL_OK;
    int ret = sl_task_user_callback(s->fn, s->user, adjoint, in->data,
                                    sum ? s->scratch[adjoint] : out->data, h, (int)in->ntiles,
                                    h + in->ntiles, (int)(i - in->ntiles));
    if (ret == -ENOMEM)
        st = sl_fail(ctx, SL_ERR_NOMEM, "user operator: out of memory");
    else if (ret != 0)
        st = sl_fail(ctx, SL_ERR_STARPU, "starpu_task_insert failed for user_op");
    free(h);
    if (st != SL_OK || !sum)
        return st;
    st = sl_comm_allreduce(ctx->comm, (sl_comm_group){ctx->task_comm}, s->scratch_h[adjoint],
                           sl_comm_elem_of(out->layout.dtype), SL_COMM_SUM);
    for (size_t t = 0; t < out->ntiles && st == SL_OK; t++) {
        size_t offset = out->tiles[t].row0 * out->inner;
        if (sl_task_slice_copy(offset, out->tiles[t].handle, s->scratch_h[adjoint]) != 0)
            st = sl_fail(ctx, SL_ERR_STARPU, "starpu_task_insert failed for slice_copy");
    }
    return st;
}

static void callback_destroy(sl_op *op)
{
    callback_state *s = op->state;
    for (int i = 0; i < 2; i++) {
        if (s->scratch_h[i])
            starpu_data_unregister(s->scratch_h[i]);
        free(s->scratch[i]);
    }
    if (s->free_user)
        s->free_user(s->user);
    free(s);
}

static const sl_op_vtable callback_vt = {
    .name = "UserOperator",
    .apply = callback_apply,
    .destroy = callback_destroy,
};

sl_status sl_op_from_callback_layouts(sl_context *ctx, const sl_layout *ml, const sl_layout *dl,
                                     sl_local_apply_fn fn, void *user, sl_op **out)
{
    return sl_op_from_callback_owned(ctx, ml, dl, fn, user, NULL, out);
}

sl_status sl_op_from_callback_owned(sl_context *ctx, const sl_layout *ml, const sl_layout *dl,
                                    sl_local_apply_fn fn, void *user,
                                    void (*free_user)(void *user), sl_op **out)
{
    *out = NULL;
    callback_state *s = calloc(1, sizeof *s);
    if (!s) {
        if (free_user)
            free_user(user);
        return sl_fail(ctx, SL_ERR_NOMEM, "sl_op_from_callbacks: out of memory");
    }
    s->fn = fn;
    s->user = user;
    s->free_user = free_user;
    sl_status st = sl_op_new(ctx, &callback_vt, ml, dl, s, out);
    if (st != SL_OK) {
        if (free_user)
            free_user(user);
        free(s);
    }
    /* scratch blocks for the directions whose results are summed over ranks */
    for (int adj = 0; adj < 2 && st == SL_OK; adj++) {
        const sl_layout *o = adj ? ml : dl;
        if (!summed(*out, adj))
            continue;
        size_t count = sl_layout_local_count(o, ctx->rank), es = sl_dtype_size(o->dtype);
        s->scratch[adj] = calloc(count, es);
        if (!s->scratch[adj]) {
            st = sl_fail(ctx, SL_ERR_NOMEM, "sl_op_from_callbacks: out of memory");
            sl_op_destroy(*out); /* frees s through callback_destroy */
            *out = NULL;
            break;
        }
        starpu_vector_data_register(&s->scratch_h[adj], STARPU_MAIN_RAM,
                                    (uintptr_t)s->scratch[adj], (uint32_t)count, es);
    }
    return st;
}

sl_status sl_op_from_callbacks(const sl_darray *model_like, const sl_darray *data_like,
                               sl_local_apply_fn fn, void *user, sl_op **out)
{
    if (!model_like || !data_like || !fn || !out)
        return sl_null_error(__func__);
    *out = NULL;
    sl_context *ctx = model_like->ctx;
    if (data_like->ctx != ctx || data_like->layout.dtype != model_like->layout.dtype)
        return sl_fail(ctx, SL_ERR_DTYPE, "sl_op_from_callbacks: model and data arrays differ "
                       "in context or dtype");
    sl_layout ml = {0}, dl = {0};
    sl_status st = sl_layout_from_darray(model_like, &ml);
    if (st == SL_OK)
        st = sl_layout_from_darray(data_like, &dl);
    if (st == SL_OK)
        st = sl_op_from_callback_layouts(ctx, &ml, &dl, fn, user, out);
    else
        st = sl_fail(ctx, SL_ERR_NOMEM, "sl_op_from_callbacks: out of memory");
    sl_layout_free(&ml);
    sl_layout_free(&dl);
    return st;
}
