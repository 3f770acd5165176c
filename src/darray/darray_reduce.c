/* Reductions (dot, vdot, norms): per-tile partials in STARPU_REDUX mode into a per-rank
 * accumulator, one allreduce task over the mask's colour group, one finishing task. The caller
 * gets the accumulator as a future; nothing here waits. */
#include <math.h>

#include "codelets.h"
#include "darray/darray_internal.h"

typedef struct reduction {
    sl_reduce_kind kind;
    sl_acc_combine combine;
    double p;
    int finish; /* 0: none, else 1 + sl_acc_finish */
} reduction;

static sl_status submit_reduction(const sl_darray *x, const sl_darray *y, reduction r,
                                  sl_scalar **out)
{
    sl_context *ctx = x->ctx;
    double init[2] = {r.combine == SL_ACC_MAX ? -INFINITY
                      : r.combine == SL_ACC_MIN ? INFINITY : 0.0, 0.0};
    sl_scalar *s;
    sl_status st = sl_scalar_create(ctx, r.combine, init, &s);
    if (st != SL_OK)
        return st;
    sl_reduce_args args = {r.kind, x->dtype, r.p, -1};
    for (size_t t = 0; t < x->ntiles && st == SL_OK; t++) {
        struct starpu_data_descr d[3] = {{s->handle, STARPU_REDUX}, {x->tiles[t].handle, STARPU_R}};
        int n = 2;
        if (y && y != x)
            d[n++] = (struct starpu_data_descr){y->tiles[t].handle, STARPU_R};
        args.ib = y ? n - 1 : -1;
        if (starpu_task_insert(&sl_cl_reduce[r.kind], STARPU_VALUE, &args, sizeof args,
                               STARPU_DATA_MODE_ARRAY, d, n, 0) != 0)
            st = sl_fail(ctx, SL_ERR_STARPU, "starpu_task_insert failed for %s",
                         sl_cl_reduce[r.kind].name);
    }
    /* Replicated arrays hold the whole array on every rank: their local result is global. */
    if (st == SL_OK && !sl_darray_is_replicated(x)) {
        sl_comm_op op = r.combine == SL_ACC_MAX ? SL_COMM_MAX
                        : r.combine == SL_ACC_MIN ? SL_COMM_MIN : SL_COMM_SUM;
        sl_comm_group g = {x->reduce_comm};
        st = sl_comm_allreduce(ctx->comm, g, s->handle, SL_COMM_DOUBLE, op);
        if (st != SL_OK)
            sl_fail(ctx, st, "allreduce submission failed");
    }
    if (st == SL_OK && r.finish) {
        sl_acc_finish_args fa = {(sl_acc_finish)(r.finish - 1), r.p};
        if (starpu_task_insert(&sl_cl_acc_finish, STARPU_VALUE, &fa, sizeof fa, STARPU_RW,
                               s->handle, 0) != 0)
            st = sl_fail(ctx, SL_ERR_STARPU, "starpu_task_insert failed for norm_finish");
    }
    if (st != SL_OK) {
        sl_scalar_destroy(s);
        return st;
    }
    *out = s;
    return SL_OK;
}

static sl_status dot_like(sl_reduce_kind kind, const sl_darray *x, const sl_darray *y,
                          sl_scalar **out, const char *what)
{
    if (!x || !y || !out)
        return SL_ERR_NULL;
    *out = NULL;
    sl_status st = sl_darray_check_compatible(x, y, what);
    if (st != SL_OK)
        return st;
    reduction r = {kind, SL_ACC_SUM, 0, 0};
    return submit_reduction(x, y, r, out);
}

sl_status sl_darray_dot(const sl_darray *x, const sl_darray *y, sl_scalar **out)
{
    return dot_like(SL_RED_DOT, x, y, out, "sl_darray_dot");
}

sl_status sl_darray_vdot(const sl_darray *x, const sl_darray *y, sl_scalar **out)
{
    return dot_like(SL_RED_VDOT, x, y, out, "sl_darray_vdot");
}

sl_status sl_darray_norm(const sl_darray *x, double ord, sl_scalar **out)
{
    if (!x || !out)
        return SL_ERR_NULL;
    *out = NULL;
    reduction r = {SL_RED_SUM_ABSP, SL_ACC_SUM, ord, 1 + SL_FINISH_ROOT_P};
    if (isnan(ord) || (ord < 0 && !isinf(ord)))
        return sl_fail(x->ctx, SL_ERR_ARG, "sl_darray_norm: ord=%g is not 0, a positive number "
                       "or +/-INFINITY", ord);
    if (ord == 2)
        r = (reduction){SL_RED_SUM_ABS2, SL_ACC_SUM, 2, 1 + SL_FINISH_SQRT};
    else if (ord == 1)
        r = (reduction){SL_RED_SUM_ABS, SL_ACC_SUM, 1, 0};
    else if (ord == 0)
        r = (reduction){SL_RED_COUNT_NZ, SL_ACC_SUM, 0, 0};
    else if (isinf(ord) && ord > 0)
        r = (reduction){SL_RED_MAX_ABS, SL_ACC_MAX, ord, 0};
    else if (isinf(ord))
        r = (reduction){SL_RED_MIN_ABS, SL_ACC_MIN, ord, 0};
    return submit_reduction(x, NULL, r, out);
}
