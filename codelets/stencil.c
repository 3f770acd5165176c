/* Codelets of the stencil operators: the per-tile stencil task and the ghost-slab packing,
 * with their insert helpers. */
#include <stdlib.h>
#include <string.h>

#include "stencil.h"

/* All bits set: a NaN in float and in double. */
static void fail_tile(void *tile, unsigned long *failures)
{
    size_t row = STARPU_MATRIX_GET_NX(tile) * STARPU_MATRIX_GET_ELEMSIZE(tile);
    size_t ld = STARPU_MATRIX_GET_LD(tile) * STARPU_MATRIX_GET_ELEMSIZE(tile);
    char *p = (char *)STARPU_MATRIX_GET_PTR(tile);
    for (size_t r = 0; r < STARPU_MATRIX_GET_NY(tile); r++)
        memset(p + r * ld, 0xff, row);
    if (failures)
        __atomic_add_fetch(failures, 1, __ATOMIC_RELAXED);
}

static void stencil_cpu(void *buffers[], void *cl_arg)
{
    sl_stencil_task_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    void *out = (void *)STARPU_MATRIX_GET_PTR(buffers[0]);
    const sl_stencil *table = (const sl_stencil *)STARPU_VECTOR_GET_PTR(buffers[1]);
    const void *in = (const void *)STARPU_MATRIX_GET_PTR(buffers[2]);
    sl_stencil_piece pieces[SL_STENCIL_MAX_PIECES + 1];
    int np = 0;
    if (a.fused) /* the tile's other rows are read like a neighbour's */
        pieces[np++] = (sl_stencil_piece){in, a.tile_row0, a.rows, a.tile_pre_stride};
    for (int i = 0; i < a.npieces; i++) {
        void *b = buffers[3 + i];
        pieces[np].base = a.pieces[i].is_vector ? (const void *)STARPU_VECTOR_GET_PTR(b)
                                                : (const void *)STARPU_MATRIX_GET_PTR(b);
        pieces[np].row0 = a.pieces[i].row0;
        pieces[np].nrows = a.pieces[i].nrows;
        pieces[np++].pre_stride = a.pieces[i].pre_stride;
    }
    /* ~100 KB: too big for a worker's stack. Without it the task cannot run: the tile becomes
     * NaN (never a silently wrong result) and the failure is counted for sl_wait. */
    sl_stencil_workspace *w = sl_stencil_workspace_new();
    if (!w) {
        fail_tile(buffers[0], a.failures);
        return;
    }
    if (!a.fused) {
        for (int t = 0; t < a.nterms; t++)
            sl_kernel_stencil(a.single, &table[a.terms[t].stencil], a.adjoint, t > 0,
                              &a.terms[t].geom, out, in, pieces, np, w);
        sl_stencil_workspace_free(w);
        return;
    }
    size_t es = a.single ? sizeof(float) : sizeof(double), bytes = a.row_stride * es;
    size_t chunk = a.chunk ? a.chunk : 1, count = a.chunk ? a.chunk_count : 1;
    sl_stencil_piece shifted[SL_STENCIL_MAX_PIECES + 1];
    sl_row_term rterms[SL_STENCIL_MAX_TERMS];
    for (int t = 0; t < a.nterms; t++)
        rterms[t] = (sl_row_term){&table[a.terms[t].stencil], a.terms[t].along_tiles,
                                  a.terms[t].axis_len, a.terms[t].axis_stride};
    for (size_t r = 0; r < a.rows; r++) {
        const char *in_row = (const char *)in + r * bytes;
        char *out_row = (char *)out + r * bytes;
        if (a.flat && sl_kernel_stencil_row(a.single, a.adjoint, a.nterms, rterms,
                                            a.tile_row0 + r, a.split_n, a.row_stride, out_row,
                                            in_row, pieces, np, a.stream))
            continue; /* the whole row in one pass */
        /* the whole row, for a term along the cut dimension reading beyond its block */
        sl_stencil_piece row_piece = {in_row, 0, count, a.tile_pre_stride};
        for (size_t j0 = 0; j0 < count; j0 += chunk) {
            size_t shift = a.chunk ? j0 * a.chunk_stride * es : 0;
            for (int i = 0; i < np; i++) {
                shifted[i] = pieces[i];
                shifted[i].base = (const char *)pieces[i].base + shift;
            }
            for (int t = 0; t < a.nterms; t++) {
                const sl_stencil_term_args *ta = &a.terms[t];
                sl_stencil_geometry g = j0 + chunk >= count ? ta->geom_last : ta->geom;
                const sl_stencil_piece *pc = NULL;
                int npc = 0;
                if (ta->along_tiles)
                    g.row0 += r, pc = shifted, npc = np;
                if (ta->along_chunk)
                    g.row0 += j0, pc = &row_piece, npc = 1;
                sl_kernel_stencil(a.single, &table[ta->stencil], a.adjoint, t > 0, &g,
                                  out_row + shift, in_row + shift, pc, npc, w);
            }
        }
    }
    sl_stencil_workspace_free(w);
}

static struct starpu_perfmodel stencil_model = {.type = STARPU_HISTORY_BASED,
                                                .symbol = "sl_stencil"};

static struct starpu_codelet stencil_cl = {
    .cpu_funcs = {stencil_cpu},
    SL_CUDA_PENDING(stencil_cuda)
    .nbuffers = STARPU_VARIABLE_NBUFFERS,
    .model = &stencil_model,
    .name = "stencil",
};

int sl_task_stencil(const sl_stencil_task_args *args, starpu_data_handle_t out,
                    starpu_data_handle_t table, starpu_data_handle_t in,
                    const starpu_data_handle_t *pieces)
{
    struct starpu_data_descr d[3 + SL_STENCIL_MAX_PIECES];
    d[0] = (struct starpu_data_descr){out, STARPU_W};
    d[1] = (struct starpu_data_descr){table, STARPU_R};
    d[2] = (struct starpu_data_descr){in, STARPU_R};
    for (int i = 0; i < args->npieces; i++)
        d[3 + i] = (struct starpu_data_descr){pieces[i], STARPU_R};
    return starpu_task_insert(&stencil_cl, STARPU_VALUE, args, sizeof *args,
                              STARPU_DATA_MODE_ARRAY, d, 3 + args->npieces, 0);
}

static void pack_rows_cpu(void *buffers[], void *cl_arg)
{
    sl_pack_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    char *slab = (char *)STARPU_VECTOR_GET_PTR(buffers[0]);
    for (size_t r = a.first; r < a.first + a.rows; r++) {
        int t = 0;
        while (t < a.ntiles && !(r >= a.tile_row0[t] && r < a.tile_row0[t] + a.tile_nrows[t]))
            t++;
        if (t == a.ntiles)
            continue; /* the operator packs only rows its tiles hold */
        const char *tile = (const char *)STARPU_MATRIX_GET_PTR(buffers[1 + t]);
        for (size_t o = 0; o < a.outer; o++)
            memcpy(slab + (o * a.rows + (r - a.first)) * a.row_bytes,
                   tile + o * a.ld_bytes + (r - a.tile_row0[t]) * a.row_bytes, a.row_bytes);
    }
}

SL_HISTORY_MODEL(pack_rows_model, "pack_rows");
static struct starpu_codelet pack_rows_cl = {
    .cpu_funcs = {pack_rows_cpu},
    SL_CUDA_PENDING(pack_rows_cuda)
    .model = &pack_rows_model,
    .nbuffers = STARPU_VARIABLE_NBUFFERS,
    .name = "pack_rows",
};

int sl_task_pack_rows(const sl_pack_args *args, starpu_data_handle_t slab,
                      const starpu_data_handle_t *tiles)
{
    struct starpu_data_descr d[1 + SL_STENCIL_MAX_PIECES];
    d[0] = (struct starpu_data_descr){slab, STARPU_W};
    for (int i = 0; i < args->ntiles; i++)
        d[1 + i] = (struct starpu_data_descr){tiles[i], STARPU_R};
    return starpu_task_insert(&pack_rows_cl, STARPU_VALUE, args, sizeof *args,
                              STARPU_DATA_MODE_ARRAY, d, 1 + args->ntiles, 0);
}
