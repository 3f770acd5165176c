/* Operator core: layouts, validation of matvec/rmatvec arguments, creation of model/data. */
#include <stdlib.h>
#include <string.h>

#include "ops/op_internal.h"

sl_status sl_layout_from_darray(const sl_darray *x, sl_layout *l)
{
    int n = x->ctx->size;
    memset(l, 0, sizeof *l);
    l->dtype = x->dtype;
    l->ndim = x->ndim;
    memcpy(l->shape, x->shape, sizeof l->shape);
    l->partition = x->partition;
    l->axis = x->axis;
    l->local_sizes = malloc((size_t)n * sizeof(size_t));
    if (!l->local_sizes)
        return SL_ERR_NOMEM;
    memcpy(l->local_sizes, x->local_rows_of, (size_t)n * sizeof(size_t));
    if (x->mask) {
        l->mask = malloc((size_t)n * sizeof(int));
        if (!l->mask)
            return SL_ERR_NOMEM;
        memcpy(l->mask, x->mask, (size_t)n * sizeof(int));
    }
    return SL_OK;
}

void sl_layout_free(sl_layout *l)
{
    free(l->local_sizes);
    free(l->mask);
    l->local_sizes = NULL;
    l->mask = NULL;
}

sl_status sl_layout_create(sl_context *ctx, const sl_layout *l, sl_darray **out)
{
    return sl_darray_create(ctx, l->dtype, l->ndim, l->shape, l->partition, l->axis,
                            l->partition == SL_SCATTER ? l->local_sizes : NULL, l->mask, out);
}

size_t sl_layout_count(const sl_layout *l)
{
    size_t n = 1;
    for (int d = 0; d < l->ndim; d++)
        n *= l->shape[d];
    return n;
}

int sl_layout_equal(const sl_layout *a, const sl_layout *b, int nranks)
{
    if (a->dtype != b->dtype || a->ndim != b->ndim || a->partition != b->partition ||
        a->axis != b->axis || memcmp(a->shape, b->shape, (size_t)a->ndim * sizeof(size_t)) ||
        memcmp(a->local_sizes, b->local_sizes, (size_t)nranks * sizeof(size_t)))
        return 0;
    if ((a->mask == NULL) != (b->mask == NULL))
        return 0;
    return !a->mask || !memcmp(a->mask, b->mask, (size_t)nranks * sizeof(int));
}

sl_status sl_layout_check(sl_context *ctx, const sl_layout *l, const sl_darray *x,
                          const char *what)
{
    if (x->ctx != ctx)
        return sl_fail(ctx, SL_ERR_ARG, "%s: array of another context", what);
    if (x->dtype != l->dtype)
        return sl_fail(ctx, SL_ERR_DTYPE, "%s: array is %s, operator expects %s", what,
                       sl_dtype_name(x->dtype), sl_dtype_name(l->dtype));
    if (x->ndim != l->ndim || memcmp(x->shape, l->shape, (size_t)l->ndim * sizeof(size_t)))
        return sl_fail(ctx, SL_ERR_SHAPE, "%s: array has %zu elements in %d dims, operator "
                       "expects %zu in %d dims", what, x->outer * x->shape[x->axis] * x->inner,
                       x->ndim, sl_layout_count(l), l->ndim);
    if (x->partition != l->partition)
        return sl_fail(ctx, SL_ERR_PARTITION, "%s: array partition %d, operator expects %d",
                       what, (int)x->partition, (int)l->partition);
    if (x->axis != l->axis ||
        memcmp(x->local_rows_of, l->local_sizes, (size_t)ctx->size * sizeof(size_t)))
        return sl_fail(ctx, SL_ERR_SHAPE, "%s: array split differs from the operator's (rank "
                       "%d holds %zu rows along axis %d, expected %zu along axis %d)", what,
                       ctx->rank, x->local_rows, x->axis, l->local_sizes[ctx->rank], l->axis);
    if ((x->mask == NULL) != (l->mask == NULL) ||
        (x->mask && memcmp(x->mask, l->mask, (size_t)ctx->size * sizeof(int))))
        return sl_fail(ctx, SL_ERR_MASK, "%s: array mask differs from the operator's", what);
    return SL_OK;
}

static sl_status layout_clone(const sl_layout *src, sl_layout *dst, int nranks)
{
    *dst = *src;
    dst->local_sizes = malloc((size_t)nranks * sizeof(size_t));
    dst->mask = src->mask ? malloc((size_t)nranks * sizeof(int)) : NULL;
    if (!dst->local_sizes || (src->mask && !dst->mask)) {
        sl_layout_free(dst);
        return SL_ERR_NOMEM;
    }
    memcpy(dst->local_sizes, src->local_sizes, (size_t)nranks * sizeof(size_t));
    if (src->mask)
        memcpy(dst->mask, src->mask, (size_t)nranks * sizeof(int));
    return SL_OK;
}

sl_status sl_op_new(sl_context *ctx, const sl_op_vtable *vt, const sl_layout *model,
                    const sl_layout *data, void *state, sl_op **out)
{
    sl_op *op = calloc(1, sizeof *op);
    if (!op || layout_clone(model, &op->model, ctx->size) != SL_OK ||
        layout_clone(data, &op->data, ctx->size) != SL_OK) {
        if (op) {
            sl_layout_free(&op->model);
            free(op);
        }
        return sl_fail(ctx, SL_ERR_NOMEM, "%s: out of memory", vt->name);
    }
    op->ctx = ctx;
    op->vt = vt;
    op->state = state;
    *out = op;
    return SL_OK;
}

static sl_status apply_checked(const sl_op *op, int adjoint, const sl_darray *in, sl_darray *out)
{
    if (!op || !in || !out)
        return SL_ERR_NULL;
    const sl_layout *lin = adjoint ? &op->data : &op->model;
    const sl_layout *lout = adjoint ? &op->model : &op->data;
    const char *what = adjoint ? "sl_op_rmatvec" : "sl_op_matvec";
    sl_status st = sl_layout_check(op->ctx, lin, in, what);
    if (st == SL_OK)
        st = sl_layout_check(op->ctx, lout, out, what);
    if (st == SL_OK && (const sl_darray *)out == in)
        st = sl_fail(op->ctx, SL_ERR_ARG, "%s (%s): input and output must be different "
                     "arrays", what, op->vt->name);
    return st == SL_OK ? op->vt->apply(op, adjoint, in, out) : st;
}

sl_status sl_op_matvec(const sl_op *op, const sl_darray *x, sl_darray *y)
{
    return apply_checked(op, 0, x, y);
}

sl_status sl_op_rmatvec(const sl_op *op, const sl_darray *y, sl_darray *x)
{
    return apply_checked(op, 1, y, x);
}

sl_status sl_op_create_model(const sl_op *op, sl_darray **x)
{
    if (!op || !x)
        return SL_ERR_NULL;
    return sl_layout_create(op->ctx, &op->model, x);
}

sl_status sl_op_create_data(const sl_op *op, sl_darray **y)
{
    if (!op || !y)
        return SL_ERR_NULL;
    return sl_layout_create(op->ctx, &op->data, y);
}

sl_status sl_op_shape(const sl_op *op, size_t *n_data, size_t *n_model)
{
    if (!op || !n_data || !n_model)
        return SL_ERR_NULL;
    *n_data = sl_layout_count(&op->data);
    *n_model = sl_layout_count(&op->model);
    return SL_OK;
}

sl_status sl_op_dtype(const sl_op *op, sl_dtype *dtype)
{
    if (!op || !dtype)
        return SL_ERR_NULL;
    *dtype = op->model.dtype;
    return SL_OK;
}

sl_status sl_op_destroy(sl_op *op)
{
    if (!op)
        return SL_OK;
    if (op->vt->destroy)
        op->vt->destroy(op);
    sl_layout_free(&op->model);
    sl_layout_free(&op->data);
    free(op);
    return SL_OK;
}
