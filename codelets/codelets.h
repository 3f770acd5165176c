/* StarPU codelets of starlops (CPU functions now; CUDA variants come with the GPU issue).
 * Families moved to codelets/<family>.c + .h (codelets, performance models and sl_task_*
 * insert helpers) are included here; the others are still declared below. */
#ifndef STARLOPS_CODELETS_H
#define STARLOPS_CODELETS_H

#include "codelet_common.h"
#include "cpu/kernels.h"
#include "cpu/stencil_kernels.h"
#include "cpu/box_kernels.h"
#include "elementwise.h"
#include "reduce.h"
#include "scalar.h"
#include "lsqr.h"
#include "tile.h"
#include "matrixmult.h"
#include "summa.h"

/* Stencils (derivatives, Laplacian, convolution): one task per output tile. Buffers: the output
 * tile (W, matrix), the operator's stencil table (R, vector of sl_stencil), the input tile of
 * the same rows (R, matrix), then the pieces (R): neighbouring input tiles (matrix) or ghost
 * slabs received from other ranks (vector). Terms after the first accumulate. */

typedef struct sl_stencil_term_args {
    int stencil;     /* index in the table */
    int along_tiles; /* the term runs along the tiled axis (reads the pieces) */
    int along_chunk; /* fused blocks: the term runs along the cut dimension */
    sl_stencil_geometry geom, geom_last; /* geom_last: the last block of a row */
    size_t axis_len, axis_stride;        /* flat rows: the term's axis inside a row (reals) */
} sl_stencil_term_args;
typedef struct sl_stencil_piece_args {
    int is_vector;
    size_t row0, nrows, pre_stride;
} sl_stencil_piece_args;
/* Fused: several terms are applied row by row of the tile (rows along the tiled axis), all
 * terms on one row before the next, so the row stays in cache; the geometries then describe
 * one row (the first), row r being row_stride reals further, and the tile itself is a piece
 * (global rows tile_row0.., pre-stride tile_pre_stride) for the term along the tiles. */
typedef struct sl_stencil_task_args {
    int single, adjoint, nterms, npieces;
    int fused;
    size_t rows, row_stride, tile_row0, tile_pre_stride;
    /* fused rows cut into blocks of `chunk` of the dimension after the split axis (0: not cut):
     * that dimension has chunk_count entries, chunk_stride reals apart */
    size_t chunk, chunk_count, chunk_stride;
    /* flat: fused rows are contiguous (nothing before the split axis, every term on it or
     * after it), so a row can be done in one pass (sl_kernel_stencil_row); split_n is the
     * length of the split axis */
    int flat;
    size_t split_n;
    sl_stencil_term_args terms[SL_STENCIL_MAX_TERMS];
    sl_stencil_piece_args pieces[SL_STENCIL_MAX_PIECES];
    /* counted (atomically) when the task cannot run: its tile is then NaN, and sl_wait
     * reports the failure */
    unsigned long *failures;
} sl_stencil_task_args;
extern struct starpu_codelet sl_cl_stencil;

/* Packs rows [first, first + rows) of a rank's block (outer x local_rows x inner, bytes) into a
 * slab (outer x rows x inner) for a ghost exchange. Buffers: the slab (W, vector of bytes), then
 * the tiles holding those rows (R, matrix), in order. */
typedef struct sl_pack_args {
    size_t first, rows, outer, row_bytes, ld_bytes;
    int ntiles;
    size_t tile_row0[SL_STENCIL_MAX_PIECES], tile_nrows[SL_STENCIL_MAX_PIECES];
} sl_pack_args;
extern struct starpu_codelet sl_cl_pack_rows;

/* Box copies for the halo operator (CPU only): dst box (=, or +=) src box. Each side is a
 * whole rank block given as its buffers in order — every tile of a 1-d array, whose block is
 * contiguous from the first tile on (so the first tile's pointer is the block's), or one
 * vector — the dst side first. zero_dst: the whole dst block is zeroed first (nbytes_dst
 * bytes); zero_src: the src box is zeroed after the copy (the src side is then RW). */
typedef struct sl_box_args {
    int ndst, nsrc;             /* buffers per side */
    int dst_vector, src_vector; /* interface of the side's first buffer */
    sl_box db, sb;
    size_t count[SL_BOX_MAX_NDIM];
    size_t esize, nbytes_dst;
    int add, single, zero_dst, zero_src;
} sl_box_args;
extern struct starpu_codelet sl_cl_box;

#endif
