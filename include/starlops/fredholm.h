/* Fredholm integral of the first kind (PyLops Fredholm1, PyLops-MPI MPIFredholm1): a batch of
 * nsl independent matrix products, one per slice of a kernel G of shape (nsl, nx, ny). */
#ifndef STARLOPS_FREDHOLM_H
#define STARLOPS_FREDHOLM_H

#include <starlops/op.h>
#include <starlops/summa.h>

#ifdef __cplusplus
extern "C" {
#endif

/* y[s] = G[s] x[s] (forward) and x[s] = G[s]^H y[s] (adjoint) for every slice s, with the
 * model x of shape (nsl, ny, nz) and the data y of shape (nsl, nx, nz) (nz >= 1; both 3-d, as
 * PyLops' dims and dimsd).
 *
 * Layout: model and data are SCATTERED along axis 0 (the slices) with the same split: balanced
 * (local_nsl NULL) or local_nsl[r] slices on rank r (the same table on every rank, summing to
 * nsl; a rank may hold one slice or none). Each rank passes its own slices of G, g_local of
 * shape (local_nsl, nx, ny) in C order, copied (NULL allowed on a rank without slices). The
 * operator is then block-diagonal over ranks and applies without any communication: one task
 * per data tile (adjoint: per model tile) multiplies the tile's slices.
 *
 * PyLops-MPI instead replicates model and data (BROADCAST) and allgathers every rank's slices
 * after each product, so each application moves and stores all nsl slices on every rank: the
 * memory per rank and the traffic grow with the problem however many ranks there are, and the
 * solvers' vector updates are done redundantly by every rank. Scattered, a rank stores and
 * updates only its slices and nothing moves but the reductions' scalars.
 *
 * saveGt stores G[s]^H (conjugate transpose, contiguous) per slice for the adjoint, as PyLops
 * does (twice the memory for G, a non-transposed product in the adjoint); without it the
 * adjoint multiplies by G[s] conjugate-transposed in place. Collective: a wrong argument on
 * any rank (G NULL on a rank with slices, nsl/nx/ny/nz/dtype/saveGt differing between ranks,
 * local_nsl not summing to nsl) is an error on every rank. */
sl_status sl_op_fredholm1(sl_context *ctx, sl_dtype dtype, size_t nsl, size_t nx, size_t ny,
                          size_t nz, const void *g_local, const size_t *local_nsl, int saveGt,
                          sl_op **out);

/* The 2D-blocked layout, for slices too large for one rank: the P ranks form `groups` batch
 * groups (Pb; 0 or 1: one group of all ranks), group g holding the g-th range of slices of the
 * balanced split and the g-th range of ranks of the balanced split of P (so P = Pb * p * q
 * when Pb divides P, and groups one rank apart otherwise: any P, any Pb <= P). Each slice's
 * G[s], x[s] and y[s] are cut into tiles over its group's p x q grid (the SUMMA MatrixMult's
 * block-cyclic layout: grid and tiles from opts, which must then fit every group, from
 * STARLOPS_GRID when it has the group's size, else from the traffic model) and
 * y[s] = G[s] x[s] runs as SUMMA within the group, the slices side by side (a stacked block
 * diagonal; groups work concurrently, ranks take part in their group's slices only). The
 * model and data are stacks of nsl parts (sl_darray_stack_part(v, s, ...) is slice s, packed as
 * a SUMMA MatrixMult's arrays); sl_fredholm1_blocked_scatter / _gather convert from / to
 * natural (nsl, ny, nz) model and (nsl, nx, nz) data arrays (root SL_ALL_RANKS: on every
 * rank). fill(slice, row0, col0, rows, cols, block, user) writes the row-major rows x cols
 * block of G[slice] at (row0, col0), for the tiles this rank owns, during construction. There
 * is no saveGt: SUMMA's adjoint multiplies by each tile's conjugate transpose in place.
 * Pb = P is the slice split with 1 x 1 grids. Collective. */
typedef void (*sl_fredholm_fill_fn)(size_t slice, size_t row0, size_t col0, size_t rows,
                                    size_t cols, void *block, void *user);
sl_status sl_op_fredholm1_blocked(sl_context *ctx, sl_dtype dtype, size_t nsl, size_t nx,
                                  size_t ny, size_t nz, sl_fredholm_fill_fn fill, void *user,
                                  int groups, const sl_summa_opts *opts, sl_op **out);
sl_status sl_fredholm1_blocked_scatter(const sl_op *op, sl_op_side side, const void *global,
                                       sl_darray *v);
sl_status sl_fredholm1_blocked_gather(const sl_op *op, sl_op_side side, const sl_darray *v,
                                      int root, void *global);

#ifdef __cplusplus
}
#endif
#endif
