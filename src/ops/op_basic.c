/* Identity and Diagonal operators. */
#include <stdlib.h>

#include "ops/op_internal.h"

static sl_status identity_apply(const sl_op *op, int adjoint, const sl_darray *in,
                                sl_darray *out)
{
    (void)op;
    (void)adjoint;
    return sl_darray_copy(in, out);
}

static const sl_op_vtable identity_vt = {
    .name = "Identity",
    .apply = identity_apply,
    .destroy = NULL,
};

sl_status sl_op_identity(const sl_darray *like, sl_op **out)
{
    if (!like || !out)
        return sl_null_error(__func__);
    sl_layout l;
    sl_status st = sl_layout_from_darray(like, &l);
    if (st == SL_OK)
        st = sl_op_new(like->ctx, &identity_vt, &l, &l, NULL, out);
    sl_layout_free(&l);
    return st;
}

/* y = d * x; adjoint x = conj(d) * y. */
static sl_status diagonal_apply(const sl_op *op, int adjoint, const sl_darray *in,
                                sl_darray *out)
{
    const sl_darray *d = op->state;
    return adjoint ? sl_darray_conj_multiply(d, in, out) : sl_darray_multiply(d, in, out);
}

static const sl_op_vtable diagonal_vt = {
    .name = "Diagonal",
    .apply = diagonal_apply,
    .destroy = NULL,
};

sl_status sl_op_diagonal(const sl_darray *d, sl_op **out)
{
    if (!d || !out)
        return sl_null_error(__func__);
    sl_layout l;
    sl_status st = sl_layout_from_darray(d, &l);
    if (st == SL_OK)
        st = sl_op_new(d->ctx, &diagonal_vt, &l, &l, (void *)d, out);
    sl_layout_free(&l);
    return st;
}
