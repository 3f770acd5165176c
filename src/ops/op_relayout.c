/* The operator that moves an array to another distribution of the same global array (another
 * axis, or other local sizes): the identity on values, a permutation of where they live, so
 * its adjoint is the move back. Each application is one all-to-all of packed boxes submitted
 * as tasks (fft_exchange.c), never a host wait: what the frequency-domain operators use to put
 * the frequencies on the distributed axis between local FFTs (MDC). Internal. */
#include <stdlib.h>
#include <string.h>

#include "ops/fft_op.h"
#include "ops/relayout.h"

typedef struct relayout_state {
    sl_fft_exchange there, back; /* model -> data layout, and data -> model */
} relayout_state;

static sl_status relayout_apply(const sl_op *op, int adjoint, const sl_darray *in,
                                sl_darray *out)
{
    const relayout_state *s = op->state;
    int64_t tag = sl_tags_book(op->ctx, 1);
    return sl_fft_exchange_run(adjoint ? &s->back : &s->there, in, out, tag);
}

static void relayout_destroy(sl_op *op)
{
    relayout_state *s = op->state;
    sl_fft_exchange_free(&s->there);
    sl_fft_exchange_free(&s->back);
    free(s);
}

static const sl_op_vtable relayout_vt = {
    .name = "Relayout",
    .apply = relayout_apply,
    .destroy = relayout_destroy,
};

sl_status sl_op_relayout(sl_context *ctx, const sl_layout *from, const sl_layout *to,
                         sl_op **out)
{
    *out = NULL;
    if (from->ndim != to->ndim || from->dtype != to->dtype ||
        memcmp(from->shape, to->shape, (size_t)from->ndim * sizeof *from->shape) != 0)
        return sl_fail(ctx, SL_ERR_SHAPE, "Relayout: the two layouts are not of one array");
    relayout_state *s = calloc(1, sizeof *s);
    if (!s)
        return sl_fail(ctx, SL_ERR_NOMEM, "Relayout: out of memory");
    sl_status st = sl_fft_exchange_init(ctx, from, to, &s->there);
    if (st == SL_OK)
        st = sl_fft_exchange_init(ctx, to, from, &s->back);
    if (st == SL_OK)
        st = sl_op_new(ctx, &relayout_vt, from, to, s, out);
    if (st != SL_OK) {
        sl_fft_exchange_free(&s->there);
        sl_fft_exchange_free(&s->back);
        free(s);
    }
    return st;
}
