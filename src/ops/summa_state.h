/* State of a SUMMA MatrixMult on one rank, shared by its constructor (op_summa.c) and its
 * task graph (summa_apply.c). */
#ifndef STARLOPS_SUMMA_STATE_H
#define STARLOPS_SUMMA_STATE_H

#include <starlops/summa.h>
#include "ops/op_internal.h"
#include "ops/summa_plan.h"

/* This rank's tiles of one tiled matrix: handles of the owned tiles (NULL elsewhere) and where
 * each sits in the rank's packed block. */
typedef struct sl_tile_set {
    sl_tiled geom;
    starpu_data_handle_t *h; /* rt * ct */
    size_t *offset;          /* rt * ct: start in the packed block, SIZE_MAX if not owned */
    size_t *owned;           /* indices of the owned tiles, in packed order */
    size_t nowned;
    size_t packed;           /* elements of the packed block */
} sl_tile_set;

typedef struct sl_summa_state {
    sl_context *ctx;
    sl_dtype dtype;
    size_t es;
    sl_summa_plan plan;
    int pr, pc; /* this rank's row and column in the grid; -1 outside the grid's group (such
                   a rank owns no tile, and the loops starting at pr or pc, as size_t, skip) */
    int depth;  /* receive slots per panel stream (lookahead + 1); slot `depth` is the last,
                   possibly narrower, panel */
    int ordered;         /* transfers as broadcasts and exchanges (sl_ordered_transfers) */
    MPI_Comm row, col;   /* ordered: this rank's process row / column (the context's mask
                            groups, not owned; a singleton outside the grid) */
    sl_tile_set a, x, y; /* x and y: the operator's own copies of the packed blocks */
    starpu_data_handle_t *acc;    /* kt * nt: partial A^H Y where this rank holds A's column */
    starpu_data_handle_t *xin;    /* kt * nt: partial sums arriving at X's owner */
    starpu_data_handle_t *ring_a; /* (depth + 1) * mt: remote A(i, l), forward */
    starpu_data_handle_t *ring_x; /* (depth + 1) * nt: remote X(l, j), forward */
    starpu_data_handle_t *ring_y; /* (depth + 1) * nt: remote Y(i, j), adjoint */
    void **mem;                   /* every buffer the operator allocated */
    size_t nmem, capmem;
} sl_summa_state;

/* Receive slot of panel `index` (counted among this rank's panels), `last` for the final one. */
static inline size_t sl_summa_slot(const sl_summa_state *s, size_t index, int last)
{
    return last ? (size_t)s->depth : index % (size_t)s->depth;
}

/* A SUMMA MatrixMult on the `nranks` ranks from `base` (a group of the context's ranks; the
 * others hold no tile and empty model and data blocks, and take part only in the collective
 * construction). opts' grid, when given, must have nranks ranks; else the traffic model picks
 * one for nranks (STARLOPS_GRID only applies when it has nranks ranks). Collective. */
sl_status sl_op_matrixmult_summa_group(sl_context *ctx, sl_dtype dtype, size_t n, size_t k,
                                       size_t nrhs, sl_matrix_fill_fn fill, void *user,
                                       const sl_summa_opts *opts, int base, int nranks,
                                       sl_op **out);

/* The state of a SUMMA MatrixMult, NULL for any other operator. */
const sl_summa_state *sl_summa_state_of(const sl_op *op);

sl_status sl_summa_forward(const sl_summa_state *s, const sl_darray *x, sl_darray *y);
sl_status sl_summa_adjoint(const sl_summa_state *s, const sl_darray *y, sl_darray *x);

#endif
