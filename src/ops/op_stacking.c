/* BlockDiag, VStack and HStack over per-rank lists of local operators (PyLops-MPI's
 * MPIBlockDiag, MPIVStack, MPIHStack): each rank holds its operators, which act on host blocks.
 * Built on the callback operator: one task per application runs this rank's operators on
 * consecutive pieces of its blocks; VStack's adjoint and HStack's forward sum over ranks with
 * an allreduce task (the callback operator's rule for replicated outputs of scattered inputs). */
#include <stdlib.h>
#include <string.h>

#include "ops/op_internal.h"

typedef enum stack_kind { STACK_BLOCKDIAG, STACK_VSTACK, STACK_HSTACK } stack_kind;

typedef struct stack_state {
    stack_kind kind;
    sl_dtype dtype;
    int nops;
    sl_local_op *ops; /* copied list; the user data they point to is borrowed */
    size_t shared;    /* length of the side every operator shares (VStack model, HStack data) */
    sl_op *inner;     /* the callback operator doing the work */
} stack_state;

/* y += t, elementwise in the dtype (complex values add as pairs of reals). */
static void add_into(sl_dtype dt, void *y, const void *t, size_t n)
{
    size_t reals = n * (sl_dtype_is_complex(dt) ? 2 : 1);
    if (dt == SL_F32 || dt == SL_C64)
        for (size_t i = 0; i < reals; i++) ((float *)y)[i] += ((const float *)t)[i];
    else
        for (size_t i = 0; i < reals; i++) ((double *)y)[i] += ((const double *)t)[i];
}

/* Runs the local operators. BlockDiag splits both blocks; VStack splits the data, every
 * operator reading the whole model (adjoint: their results add up); HStack the reverse. */
static void stack_apply(const void *in, void *out, int adjoint, void *user)
{
    const stack_state *s = user;
    size_t es = sl_dtype_size(s->dtype), in_off = 0, out_off = 0;
    int shared_in = (s->kind == STACK_VSTACK && !adjoint) || (s->kind == STACK_HSTACK && adjoint);
    int summed_out = (s->kind == STACK_VSTACK && adjoint) || (s->kind == STACK_HSTACK && !adjoint);
    char *scratch = summed_out && s->shared ? malloc(s->shared * es) : NULL;
    if (summed_out && s->shared)
        memset(out, 0, s->shared * es);
    for (int i = 0; i < s->nops; i++) {
        const sl_local_op *o = &s->ops[i];
        size_t nin = adjoint ? o->rows : o->cols, nout = adjoint ? o->cols : o->rows;
        const char *x = (const char *)in + (shared_in ? 0 : in_off) * es;
        if (summed_out) {
            if (!scratch)
                break; /* out of memory inside a task: leave zeros rather than crash */
            o->apply(x, scratch, adjoint, o->user);
            add_into(s->dtype, out, scratch, s->shared);
        } else {
            o->apply(x, (char *)out + out_off * es, adjoint, o->user);
            out_off += nout;
        }
        in_off += nin;
    }
    free(scratch);
}

static sl_status stack_forward(const sl_op *op, int adjoint, const sl_darray *in, sl_darray *out)
{
    const stack_state *s = op->state;
    return s->inner->vt->apply(s->inner, adjoint, in, out);
}

static void stack_destroy(sl_op *op)
{
    stack_state *s = op->state;
    sl_op_destroy(s->inner);
    free(s->ops);
    free(s);
}

static const sl_op_vtable stack_vt[3] = {
    {.name = "BlockDiag", .apply = stack_forward, .destroy = stack_destroy},
    {.name = "VStack", .apply = stack_forward, .destroy = stack_destroy},
    {.name = "HStack", .apply = stack_forward, .destroy = stack_destroy},
};

/* Validates the list and sums this rank's rows and columns. */
static sl_status local_sizes(sl_context *ctx, const char *what, int nops, const sl_local_op *ops,
                             size_t *rows, size_t *cols, size_t *max_rows, size_t *max_cols)
{
    *rows = *cols = *max_rows = *max_cols = 0;
    if (nops < 0 || (nops > 0 && !ops))
        return sl_fail(ctx, SL_ERR_ARG, "%s: %d operators with list %p", what, nops,
                       (const void *)ops);
    for (int i = 0; i < nops; i++) {
        if (!ops[i].apply)
            return sl_fail(ctx, SL_ERR_NULL, "%s: operator %d on rank %d has no apply function",
                           what, i, ctx->rank);
        if (ops[i].rows == 0 || ops[i].cols == 0)
            return sl_fail(ctx, SL_ERR_SHAPE, "%s: operator %d on rank %d is %zu x %zu", what, i,
                           ctx->rank, ops[i].rows, ops[i].cols);
        *rows += ops[i].rows;
        *cols += ops[i].cols;
        *max_rows = ops[i].rows > *max_rows ? ops[i].rows : *max_rows;
        *max_cols = ops[i].cols > *max_cols ? ops[i].cols : *max_cols;
    }
    return SL_OK;
}

/* Every rank's (rows, cols), gathered on host_comm; a local failure fails every rank. */
static sl_status gather_sizes(sl_context *ctx, sl_status local, size_t rows, size_t cols,
                              size_t *all_rows, size_t *all_cols, const char *what)
{
    sl_status agreed = sl_agree(ctx, NULL, 0, local == SL_OK, what);
    if (local != SL_OK)
        return local;
    if (agreed != SL_OK)
        return agreed;
    unsigned long long mine[2] = {rows, cols}, *all = malloc((size_t)ctx->size * sizeof mine);
    if (!all)
        return sl_fail(ctx, SL_ERR_NOMEM, "%s: out of memory", what);
    MPI_Allgather(mine, 2, MPI_UNSIGNED_LONG_LONG, all, 2, MPI_UNSIGNED_LONG_LONG, ctx->host_comm);
    for (int r = 0; r < ctx->size; r++) {
        all_rows[r] = (size_t)all[2 * r];
        all_cols[r] = (size_t)all[2 * r + 1];
    }
    free(all);
    return SL_OK;
}

static sl_status build(sl_context *ctx, stack_kind kind, sl_dtype dtype, int nops,
                       const sl_local_op *ops, sl_op **out)
{
    const char *what = kind == STACK_BLOCKDIAG ? "sl_op_blockdiag"
                       : kind == STACK_VSTACK  ? "sl_op_vstack" : "sl_op_hstack";
    if (!ctx || !out)
        return sl_null_error(__func__);
    *out = NULL;
    size_t rows, cols, max_rows, max_cols;
    sl_status st = local_sizes(ctx, what, nops, ops, &rows, &cols, &max_rows, &max_cols);
    /* VStack: every operator has the model's length; HStack: the data's */
    if (st == SL_OK && kind != STACK_BLOCKDIAG)
        for (int i = 0; i < nops && st == SL_OK; i++) {
            size_t shared = kind == STACK_VSTACK ? ops[i].cols : ops[i].rows;
            if (shared != (kind == STACK_VSTACK ? max_cols : max_rows))
                st = sl_fail(ctx, SL_ERR_SHAPE, "%s: operators on rank %d have different %s "
                             "counts", what, ctx->rank, kind == STACK_VSTACK ? "column" : "row");
        }
    size_t *all_rows = calloc((size_t)ctx->size, sizeof(size_t));
    size_t *all_cols = calloc((size_t)ctx->size, sizeof(size_t));
    if (!all_rows || !all_cols)
        st = sl_fail(ctx, SL_ERR_NOMEM, "%s: out of memory", what);
    /* per rank: data rows and model columns (for a stack, the shared side's length) */
    size_t my_rows = kind == STACK_HSTACK ? max_rows : rows;
    size_t my_cols = kind == STACK_VSTACK ? max_cols : cols;
    if (!all_rows || !all_cols ||
        (st = gather_sizes(ctx, st, my_rows, my_cols, all_rows, all_cols, what)) != SL_OK) {
        free(all_rows);
        free(all_cols);
        return st;
    }
    /* the shared length must agree across ranks (ranks without operators excepted) */
    size_t shared = 0, n_rows = 0, n_cols = 0;
    for (int r = 0; r < ctx->size; r++) {
        size_t v = kind == STACK_VSTACK ? all_cols[r] : all_rows[r];
        if (kind != STACK_BLOCKDIAG && v && shared && v != shared)
            st = sl_fail(ctx, SL_ERR_SHAPE, "%s: ranks disagree on the %s length (%zu vs %zu)",
                         what, kind == STACK_VSTACK ? "model" : "data", shared, v);
        shared = v ? v : shared;
        n_rows += all_rows[r];
        n_cols += all_cols[r];
    }
    /* the spaces' layouts (agreed once; no array is made): the shared side is broadcast */
    sl_layout ml = {0}, dl = {0};
    const char *who = what;
    if (st == SL_OK)
        st = kind == STACK_VSTACK
                 ? sl_layout_agree(ctx, who, dtype, 1, &shared, SL_BROADCAST, 0, NULL, NULL, &ml)
                 : sl_layout_agree(ctx, who, dtype, 1, &n_cols, SL_SCATTER, 0, all_cols, NULL,
                                   &ml);
    if (st == SL_OK)
        st = kind == STACK_HSTACK
                 ? sl_layout_agree(ctx, who, dtype, 1, &shared, SL_BROADCAST, 0, NULL, NULL, &dl)
                 : sl_layout_agree(ctx, who, dtype, 1, &n_rows, SL_SCATTER, 0, all_rows, NULL,
                                   &dl);
    free(all_rows);
    free(all_cols);
    stack_state *s = st == SL_OK ? calloc(1, sizeof *s) : NULL;
    if (st == SL_OK && (!s || (nops && !(s->ops = malloc((size_t)nops * sizeof *ops)))))
        st = sl_fail(ctx, SL_ERR_NOMEM, "%s: out of memory", what);
    if (st == SL_OK) {
        s->kind = kind;
        s->dtype = dtype;
        s->nops = nops;
        s->shared = shared;
        if (nops)
            memcpy(s->ops, ops, (size_t)nops * sizeof *ops);
        st = sl_op_from_callback_layouts(ctx, &ml, &dl, stack_apply, s, &s->inner);
    }
    if (st == SL_OK)
        st = sl_op_new_spaces(ctx, &stack_vt[kind], &s->inner->model, &s->inner->data, s, out);
    if (st != SL_OK && s) {
        sl_op_destroy(s->inner);
        free(s->ops);
        free(s);
    }
    sl_layout_free(&ml);
    sl_layout_free(&dl);
    return st;
}

sl_status sl_op_blockdiag(sl_context *ctx, sl_dtype dtype, int nops, const sl_local_op *ops,
                          sl_op **out)
{
    return build(ctx, STACK_BLOCKDIAG, dtype, nops, ops, out);
}

sl_status sl_op_vstack(sl_context *ctx, sl_dtype dtype, int nops, const sl_local_op *ops,
                       sl_op **out)
{
    return build(ctx, STACK_VSTACK, dtype, nops, ops, out);
}

sl_status sl_op_hstack(sl_context *ctx, sl_dtype dtype, int nops, const sl_local_op *ops,
                       sl_op **out)
{
    return build(ctx, STACK_HSTACK, dtype, nops, ops, out);
}
