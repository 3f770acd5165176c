/* The block-cyclic geometry of the 2D (SUMMA) MatrixMult: tile grids of A (N x K), X (K x M)
 * and Y (N x M) on a P x Q process grid, who owns which tile, how a rank packs its tiles into
 * its block of a distributed array, and the communication-volume model that picks the grid.
 * Pure functions of the sizes: every rank computes the same plan without talking. */
#ifndef STARLOPS_SUMMA_PLAN_H
#define STARLOPS_SUMMA_PLAN_H

#include <stddef.h>
#include <stdint.h>

/* A rows x cols matrix cut into rb x cb tiles (the last row / column of tiles may be short). */
typedef struct sl_tiled {
    size_t rows, cols, rb, cb;
    size_t rt, ct; /* tile counts */
} sl_tiled;

typedef struct sl_summa_plan {
    int p, q;          /* process grid */
    sl_tiled a, x, y;  /* A: mb x kb tiles, X: kb x nb, Y: mb x nb */
    int base;          /* the grid's first rank: ranks base .. base + p*q - 1 (0 but for
                          operators on a group of the ranks, e.g. 2D-blocked Fredholm1) */
} sl_summa_plan;

sl_tiled sl_tiled_make(size_t rows, size_t cols, size_t rb, size_t cb);
size_t sl_tiled_tile_rows(const sl_tiled *t, size_t ti);
size_t sl_tiled_tile_cols(const sl_tiled *t, size_t tj);

/* ScaLAPACK's 2D block-cyclic rule: tile (ti, tj) lives on process (ti % P, tj % Q), rank
 * base + (ti % P) * Q + tj % Q. */
static inline int sl_summa_owner(const sl_summa_plan *plan, size_t ti, size_t tj)
{
    return plan->base + (int)(ti % (size_t)plan->p) * plan->q + (int)(tj % (size_t)plan->q);
}

/* The rank of grid position (pr, pc). */
static inline int sl_summa_rank(const sl_summa_plan *plan, size_t pr, size_t pc)
{
    return plan->base + (int)(pr * (size_t)plan->q + pc);
}

/* A rank's block of a tiled matrix, as a distributed array sees it: its tiles in row-major
 * tile order, each tile row-major. Returns the element count; offsets (rt * ct entries, may
 * be NULL) receive each owned tile's start in that block and SIZE_MAX for the others. */
size_t sl_summa_pack_offsets(const sl_summa_plan *plan, const sl_tiled *t, int rank,
                             size_t *offsets);

/* Elements a rank receives per forward + adjoint application on a P x Q grid (the model that
 * picks the grid): forward moves A along process rows and X along columns; the adjoint moves
 * Y along rows and sends partial A^H Y products to the owners of X. */
double sl_summa_volume(size_t n, size_t k, size_t m, int p, int q);

/* The grid: want_p x want_q when given (> 0), else the factorisation of size with the least
 * volume (ties: the squarer one). */
void sl_summa_choose_grid(size_t n, size_t k, size_t m, int size, int want_p, int want_q,
                          int *p, int *q);

/* Default tile sizes for a grid: one tile row / column per process where the matrix is small,
 * at most 512 (a gemm of 512^3 takes ~10 ms on one core, far above task overheads), and at
 * least 4 panels along K when K allows (so panel k+1 can travel while panel k multiplies), of
 * at least 128 columns each (smaller panels cost more in tasks than they carry). */
void sl_summa_default_tiles(size_t n, size_t k, size_t m, int p, int q, size_t *mb, size_t *kb,
                            size_t *nb);

#endif
