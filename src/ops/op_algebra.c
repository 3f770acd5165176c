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

/* --- conjugate and transpose: conj(A) x = conj(A conj(x)); A^T = conj(A)^H --- */
typedef struct conj_state {
    const sl_op *a;
    int transpose;
    sl_darray *tmp_model, *tmp_data; /* conj of the input, per input layout of A */
} conj_state;

static sl_status conj_apply(const sl_op *op, int adjoint, const sl_darray *in, sl_darray *out)
{
    conj_state *s = op->state;
    int base_adjoint = s->transpose ? !adjoint : adjoint;
    sl_darray *tmp = base_adjoint ? s->tmp_data : s->tmp_model;
    sl_status st = sl_darray_conj(in, tmp);
    if (st == SL_OK)
        st = s->a->vt->apply(s->a, base_adjoint, tmp, out);
    return st == SL_OK ? sl_darray_conj(out, out) : st;
}

static void conj_destroy(sl_op *op)
{
    conj_state *s = op->state;
    sl_darray_destroy(s->tmp_model);
    sl_darray_destroy(s->tmp_data);
    free(s);
}

static const sl_op_vtable conj_vt = {"Conj", conj_apply, conj_destroy};
static const sl_op_vtable transpose_vt = {"Transpose", conj_apply, conj_destroy};

static sl_status conj_like(const sl_op *a, int transpose, sl_op **out)
{
    if (!a || !out)
        return SL_ERR_NULL;
    conj_state *s = calloc(1, sizeof *s);
    if (!s)
        return sl_fail(a->ctx, SL_ERR_NOMEM, "operator algebra: out of memory");
    s->a = a;
    s->transpose = transpose;
    sl_status st = sl_layout_create(a->ctx, &a->model, &s->tmp_model);
    if (st == SL_OK)
        st = sl_layout_create(a->ctx, &a->data, &s->tmp_data);
    if (st == SL_OK)
        st = transpose ? sl_op_new(a->ctx, &transpose_vt, &a->data, &a->model, s, out)
                       : sl_op_new(a->ctx, &conj_vt, &a->model, &a->data, s, out);
    if (st != SL_OK)
        conj_destroy(&(sl_op){.state = s});
    return st;
}

sl_status sl_op_conj(const sl_op *a, sl_op **out)
{
    return conj_like(a, 0, out);
}

sl_status sl_op_transpose(const sl_op *a, sl_op **out)
{
    return conj_like(a, 1, out);
}

/* --- integer power of a square operator: A^p x applies A p times (p = 0: identity) --- */
typedef struct power_state {
    const sl_op *a;
    int p;
    sl_darray *tmp[2]; /* ping-pong between applications */
} power_state;

static sl_status power_apply(const sl_op *op, int adjoint, const sl_darray *in, sl_darray *out)
{
    power_state *s = op->state;
    if (s->p == 0)
        return sl_darray_copy(in, out);
    const sl_darray *src = in;
    sl_status st = SL_OK;
    for (int i = 0; i < s->p && st == SL_OK; i++) {
        sl_darray *dst = i == s->p - 1 ? out : s->tmp[i % 2];
        st = s->a->vt->apply(s->a, adjoint, src, dst);
        src = dst;
    }
    return st;
}

static void power_destroy(sl_op *op)
{
    power_state *s = op->state;
    sl_darray_destroy(s->tmp[0]);
    sl_darray_destroy(s->tmp[1]);
    free(s);
}

static const sl_op_vtable power_vt = {"Power", power_apply, power_destroy};

sl_status sl_op_power(const sl_op *a, int p, sl_op **out)
{
    if (!a || !out)
        return SL_ERR_NULL;
    sl_context *ctx = a->ctx;
    if (p < 0)
        return sl_fail(ctx, SL_ERR_ARG, "sl_op_power: p=%d is negative", p);
    if (!sl_layout_equal(&a->model, &a->data, ctx->size))
        return sl_fail(ctx, SL_ERR_SHAPE, "sl_op_power: %s is not square (model and data "
                       "layouts differ)", a->vt->name);
    power_state *s = calloc(1, sizeof *s);
    if (!s)
        return sl_fail(ctx, SL_ERR_NOMEM, "operator algebra: out of memory");
    s->a = a;
    s->p = p;
    sl_status st = sl_layout_create(ctx, &a->model, &s->tmp[0]);
    if (st == SL_OK)
        st = sl_layout_create(ctx, &a->model, &s->tmp[1]);
    if (st == SL_OK)
        st = sl_op_new(ctx, &power_vt, &a->model, &a->data, s, out);
    if (st != SL_OK)
        power_destroy(&(sl_op){.state = s});
    return st;
}
