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

/* Identity element and cross-rank operation of an accumulator kind. */
static double identity_of(sl_acc_combine c)
{
    return c == SL_ACC_MAX ? -INFINITY : c == SL_ACC_MIN ? INFINITY : 0.0;
}

static sl_comm_op comm_op_of(sl_acc_combine c)
{
    return c == SL_ACC_MAX ? SL_COMM_MAX : c == SL_ACC_MIN ? SL_COMM_MIN : SL_COMM_SUM;
}

static sl_status submit_reduction(const sl_darray *x, const sl_darray *y, reduction r,
                                  sl_scalar **out)
{
    sl_context *ctx = x->ctx;
    double init[2] = {identity_of(r.combine), 0.0};
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
        sl_comm_group g = {x->reduce_comm};
        st = sl_comm_allreduce(ctx->comm, g, s->handle, SL_COMM_DOUBLE, comm_op_of(r.combine));
        if (st != SL_OK)
            sl_fail(ctx, st, "allreduce submission failed");
    }
    if (st == SL_OK && r.finish) {
        sl_acc_finish_args fa = {(sl_acc_finish)(r.finish - 1), r.p, 1};
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
        return sl_null_error(__func__);
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

/* The reduction computing a norm of order `ord`. */
static sl_status norm_reduction(const sl_darray *x, double ord, reduction *out, const char *what)
{
    reduction r = {SL_RED_SUM_ABSP, SL_ACC_SUM, ord, 1 + SL_FINISH_ROOT_P};
    if (isnan(ord) || (ord < 0 && !isinf(ord)))
        return sl_fail(x->ctx, SL_ERR_ARG, "%s: ord=%g is not 0, a positive number or "
                       "+/-INFINITY", what, ord);
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
    *out = r;
    return SL_OK;
}

sl_status sl_darray_norm(const sl_darray *x, double ord, sl_scalar **out)
{
    if (!x || !out)
        return sl_null_error(__func__);
    *out = NULL;
    reduction r = {0};
    sl_status st = norm_reduction(x, ord, &r, "sl_darray_norm");
    return st == SL_OK ? submit_reduction(x, NULL, r, out) : st;
}

/* Geometry of the rank's block around the reduced axis (see sl_axis_geometry). */
static void axis_geometry(const sl_darray *x, int axis, size_t *pre, size_t *len, size_t *post)
{
    *pre = *post = 1;
    for (int d = 0; d < x->ndim; d++) {
        size_t n = d == x->axis ? x->local_rows : x->shape[d];
        if (d < axis)
            *pre *= n;
        else if (d > axis)
            *post *= n;
        else
            *len = n;
    }
}

static sl_status submit_axis_tasks(const sl_darray *x, reduction r, size_t post, size_t len,
                                   starpu_data_handle_t acc)
{
    sl_reduce_axis_args args = {r.kind, x->dtype, r.p, {0, len, post}};
    for (size_t t = 0; t < x->ntiles; t++) {
        args.geom.tile_offset = x->tiles[t].row0 * x->inner;
        if (starpu_task_insert(&sl_cl_reduce_axis, STARPU_VALUE, &args, sizeof args,
                               STARPU_REDUX, acc, STARPU_R, x->tiles[t].handle, 0) != 0)
            return sl_fail(x->ctx, SL_ERR_STARPU, "starpu_task_insert failed for norm_axis");
    }
    return SL_OK;
}

sl_status sl_darray_norm_axis(const sl_darray *x, double ord, int axis, double *out,
                              size_t capacity)
{
    if (!x)
        return sl_null_error(__func__);
    sl_context *ctx = x->ctx;
    reduction r = {0};
    sl_status st = norm_reduction(x, ord, &r, "sl_darray_norm_axis");
    if (st != SL_OK)
        return st;
    if (axis < -x->ndim || axis >= x->ndim)
        return sl_fail(ctx, SL_ERR_SHAPE, "sl_darray_norm_axis: axis=%d is invalid for "
                       "ndim=%d", axis, x->ndim);
    axis = axis < 0 ? axis + x->ndim : axis;
    size_t pre, len = 0, post;
    axis_geometry(x, axis, &pre, &len, &post);
    size_t m = pre * post;
    if (!out && m > 0)
        st = sl_fail(ctx, SL_ERR_NULL, "sl_darray_norm_axis: out is NULL");
    else if (capacity < m)
        st = sl_fail(ctx, SL_ERR_ARG, "sl_darray_norm_axis: out holds %zu values, %zu "
                     "needed on rank %d", capacity, m, ctx->rank);
    int collective = axis == x->axis && !sl_darray_is_replicated(x);
    if (collective) {
        /* one rank's bad buffer must not leave the others waiting in the allreduce */
        int64_t a = axis;
        sl_status agreed = sl_agree(ctx, &a, 1, st == SL_OK, "sl_darray_norm_axis");
        st = st != SL_OK ? st : agreed;
    }
    if (st != SL_OK)
        return st;
    if (m == 0)
        return SL_OK; /* along another axis, a rank without rows has no result */
    /* The accumulator: a StarPU vector over the caller's buffer, pre-set to the identity. */
    double init = identity_of(r.combine);
    for (size_t i = 0; i < m; i++)
        out[i] = init;
    starpu_data_handle_t acc;
    starpu_vector_data_register(&acc, STARPU_MAIN_RAM, (uintptr_t)out, (uint32_t)m,
                                sizeof(double));
    sl_acc_set_reduction(acc, r.combine);
    st = submit_axis_tasks(x, r, post, len, acc);
    /* Along the distributed axis every rank holds a part of each sum: combine across ranks. */
    if (st == SL_OK && collective) {
        st = sl_comm_allreduce(ctx->comm, (sl_comm_group){x->reduce_comm}, acc, SL_COMM_DOUBLE,
                               comm_op_of(r.combine));
    }
    if (st == SL_OK && r.finish) {
        sl_acc_finish_args fa = {(sl_acc_finish)(r.finish - 1), r.p, 0};
        if (starpu_task_insert(&sl_cl_acc_finish, STARPU_VALUE, &fa, sizeof fa, STARPU_RW, acc,
                               0) != 0)
            st = sl_fail(ctx, SL_ERR_STARPU, "starpu_task_insert failed for norm_finish");
    }
    starpu_data_unregister(acc); /* waits for the tasks, leaves the result in out */
    return st;
}
