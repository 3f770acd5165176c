/* The N-d Cartesian halo operator (PyLops-MPI MPIHalo), to wrap a local operator that needs
 * its neighbours' samples: Halo^H . BlockDiag(local op on extended blocks) . Halo.
 *
 * An N-d array of global shape dims is cut into blocks over a Cartesian process grid
 * (grid[d] ranks along dim d, ranks numbered in C order over the grid; PyLops-MPI's split per
 * dim). The model is each rank's block (C order) as a 1-d scattered array; the data each
 * rank's block extended by halo[2d] samples before and halo[2d+1] after along every dim d,
 * filled from the neighbouring blocks (corners included) and zero beyond the global edges,
 * likewise a 1-d scattered array. The adjoint adds every halo sample back into the block
 * that owns it. Forward and adjoint are tasks: per dim, pack, one neighbour exchange through
 * the communication layer, unpack. */
#ifndef STARLOPS_HALO_H
#define STARLOPS_HALO_H

#include <starlops/op.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Collective. grid: NULL for MPI_Dims_create's choice. A grid that does not hold every rank,
 * a dim with more ranks than samples, or a block thinner than the halo its neighbours read
 * fail on every rank, as do arguments that differ between ranks. */
sl_status sl_op_halo(sl_context *ctx, sl_dtype dtype, int ndim, const size_t *dims,
                     const int *grid, const size_t *halo, sl_op **out);

/* This rank's block: its first global index, its size and its extended size, per dim. */
sl_status sl_op_halo_block(const sl_op *halo, size_t *offset, size_t *size, size_t *extended);

#ifdef __cplusplus
}
#endif
#endif
