/* PyLops' dottest: <A x, y> against <x, A^H y> for random x and y. */
#include <math.h>

#include "ops/op_internal.h"

sl_status sl_dottest(const sl_op *op, double rtol, int *passed, double *err)
{
    if (!op || !passed)
        return SL_ERR_NULL;
    sl_darray *x = NULL, *y = NULL, *ax = NULL, *aty = NULL;
    sl_scalar *s1 = NULL, *s2 = NULL;
    sl_status st = sl_op_create_model(op, &x);
    if (st == SL_OK) st = sl_op_create_model(op, &aty);
    if (st == SL_OK) st = sl_op_create_data(op, &y);
    if (st == SL_OK) st = sl_op_create_data(op, &ax);
    if (st == SL_OK) st = sl_darray_random(x, 1234);
    if (st == SL_OK) st = sl_darray_random(y, 5678);
    if (st == SL_OK) st = sl_op_matvec(op, x, ax);
    if (st == SL_OK) st = sl_op_rmatvec(op, y, aty);
    if (st == SL_OK) st = sl_darray_vdot(y, ax, &s1);  /* y^H (A x) */
    if (st == SL_OK) st = sl_darray_vdot(aty, x, &s2); /* (A^H y)^H x */
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
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    sl_darray_destroy(ax);
    sl_darray_destroy(aty);
    return st;
}
