/* One-dimensional stencils along an axis of a C-order block, with special rows at both ends:
 * the engine of the derivative, Laplacian and convolution operators. Plain CPU code, no StarPU.
 *
 * A stencil maps x to y along one axis of global length n:
 *     y[k] = sum_{d = lo..hi} c_k[d] x[k + d]     (terms with k + d outside [0, n) vanish)
 * where c_k is `head[k]` for the first nhead rows, `tail[n-1-k]` for the last ntail rows and
 * `interior` elsewhere. The adjoint is the exact transpose,
 *     y[k] = sum_d c_{k+d}[-d] x[k + d],
 * boundary rows included, so dot tests hold to rounding. Coefficients are real; complex arrays
 * are processed as interleaved real pairs (a real coefficient scales both parts). */
#ifndef STARLOPS_STENCIL_KERNELS_H
#define STARLOPS_STENCIL_KERNELS_H

#include <stddef.h>

#define SL_STENCIL_MAX_TAPS 129 /* wavelets up to 129 samples */
#define SL_STENCIL_MAX_EDGE 2
#define SL_STENCIL_MAX_PIECES 8
#define SL_STENCIL_MAX_TERMS 8
/* Outputs of a task from this size on are stored past the caches (twice a 2 MiB L2). */
#define SL_STENCIL_STREAM_BYTES ((size_t)4 << 20)

typedef struct sl_stencil {
    int lo, hi; /* offsets lo..hi, hi - lo < SL_STENCIL_MAX_TAPS; lo <= 0 <= hi */
    int nhead, ntail;
    double interior[SL_STENCIL_MAX_TAPS]; /* coefficient of offset lo + t at index t */
    double head[SL_STENCIL_MAX_EDGE][SL_STENCIL_MAX_TAPS];
    double tail[SL_STENCIL_MAX_EDGE][SL_STENCIL_MAX_TAPS]; /* tail[0]: the last row */
} sl_stencil;

/* Where one term reads and writes, in units of real numbers (two per complex element). The
 * block is walked as pre1 x pre2 x len x post x run: len runs along the stencil axis, run is
 * contiguous. Output and own input share the strides. Rows are global indices along the axis:
 * the output holds rows [row0, row0 + len) of n. */
typedef struct sl_stencil_geometry {
    size_t n, row0;
    size_t pre1, pre2, len, post, run;
    size_t s_pre1, s_pre2, s_len, s_post;
} sl_stencil_geometry;

/* More input rows along the axis (neighbouring tiles, ghost slabs from other ranks), used when
 * pre2 = post = 1: row k of pre1 slice p is at base + p * pre_stride + (k - row0) * s_len. */
typedef struct sl_stencil_piece {
    const void *base;
    size_t row0, nrows, pre_stride;
} sl_stencil_piece;

/* Scratch of the kernel (the boundary rows' taps, ~100 KB): one per task, reused by its
 * calls. NULL from the allocation when out of memory. */
typedef struct sl_stencil_workspace sl_stencil_workspace;
sl_stencil_workspace *sl_stencil_workspace_new(void);
void sl_stencil_workspace_free(sl_stencil_workspace *w);

/* y (=, or += when accumulate) stencil(x), for float (single = 1) or double reals. */
void sl_kernel_stencil(int single, const sl_stencil *st, int adjoint, int accumulate,
                       const sl_stencil_geometry *g, void *out, const void *in,
                       const sl_stencil_piece *pieces, int npieces, sl_stencil_workspace *w);

/* One term of a whole-row evaluation (sl_kernel_stencil_row): along the tiles (the row index
 * k varies between rows; inputs come from the pieces), or along a dimension inside the row of
 * `len` entries `stride` reals apart. */
typedef struct sl_row_term {
    const sl_stencil *st;
    int along_tiles;
    size_t len, stride; /* inside-row terms */
} sl_row_term;

/* Row k (of n along the tiles) of a sum of terms, all at once: one vectorised pass over the
 * points that are interior for every inside-row term (their taps and row k's taps of the
 * along-tiles term merged into one list), then the other points, segment by segment. The row
 * holds `row_len` reals, contiguous; the rows along the tiles are found in the pieces.
 * Returns 0 (and writes nothing) when a term cannot be done this way (too long a stencil, a
 * row the pieces lack); the caller then uses sl_kernel_stencil term by term. stream: store
 * the row past the caches (an output much larger than them, SL_STENCIL_STREAM_BYTES). */
int sl_kernel_stencil_row(int single, int adjoint, int nterms, const sl_row_term *terms,
                          size_t k, size_t n, size_t row_len, void *out, const void *in,
                          const sl_stencil_piece *pieces, int npieces, int stream);

/* The margin of rows beyond a tile a stencil reads, in either direction. */
static inline int sl_stencil_margin(const sl_stencil *st)
{
    return st->hi > -st->lo ? st->hi : -st->lo;
}

#endif
