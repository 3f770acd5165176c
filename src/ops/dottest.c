/* PyLops' dottest: <A x, y> against <x, A^H y> for random x and y (plain or stacked). */
#include <math.h>

#include "ops/op_internal.h"

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
