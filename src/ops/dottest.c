/* PyLops' dottest: <A x, y> against <x, A^H y> for random x and y (plain or stacked). */
#include <complex.h>
#include <math.h>

#include "ops/op_internal.h"

/* Real and complex components among the model's and data's: the operator is then only
 * R-linear (e.g. an FFT of a real model), so, as PyLops does for an operator whose clinear is
 * false, the test compares the real parts, the inner product of complex numbers seen as
 * pairs of reals. */
static int r_linear(const sl_op *op)
{
    int seen[2] = {0, 0};
    const sl_space *sp[2] = {&op->model, &op->data};
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < sp[s]->count; i++)
            seen[sl_dtype_is_complex(sp[s]->layouts[i].dtype)] = 1;
    return seen[0] && seen[1];
}

sl_status sl_dottest(const sl_op *op, double rtol, int *passed, double *err)
{
    if (!op || !passed)
        return sl_null_error(__func__);
    sl_stacked *x = NULL, *y = NULL, *ax = NULL, *aty = NULL;
    sl_scalar *s1 = NULL, *s2 = NULL;
    sl_status st = sl_space_create(op->ctx, &op->model, &x);
    if (st == SL_OK) st = sl_space_create(op->ctx, &op->model, &aty);
    if (st == SL_OK) st = sl_space_create(op->ctx, &op->data, &y);
    if (st == SL_OK) st = sl_space_create(op->ctx, &op->data, &ax);
    if (st == SL_OK) st = sl_stacked_random(x, 1234);
    if (st == SL_OK) st = sl_stacked_random(y, 5678);
    if (st == SL_OK) st = sl_op_apply(op, 0, x, ax);
    if (st == SL_OK) st = sl_op_apply(op, 1, y, aty);
    if (st == SL_OK) st = sl_stacked_vdot(y, ax, &s1);  /* y^H (A x) */
    if (st == SL_OK) st = sl_stacked_vdot(aty, x, &s2); /* (A^H y)^H x */
    double _Complex v1 = 0, v2 = 0;
    if (st == SL_OK) st = sl_scalar_get(s1, &v1);
    if (st == SL_OK) st = sl_scalar_get(s2, &v2);
    if (st == SL_OK && r_linear(op)) {
        v1 = creal(v1);
        v2 = creal(v2);
    }
    if (st == SL_OK) {
        double scale = fmax(cabs(v1), cabs(v2)), e = scale > 0 ? cabs(v1 - v2) / scale : 0;
        *passed = e <= rtol;
        if (err)
            *err = e;
    }
    sl_scalar_destroy(s1);
    sl_scalar_destroy(s2);
    sl_stacked_destroy(x);
    sl_stacked_destroy(y);
    sl_stacked_destroy(ax);
    sl_stacked_destroy(aty);
    return st;
}
