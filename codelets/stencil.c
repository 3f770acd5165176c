/* Codelets of the stencil operators: the per-tile stencil task and the ghost-slab packing,
 * with their insert helpers. */
#include <stdlib.h>
#include <string.h>

#include "stencil.h"
#ifdef STARLOPS_USE_CUDA
#include "cuda/cuda_scratch.h"
#include "cuda/stencil_cuda.h"
#endif

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

/* Reals per element of a buffer (1, or 2 for complex), 0 when its element is not made of
 * reals of the task's size. */
static size_t reals_per_elem(const sl_stencil_buffer *b, size_t real)
{
    return b->elemsize % real == 0 ? b->elemsize / real : 0;
}

/* Whether a matrix buffer holds `outer` slices of `rows` rows of `row_len` reals; its slice
 * stride (reals) into *slice. */
static int tile_fits(const sl_stencil_buffer *b, size_t real, size_t outer, size_t rows,
                     size_t row_len, size_t *slice)
{
    size_t f = reals_per_elem(b, real);
    *slice = b->ld * f;
    return f && b->ny == outer && b->nx * f == rows * row_len && b->ld >= b->nx;
}

static int point_term(const sl_stencil_term_args *ta, const sl_stencil *table, size_t outer,
                      size_t row_len, sl_point_term *u)
{
    u->st = table + ta->stencil;
    u->len = ta->axis_len;
    if (ta->along_tiles) {
        u->along = SL_POINT_ROWS, u->stride = 0;
        return u->len > 0;
    }
    u->along = ta->slice_stride ? SL_POINT_OUTER : SL_POINT_INNER;
    u->stride = ta->slice_stride ? ta->slice_stride : ta->axis_stride;
    size_t span = u->stride * u->len; /* the axis's block repeats within the slices / row */
    return u->len > 0 && u->stride > 0 && (ta->slice_stride ? outer : row_len) % span == 0;
}

int sl_stencil_point_task_of(const sl_stencil_task_args *a, const sl_stencil *table,
                             const sl_stencil_buffer *out, const sl_stencil_buffer *in,
                             const sl_stencil_buffer *pieces, sl_point_task *p)
{
    size_t real = a->single ? sizeof(float) : sizeof(double), outer = out->ny;
    memset(p, 0, sizeof *p);
    p->single = a->single, p->adjoint = a->adjoint;
    p->nterms = a->nterms, p->npieces = a->npieces;
    p->outer = outer, p->rows = a->rows, p->row_len = a->row_stride, p->row0 = a->tile_row0;
    p->out = (void *)out->ptr, p->in = in->ptr;
    int ok = a->nterms >= 1 && a->nterms <= SL_STENCIL_MAX_TERMS && a->npieces >= 0 &&
             a->npieces <= SL_STENCIL_MAX_PIECES && a->row_stride > 0 &&
             tile_fits(out, real, outer, a->rows, a->row_stride, &p->out_slice) &&
             tile_fits(in, real, outer, a->rows, a->row_stride, &p->in_slice);
    for (int t = 0; ok && t < a->nterms; t++)
        ok = point_term(&a->terms[t], table, outer, a->row_stride, &p->terms[t]);
    for (int i = 0; ok && i < a->npieces; i++) {
        const sl_stencil_piece_args *pa = &a->pieces[i];
        sl_point_piece *pc = &p->pieces[i];
        *pc = (sl_point_piece){pieces[i].ptr, pa->row0, pa->nrows, 0};
        if (pa->is_vector) { /* a ghost slab: outer x nrows x row, packed everywhere */
            pc->slice_stride = pa->nrows * a->row_stride;
            ok = pieces[i].nx * pieces[i].elemsize >= outer * pc->slice_stride * real;
        } else { /* a neighbouring tile: its own leading dimension */
            ok = tile_fits(&pieces[i], real, outer, pa->nrows, a->row_stride,
                           &pc->slice_stride);
        }
    }
    return ok ? 0 : -1;
}

#ifdef STARLOPS_USE_CUDA
static sl_stencil_buffer matrix_buffer(void *b)
{
    return (sl_stencil_buffer){(const void *)STARPU_MATRIX_GET_PTR(b), STARPU_MATRIX_GET_NX(b),
                               STARPU_MATRIX_GET_NY(b), STARPU_MATRIX_GET_LD(b),
                               STARPU_MATRIX_GET_ELEMSIZE(b)};
}

static sl_stencil_buffer vector_buffer(void *b)
{
    size_t nx = STARPU_VECTOR_GET_NX(b);
    return (sl_stencil_buffer){(const void *)STARPU_VECTOR_GET_PTR(b), nx, 1, nx,
                               STARPU_VECTOR_GET_ELEMSIZE(b)};
}

/* The task on a CUDA worker: every output point evaluated directly (no fusion: the device
 * has the bandwidth, and each thread's taps are cached), with each buffer's own pointer and
 * leading dimension. Buffers that do not fit the args leave the tile NaN and count a failure,
 * as the CPU codelet does when it cannot run. */
static void stencil_cuda(void *buffers[], void *cl_arg)
{
    sl_stencil_task_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    sl_stencil_buffer out = matrix_buffer(buffers[0]), in = matrix_buffer(buffers[2]);
    sl_stencil_buffer pieces[SL_STENCIL_MAX_PIECES];
    for (int i = 0; i < a.npieces && i < SL_STENCIL_MAX_PIECES; i++)
        pieces[i] = a.pieces[i].is_vector ? vector_buffer(buffers[3 + i])
                                          : matrix_buffer(buffers[3 + i]);
    const sl_stencil *table = (const sl_stencil *)STARPU_VECTOR_GET_PTR(buffers[1]);
    cudaStream_t stream = starpu_cuda_get_local_stream();
    sl_point_task p;
    if (sl_stencil_point_task_of(&a, table, &out, &in, pieces, &p) != 0) {
        SL_CUDA_CHECK(cudaMemset2DAsync((void *)out.ptr, out.ld * out.elemsize, 0xff,
                                        out.nx * out.elemsize, out.ny, stream));
        if (a.failures)
            __atomic_add_fetch(a.failures, 1, __ATOMIC_RELAXED);
        return;
    }
    SL_CUDA_CHECK(sl_cuda_stencil(&p, stream));
}
#endif

static struct starpu_perfmodel stencil_model = {.type = STARPU_HISTORY_BASED,
                                                .symbol = "sl_stencil"};

static struct starpu_codelet stencil_cl = {
    .cpu_funcs = {stencil_cpu},
    SL_CUDA_FUNCS(stencil_cuda)
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

/* Tile t's share of a slab: `height` slices of `width` bytes, from src (bytes into the tile,
 * spitch apart) to dst (bytes into the slab, dpitch apart). */
typedef struct pack_copy {
    size_t dst, dpitch, src, spitch, width, height;
} pack_copy;

/* Tile t's rows among those packed, the tile's own leading dimension being ld_bytes (the
 * block's in main memory, the packed copy's on a device): written once for both kinds of
 * worker, so the CPU runs (every stencil test at 2+ ranks) check what the device copies. 0
 * when the tile holds none of them. */
static int pack_copy_of(const sl_pack_args *a, int t, size_t ld_bytes, pack_copy *c)
{
    size_t lo = a->tile_row0[t] > a->first ? a->tile_row0[t] : a->first;
    size_t hi = a->tile_row0[t] + a->tile_nrows[t], end = a->first + a->rows;
    hi = hi < end ? hi : end;
    if (hi <= lo)
        return 0; /* the operator packs only rows its tiles hold */
    *c = (pack_copy){(lo - a->first) * a->row_bytes, a->rows * a->row_bytes,
                     (lo - a->tile_row0[t]) * a->row_bytes, ld_bytes,
                     (hi - lo) * a->row_bytes, a->outer};
    return 1;
}

static size_t tile_ld_bytes(void *tile)
{
    return STARPU_MATRIX_GET_LD(tile) * STARPU_MATRIX_GET_ELEMSIZE(tile);
}

static void pack_rows_cpu(void *buffers[], void *cl_arg)
{
    sl_pack_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    char *slab = (char *)STARPU_VECTOR_GET_PTR(buffers[0]);
    for (int t = 0; t < a.ntiles; t++) {
        pack_copy c;
        if (!pack_copy_of(&a, t, tile_ld_bytes(buffers[1 + t]), &c))
            continue;
        const char *tile = (const char *)STARPU_MATRIX_GET_PTR(buffers[1 + t]);
        for (size_t o = 0; o < c.height; o++)
            memcpy(slab + c.dst + o * c.dpitch, tile + c.src + o * c.spitch, c.width);
    }
}

#ifdef STARLOPS_USE_CUDA
/* The same packing on a CUDA worker: one 2-D copy per tile, from the tile's own pointer and
 * leading dimension (packed on a device, not the block's). A slab too small for the rows, or
 * a tile of another shape, is a counted failure (never a silently short slab). */
static void pack_rows_cuda(void *buffers[], void *cl_arg)
{
    sl_pack_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    char *slab = (char *)STARPU_VECTOR_GET_PTR(buffers[0]);
    size_t slab_bytes = STARPU_VECTOR_GET_NX(buffers[0]) * STARPU_VECTOR_GET_ELEMSIZE(buffers[0]);
    cudaStream_t stream = starpu_cuda_get_local_stream();
    if (slab_bytes < a.outer * a.rows * a.row_bytes) {
        SL_CUDA_CHECK(cudaErrorInvalidValue);
        return;
    }
    for (int t = 0; t < a.ntiles; t++) {
        void *tile = buffers[1 + t];
        pack_copy c;
        if (!pack_copy_of(&a, t, tile_ld_bytes(tile), &c))
            continue;
        if (STARPU_MATRIX_GET_NY(tile) != a.outer ||
            STARPU_MATRIX_GET_NX(tile) * STARPU_MATRIX_GET_ELEMSIZE(tile) !=
                a.tile_nrows[t] * a.row_bytes) {
            SL_CUDA_CHECK(cudaErrorInvalidValue);
            continue;
        }
        const char *src = (const char *)STARPU_MATRIX_GET_PTR(tile) + c.src;
        SL_CUDA_CHECK(cudaMemcpy2DAsync(slab + c.dst, c.dpitch, src, c.spitch, c.width, c.height,
                                        cudaMemcpyDeviceToDevice, stream));
    }
}
#endif

SL_HISTORY_MODEL(pack_rows_model, "pack_rows");
static struct starpu_codelet pack_rows_cl = {
    .cpu_funcs = {pack_rows_cpu},
    SL_CUDA_FUNCS(pack_rows_cuda)
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
