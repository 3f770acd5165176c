/* Operator algebra: adjoint, scaling, sum and product, conjugate, transpose and power, each an
 * sl_op composable with any other, plain or stacked (they work on stacks, where a plain array
 * is a stack of one). Sums, products and the rest own their scratch vectors, created with the
 * operator (collectively). */
#include <stdlib.h>

#include "ops/op_internal.h"

typedef struct algebra_state {
    const sl_op *a, *b;
    double _Complex alpha;
    int p;                   /* power */
    int transpose;           /* conj-like: A^T rather than conj(A) */
    sl_stacked *scratch[2];  /* owned, NULL when not needed */
} algebra_state;

static void algebra_destroy(sl_op *op)
{
    algebra_state *s = op->state;
    sl_stacked_destroy(s->scratch[0]);
    sl_stacked_destroy(s->scratch[1]);
    free(s);
}

/* Makes the operator over the given spaces with two optional scratch vectors, or frees all. */
static sl_status make(const sl_op_vtable *vt, const sl_op *a, const sl_op *b,
                      const sl_space *model, const sl_space *data, const sl_space *scratch0,
                      const sl_space *scratch1, algebra_state proto, sl_op **out)
{
    sl_context *ctx = a->ctx;
    algebra_state *s = malloc(sizeof *s);
    if (!s)
        return sl_fail(ctx, SL_ERR_NOMEM, "operator algebra: out of memory");
    *s = proto;
    s->a = a;
    s->b = b;
    s->scratch[0] = s->scratch[1] = NULL;
    sl_status st = SL_OK;
    if (scratch0)
        st = sl_space_create(ctx, scratch0, &s->scratch[0]);
    if (st == SL_OK && scratch1)
        st = sl_space_create(ctx, scratch1, &s->scratch[1]);
    if (st == SL_OK)
        st = sl_op_new_spaces(ctx, vt, model, data, s, out);
    if (st != SL_OK)
        algebra_destroy(&(sl_op){.state = s});
    return st;
}

static const algebra_state plain = {.alpha = 1};

/* --- adjoint --- */
static sl_status adjoint_apply(const sl_op *op, int adjoint, const sl_stacked *in,
                               sl_stacked *out)
{
    const algebra_state *s = op->state;
    return sl_op_apply(s->a, !adjoint, in, out);
}

static const sl_op_vtable adjoint_vt = {
    .name = "Adjoint",
    .destroy = algebra_destroy,
    .apply_stacked = adjoint_apply,
};

sl_status sl_op_adjoint(const sl_op *a, sl_op **out)
{
    if (!a || !out)
        return sl_null_error(__func__);
    return make(&adjoint_vt, a, NULL, &a->data, &a->model, NULL, NULL, plain, out);
}

/* --- scaling: (alpha A)^H = conj(alpha) A^H --- */
static sl_status scale_apply(const sl_op *op, int adjoint, const sl_stacked *in, sl_stacked *out)
{
    const algebra_state *s = op->state;
    sl_status st = sl_op_apply(s->a, adjoint, in, out);
    return st == SL_OK ? sl_stacked_scale(out, adjoint ? conj(s->alpha) : s->alpha) : st;
}

static const sl_op_vtable scale_vt = {
    .name = "Scaled",
    .destroy = algebra_destroy,
    .apply_stacked = scale_apply,
};

/* A complex factor would be silently dropped by a real component. */
static int space_is_real(const sl_space *s)
{
    for (int i = 0; i < s->count; i++)
        if (sl_dtype_is_complex(s->layouts[i].dtype))
            return 0;
    return 1;
}

sl_status sl_op_scale(const sl_op *a, double _Complex alpha, sl_op **out)
{
    if (!a || !out)
        return sl_null_error(__func__);
    if (cimag(alpha) != 0 && (space_is_real(&a->model) || space_is_real(&a->data)))
        return sl_fail(a->ctx, SL_ERR_DTYPE, "sl_op_scale: complex alpha for %s, which has a "
                       "real (%s) side", a->vt->name, sl_dtype_name(sl_op_model_layout(a)->dtype));
    algebra_state proto = plain;
    proto.alpha = alpha;
    return make(&scale_vt, a, NULL, &a->model, &a->data, NULL, NULL, proto, out);
}

/* --- sum: (A + B) x = A x + B x; scratch 0 holds B x, scratch 1 B^H y --- */
static sl_status sum_apply(const sl_op *op, int adjoint, const sl_stacked *in, sl_stacked *out)
{
    const algebra_state *s = op->state;
    sl_stacked *tmp = s->scratch[adjoint];
    sl_status st = sl_op_apply(s->a, adjoint, in, out);
    if (st == SL_OK)
        st = sl_op_apply(s->b, adjoint, in, tmp);
    return st == SL_OK ? sl_stacked_axpy(1.0, tmp, out) : st;
}

static const sl_op_vtable sum_vt = {
    .name = "Sum",
    .destroy = algebra_destroy,
    .apply_stacked = sum_apply,
};

sl_status sl_op_sum(const sl_op *a, const sl_op *b, sl_op **out)
{
    if (!a || !b || !out)
        return sl_null_error(__func__);
    sl_context *ctx = a->ctx;
    if (!sl_space_equal(&a->model, &b->model, ctx->size) ||
        !sl_space_equal(&a->data, &b->data, ctx->size))
        return sl_fail(ctx, SL_ERR_SHAPE, "sl_op_sum: %s and %s have different model or data "
                       "layouts", a->vt->name, b->vt->name);
    return make(&sum_vt, a, b, &a->model, &a->data, &a->data, &a->model, plain, out);
}

/* --- product: (A B) x = A (B x); (A B)^H y = B^H (A^H y); scratch 0 is B's data --- */
static sl_status product_apply(const sl_op *op, int adjoint, const sl_stacked *in,
                               sl_stacked *out)
{
    const algebra_state *s = op->state;
    const sl_op *first = adjoint ? s->a : s->b, *second = adjoint ? s->b : s->a;
    sl_status st = sl_op_apply(first, adjoint, in, s->scratch[0]);
    return st == SL_OK ? sl_op_apply(second, adjoint, s->scratch[0], out) : st;
}

static const sl_op_vtable product_vt = {
    .name = "Product",
    .destroy = algebra_destroy,
    .apply_stacked = product_apply,
};

sl_status sl_op_product(const sl_op *a, const sl_op *b, sl_op **out)
{
    if (!a || !b || !out)
        return sl_null_error(__func__);
    sl_context *ctx = a->ctx;
    if (!sl_space_equal(&a->model, &b->data, ctx->size))
        return sl_fail(ctx, SL_ERR_SHAPE, "sl_op_product: the model of %s (%zu elements in %d "
                       "components) is not laid out like the data of %s (%zu elements in %d)",
                       a->vt->name, sl_space_count(&a->model), a->model.count, b->vt->name,
                       sl_space_count(&b->data), b->data.count);
    return make(&product_vt, a, b, &b->model, &a->data, &b->data, NULL, plain, out);
}

/* Destroys ops[n-1] ... ops[0]: later entries may borrow earlier ones, never the reverse. */
static void destroy_backwards(int n, sl_op *const *ops)
{
    for (int i = n - 1; i >= 0; i--)
        sl_op_destroy(ops[i]);
}

sl_status sl_op_chain(int n, sl_op *const *ops, int nextra, sl_op *const *extra, sl_op **out)
{
    enum { MAX = 16 };
    *out = NULL;
    sl_op *products[MAX] = {0}, *prod = ops[0];
    int np = 0;
    sl_status st = n <= MAX && nextra <= MAX ? SL_OK
                   : sl_fail(ops[0]->ctx, SL_ERR_ARG, "sl_op_chain: %d factors, %d extra (at "
                             "most %d each)", n, nextra, MAX);
    for (int k = 1; k < n && st == SL_OK; k++)
        if ((st = sl_op_product(ops[k], prod, &products[np])) == SL_OK)
            prod = products[np++];
    /* the result owns, destroyed in this order: the older products (each borrowing the one
     * before), the factors from the last, then what they borrow */
    sl_op *owned[3 * MAX];
    int m = 0;
    for (int i = np - 2; i >= 0 && st == SL_OK; i--)
        owned[m++] = products[i];
    for (int k = n - 1; k >= 0 && st == SL_OK; k--)
        if (ops[k] != prod)
            owned[m++] = ops[k];
    for (int k = nextra - 1; k >= 0 && st == SL_OK; k--)
        owned[m++] = extra[k];
    if (st == SL_OK && m > 0)
        st = sl_op_take(prod, m, owned);
    if (st != SL_OK) {
        destroy_backwards(np, products);
        destroy_backwards(n, ops);
        destroy_backwards(nextra, extra);
        return st;
    }
    *out = prod;
    return SL_OK;
}

/* --- conjugate and transpose: conj(A) x = conj(A conj(x)); A^T = conj(A)^H.
 * Scratch 0 holds conj of A's model-side input, scratch 1 of its data-side input. --- */
static sl_status conj_apply(const sl_op *op, int adjoint, const sl_stacked *in, sl_stacked *out)
{
    const algebra_state *s = op->state;
    int base_adjoint = s->transpose ? !adjoint : adjoint;
    sl_stacked *tmp = s->scratch[base_adjoint];
    sl_status st = sl_stacked_conj(in, tmp);
    if (st == SL_OK)
        st = sl_op_apply(s->a, base_adjoint, tmp, out);
    return st == SL_OK ? sl_stacked_conj(out, out) : st;
}

static const sl_op_vtable conj_vt = {
    .name = "Conj",
    .destroy = algebra_destroy,
    .apply_stacked = conj_apply,
};
static const sl_op_vtable transpose_vt = {
    .name = "Transpose",
    .destroy = algebra_destroy,
    .apply_stacked = conj_apply,
};

static sl_status conj_like(const sl_op *a, int transpose, sl_op **out)
{
    if (!a || !out)
        return sl_null_error(__func__);
    algebra_state proto = plain;
    proto.transpose = transpose;
    return transpose ? make(&transpose_vt, a, NULL, &a->data, &a->model, &a->model, &a->data,
                            proto, out)
                     : make(&conj_vt, a, NULL, &a->model, &a->data, &a->model, &a->data, proto,
                            out);
}

sl_status sl_op_conj(const sl_op *a, sl_op **out)
{
    return conj_like(a, 0, out);
}

sl_status sl_op_transpose(const sl_op *a, sl_op **out)
{
    return conj_like(a, 1, out);
}

/* --- integer power of a square operator: A^p x applies A p times (p = 0: identity);
 * the two scratch vectors ping-pong between applications --- */
static sl_status power_apply(const sl_op *op, int adjoint, const sl_stacked *in, sl_stacked *out)
{
    const algebra_state *s = op->state;
    if (s->p == 0)
        return sl_stacked_copy(in, out);
    const sl_stacked *src = in;
    sl_status st = SL_OK;
    for (int i = 0; i < s->p && st == SL_OK; i++) {
        sl_stacked *dst = i == s->p - 1 ? out : s->scratch[i % 2];
        st = sl_op_apply(s->a, adjoint, src, dst);
        src = dst;
    }
    return st;
}

static const sl_op_vtable power_vt = {
    .name = "Power",
    .destroy = algebra_destroy,
    .apply_stacked = power_apply,
};

sl_status sl_op_power(const sl_op *a, int p, sl_op **out)
{
    if (!a || !out)
        return sl_null_error(__func__);
    sl_context *ctx = a->ctx;
    /* make() below is collective: a p refused on one rank only must fail everywhere */
    int64_t pv = p;
    if (p < 0)
        sl_fail(ctx, SL_ERR_ARG, "sl_op_power: p=%d is negative", p);
    sl_status agreed = sl_agree(ctx, &pv, 1, p >= 0, "sl_op_power");
    if (agreed != SL_OK)
        return agreed;
    if (!sl_space_equal(&a->model, &a->data, ctx->size))
        return sl_fail(ctx, SL_ERR_SHAPE, "sl_op_power: %s is not square (model and data "
                       "layouts differ)", a->vt->name);
    algebra_state proto = plain;
    proto.p = p;
    return make(&power_vt, a, NULL, &a->model, &a->data, &a->model, &a->model, proto, out);
}
