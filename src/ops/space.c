/* Operator spaces: the component layouts of an operator's model or data vectors. Operators on
 * plain arrays have one component; stacked operators concatenate their operands' components. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/op_internal.h"

void sl_space_free(sl_space *s)
{
    for (int i = 0; s->layouts && i < s->count; i++)
        sl_layout_free(&s->layouts[i]);
    free(s->layouts);
    memset(s, 0, sizeof *s);
}

/* Copies count layouts into a fresh space. */
static sl_status space_of(sl_context *ctx, int count, int stacked,
                          const sl_layout *const *layouts, sl_space *out)
{
    memset(out, 0, sizeof *out);
    out->layouts = calloc((size_t)count, sizeof *out->layouts);
    if (!out->layouts)
        return sl_fail(ctx, SL_ERR_NOMEM, "operator space: out of memory");
    out->stacked = stacked;
    for (int i = 0; i < count; i++) {
        if (sl_layout_clone(layouts[i], ctx->size, &out->layouts[i]) != SL_OK) {
            sl_space_free(out);
            return sl_fail(ctx, SL_ERR_NOMEM, "operator space: out of memory");
        }
        out->count = i + 1;
    }
    return SL_OK;
}

sl_status sl_space_single(sl_context *ctx, const sl_layout *l, sl_space *out)
{
    return space_of(ctx, 1, 0, &l, out);
}

sl_status sl_space_clone(sl_context *ctx, const sl_space *src, sl_space *out)
{
    return sl_space_concat(ctx, 1, &src, out) == SL_OK ? (out->stacked = src->stacked, SL_OK)
                                                       : SL_ERR_NOMEM;
}

sl_status sl_space_concat(sl_context *ctx, int n, const sl_space *const *parts, sl_space *out)
{
    int total = 0;
    for (int i = 0; i < n; i++)
        total += parts[i]->count;
    const sl_layout **all = malloc((size_t)(total > 0 ? total : 1) * sizeof *all);
    if (!all)
        return sl_fail(ctx, SL_ERR_NOMEM, "operator space: out of memory");
    int k = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < parts[i]->count; j++)
            all[k++] = &parts[i]->layouts[j];
    sl_status st = space_of(ctx, total, 1, all, out);
    free(all);
    return st;
}

int sl_space_equal(const sl_space *a, const sl_space *b, int nranks)
{
    if (a->count != b->count || a->stacked != b->stacked)
        return 0;
    for (int i = 0; i < a->count; i++)
        if (!sl_layout_equal(&a->layouts[i], &b->layouts[i], nranks))
            return 0;
    return 1;
}

size_t sl_space_count(const sl_space *s)
{
    size_t n = 0;
    for (int i = 0; i < s->count; i++)
        n += sl_layout_count(&s->layouts[i]);
    return n;
}

sl_status sl_space_check(sl_context *ctx, const sl_space *s, const sl_stacked *v,
                         const char *what)
{
    if (v->count != s->count && !sl_darray_is_stack(v->whole))
        return sl_fail(ctx, SL_ERR_SHAPE, "%s: a plain array where the operator's space is a "
                       "stack of %d arrays (sl_op_create_model/_data make one)", what, s->count);
    if (v->count != s->count)
        return sl_fail(ctx, SL_ERR_SHAPE, "%s: a stack of %d arrays where the operator's space "
                       "has %d", what, v->count, s->count);
    for (int i = 0; i < s->count; i++) {
        sl_status st = sl_layout_check(ctx, &s->layouts[i], v->arrays[i], what);
        if (st != SL_OK && s->count > 1) {
            char msg[SL_ERRMSG_LEN]; /* the message is rewritten from a copy of itself */
            snprintf(msg, sizeof msg, "%s", sl_last_error(ctx));
            return sl_fail(ctx, st, "%s (component %d of %d)", msg, i, s->count);
        }
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

sl_status sl_space_create(sl_context *ctx, const sl_space *s, sl_stacked **out)
{
    sl_darray **arrays = calloc((size_t)s->count, sizeof *arrays);
    if (!arrays)
        return sl_fail(ctx, SL_ERR_NOMEM, "operator space: out of memory");
    sl_status st = SL_OK;
    for (int i = 0; i < s->count && st == SL_OK; i++)
        st = sl_darray_from_layout(ctx, &s->layouts[i], &arrays[i]);
    if (st == SL_OK)
        st = sl_stacked_adopt(s->count, arrays, out);
    if (st != SL_OK)
        for (int i = 0; i < s->count; i++)
            sl_darray_destroy(arrays[i]);
    free(arrays);
    return st;
}
