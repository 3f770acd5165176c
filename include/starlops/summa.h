/* MatrixMult with a 2D block-cyclic distribution, applied by SUMMA as a task DAG.
 *
 * A (N x K) is cut into mb x kb tiles spread over a P x Q process grid by ScaLAPACK's rule
 * (tile (i, j) on rank (i % P) * Q + j % Q); the model X (K x M) and the data Y (N x M, M right-
 * hand sides) are tiled kb x nb and mb x nb the same way. Forward Y = A X: each K-panel of A
 * travels along process rows and the matching panel of X along process columns, gemm tasks
 * accumulate into the owners' Y tiles, and panel l+1 is in flight while panel l multiplies
 * (StarPU-MPI transfers progress on their own). Adjoint X = A^H Y: Y tiles travel along
 * process rows, A^H Y products accumulate where A lives, and the partial sums go to X's owners.
 * Any number of ranks and any grid (1 x P, P x 1, 2 x 3, ...); sizes need not divide anything.
 *
 * Model and data are 1-d scattered sl_darrays (length K*M and N*M) holding each rank's tiles
 * packed (its tiles in row-major tile order, each tile row-major), like PyLops-MPI's SUMMA
 * MatrixMult, whose arrays hold each rank's block. sl_matrixmult_scatter / _gather convert
 * between natural (row-major) matrices and that layout, for this and the 1D kind alike; every
 * other operation (matvec, solvers, stacking, dot tests) is the same as for any operator.
 * Arrays made by sl_op_create_model / _data have the right layout. */
#ifndef STARLOPS_SUMMA_H
#define STARLOPS_SUMMA_H

#include <starlops/op.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_summa_opts {
    int grid_p, grid_q; /* both 0: STARLOPS_GRID if set, else the grid moving the fewest
                           bytes per rank (model in src/ops/summa_plan.c) */
    size_t mb, kb, nb;  /* tile sizes; 0: defaults (<= 512; >= 4 panels along K, each of
                           >= 128 columns where K allows) */
    int lookahead;      /* panels received ahead of the one multiplying; 0: 2 */
    int verbose;        /* rank 0 prints the grid, the tiles and the modelled volume */
} sl_summa_opts;

/* Fills the row-major rows x cols block of A starting at (row0, col0). Called on each rank for
 * the tiles it owns, during construction, on the calling thread (no collective calls). */
typedef void (*sl_matrix_fill_fn)(size_t row0, size_t col0, size_t rows, size_t cols,
                                  void *block, void *user);

/* Collective. nrhs = 0 means vectors (M = 1). opts may be NULL. A is copied tile by tile. */
sl_status sl_op_matrixmult_summa(sl_context *ctx, sl_dtype dtype, size_t n, size_t k,
                                 size_t nrhs, sl_matrix_fill_fn fill, void *user,
                                 const sl_summa_opts *opts, sl_op **out);

/* The model that picks the default grid: elements a rank receives per forward + adjoint on a
 * P x Q grid, N/P*K*(Q-1)/Q + K*M/Q*(P-1)/P (forward: A along rows, X along columns) plus
 * N/P*M*(Q-1)/Q + K/Q*M*(P-1)/P (adjoint: Y along rows, partial sums to X's owners). P x 1 is
 * the 1D row split (A never moves). */
double sl_matrixmult_summa_volume(size_t n, size_t k, size_t m, int p, int q);

/* The grid and tile sizes a SUMMA MatrixMult uses. */
sl_status sl_matrixmult_summa_info(const sl_op *op, int *p, int *q, size_t *mb, size_t *kb,
                                   size_t *nb);

typedef enum sl_op_side { SL_SIDE_MODEL = 0, SL_SIDE_DATA = 1 } sl_op_side;

/* For either MatrixMult kind. Collective, blocking. scatter: every rank passes the whole
 * natural matrix (K x M model or N x M data, row-major) and keeps its part in v. gather: the
 * natural matrix on root (SL_ALL_RANKS: on every rank; other ranks may pass NULL). */
sl_status sl_matrixmult_scatter(const sl_op *op, sl_op_side side, const void *global,
                                sl_darray *v);
sl_status sl_matrixmult_gather(const sl_op *op, sl_op_side side, const sl_darray *v, int root,
                               void *global);

#ifdef __cplusplus
}
#endif
#endif
