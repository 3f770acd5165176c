/* Stacked operators over distributed operators (PyLops-MPI MPIStackedBlockDiag,
 * MPIStackedVStack and its adjoint arrangement): the operands are applied to views of the
 * stacked side's components, and a shared side is summed over operands with one scratch
 * vector. */
#include <stdlib.h>
#include <string.h>

#include "ops/op_internal.h"

typedef enum { STACKED_BLOCKDIAG, STACKED_VSTACK, STACKED_HSTACK } stacked_kind;

typedef struct stacked_state {
    stacked_kind kind;
    int count;
    const sl_op **ops;
    int *model_offset, *data_offset; /* first component of operand i in a split side */
    sl_stacked *scratch;             /* shared side, for the sums (count > 1) */
} stacked_state;

static void stacked_destroy(sl_op *op)
{
    stacked_state *s = op->state;
    sl_stacked_destroy(s->scratch);
    free(s->ops);
    free(s->model_offset);
    free(s->data_offset);
    free(s);
}

/* The model is split into the operands' models except for VStack; the data except HStack. */
static int model_split(stacked_kind k)
{
    return k != STACKED_VSTACK;
}
static int data_split(stacked_kind k)
{
    return k != STACKED_HSTACK;
}

/* Components [offset, offset + n) of v, as a stack viewing v's arrays (no allocation). */
static sl_stacked view(const sl_stacked *v, int offset, int n)
{
    sl_stacked w = {n, v->arrays + offset, 0, NULL};
    return w;
}

static sl_status stacked_apply(const sl_op *op, int adjoint, const sl_stacked *in,
                               sl_stacked *out)
{
    const stacked_state *s = op->state;
    int in_split = adjoint ? data_split(s->kind) : model_split(s->kind);
    int out_split = adjoint ? model_split(s->kind) : data_split(s->kind);
    const int *in_off = adjoint ? s->data_offset : s->model_offset;
    const int *out_off = adjoint ? s->model_offset : s->data_offset;
    sl_status st = SL_OK;
    for (int i = 0; i < s->count && st == SL_OK; i++) {
        const sl_op *a = s->ops[i];
        const sl_space *sin = adjoint ? &a->data : &a->model;
        const sl_space *sout = adjoint ? &a->model : &a->data;
        sl_stacked vin = in_split ? view(in, in_off[i], sin->count) : *in;
        if (out_split) {
            sl_stacked vout = view(out, out_off[i], sout->count);
            st = sl_op_apply(a, adjoint, &vin, &vout);
        } else if (i == 0) {
            st = sl_op_apply(a, adjoint, &vin, out);
        } else { /* out += A_i in_i */
            st = sl_op_apply(a, adjoint, &vin, s->scratch);
            if (st == SL_OK)
                st = sl_stacked_axpy(1.0, s->scratch, out);
        }
    }
    return st;
}

static const sl_op_vtable stacked_vt[] = {
    {.name = "StackedBlockDiag", .destroy = stacked_destroy, .apply_stacked = stacked_apply},
    {.name = "StackedVStack", .destroy = stacked_destroy, .apply_stacked = stacked_apply},
    {.name = "StackedHStack", .destroy = stacked_destroy, .apply_stacked = stacked_apply},
};

/* Operands: non-NULL, one context, the shared side equal; counts agree across ranks. */
static sl_status check_operands(sl_context *ctx, stacked_kind kind, int count,
                                const sl_op *const *ops, const char *what)
{
    sl_status st = SL_OK;
    for (int i = 0; i < count && st == SL_OK; i++) {
        if (!ops[i])
            st = sl_fail(ctx, SL_ERR_NULL, "%s: operator %d is NULL", what, i);
        else if (ops[i]->ctx != ctx)
            st = sl_fail(ctx, SL_ERR_ARG, "%s: operator %d belongs to another context", what, i);
        else if (kind == STACKED_VSTACK &&
                 !sl_space_equal(&ops[i]->model, &ops[0]->model, ctx->size))
            st = sl_fail(ctx, SL_ERR_SHAPE, "%s: operator %d (%s) has a model of %zu elements, "
                         "operator 0 (%s) one of %zu: they must share the model layout", what,
                         i, ops[i]->vt->name, sl_space_count(&ops[i]->model), ops[0]->vt->name,
                         sl_space_count(&ops[0]->model));
        else if (kind == STACKED_HSTACK &&
                 !sl_space_equal(&ops[i]->data, &ops[0]->data, ctx->size))
            st = sl_fail(ctx, SL_ERR_SHAPE, "%s: operator %d (%s) has data of %zu elements, "
                         "operator 0 (%s) of %zu: they must share the data layout", what, i,
                         ops[i]->vt->name, sl_space_count(&ops[i]->data), ops[0]->vt->name,
                         sl_space_count(&ops[0]->data));
    }
    int64_t n = count;
    sl_status agreed = sl_agree(ctx, &n, 1, st == SL_OK, what);
    return st != SL_OK ? st : agreed;
}

/* The split side's space and each operand's first component in it. */
static sl_status split_space(sl_context *ctx, int count, const sl_op *const *ops, int model,
                             sl_space *space, int *offset)
{
    const sl_space **parts = malloc((size_t)count * sizeof *parts);
    if (!parts)
        return sl_fail(ctx, SL_ERR_NOMEM, "stacked operator: out of memory");
    int k = 0;
    for (int i = 0; i < count; i++) {
        parts[i] = model ? &ops[i]->model : &ops[i]->data;
        offset[i] = k;
        k += parts[i]->count;
    }
    sl_status st = sl_space_concat(ctx, count, parts, space);
    free(parts);
    return st;
}

static sl_status build(stacked_kind kind, int count, const sl_op *const *ops, sl_op **out,
                       const char *what)
{
    if (!ops || !out)
        return sl_null_error(__func__);
    if (count < 1)
        return SL_ERR_ARG; /* no operand, hence no context to write a message to */
    if (!ops[0])
        return sl_null_error(__func__);
    sl_context *ctx = ops[0]->ctx;
    sl_status st = check_operands(ctx, kind, count, ops, what);
    if (st != SL_OK)
        return st;
    stacked_state *s = calloc(1, sizeof *s);
    sl_space model = {0}, data = {0};
    if (!s || !(s->ops = malloc((size_t)count * sizeof *s->ops)) ||
        !(s->model_offset = calloc((size_t)count, sizeof(int))) ||
        !(s->data_offset = calloc((size_t)count, sizeof(int))))
        st = sl_fail(ctx, SL_ERR_NOMEM, "%s: out of memory", what);
    if (st == SL_OK) {
        s->kind = kind;
        s->count = count;
        memcpy(s->ops, ops, (size_t)count * sizeof *ops);
        st = model_split(kind) ? split_space(ctx, count, ops, 1, &model, s->model_offset)
                               : sl_space_clone(ctx, &ops[0]->model, &model);
    }
    if (st == SL_OK)
        st = data_split(kind) ? split_space(ctx, count, ops, 0, &data, s->data_offset)
                              : sl_space_clone(ctx, &ops[0]->data, &data);
    if (st == SL_OK && kind != STACKED_BLOCKDIAG && count > 1)
        st = sl_space_create(ctx, kind == STACKED_VSTACK ? &model : &data, &s->scratch);
    if (st == SL_OK)
        st = sl_op_new_spaces(ctx, &stacked_vt[kind], &model, &data, s, out);
    if (st != SL_OK && s)
        stacked_destroy(&(sl_op){.state = s});
    sl_space_free(&model);
    sl_space_free(&data);
    return st;
}

sl_status sl_op_stacked_blockdiag(int count, const sl_op *const *ops, sl_op **out)
{
    return build(STACKED_BLOCKDIAG, count, ops, out, "sl_op_stacked_blockdiag");
}

sl_status sl_op_stacked_vstack(int count, const sl_op *const *ops, sl_op **out)
{
    return build(STACKED_VSTACK, count, ops, out, "sl_op_stacked_vstack");
}

sl_status sl_op_stacked_hstack(int count, const sl_op *const *ops, sl_op **out)
{
    return build(STACKED_HSTACK, count, ops, out, "sl_op_stacked_hstack");
}
