/* Fredholm1 in the 2D-blocked layout (issue 16): the ranks form `groups` batch groups, each
 * holding a range of slices, and each slice's product is a SUMMA MatrixMult over its group's
 * p x q grid (src/ops/op_summa.c); the slices side by side make a stacked block-diagonal
 * operator. For slices too large for one rank, where the slice-split layout (op_fredholm.c)
 * would leave G[s] on a single rank. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <starlops/fredholm.h>

#include "ops/summa_state.h"

typedef struct blocked_state {
    sl_dtype dtype;
    size_t nsl, nx, ny, nz;
    sl_op **slices; /* one SUMMA MatrixMult per slice (owned) */
    sl_op *diag;    /* their stacked block diagonal (owned; borrows the slices) */
} blocked_state;

static void blocked_free(blocked_state *s)
{
    sl_op_destroy(s->diag);
    for (size_t i = 0; s->slices && i < s->nsl; i++)
        sl_op_destroy(s->slices[i]);
    free(s->slices);
    free(s);
}

static sl_status blocked_apply(const sl_op *op, int adjoint, const sl_stacked *in,
                               sl_stacked *out)
{
    const blocked_state *s = op->state;
    return sl_op_apply(s->diag, adjoint, in, out);
}

static void blocked_destroy(sl_op *op)
{
    blocked_free(op->state);
}

static const sl_op_vtable blocked_vt = {.name = "Fredholm1(2D-blocked)",
                                        .destroy = blocked_destroy,
                                        .apply_stacked = blocked_apply};

/* The user's fill, for one slice, in the SUMMA constructor's form. */
typedef struct slice_fill {
    sl_fredholm_fill_fn fill;
    void *user;
    size_t slice;
} slice_fill;

static void fill_slice(size_t row0, size_t col0, size_t rows, size_t cols, void *block,
                       void *user)
{
    const slice_fill *f = user;
    f->fill(f->slice, row0, col0, rows, cols, block, f->user);
}

/* Block i of n items cut into `parts` balanced blocks (the first n % parts one larger). */
static void split(size_t n, size_t parts, size_t i, size_t *first, size_t *count)
{
    size_t base = n / parts, extra = n % parts;
    *count = base + (i < extra);
    *first = i * base + (i < extra ? i : extra);
}

/* The batch group of slice `slice`: its first rank and rank count. */
static void group_of(const sl_context *ctx, size_t nsl, int groups, size_t slice, int *base,
                     int *nranks)
{
    for (size_t g = 0; g < (size_t)groups; g++) {
        size_t s0, ns, r0, nr;
        split(nsl, (size_t)groups, g, &s0, &ns);
        split((size_t)ctx->size, (size_t)groups, g, &r0, &nr);
        if (slice >= s0 && slice < s0 + ns) {
            *base = (int)r0;
            *nranks = (int)nr;
            return;
        }
    }
}

/* One SUMMA MatrixMult per slice on its group's ranks (collective: every rank builds them all,
 * in the same order, and holds nothing of the other groups' slices). */
static sl_status build_slices(sl_context *ctx, blocked_state *s, sl_fredholm_fill_fn fill,
                              void *user, int groups, const sl_summa_opts *opts)
{
    s->slices = calloc(s->nsl, sizeof *s->slices);
    int ok = s->slices != NULL;
    sl_status st = sl_agree(ctx, NULL, 0, ok, "sl_op_fredholm1_blocked");
    if (!ok)
        return sl_fail(ctx, SL_ERR_NOMEM, "sl_op_fredholm1_blocked: out of memory");
    for (size_t i = 0; i < s->nsl && st == SL_OK; i++) {
        slice_fill f = {fill, user, i};
        int base = 0, nranks = ctx->size;
        group_of(ctx, s->nsl, groups, i, &base, &nranks);
        st = sl_op_matrixmult_summa_group(ctx, s->dtype, s->nx, s->ny, s->nz, fill_slice, &f,
                                          opts, base, nranks, &s->slices[i]);
    }
    if (st == SL_OK)
        st = sl_op_stacked_blockdiag((int)s->nsl, (const sl_op *const *)s->slices, &s->diag);
    return st;
}

sl_status sl_op_fredholm1_blocked(sl_context *ctx, sl_dtype dtype, size_t nsl, size_t nx,
                                  size_t ny, size_t nz, sl_fredholm_fill_fn fill, void *user,
                                  int groups, const sl_summa_opts *opts, sl_op **out)
{
    if (!ctx || !out)
        return sl_null_error(__func__);
    *out = NULL;
    sl_status local = SL_OK;
    if (nsl == 0 || nsl > INT_MAX || nz == 0)
        local = sl_fail(ctx, SL_ERR_SHAPE, "sl_op_fredholm1_blocked: nsl=%zu and nz=%zu must "
                        "be positive (nsl at most INT_MAX)", nsl, nz);
    else if (groups < 0 || groups > ctx->size)
        local = sl_fail(ctx, SL_ERR_ARG, "sl_op_fredholm1_blocked: %d batch groups for %d "
                        "ranks (0 or 1: one group of all ranks)", groups, ctx->size);
    else if (!fill)
        local = sl_fail(ctx, SL_ERR_NULL, "sl_op_fredholm1_blocked: fill is NULL on rank %d",
                        ctx->rank);
    /* the slice constructors below agree on the rest (sizes, dtype, grid, tiles) */
    int64_t v[6] = {(int64_t)dtype, (int64_t)nsl, (int64_t)nx, (int64_t)ny, (int64_t)nz,
                    groups};
    sl_status agreed = sl_agree(ctx, v, 6, local == SL_OK, "sl_op_fredholm1_blocked");
    if (local != SL_OK || agreed != SL_OK)
        return local != SL_OK ? local : agreed;
    blocked_state *s = calloc(1, sizeof *s);
    agreed = sl_agree(ctx, NULL, 0, s != NULL, "sl_op_fredholm1_blocked");
    if (!s || agreed != SL_OK) {
        free(s);
        return s ? agreed : sl_fail(ctx, SL_ERR_NOMEM, "sl_op_fredholm1_blocked: out of memory");
    }
    *s = (blocked_state){dtype, nsl, nx, ny, nz, NULL, NULL};
    sl_status st = build_slices(ctx, s, fill, user, groups > 0 ? groups : 1, opts);
    if (st == SL_OK)
        st = sl_op_new_spaces(ctx, &blocked_vt, &s->diag->model, &s->diag->data, s, out);
    if (st != SL_OK)
        blocked_free(s);
    return st;
}

/* The operator's state, or an error naming `what` (a verdict every rank reaches alike). */
static sl_status blocked_of(const sl_op *op, const sl_darray *v, const char *what,
                            const blocked_state **out)
{
    if (!op || !v)
        return sl_null_error(what);
    if (op->vt != &blocked_vt)
        return sl_fail(op->ctx, SL_ERR_ARG, "%s: the operator is a %s, not a 2D-blocked "
                       "Fredholm1", what, op->vt->name);
    const blocked_state *s = op->state;
    sl_darray_info info = {0};
    sl_darray_get_info(v, &info);
    if ((size_t)info.nparts != s->nsl)
        return sl_fail(op->ctx, SL_ERR_ARG, "%s: the array has %d part(s), the operator's "
                       "spaces are stacks of %zu (one per slice)", what, info.nparts, s->nsl);
    *out = s;
    return SL_OK;
}

/* Elements of one slice of the model (ny x nz) or the data (nx x nz). */
static size_t slice_elems(const blocked_state *s, sl_op_side side)
{
    return (side == SL_SIDE_MODEL ? s->ny : s->nx) * s->nz;
}

sl_status sl_fredholm1_blocked_scatter(const sl_op *op, sl_op_side side, const void *global,
                                       sl_darray *v)
{
    const blocked_state *s = NULL;
    sl_status st = blocked_of(op, v, __func__, &s);
    size_t step = st == SL_OK ? slice_elems(s, side) * sl_dtype_size(s->dtype) : 0;
    for (size_t i = 0; st == SL_OK && i < s->nsl; i++) {
        sl_darray *part = NULL;
        sl_darray_stack_part(v, (int)i, &part);
        /* a NULL global stays NULL: sl_matrixmult_scatter reports it on every rank */
        const void *g = global ? (const char *)global + i * step : NULL;
        st = sl_matrixmult_scatter(s->slices[i], side, g, part);
    }
    return st;
}

sl_status sl_fredholm1_blocked_gather(const sl_op *op, sl_op_side side, const sl_darray *v,
                                      int root, void *global)
{
    const blocked_state *s = NULL;
    sl_status st = blocked_of(op, v, __func__, &s);
    size_t step = st == SL_OK ? slice_elems(s, side) * sl_dtype_size(s->dtype) : 0;
    for (size_t i = 0; st == SL_OK && i < s->nsl; i++) {
        sl_darray *part = NULL;
        sl_darray_stack_part(v, (int)i, &part);
        void *g = global ? (char *)global + i * step : NULL;
        st = sl_matrixmult_gather(s->slices[i], side, part, root, g);
    }
    return st;
}
