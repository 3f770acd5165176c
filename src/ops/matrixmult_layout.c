/* Natural (row-major) matrices to and from the distributed arrays of either MatrixMult kind:
 * the 1D kind's arrays are already in natural order; the SUMMA kind's hold each rank's tiles
 * packed (PyLops-MPI's SUMMA arrays likewise hold per-rank blocks, converted by its
 * local_block_split / block_gather helpers). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ops/summa_state.h"

static const sl_tile_set *side_tiles(const sl_summa_state *s, sl_op_side side)
{
    return side == SL_SIDE_MODEL ? &s->x : &s->y;
}

/* Copies tiles between a natural matrix and a packed block (offsets as from pack_offsets). */
static void copy_tiles(const sl_tiled *t, const size_t *offsets, char *natural, char *packed,
                       size_t es, int to_packed)
{
    for (size_t ti = 0; ti < t->rt; ti++)
        for (size_t tj = 0; tj < t->ct; tj++) {
            size_t off = offsets[ti * t->ct + tj];
            if (off == SIZE_MAX)
                continue;
            size_t rows = sl_tiled_tile_rows(t, ti), cols = sl_tiled_tile_cols(t, tj);
            for (size_t r = 0; r < rows; r++) {
                char *nat = natural + ((ti * t->rb + r) * t->cols + tj * t->cb) * es;
                char *pk = packed + (off + r * cols) * es;
                memcpy(to_packed ? pk : nat, to_packed ? nat : pk, cols * es);
            }
        }
}

/* Checks the operator and the array; the verdict is agreed by every rank. */
static sl_status check(const sl_op *op, sl_op_side side, const sl_darray *v, int global_ok,
                       const char *what)
{
    if (!op || !v)
        return sl_null_error(__func__);
    sl_context *ctx = op->ctx;
    sl_status st = SL_OK;
    if (!global_ok)
        st = sl_fail(ctx, SL_ERR_NULL, "%s: global is NULL on rank %d", what, ctx->rank);
    else if (sl_darray_is_stack(v))
        st = sl_darray_need_plain(v, what);
    else if (!sl_summa_state_of(op) && !sl_op_is_matrixmult_row(op))
        st = sl_fail(ctx, SL_ERR_ARG, "%s: the operator is a %s, not a MatrixMult", what,
                     op->vt->name);
    else if (side != SL_SIDE_MODEL && side != SL_SIDE_DATA)
        st = sl_fail(ctx, SL_ERR_ARG, "%s: side %d is neither SL_SIDE_MODEL nor SL_SIDE_DATA",
                     what, (int)side);
    else
        st = sl_layout_check(ctx, side == SL_SIDE_MODEL ? sl_op_model_layout(op)
                                                        : sl_op_data_layout(op), v, what);
    sl_status agreed = sl_agree(ctx, NULL, 0, st == SL_OK, what);
    return st != SL_OK ? st : agreed;
}

sl_status sl_matrixmult_scatter(const sl_op *op, sl_op_side side, const void *global,
                                sl_darray *v)
{
    sl_status st = check(op, side, v, global != NULL, "sl_matrixmult_scatter");
    if (st != SL_OK)
        return st;
    const sl_summa_state *s = sl_summa_state_of(op);
    if (!s)
        return sl_darray_from_global(v, global);
    const sl_tile_set *ts = side_tiles(s, side);
    /* The array's block is the packed block: fill it in place. */
    if ((st = sl_darray_acquire_tiles(v, STARPU_W)) != SL_OK)
        return st;
    copy_tiles(&ts->geom, ts->offset, (char *)global, v->data, s->es, 1);
    sl_darray_release_tiles(v);
    return SL_OK;
}

/* Every rank's packed block, concatenated in rank order, on root (or everywhere). */
static sl_status collect(const sl_summa_state *s, const sl_tiled *t, const char *mine,
                         size_t count, int root, char *all, int *displs)
{
    sl_context *ctx = s->ctx;
    int *counts = malloc((size_t)ctx->size * sizeof *counts);
    if (!counts)
        return SL_ERR_NOMEM;
    size_t total = 0;
    for (int r = 0; r < ctx->size; r++) {
        size_t bytes = sl_summa_pack_offsets(&s->plan, t, r, NULL) * s->es;
        counts[r] = (int)bytes;
        displs[r] = (int)total;
        total += bytes;
    }
    int rc = root == SL_ALL_RANKS
                 ? MPI_Allgatherv(mine, (int)(count * s->es), MPI_BYTE, all, counts, displs,
                                  MPI_BYTE, ctx->host_comm)
                 : MPI_Gatherv(mine, (int)(count * s->es), MPI_BYTE, all, counts, displs,
                               MPI_BYTE, root, ctx->host_comm);
    free(counts);
    return rc == MPI_SUCCESS ? SL_OK : SL_ERR_MPI;
}

sl_status sl_matrixmult_gather(const sl_op *op, sl_op_side side, const sl_darray *v, int root,
                               void *global)
{
    sl_status st = check(op, side, v, 1, "sl_matrixmult_gather");
    if (st != SL_OK)
        return st;
    const sl_summa_state *s = sl_summa_state_of(op);
    if (!s)
        return sl_darray_gather(v, root, global);
    sl_context *ctx = op->ctx;
    const sl_tile_set *ts = side_tiles(s, side);
    const sl_tiled *t = &ts->geom;
    int receives = root == SL_ALL_RANKS || root == ctx->rank;
    int ok = root >= SL_ALL_RANKS && root < ctx->size && (!receives || global) &&
             t->rows * t->cols * s->es <= INT_MAX;
    if (!ok)
        sl_fail(ctx, SL_ERR_ARG, "sl_matrixmult_gather: root %d is not a rank or SL_ALL_RANKS, "
                "global is NULL on a receiving rank, or the matrix exceeds 2 GiB", root);
    st = sl_agree(ctx, NULL, 0, ok, "sl_matrixmult_gather");
    if (st != SL_OK)
        return ok ? st : SL_ERR_ARG;
    size_t total = t->rows * t->cols;
    char *all = receives ? malloc(total * s->es + 1) : NULL;
    int *displs = malloc((size_t)ctx->size * sizeof *displs);
    size_t *offsets = malloc((t->rt * t->ct + 1) * sizeof *offsets);
    /* Every rank must reach the gather, or none: a local failure is agreed first. The
     * array's block is the packed block: sent from where it lies. */
    st = displs && offsets && (all || !receives) ? SL_OK : SL_ERR_NOMEM;
    if (st == SL_OK)
        st = sl_darray_acquire_tiles(v, STARPU_R);
    int acquired = st == SL_OK;
    sl_status agreed = sl_agree(ctx, NULL, 0, st == SL_OK, "sl_matrixmult_gather");
    if (st == SL_OK && agreed == SL_OK)
        st = collect(s, t, v->data, ts->packed, root, all, displs);
    else if (st == SL_OK)
        st = agreed;
    if (acquired)
        sl_darray_release_tiles(v);
    for (int r = 0; r < ctx->size && st == SL_OK && receives; r++) {
        sl_summa_pack_offsets(&s->plan, t, r, offsets);
        copy_tiles(t, offsets, global, all + displs[r], s->es, 0);
    }
    free(all);
    free(displs);
    free(offsets);
    return st == SL_OK ? SL_OK : sl_fail(ctx, st, "sl_matrixmult_gather: out of memory or MPI "
                                         "failure");
}
