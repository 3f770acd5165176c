/* Reductions (dot, vdot, norms): per-tile partials in STARPU_REDUX mode into a per-rank
 * accumulator, one allreduce task over the mask's colour group, one finishing task. The caller
 * gets the accumulator as a future; nothing here waits. */
#include <math.h>
#include <string.h>

#include "codelets.h"
#include "darray/stacked_internal.h"

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

/* A reduction's steps after its tile partials: the cross-rank allreduce (skipped for
 * replicated arrays, whose local result is global) and the finishing task. */
typedef struct pending_reduction {
    starpu_data_handle_t acc;
    MPI_Comm comm;          /* MPI_COMM_NULL: no allreduce */
    sl_comm_op op;
    reduction r;
} pending_reduction;

struct sl_reduce_batch {
    sl_context *ctx;
    pending_reduction *items;
    int count, capacity;
};

sl_status sl_reduce_batch_create(sl_context *ctx, sl_reduce_batch **out)
{
    sl_reduce_batch *b = calloc(1, sizeof *b);
    if (!b)
        return sl_fail(ctx, SL_ERR_NOMEM, "reduction batch: out of memory");
    b->ctx = ctx;
    *out = b;
    return SL_OK;
}

static sl_status finish_task(sl_context *ctx, const pending_reduction *p)
{
    if (!p->r.finish)
        return SL_OK;
    sl_acc_finish_args fa = {(sl_acc_finish)(p->r.finish - 1), p->r.p, 1};
    if (sl_task_acc_finish(fa, p->acc) != 0)
        return sl_fail(ctx, SL_ERR_STARPU, "starpu_task_insert failed for norm_finish");
    return SL_OK;
}

/* One allreduce for the items i.. that share items[i]'s communicator and operation. */
static sl_status allreduce_group(sl_reduce_batch *b, int i, char *done)
{
    starpu_data_handle_t *h = malloc((size_t)b->count * sizeof *h);
    if (!h)
        return sl_fail(b->ctx, SL_ERR_NOMEM, "reduction batch: out of memory");
    int n = 0;
    for (int j = i; j < b->count; j++)
        if (!done[j] && b->items[j].comm == b->items[i].comm &&
            b->items[j].op == b->items[i].op) {
            h[n++] = b->items[j].acc;
            done[j] = 1;
        }
    sl_comm_group g = {b->items[i].comm};
    sl_status st = sl_comm_allreduce_many(b->ctx->comm, g, h, n, SL_COMM_DOUBLE,
                                          b->items[i].op);
    free(h);
    return st == SL_OK ? SL_OK : sl_fail(b->ctx, st, "allreduce submission failed");
}

sl_status sl_reduce_batch_flush(sl_reduce_batch *b)
{
    if (!b)
        return SL_OK;
    sl_status st = SL_OK;
    char *done = calloc((size_t)b->count + 1, 1);
    if (!done)
        st = sl_fail(b->ctx, SL_ERR_NOMEM, "reduction batch: out of memory");
    for (int i = 0; i < b->count && st == SL_OK; i++)
        if (!done[i] && b->items[i].comm != MPI_COMM_NULL)
            st = allreduce_group(b, i, done);
    for (int i = 0; i < b->count && st == SL_OK; i++)
        st = finish_task(b->ctx, &b->items[i]);
    free(done);
    free(b->items);
    free(b);
    return st;
}

static sl_status batch_add(sl_reduce_batch *b, const pending_reduction *p)
{
    if (b->count == b->capacity) {
        int cap = b->capacity ? 2 * b->capacity : 8;
        pending_reduction *items = realloc(b->items, (size_t)cap * sizeof *items);
        if (!items)
            return sl_fail(b->ctx, SL_ERR_NOMEM, "reduction batch: out of memory");
        b->items = items;
        b->capacity = cap;
    }
    b->items[b->count++] = *p;
    return SL_OK;
}

/* The tile partials of one reduction into a new scalar; its allreduce and finishing task go
 * to `batch` (submitted when it is flushed, fused with the others) or, without one, now. */
static sl_status submit_reduction(const sl_darray *x, const sl_darray *y, reduction r,
                                  sl_reduce_batch *batch, sl_scalar **out)
{
    sl_context *ctx = x->ctx;
    double init[2] = {identity_of(r.combine), 0.0};
    sl_scalar *s;
    sl_status st = sl_scalar_create(ctx, r.combine, init, &s);
    if (st != SL_OK)
        return st;
    sl_reduce_args args = {r.kind, x->layout.dtype, r.p, -1};
    /* The kernels accumulate into the scalar, which starts at the identity: with one tile or
     * one worker nothing runs in parallel, and plain RW spares STARPU_REDUX's per-worker copy
     * and its combining task (two of the ~7 tasks of a reduction round trip). */
    enum starpu_data_access_mode mode =
        x->ntiles == 1 || starpu_worker_get_count() <= 1 ? STARPU_RW : STARPU_REDUX;
    for (size_t t = 0; t < x->ntiles && st == SL_OK; t++) {
        if (sl_task_reduce(args, s->handle, mode, x->tiles[t].handle,
                           y ? y->tiles[t].handle : NULL) != 0)
            st = sl_fail(ctx, SL_ERR_STARPU, "starpu_task_insert failed for %s",
                         sl_reduce_name(r.kind));
    }
    pending_reduction p = {s->handle,
                           sl_darray_is_replicated(x) ? MPI_COMM_NULL : x->reduce_comm,
                           comm_op_of(r.combine), r};
    if (st == SL_OK && batch) {
        st = batch_add(batch, &p);
    } else if (st == SL_OK) {
        if (p.comm != MPI_COMM_NULL &&
            (st = sl_comm_allreduce(ctx->comm, (sl_comm_group){p.comm}, p.acc, SL_COMM_DOUBLE,
                                    p.op)) != SL_OK)
            sl_fail(ctx, st, "allreduce submission failed");
        if (st == SL_OK)
            st = finish_task(ctx, &p);
    }
    if (st != SL_OK) {
        sl_scalar_destroy(s);
        return st;
    }
    *out = s;
    return SL_OK;
}

static sl_status dot_like(sl_reduce_kind kind, const sl_darray *x, const sl_darray *y,
                          sl_reduce_batch *batch, sl_scalar **out, const char *what)
{
    if (!x || !y || !out)
        return sl_null_error(what);
    *out = NULL;
    sl_status st = sl_darray_check_compatible(x, y, what);
    if (st != SL_OK)
        return st;
    reduction r = {kind, SL_ACC_SUM, 0, 0};
    return submit_reduction(x, y, r, batch, out);
}

sl_status sl_darray_dot(const sl_darray *x, const sl_darray *y, sl_scalar **out)
{
    if (x && y && out && (sl_darray_is_stack(x) || sl_darray_is_stack(y))) {
        SL_STACK_VIEW(vx, x);
        SL_STACK_VIEW(vy, y);
        return sl_stacked_dot(&vx, &vy, out);
    }
    return dot_like(SL_RED_DOT, x, y, NULL, out, "sl_darray_dot");
}

sl_status sl_darray_vdot(const sl_darray *x, const sl_darray *y, sl_scalar **out)
{
    if (x && y && out && (sl_darray_is_stack(x) || sl_darray_is_stack(y))) {
        SL_STACK_VIEW(vx, x);
        SL_STACK_VIEW(vy, y);
        return sl_stacked_vdot(&vx, &vy, out);
    }
    return dot_like(SL_RED_VDOT, x, y, NULL, out, "sl_darray_vdot");
}

sl_status sl_darray_dot_batched(const sl_darray *x, const sl_darray *y, int conjugate,
                                sl_reduce_batch *batch, sl_scalar **out)
{
    return dot_like(conjugate ? SL_RED_VDOT : SL_RED_DOT, x, y, batch, out,
                    conjugate ? "sl_darray_vdot" : "sl_darray_dot");
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

sl_status sl_darray_norm_batched(const sl_darray *x, double ord, sl_reduce_batch *batch,
                                 sl_scalar **out)
{
    if (!x || !out)
        return sl_null_error("sl_darray_norm");
    *out = NULL;
    reduction r = {0};
    sl_status st = norm_reduction(x, ord, &r, "sl_darray_norm");
    return st == SL_OK ? submit_reduction(x, NULL, r, batch, out) : st;
}

sl_status sl_darray_norm(const sl_darray *x, double ord, sl_scalar **out)
{
    if (out && sl_darray_is_stack(x)) {
        SL_STACK_VIEW(v, x);
        return sl_stacked_norm(&v, ord, out);
    }
    return sl_darray_norm_batched(x, ord, NULL, out);
}

/* Geometry of the rank's block around the reduced axis (see sl_axis_geometry). */
static void axis_geometry(const sl_darray *x, int axis, size_t *pre, size_t *len, size_t *post)
{
    *pre = *post = 1;
    for (int d = 0; d < x->layout.ndim; d++) {
        size_t n = d == x->layout.axis ? x->local_rows : x->layout.shape[d];
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
    sl_reduce_axis_args args = {r.kind, x->layout.dtype, r.p, {0, len, post}};
    for (size_t t = 0; t < x->ntiles; t++) {
        args.geom.tile_offset = x->tiles[t].row0 * x->inner;
        if (sl_task_reduce_axis(&args, acc, x->tiles[t].handle) != 0)
            return sl_fail(x->ctx, SL_ERR_STARPU, "starpu_task_insert failed for norm_axis");
    }
    return SL_OK;
}

sl_status sl_darray_norm_axis(const sl_darray *x, double ord, int axis, double *out,
                              size_t capacity)
{
    if (!x)
        return sl_null_error(__func__);
    if (sl_darray_is_stack(x))
        return sl_darray_need_plain(x, __func__);
    sl_context *ctx = x->ctx;
    reduction r = {0};
    sl_status st = norm_reduction(x, ord, &r, "sl_darray_norm_axis");
    int axis_ok = axis >= -x->layout.ndim && axis < x->layout.ndim;
    if (st == SL_OK && !axis_ok)
        st = sl_fail(ctx, SL_ERR_SHAPE, "sl_darray_norm_axis: axis=%d is invalid for "
                     "ndim=%d", axis, x->layout.ndim);
    axis = axis_ok && axis < 0 ? axis + x->layout.ndim : axis;
    size_t pre = 1, len = 0, post = 1, m = 0;
    if (axis_ok) {
        axis_geometry(x, axis, &pre, &len, &post);
        m = pre * post;
    }
    if (st == SL_OK && !out && m > 0)
        st = sl_fail(ctx, SL_ERR_NULL, "sl_darray_norm_axis: out is NULL");
    else if (st == SL_OK && capacity < m)
        st = sl_fail(ctx, SL_ERR_ARG, "sl_darray_norm_axis: out holds %zu values, %zu "
                     "needed on rank %d", capacity, m, ctx->rank);
    /* Along the distributed axis the ranks meet in an allreduce: one rank's bad buffer or ord
     * must not leave the others waiting there (along another axis the call is local). */
    int collective = axis == x->layout.axis && !sl_darray_is_replicated(x);
    if (collective) {
        int64_t args[2] = {axis, 0};
        memcpy(&args[1], &ord, sizeof ord);
        sl_status agreed = sl_agree(ctx, args, 2, st == SL_OK, "sl_darray_norm_axis");
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
        if (sl_task_acc_finish(fa, acc) != 0)
            st = sl_fail(ctx, SL_ERR_STARPU, "starpu_task_insert failed for norm_finish");
    }
    starpu_data_unregister(acc); /* waits for the tasks, leaves the result in out */
    return st;
}
