/* Stacks of arrays: the public sl_darray_stack, and the part-by-part operations every public
 * array function falls back on for stacks (see include/starlops/darray.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codelets.h"
#include "darray/stacked_internal.h"

static sl_status check_parts(int count, sl_darray *const *arrays, const char *who)
{
    if (!arrays)
        return sl_null_error(who);
    if (count < 1) /* no part to take a context from: the status alone */
        return SL_ERR_ARG;
    for (int i = 0; i < count; i++)
        if (!arrays[i])
            return sl_null_error(who);
    for (int i = 1; i < count; i++)
        if (arrays[i]->ctx != arrays[0]->ctx)
            return sl_fail(arrays[0]->ctx, SL_ERR_ARG, "%s: part %d belongs to another "
                           "context", who, i);
    return SL_OK;
}

sl_status sl_stacked_create(int count, sl_darray *const *arrays, sl_stacked **out)
{
    *out = NULL;
    sl_status st = check_parts(count, arrays, "stack");
    if (st != SL_OK)
        return st;
    sl_stacked *s = calloc(1, sizeof *s);
    sl_darray **copy = malloc((size_t)count * sizeof *copy);
    if (!s || !copy) {
        free(s);
        free(copy);
        return sl_fail(arrays[0]->ctx, SL_ERR_NOMEM, "stack: out of memory");
    }
    memcpy(copy, arrays, (size_t)count * sizeof *copy);
    s->count = count;
    s->arrays = copy;
    *out = s;
    return SL_OK;
}

sl_status sl_stacked_adopt(int count, sl_darray *const *arrays, sl_stacked **out)
{
    sl_status st = sl_stacked_create(count, arrays, out);
    if (st == SL_OK)
        (*out)->owns_arrays = 1;
    return st;
}

sl_status sl_stacked_destroy(sl_stacked *s)
{
    if (s) {
        for (int i = 0; s->owns_arrays && i < s->count; i++)
            sl_darray_destroy(s->arrays[i]);
        free(s->arrays);
        free(s);
    }
    return SL_OK;
}

sl_status sl_stacked_publish(sl_stacked *s, sl_darray **out)
{
    sl_darray *x = calloc(1, sizeof *x);
    if (!x) {
        sl_context *ctx = s->arrays[0]->ctx;
        sl_stacked_destroy(s);
        return sl_fail(ctx, SL_ERR_NOMEM, "stack: out of memory");
    }
    x->ctx = s->arrays[0]->ctx;
    x->nparts = s->count;
    x->parts = s->arrays;
    x->owns_parts = s->owns_arrays;
    free(s);
    *out = x;
    return SL_OK;
}

/* Nested stacks are stored flat: a part that is a stack contributes its plain arrays. */
sl_status sl_darray_stack(int count, sl_darray *const *parts, sl_darray **out)
{
    if (!out)
        return sl_null_error(__func__);
    *out = NULL;
    sl_status st = check_parts(count, parts, __func__);
    if (st != SL_OK)
        return st;
    int leaves = 0;
    for (int i = 0; i < count; i++)
        leaves += sl_darray_is_stack(parts[i]) ? parts[i]->nparts : 1;
    sl_darray **flat = malloc((size_t)leaves * sizeof *flat);
    if (!flat)
        return sl_fail(parts[0]->ctx, SL_ERR_NOMEM, "%s: out of memory", __func__);
    int n = 0;
    for (int i = 0; i < count; i++) {
        SL_STACK_VIEW(v, parts[i]);
        for (int j = 0; j < v.count; j++)
            flat[n++] = v.arrays[j];
    }
    sl_stacked *s = NULL;
    st = sl_stacked_create(leaves, flat, &s);
    free(flat);
    return st == SL_OK ? sl_stacked_publish(s, out) : st;
}

sl_status sl_darray_stack_part(const sl_darray *x, int index, sl_darray **part)
{
    if (!x || !part)
        return sl_null_error(__func__);
    *part = NULL;
    SL_STACK_VIEW(v, x);
    if (index < 0 || index >= v.count)
        return sl_fail(x->ctx, SL_ERR_ARG, "sl_darray_stack_part: index %d outside [0, %d)",
                       index, v.count);
    *part = v.arrays[index];
    return SL_OK;
}

/* Stacks taking part in one operation must have the same number of components. */
static sl_status same_count(const sl_stacked *a, const sl_stacked *b, const char *what)
{
    if (a->count != b->count)
        return sl_fail(a->arrays[0]->ctx, SL_ERR_SHAPE, "%s: stacks have %d and %d components",
                       what, a->count, b->count);
    return SL_OK;
}

/* Applies a darray operation to every component; the component checks report mismatches. */
#define FOR_EACH(cond, call)                                  \
    do {                                                      \
        if (!(cond))                                          \
            return sl_null_error(__func__);                               \
        for (int i = 0; i < first->count; i++) {              \
            sl_status st_ = (call);                           \
            if (st_ != SL_OK)                                 \
                return st_;                                   \
        }                                                     \
        return SL_OK;                                         \
    } while (0)

sl_status sl_stacked_fill(const sl_stacked *x, double _Complex value)
{
    const sl_stacked *first = x;
    FOR_EACH(x, sl_darray_fill(x->arrays[i], value));
}

sl_status sl_stacked_copy(const sl_stacked *src, const sl_stacked *dst)
{
    const sl_stacked *first = src;
    if (src && dst && same_count(src, dst, "sl_darray_copy") != SL_OK)
        return SL_ERR_SHAPE;
    FOR_EACH(src && dst, sl_darray_copy(src->arrays[i], dst->arrays[i]));
}

sl_status sl_stacked_scale(const sl_stacked *x, double _Complex alpha)
{
    const sl_stacked *first = x;
    FOR_EACH(x, sl_darray_scale(x->arrays[i], alpha));
}

sl_status sl_stacked_axpby(double _Complex alpha, const sl_stacked *x, double _Complex beta,
                           const sl_stacked *y)
{
    const sl_stacked *first = x;
    if (x && y && same_count(x, y, "sl_darray_axpby") != SL_OK)
        return SL_ERR_SHAPE;
    FOR_EACH(x && y, sl_darray_axpby(alpha, x->arrays[i], beta, y->arrays[i]));
}

sl_status sl_stacked_axpy(double _Complex alpha, const sl_stacked *x, const sl_stacked *y)
{
    return sl_stacked_axpby(alpha, x, 1.0, y);
}

sl_status sl_stacked_zeros(const sl_stacked *x)
{
    return sl_stacked_fill(x, 0);
}

/* Each component gets its own stream (seed + index), so the stack is not a repeated pattern. */
sl_status sl_stacked_random(const sl_stacked *x, uint64_t seed)
{
    const sl_stacked *first = x;
    FOR_EACH(x, sl_darray_random(x->arrays[i], seed + 0x9E3779B97F4A7C15ull * (uint64_t)i));
}

sl_status sl_stacked_axpy_scalar(const sl_scalar *alpha, double sign, const sl_stacked *x,
                                 const sl_stacked *y)
{
    const sl_stacked *first = x;
    if (x && y && same_count(x, y, "sl_darray_axpy_scalar") != SL_OK)
        return SL_ERR_SHAPE;
    FOR_EACH(x && y, sl_darray_axpy_scalar(alpha, sign, x->arrays[i], y->arrays[i]));
}

sl_status sl_stacked_axpby_scalars(const sl_scalar *alpha, double _Complex alpha_factor,
                                   const sl_stacked *x, const sl_scalar *beta,
                                   double _Complex beta_factor, const sl_stacked *y)
{
    const sl_stacked *first = x;
    if (x && y && same_count(x, y, "sl_darray_axpby_scalars") != SL_OK)
        return SL_ERR_SHAPE;
    FOR_EACH(x && y, sl_darray_axpby_scalars(alpha, alpha_factor, x->arrays[i], beta,
                                             beta_factor, y->arrays[i]));
}

sl_status sl_stacked_scale_scalar(const sl_stacked *x, const sl_scalar *alpha,
                                  double _Complex factor)
{
    const sl_stacked *first = x;
    FOR_EACH(x, sl_darray_scale_scalar(x->arrays[i], alpha, factor));
}

sl_status sl_stacked_binary(sl_darray_binary_fn fn, const sl_stacked *x, const sl_stacked *y,
                            const sl_stacked *z, const char *what)
{
    const sl_stacked *first = x;
    if (x && y && z &&
        (same_count(x, y, what) != SL_OK || same_count(x, z, what) != SL_OK))
        return SL_ERR_SHAPE;
    FOR_EACH(x && y && z, fn(x->arrays[i], y->arrays[i], z->arrays[i]));
}

sl_status sl_stacked_conj(const sl_stacked *x, const sl_stacked *z)
{
    const sl_stacked *first = x;
    if (x && z && same_count(x, z, "sl_darray_conj") != SL_OK)
        return SL_ERR_SHAPE;
    FOR_EACH(x && z, sl_darray_conj(x->arrays[i], z->arrays[i]));
}

/* One task combines the components' scalar futures into a new future. */
static sl_status combine(sl_context *ctx, sl_scalar **parts, int n, sl_combine_args how,
                         sl_scalar **out)
{
    double zero[2] = {0, 0};
    sl_scalar *s = NULL;
    sl_status st = sl_scalar_create(ctx, SL_ACC_SUM, zero, &s);
    starpu_data_handle_t *h = malloc((size_t)(n + 1) * sizeof *h); /* never a 0-byte malloc */
    if (st == SL_OK && !h)
        st = sl_fail(ctx, SL_ERR_NOMEM, "stacked reduction: out of memory");
    if (st == SL_OK) {
        for (int i = 0; i < n; i++)
            h[i] = parts[i]->handle;
        int ret = sl_task_scalar_combine(how, s->handle, h, n);
        if (ret == -ENOMEM)
            st = sl_fail(ctx, SL_ERR_NOMEM, "stacked reduction: out of memory");
        else if (ret != 0)
            st = sl_fail(ctx, SL_ERR_STARPU, "starpu_task_insert failed for scalar_combine");
    }
    free(h);
    if (st != SL_OK) {
        sl_scalar_destroy(s);
        return st;
    }
    *out = s;
    return SL_OK;
}

typedef sl_status (*part_fn)(const sl_darray *x, const sl_darray *y, double ord,
                             sl_reduce_batch *batch, sl_scalar **out);

static sl_status part_dot(const sl_darray *x, const sl_darray *y, double ord,
                          sl_reduce_batch *batch, sl_scalar **out)
{
    (void)ord;
    return sl_darray_dot_batched(x, y, 0, batch, out);
}

static sl_status part_vdot(const sl_darray *x, const sl_darray *y, double ord,
                           sl_reduce_batch *batch, sl_scalar **out)
{
    (void)ord;
    return sl_darray_dot_batched(x, y, 1, batch, out);
}

static sl_status part_norm(const sl_darray *x, const sl_darray *y, double ord,
                           sl_reduce_batch *batch, sl_scalar **out)
{
    (void)y;
    return sl_darray_norm_batched(x, ord, batch, out);
}

/* Every component's partials into parts[], their allreduces joining `batch`. */
static sl_status submit_parts(part_fn fn, const sl_stacked *x, const sl_stacked *y, double ord,
                              sl_reduce_batch *batch, sl_scalar **parts)
{
    sl_status st = SL_OK;
    for (int i = 0; i < x->count && st == SL_OK; i++)
        st = fn(x->arrays[i], y ? y->arrays[i] : NULL, ord, batch, &parts[i]);
    return st;
}

/* *out from the parts (a single component's future is already the answer: taken over). */
static sl_status combine_parts(sl_context *ctx, sl_scalar **parts, int n, sl_combine_args how,
                               sl_scalar **out)
{
    if (n > 1)
        return combine(ctx, parts, n, how, out);
    *out = parts[0];
    parts[0] = NULL;
    return SL_OK;
}

/* n stacked reductions at once: every component's partials, all their allreduces fused into
 * one per communicator by a batch, then one combining task per result. */
static sl_status reduce_many(part_fn fn, const sl_stacked *const *x, const sl_stacked *const *y,
                             int n, double ord, sl_combine_args how, sl_scalar **out)
{
    sl_context *ctx = x[0]->arrays[0]->ctx;
    int total = 0;
    for (int k = 0; k < n; k++)
        total += x[k]->count;
    sl_scalar **parts = calloc((size_t)total, sizeof *parts);
    sl_reduce_batch *batch = NULL;
    sl_status st = parts ? sl_reduce_batch_create(ctx, &batch)
                         : sl_fail(ctx, SL_ERR_NOMEM, "stacked reduction: out of memory");
    for (int k = 0, at = 0; k < n && st == SL_OK; at += x[k]->count, k++)
        st = submit_parts(fn, x[k], y ? y[k] : NULL, ord, batch, parts + at);
    sl_status flushed = sl_reduce_batch_flush(batch); /* frees it, even after a failure */
    if (st == SL_OK)
        st = flushed;
    for (int k = 0, at = 0; k < n && st == SL_OK; at += x[k]->count, k++)
        st = combine_parts(ctx, parts + at, x[k]->count, how, &out[k]);
    for (int i = 0; parts && i < total; i++)
        sl_scalar_destroy(parts[i]); /* (a part taken over as a result is NULL here) */
    free(parts);
    return st;
}

static sl_status reduce_parts(part_fn fn, const sl_stacked *x, const sl_stacked *y, double ord,
                              sl_combine_args how, sl_scalar **out)
{
    const sl_stacked *ys[1] = {y};
    return reduce_many(fn, &x, y ? ys : NULL, 1, ord, how, out);
}

sl_status sl_stacked_vdot_fused(const sl_stacked *const *x, const sl_stacked *const *y, int n,
                                sl_scalar **out)
{
    for (int k = 0; k < n; k++) {
        out[k] = NULL;
        if (same_count(x[k], y[k], "sl_darray_vdot") != SL_OK)
            return SL_ERR_SHAPE;
    }
    return reduce_many(part_vdot, x, y, n, 0, (sl_combine_args){SL_COMBINE_SUM, 0}, out);
}

sl_status sl_stacked_dot(const sl_stacked *x, const sl_stacked *y, sl_scalar **out)
{
    if (!x || !y || !out)
        return sl_null_error(__func__);
    *out = NULL;
    if (same_count(x, y, "sl_darray_dot") != SL_OK)
        return SL_ERR_SHAPE;
    return reduce_parts(part_dot, x, y, 0, (sl_combine_args){SL_COMBINE_SUM, 0}, out);
}

sl_status sl_stacked_vdot(const sl_stacked *x, const sl_stacked *y, sl_scalar **out)
{
    if (!x || !y || !out)
        return sl_null_error(__func__);
    *out = NULL;
    if (same_count(x, y, "sl_darray_vdot") != SL_OK)
        return SL_ERR_SHAPE;
    return reduce_parts(part_vdot, x, y, 0, (sl_combine_args){SL_COMBINE_SUM, 0}, out);
}

/* PyLops-MPI's rule: ord p combines as (sum ||x_i||_p^p)^(1/p); +inf as max, -inf as min,
 * 0 (count of non-zeros) as a sum. */
sl_status sl_stacked_norm(const sl_stacked *x, double ord, sl_scalar **out)
{
    if (!x || !out)
        return sl_null_error(__func__);
    *out = NULL;
    sl_combine_args how = {SL_COMBINE_PNORM, ord};
    if (ord == 0)
        how.how = SL_COMBINE_SUM;
    else if (isinf(ord))
        how.how = ord > 0 ? SL_COMBINE_MAX : SL_COMBINE_MIN;
    return reduce_parts(part_norm, x, NULL, ord, how, out);
}
