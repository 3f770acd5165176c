/* Operator core: layouts, validation of matvec/rmatvec arguments, creation of model/data. */
#include <stdlib.h>
#include <string.h>

#include "ops/op_internal.h"

sl_status sl_op_new_spaces(sl_context *ctx, const sl_op_vtable *vt, const sl_space *model,
                           const sl_space *data, void *state, sl_op **out)
{
    sl_op *op = calloc(1, sizeof *op);
    if (!op)
        return sl_fail(ctx, SL_ERR_NOMEM, "%s: out of memory", vt->name);
    sl_status st = sl_space_clone(ctx, model, &op->model);
    if (st == SL_OK)
        st = sl_space_clone(ctx, data, &op->data);
    if (st != SL_OK) {
        sl_space_free(&op->model);
        free(op);
        return sl_fail(ctx, SL_ERR_NOMEM, "%s: out of memory", vt->name);
    }
    op->ctx = ctx;
    op->vt = vt;
    op->state = state;
    *out = op;
    return SL_OK;
}

sl_status sl_op_new(sl_context *ctx, const sl_op_vtable *vt, const sl_layout *model,
                    const sl_layout *data, void *state, sl_op **out)
{
    sl_space m = {0}, d = {0};
    sl_status st = sl_space_single(ctx, model, &m);
    if (st == SL_OK)
        st = sl_space_single(ctx, data, &d);
    if (st == SL_OK)
        st = sl_op_new_spaces(ctx, vt, &m, &d, state, out);
    sl_space_free(&m);
    sl_space_free(&d);
    return st;
}

sl_status sl_op_apply(const sl_op *op, int adjoint, const sl_stacked *in, sl_stacked *out)
{
    if (op->vt->apply_stacked)
        return op->vt->apply_stacked(op, adjoint, in, out);
    return op->vt->apply(op, adjoint, in->arrays[0], out->arrays[0]);
}

/* An operator writing into an array it reads would read half-updated input. */
static int shares_an_array(const sl_stacked *a, const sl_stacked *b)
{
    for (int i = 0; i < a->count; i++)
        for (int j = 0; j < b->count; j++)
            if (a->arrays[i] == b->arrays[j])
                return 1;
    return 0;
}

static sl_status apply_checked(const sl_op *op, int adjoint, const sl_stacked *in,
                               sl_stacked *out, const char *what)
{
    const sl_space *sin = adjoint ? &op->data : &op->model;
    const sl_space *sout = adjoint ? &op->model : &op->data;
    sl_status st = sl_space_check(op->ctx, sin, in, what);
    if (st == SL_OK)
        st = sl_space_check(op->ctx, sout, out, what);
    if (st == SL_OK && shares_an_array(in, out))
        st = sl_fail(op->ctx, SL_ERR_ARG, "%s (%s): input and output must be different "
                     "arrays", what, op->vt->name);
    return st == SL_OK ? sl_op_apply(op, adjoint, in, out) : st;
}

/* Any array matching the space: a stack of its parts, or (a plain space or a one-part stack
 * space) a plain array. */
static sl_status apply_public(const sl_op *op, int adjoint, const sl_darray *in, sl_darray *out)
{
    const char *what = adjoint ? "sl_op_rmatvec" : "sl_op_matvec";
    if (!op || !in || !out)
        return sl_null_error(what);
    SL_STACK_VIEW(vin, in);
    SL_STACK_VIEW(vout, out);
    return apply_checked(op, adjoint, &vin, &vout, what);
}

sl_status sl_op_matvec(const sl_op *op, const sl_darray *x, sl_darray *y)
{
    return apply_public(op, 0, x, y);
}

sl_status sl_op_rmatvec(const sl_op *op, const sl_darray *y, sl_darray *x)
{
    return apply_public(op, 1, y, x);
}

/* A new vector of the space: a plain array, or a stack owning its parts. */
static sl_status create_vector(const sl_op *op, const sl_space *space, sl_darray **out)
{
    *out = NULL;
    if (!space->stacked)
        return sl_darray_from_layout(op->ctx, &space->layouts[0], out);
    sl_stacked *s = NULL;
    sl_status st = sl_space_create(op->ctx, space, &s);
    return st == SL_OK ? sl_stacked_publish(s, out) : st;
}

sl_status sl_op_create_model(const sl_op *op, sl_darray **x)
{
    if (!op || !x)
        return sl_null_error(__func__);
    return create_vector(op, &op->model, x);
}

sl_status sl_op_create_data(const sl_op *op, sl_darray **y)
{
    if (!op || !y)
        return sl_null_error(__func__);
    return create_vector(op, &op->data, y);
}

sl_status sl_op_get_info(const sl_op *op, sl_op_info *info)
{
    if (!op || !info)
        return sl_null_error(__func__);
    *info = (sl_op_info){
        .n_data = sl_space_count(&op->data),
        .n_model = sl_space_count(&op->model),
        .dtype = sl_op_model_layout(op)->dtype,
        .model_parts = op->model.stacked ? op->model.count : 0,
        .data_parts = op->data.stacked ? op->data.count : 0,
    };
    return SL_OK;
}

sl_status sl_op_take(sl_op *op, int n, sl_op *const *ops)
{
    sl_op **all = realloc(op->owned, (size_t)(op->nowned + n) * sizeof *all);
    if (!all)
        return sl_fail(op->ctx, SL_ERR_NOMEM, "%s: out of memory", op->vt->name);
    memcpy(all + op->nowned, ops, (size_t)n * sizeof *all);
    op->owned = all;
    op->nowned += n;
    return SL_OK;
}

sl_status sl_op_destroy(sl_op *op)
{
    if (!op)
        return SL_OK;
    if (op->vt->destroy)
        op->vt->destroy(op);
    for (int i = 0; i < op->nowned; i++)
        sl_op_destroy(op->owned[i]);
    free(op->owned);
    sl_space_free(&op->model);
    sl_space_free(&op->data);
    free(op);
    return SL_OK;
}
