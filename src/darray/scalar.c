/* Scalar futures: a per-rank StarPU vector of two doubles (re, im) that reduction tasks write
 * and later tasks read; only sl_scalar_get makes the host wait. */
#include <stdlib.h>

#include "codelets.h"
#include "darray/darray_internal.h"

sl_status sl_scalar_create(sl_context *ctx, int combine, const double init[2], sl_scalar **out)
{
    sl_scalar *s = calloc(1, sizeof *s);
    if (!s)
        return sl_fail(ctx, SL_ERR_NOMEM, "cannot allocate a scalar");
    s->ctx = ctx;
    /* Home node -1: StarPU owns the storage, so destroy can be asynchronous. */
    starpu_vector_data_register(&s->handle, -1, 0, 2, sizeof(double));
    sl_acc_set_reduction(s->handle, (sl_acc_combine)combine);
    int ret = sl_task_scalar_set(init, s->handle);
    if (ret != 0) {
        starpu_data_unregister(s->handle);
        free(s);
        return sl_fail(ctx, SL_ERR_STARPU, "starpu_task_insert failed (%d) for a scalar", ret);
    }
    *out = s;
    return SL_OK;
}

sl_status sl_scalar_read(const sl_scalar *s, double _Complex *value)
{
    s->ctx->host_waits++;
    if (starpu_data_acquire(s->handle, STARPU_R) != 0)
        return sl_fail(s->ctx, SL_ERR_STARPU, "sl_scalar_get: starpu_data_acquire failed");
    const double *v = (const double *)starpu_data_get_local_ptr(s->handle);
    *value = CMPLX(v[0], v[1]);
    starpu_data_release(s->handle);
    return SL_OK;
}

sl_status sl_scalar_read_real(const sl_scalar *s, double *value)
{
    double _Complex z = 0;
    sl_status st = sl_scalar_read(s, &z);
    *value = creal(z);
    return st;
}

/* The value is written even when a failure is reported (it is NaN if a reduction failed). */
sl_status sl_scalar_get(sl_scalar *s, double _Complex *value)
{
    if (!s || !value)
        return sl_null_error(__func__);
    sl_status st = sl_scalar_read(s, value);
    return st == SL_OK ? sl_async_check(s->ctx, "sl_scalar_get") : st;
}

sl_status sl_scalar_get_real(sl_scalar *s, double *value)
{
    if (!value)
        return sl_null_error(__func__);
    double _Complex z = 0;
    sl_status st = sl_scalar_get(s, &z);
    *value = creal(z);
    return st;
}

sl_status sl_scalar_destroy(sl_scalar *s)
{
    if (!s)
        return SL_OK;
    starpu_data_unregister_submit(s->handle);
    free(s);
    return SL_OK;
}

sl_status sl_scalar_ratio(sl_context *ctx, const sl_scalar *num, const sl_scalar *den1,
                          const sl_scalar *den2, double w, const sl_ratio_guard *guard,
                          sl_scalar **out)
{
    double zero[2] = {0, 0};
    sl_status st = sl_scalar_create(ctx, 0, zero, out);
    if (st != SL_OK)
        return st;
    if (sl_task_scalar_ratio((*out)->handle, num->handle, den1->handle,
                             den2 ? den2->handle : NULL, w, guard ? guard->handle : NULL,
                             guard ? (double)guard->completed : 0) != 0) {
        sl_scalar_destroy(*out);
        *out = NULL;
        return sl_fail(ctx, SL_ERR_STARPU, "starpu_task_insert failed for scalar_ratio");
    }
    return SL_OK;
}
