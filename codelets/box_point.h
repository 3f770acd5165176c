/* The halo box copy element by element, addressed through the tile holding each element: what
 * the CUDA kernel (cuda/box.cu) runs per thread, written once in plain C (compiled for the host
 * and, under nvcc, for the device) so that tests/test_box_point.c runs the same code on the host
 * against cpu/box_kernels.c's sl_kernel_box.
 *
 * Why not the CPU kernel's pointer arithmetic: a side of a box task is a rank's whole block of a
 * 1-d array, given as its tiles in order. In main memory the tiles are consecutive pieces of one
 * allocation, so the first tile's pointer is the block's. On a device each tile is a separate
 * (packed) allocation: element `flat` of the block lives in the tile whose range of flat indices
 * holds it, at that tile's own pointer, row length (nx) and row stride (ld). */
#ifndef STARLOPS_BOX_POINT_H
#define STARLOPS_BOX_POINT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cpu/box_kernels.h"
#include "guard_codes.h" /* SL_HOST_DEVICE */

/* Tiles one launch addresses per side: the launch's arguments travel as one kernel parameter,
 * which must stay under CUDA's classic 4 KiB limit (static assertion in cuda/box.cu). Blocks of
 * more tiles take several launches (sl_box_run). */
#define SL_BOX_WINDOW 64

/* One buffer of a side: ny rows of nx elements, ld apart (a StarPU matrix; a vector is one row).
 * It holds the next nx * ny elements of the block, in order. */
typedef struct sl_box_tile {
    char *ptr;
    size_t nx, ny, ld;
} sl_box_tile;

/* A buffer as a tile of esize-byte elements: ny rows of nx items of `itemsize` bytes, ld items
 * apart. The halo's slabs and scratch are StarPU vectors of bytes (itemsize 1), the arrays'
 * tiles matrices of elements (itemsize == esize). */
static inline sl_box_tile sl_box_tile_of(char *ptr, size_t nx, size_t ny, size_t ld,
                                         size_t itemsize, size_t esize)
{
    return (sl_box_tile){ptr, nx * itemsize / esize, ny, ld * itemsize / esize};
}

/* Up to SL_BOX_WINDOW consecutive non-empty tiles of a side: tile i holds the block's flat
 * elements [start[i], start[i + 1]). n == 0: the side is absent (zeroing). */
typedef struct sl_box_window {
    int n;
    size_t start[SL_BOX_WINDOW + 1];
    char *ptr[SL_BOX_WINDOW];
    uint32_t nx[SL_BOX_WINDOW], ld[SL_BOX_WINDOW]; /* StarPU 1.3's sizes are 32-bit */
} sl_box_window;

enum { SL_BOX_COPY, SL_BOX_ADD, SL_BOX_ZERO };

/* One launch: element i (C order over count, 0 <= i < total) of box db gets element i of box
 * sb (COPY), adds it (ADD: as floats when single, else doubles), or is zeroed (ZERO: src
 * unused). Elements outside the dst window, or whose source is outside the src window, are
 * left to another launch. */
typedef struct sl_box_launch {
    sl_box db, sb;
    size_t count[SL_BOX_MAX_NDIM];
    size_t total;
    unsigned esize; /* bytes, a multiple of 4 */
    int op, single;
    sl_box_window dst, src;
} sl_box_launch;

/* Flat index, in its array, of element i of box b (count elements per dim, all non-zero). */
static inline SL_HOST_DEVICE size_t sl_box_point_offset(const sl_box *b, const size_t *count,
                                                        size_t i)
{
    size_t off = 0, stride = 1;
    for (int d = b->ndim - 1; d >= 0; d--) {
        off += (b->start[d] + i % count[d]) * stride;
        i /= count[d];
        stride *= b->shape[d];
    }
    return off;
}

/* Address of the block's element `flat` if the window holds it, else NULL. */
static inline SL_HOST_DEVICE char *sl_box_window_address(const sl_box_window *w, size_t flat,
                                                         size_t esize)
{
    if (w->n == 0 || flat < w->start[0] || flat >= w->start[w->n])
        return NULL;
    int lo = 0, hi = w->n - 1; /* the last tile starting at or before flat */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (w->start[mid] <= flat)
            lo = mid;
        else
            hi = mid - 1;
    }
    size_t local = flat - w->start[lo];
    return w->ptr[lo] + (local / w->nx[lo] * w->ld[lo] + local % w->nx[lo]) * esize;
}

/* Element i of the launch (see sl_box_launch). Copies move 4-byte words (every dtype is made
 * of them), so a copy is bit-exact; sums add reals in the element's own precision. */
static inline SL_HOST_DEVICE void sl_box_point(const sl_box_launch *p, size_t i)
{
    char *d = sl_box_window_address(&p->dst, sl_box_point_offset(&p->db, p->count, i),
                                    p->esize);
    if (!d)
        return;
    if (p->op == SL_BOX_ZERO) {
        for (unsigned w = 0; w < p->esize / 4; w++)
            ((uint32_t *)d)[w] = 0;
        return;
    }
    const char *s = sl_box_window_address(&p->src, sl_box_point_offset(&p->sb, p->count, i),
                                          p->esize);
    if (!s)
        return;
    if (p->op == SL_BOX_COPY)
        for (unsigned w = 0; w < p->esize / 4; w++)
            ((uint32_t *)d)[w] = ((const uint32_t *)s)[w];
    else if (p->single)
        for (unsigned w = 0; w < p->esize / 4; w++)
            ((float *)d)[w] += ((const float *)s)[w];
    else
        for (unsigned w = 0; w < p->esize / 8; w++)
            ((double *)d)[w] += ((const double *)s)[w];
}

/* ---- host side: the launches one box task makes ---- */

/* What runs a launch (every i < p->total) and zeroes a whole tile: the CUDA function's
 * kernel launch and cudaMemset2DAsync, or the host loops of the test. Each returns 0 or a
 * failure, which stops sl_box_run. */
typedef struct sl_box_exec {
    int (*launch)(const sl_box_launch *p, void *ctx);
    int (*zero_tile)(const sl_box_tile *t, size_t esize, void *ctx);
    void *ctx;
} sl_box_exec;

/* Fills w with the non-empty tiles from index *next on (at most SL_BOX_WINDOW), *flat being
 * the flat index of tile *next's first element; advances both past them. */
static inline void sl_box_window_fill(sl_box_window *w, const sl_box_tile *t, int n, int *next,
                                      size_t *flat)
{
    w->n = 0;
    w->start[0] = *flat;
    for (; *next < n && w->n < SL_BOX_WINDOW; (*next)++) {
        const sl_box_tile *b = &t[*next];
        if (b->nx * b->ny == 0)
            continue;
        w->ptr[w->n] = b->ptr;
        w->nx[w->n] = (uint32_t)b->nx;
        w->ld[w->n] = (uint32_t)b->ld;
        *flat += b->nx * b->ny;
        w->start[++w->n] = *flat;
    }
}

/* Whether the window holds any flat index in [lo, hi]. */
static inline int sl_box_window_meets(const sl_box_window *w, size_t lo, size_t hi)
{
    return w->n > 0 && w->start[0] <= hi && w->start[w->n] > lo;
}

/* One launch per pair of windows (dst, src) that the box's flat ranges can meet: each element
 * is done by exactly the launch whose windows hold its dst and its src. */
static inline int sl_box_run_pairs(sl_box_launch *p, const sl_box_tile *dst, int ndst,
                                   const sl_box_tile *src, int nsrc, const sl_box_exec *ex)
{
    size_t dlo = sl_box_point_offset(&p->db, p->count, 0);
    size_t dhi = sl_box_point_offset(&p->db, p->count, p->total - 1);
    size_t slo = sl_box_point_offset(&p->sb, p->count, 0);
    size_t shi = sl_box_point_offset(&p->sb, p->count, p->total - 1);
    size_t dflat = 0;
    for (int dn = 0; dn < ndst;) {
        sl_box_window_fill(&p->dst, dst, ndst, &dn, &dflat);
        if (!sl_box_window_meets(&p->dst, dlo, dhi))
            continue;
        if (p->op == SL_BOX_ZERO) {
            int rc = ex->launch(p, ex->ctx);
            if (rc != 0)
                return rc;
            continue;
        }
        size_t sflat = 0;
        for (int sn = 0; sn < nsrc;) {
            sl_box_window_fill(&p->src, src, nsrc, &sn, &sflat);
            if (!sl_box_window_meets(&p->src, slo, shi))
                continue;
            int rc = ex->launch(p, ex->ctx);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

/* A box task's work (box.h's sl_box_args, the sides as tiles): with zero_dst every dst tile is
 * zeroed first; then dst box (=, or += with add) src box; with zero_src the src box is zeroed
 * after. Returns 0 or the first failure of ex. */
static inline int sl_box_run(const sl_box_tile *dst, int ndst, const sl_box_tile *src, int nsrc,
                             const sl_box *db, const sl_box *sb, const size_t *count,
                             size_t esize, int add, int single, int zero_dst, int zero_src,
                             const sl_box_exec *ex)
{
    for (int t = 0; zero_dst && t < ndst; t++) {
        int rc = dst[t].nx * dst[t].ny > 0 ? ex->zero_tile(&dst[t], esize, ex->ctx) : 0;
        if (rc != 0)
            return rc;
    }
    sl_box_launch p;
    memset(&p, 0, sizeof p);
    p.db = *db, p.sb = *sb;
    p.total = 1;
    for (int d = 0; d < db->ndim; d++)
        p.total *= p.count[d] = count[d];
    if (p.total == 0)
        return 0;
    p.esize = (unsigned)esize, p.single = single;
    p.op = add ? SL_BOX_ADD : SL_BOX_COPY;
    int rc = sl_box_run_pairs(&p, dst, ndst, src, nsrc, ex);
    if (rc != 0 || !zero_src)
        return rc;
    p.op = SL_BOX_ZERO;
    p.db = *sb;
    p.src.n = 0;
    return sl_box_run_pairs(&p, src, nsrc, NULL, 0, ex);
}

#endif
