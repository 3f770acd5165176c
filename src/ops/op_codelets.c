/* User-defined operators from a per-tile StarPU codelet pair (flavour (b) of issue 3): the
 * runtime schedules them like built-in operators, on CPU or CUDA workers as the codelets
 * allow. The operator must be tile-local: output tile t depends only on input tile t, so the
 * model and data layouts must cut every rank's block into the same number of tiles with the
 * same rows (e.g. the same layout). */
#include <stdlib.h>
#include <string.h>

#include "codelets.h"
#include "ops/op_internal.h"

typedef struct codelet_state {
    struct starpu_codelet *cl[2]; /* forward, adjoint */
    void *arg;
    size_t arg_size;
} codelet_state;

static sl_status codelet_apply(const sl_op *op, int adjoint, const sl_darray *in, sl_darray *out)
{
    codelet_state *s = op->state;
    int rank = op->ctx->rank;
    for (size_t t = 0; t < out->ntiles; t++) {
        sl_tile_info info = {out->row_offset_of[rank] + out->tiles[t].row0, out->tiles[t].nrows,
                             out->outer, out->inner, t};
        int ret = sl_task_user_tile(s->cl[adjoint], &info, s->arg, s->arg_size,
                                    out->tiles[t].handle, in->tiles[t].handle);
        if (ret != 0)
            return sl_fail(op->ctx, SL_ERR_STARPU, "starpu_task_insert failed (%d) for user "
                           "codelet %s", ret, s->cl[adjoint]->name ? s->cl[adjoint]->name : "");
    }
    return SL_OK;
}

static void codelet_destroy(sl_op *op)
{
    codelet_state *s = op->state;
    free(s->arg);
    free(s);
}

static const sl_op_vtable codelet_vt = {
    .name = "UserCodeletOperator",
    .apply = codelet_apply,
    .destroy = codelet_destroy,
};

static int same_tiles(const sl_darray *a, const sl_darray *b)
{
    if (a->ntiles != b->ntiles)
        return 0;
    for (size_t t = 0; t < a->ntiles; t++)
        if (a->tiles[t].row0 != b->tiles[t].row0 || a->tiles[t].nrows != b->tiles[t].nrows)
            return 0;
    return 1;
}

sl_status sl_op_from_codelets(const sl_darray *model_like, const sl_darray *data_like,
                              struct starpu_codelet *forward, struct starpu_codelet *adjoint,
                              const void *arg, size_t arg_size, sl_op **out)
{
    if (!model_like || !data_like || !forward || !adjoint || !out || (arg_size && !arg))
        return sl_null_error(__func__);
    *out = NULL;
    sl_context *ctx = model_like->ctx;
    int ok = same_tiles(model_like, data_like);
    if (!ok)
        sl_fail(ctx, SL_ERR_SHAPE, "sl_op_from_codelets: model and data tiles differ on rank %d "
                "(%zu vs %zu tiles): a codelet operator must be tile-local", ctx->rank,
                model_like->ntiles, data_like->ntiles);
    /* tiling depends on local shapes, so ranks may disagree: decide together */
    sl_status st = sl_agree(ctx, NULL, 0, ok, "sl_op_from_codelets");
    if (!ok)
        return SL_ERR_SHAPE;
    if (st != SL_OK)
        return st;
    if (forward->nbuffers != 2 || adjoint->nbuffers != 2)
        return sl_fail(ctx, SL_ERR_ARG, "sl_op_from_codelets: codelets need nbuffers = 2 "
                       "(output tile W, input tile R)");
    codelet_state *s = calloc(1, sizeof *s);
    if (!s || (arg_size && !(s->arg = malloc(arg_size)))) {
        free(s);
        return sl_fail(ctx, SL_ERR_NOMEM, "sl_op_from_codelets: out of memory");
    }
    if (arg_size)
        memcpy(s->arg, arg, arg_size);
    s->arg_size = arg_size;
    s->cl[0] = forward;
    s->cl[1] = adjoint;
    sl_layout ml = {0}, dl = {0};
    st = sl_layout_from_darray(model_like, &ml);
    if (st == SL_OK)
        st = sl_layout_from_darray(data_like, &dl);
    if (st == SL_OK)
        st = sl_op_new(ctx, &codelet_vt, &ml, &dl, s, out);
    if (st != SL_OK)
        codelet_destroy(&(sl_op){.state = s});
    sl_layout_free(&ml);
    sl_layout_free(&dl);
    return st;
}
