/* Operator algebra: adjoint, scaling, sum and product, each an sl_op composable with any other.
 * Sums and products own one temporary array each, created with the operator (collectively). */
#include <stdlib.h>

#include "ops/op_internal.h"

typedef struct pair_state {
    const sl_op *a, *b;
    double _Complex alpha;
    sl_darray *tmp_forward, *tmp_adjoint; /* scratch arrays, NULL when not needed */
} pair_state;

static void pair_destroy(sl_op *op)
{
    pair_state *s = op->state;
    sl_darray_destroy(s->tmp_forward);
    sl_darray_destroy(s->tmp_adjoint);
    free(s);
}

static sl_status new_state(sl_context *ctx, const sl_op *a, const sl_op *b, pair_state **out)
{
    pair_state *s = calloc(1, sizeof *s);
    if (!s)
        return sl_fail(ctx, SL_ERR_NOMEM, "operator algebra: out of memory");
    s->a = a;
    s->b = b;
    s->alpha = 1;
    *out = s;
    return SL_OK;
}

/* Creates the operator, or frees the state on failure. */
static sl_status finish(sl_context *ctx, const sl_op_vtable *vt, const sl_layout *model,
                        const sl_layout *data, pair_state *s, sl_op **out)
{
    sl_status st = sl_op_new(ctx, vt, model, data, s, out);
    if (st != SL_OK) {
        sl_darray_destroy(s->tmp_forward);
        sl_darray_destroy(s->tmp_adjoint);
        free(s);
    }
    return st;
}

/* --- adjoint --- */
static sl_status adjoint_apply(const sl_op *op, int adjoint, const sl_darray *in, sl_darray *out)
{
    const sl_op *a = ((pair_state *)op->state)->a;
    return a->vt->apply(a, !adjoint, in, out);
}

static const sl_op_vtable adjoint_vt = {"Adjoint", adjoint_apply, pair_destroy};

sl_status sl_op_adjoint(const sl_op *a, sl_op **out)
{
    if (!a || !out)
        return SL_ERR_NULL;
    pair_state *s = NULL;
    sl_status st = new_state(a->ctx, a, NULL, &s);
    return st == SL_OK ? finish(a->ctx, &adjoint_vt, &a->data, &a->model, s, out) : st;
}

/* --- scaling: (alpha A)^H = conj(alpha) A^H --- */
static sl_status scale_apply(const sl_op *op, int adjoint, const sl_darray *in, sl_darray *out)
{
    pair_state *s = op->state;
    sl_status st = s->a->vt->apply(s->a, adjoint, in, out);
    return st == SL_OK ? sl_darray_scale(out, adjoint ? conj(s->alpha) : s->alpha) : st;
}

static const sl_op_vtable scale_vt = {"Scaled", scale_apply, pair_destroy};

sl_status sl_op_scale(const sl_op *a, double _Complex alpha, sl_op **out)
{
    if (!a || !out)
        return SL_ERR_NULL;
    if (cimag(alpha) != 0 && !sl_dtype_is_complex(a->model.dtype))
        return sl_fail(a->ctx, SL_ERR_DTYPE, "sl_op_scale: complex alpha for a %s operator",
                       sl_dtype_name(a->model.dtype));
    pair_state *s = NULL;
    sl_status st = new_state(a->ctx, a, NULL, &s);
    if (st != SL_OK)
        return st;
    s->alpha = alpha;
    return finish(a->ctx, &scale_vt, &a->model, &a->data, s, out);
}

/* --- sum: (A + B) x = A x + B x --- */
static sl_status sum_apply(const sl_op *op, int adjoint, const sl_darray *in, sl_darray *out)
{
    pair_state *s = op->state;
    sl_darray *tmp = adjoint ? s->tmp_adjoint : s->tmp_forward;
    sl_status st = s->a->vt->apply(s->a, adjoint, in, out);
    if (st == SL_OK)
        st = s->b->vt->apply(s->b, adjoint, in, tmp);
    return st == SL_OK ? sl_darray_axpy(1.0, tmp, out) : st;
}

static const sl_op_vtable sum_vt = {"Sum", sum_apply, pair_destroy};

sl_status sl_op_sum(const sl_op *a, const sl_op *b, sl_op **out)
{
    if (!a || !b || !out)
        return SL_ERR_NULL;
    sl_context *ctx = a->ctx;
    if (!sl_layout_equal(&a->model, &b->model, ctx->size) ||
        !sl_layout_equal(&a->data, &b->data, ctx->size))
        return sl_fail(ctx, SL_ERR_SHAPE, "sl_op_sum: %s and %s have different model or data "
                       "layouts", a->vt->name, b->vt->name);
    pair_state *s = NULL;
    sl_status st = new_state(ctx, a, b, &s);
    if (st == SL_OK)
        st = sl_layout_create(ctx, &a->data, &s->tmp_forward);
    if (st == SL_OK)
        st = sl_layout_create(ctx, &a->model, &s->tmp_adjoint);
    if (st != SL_OK) {
        if (s)
            pair_destroy(&(sl_op){.state = s});
        return st;
    }
    return finish(ctx, &sum_vt, &a->model, &a->data, s, out);
}

/* --- product: (A B) x = A (B x); (A B)^H y = B^H (A^H y) --- */
static sl_status product_apply(const sl_op *op, int adjoint, const sl_darray *in,
                               sl_darray *out)
{
    pair_state *s = op->state;
    const sl_op *first = adjoint ? s->a : s->b, *second = adjoint ? s->b : s->a;
    sl_status st = first->vt->apply(first, adjoint, in, s->tmp_forward);
    return st == SL_OK ? second->vt->apply(second, adjoint, s->tmp_forward, out) : st;
}

static const sl_op_vtable product_vt = {"Product", product_apply, pair_destroy};

sl_status sl_op_product(const sl_op *a, const sl_op *b, sl_op **out)
{
    if (!a || !b || !out)
        return SL_ERR_NULL;
    sl_context *ctx = a->ctx;
    if (!sl_layout_equal(&a->model, &b->data, ctx->size))
        return sl_fail(ctx, SL_ERR_SHAPE, "sl_op_product: the model of %s (%zu elements) is "
                       "not laid out like the data of %s (%zu elements)", a->vt->name,
                       sl_layout_count(&a->model), b->vt->name, sl_layout_count(&b->data));
    pair_state *s = NULL;
    sl_status st = new_state(ctx, a, b, &s);
    if (st == SL_OK)
        st = sl_layout_create(ctx, &b->data, &s->tmp_forward);
    if (st != SL_OK) {
        if (s)
            pair_destroy(&(sl_op){.state = s});
        return st;
    }
    return finish(ctx, &product_vt, &b->model, &a->data, s, out);
}
