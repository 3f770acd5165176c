/* Codelets of the stencil operators (stencil.c): the per-tile stencil task and the packing of
 * ghost slabs. */
#ifndef STARLOPS_CL_STENCIL_H
#define STARLOPS_CL_STENCIL_H

#include "codelet_common.h"
#include "cpu/stencil_kernels.h"
#include "stencil_point.h"

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
    /* an axis before the split one: its stride in slices of the tile (the tile is a matrix of
     * outer slices, each holding the tile's rows); 0 for the other axes. Layout-only, so it
     * holds for a tile's packed copy on a device too */
    size_t slice_stride;
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
    /* flat rows store their interior points past the caches (a large output) */
    int stream;
    sl_stencil_term_args terms[SL_STENCIL_MAX_TERMS];
    sl_stencil_piece_args pieces[SL_STENCIL_MAX_PIECES];
    /* counted (atomically) when the task cannot run: its tile is then NaN, and sl_wait
     * reports the failure */
    unsigned long *failures;
} sl_stencil_task_args;

/* out (W) from in (R) and the table (R); pieces: args->npieces handles (R), described by
 * args->pieces in the same order. */
int sl_task_stencil(const sl_stencil_task_args *args, starpu_data_handle_t out,
                    starpu_data_handle_t table, starpu_data_handle_t in,
                    const starpu_data_handle_t *pieces);

/* A task's buffer as a kernel sees it, in the memory it runs on: its own pointer and shape in
 * elements of elemsize bytes (a vector: nx elements, ny = 1, ld = nx). */
typedef struct sl_stencil_buffer {
    const void *ptr;
    size_t nx, ny, ld, elemsize;
} sl_stencil_buffer;

/* The point evaluation (stencil_point.h) of a stencil task on its buffers: what a device runs,
 * whatever mode (fused, flat, blocks) the CPU codelet would use. Strides come from the
 * buffers (a tile's copy on a device is packed, its rows no longer `tile_pre_stride` apart);
 * from the args only layout-derived sizes (rows, reals per row, axis lengths and strides).
 * `table` is the stencil table in that memory (not read here). 0, or -1 when the buffers do
 * not fit the args (the task must then fail its tile). */
int sl_stencil_point_task_of(const sl_stencil_task_args *a, const sl_stencil *table,
                             const sl_stencil_buffer *out, const sl_stencil_buffer *in,
                             const sl_stencil_buffer *pieces, sl_point_task *p);

/* Packs rows [first, first + rows) of a rank's block (outer x local_rows x inner, bytes) into a
 * slab (outer x rows x inner) for a ghost exchange. Buffers: the slab (W, vector of bytes), then
 * the tiles holding those rows (R, matrix), in order. */
typedef struct sl_pack_args {
    size_t first, rows, outer, row_bytes; /* each tile's leading dimension is its own */
    int ntiles;
    size_t tile_row0[SL_STENCIL_MAX_PIECES], tile_nrows[SL_STENCIL_MAX_PIECES];
} sl_pack_args;
/* slab (W) from the args->ntiles tiles (R). */
int sl_task_pack_rows(const sl_pack_args *args, starpu_data_handle_t slab,
                      const starpu_data_handle_t *tiles);

#endif
