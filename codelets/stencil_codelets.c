/* Codelets of the stencil operators: the per-tile stencil task and the ghost-slab packing. */
#include <stdlib.h>
#include <string.h>

#include "codelets.h"

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
    /* ~100 KB: too big for a worker's stack; a kernel cannot report, and this allocation
     * failing means the process is already out of memory */
    sl_stencil_workspace *w = sl_stencil_workspace_new();
    if (!w)
        abort();
    if (!a.fused) {
        for (int t = 0; t < a.nterms; t++)
            sl_kernel_stencil(a.single, &table[a.terms[t].stencil], a.adjoint, t > 0,
                              &a.terms[t].geom, out, in, pieces, np, w);
        sl_stencil_workspace_free(w);
        return;
    }
    size_t bytes = a.row_stride * (a.single ? sizeof(float) : sizeof(double));
    for (size_t r = 0; r < a.rows; r++)
        for (int t = 0; t < a.nterms; t++) {
            sl_stencil_geometry g = a.terms[t].geom;
            if (a.terms[t].along_tiles)
                g.row0 += r;
            sl_kernel_stencil(a.single, &table[a.terms[t].stencil], a.adjoint, t > 0, &g,
                              (char *)out + r * bytes, (const char *)in + r * bytes, pieces, np,
                              w);
        }
    sl_stencil_workspace_free(w);
}

static struct starpu_perfmodel stencil_model = {.type = STARPU_HISTORY_BASED,
                                                .symbol = "sl_stencil"};

struct starpu_codelet sl_cl_stencil = {
    .cpu_funcs = {stencil_cpu},
    .nbuffers = STARPU_VARIABLE_NBUFFERS,
    .model = &stencil_model,
    .name = "stencil",
};

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

struct starpu_codelet sl_cl_pack_rows = {
    .cpu_funcs = {pack_rows_cpu},
    .nbuffers = STARPU_VARIABLE_NBUFFERS,
    .name = "pack_rows",
};
