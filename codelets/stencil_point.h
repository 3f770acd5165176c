/* One output point of a stencil task, evaluated directly: written once, compiled for the host
 * (tests/test_stencil_point.c checks it against the CPU codelet) and, under nvcc, for the CUDA
 * kernel (cuda/stencil.cu, one thread per point). Plain C with no library or StarPU dependency.
 *
 * The CPU codelet is organised for caches (fused rows, flat rows, blocks of a row; see
 * stencil.c); mathematically every mode computes the same thing, which is what is written here:
 * a tile of `outer` slices x `rows` rows (along the split axis) x `row_len` reals is the sum
 * over the terms of one-dimensional stencils (cpu/stencil_kernels.h), each along its axis:
 *  - ROWS: the split axis itself; global row k = row0 + r, inputs from the tile's own rows or
 *    from the pieces (neighbouring tiles, ghost slabs);
 *  - INNER: an axis after it, inside a row: index (j / stride) % len, `stride` reals apart;
 *  - OUTER: an axis before it, across slices: index (o / stride) % len, `stride` slices apart.
 * Every stride here is the buffers' own (a tile's copy on a device is packed), never one
 * computed from the layout in main memory. Complex arrays are interleaved real pairs. */
#ifndef STARLOPS_STENCIL_POINT_H
#define STARLOPS_STENCIL_POINT_H

#include <stddef.h>

#include "cpu/stencil_kernels.h" /* sl_stencil, SL_STENCIL_MAX_* */
#include "guard_codes.h"         /* SL_HOST_DEVICE */

enum { SL_POINT_ROWS, SL_POINT_INNER, SL_POINT_OUTER };

typedef struct sl_point_term {
    const sl_stencil *st; /* in the table's memory (device memory on a device) */
    int along;            /* SL_POINT_* */
    size_t len;           /* global length of the axis */
    size_t stride;        /* INNER: reals; OUTER: slices; ROWS: unused */
} sl_point_term;

/* Rows [row0, row0 + nrows) of the split axis held elsewhere: slice o's row k starts at
 * base + o * slice_stride + (k - row0) * row_len (reals). */
typedef struct sl_point_piece {
    const void *base;
    size_t row0, nrows, slice_stride;
} sl_point_piece;

typedef struct sl_point_task {
    int single, adjoint, nterms, npieces;
    size_t outer, rows, row_len; /* the tile: slices x rows x reals */
    size_t row0;                 /* global row of the tile's first row */
    void *out;
    const void *in;
    size_t out_slice, in_slice; /* reals between slices: each buffer's own leading dimension */
    sl_point_term terms[SL_STENCIL_MAX_TERMS];
    sl_point_piece pieces[SL_STENCIL_MAX_PIECES];
} sl_point_task;

/* a / b, in 32 bits when both fit (the usual case): a device divides 64-bit integers in
 * software, several times slower, and the point's indices take a few divisions. */
static inline SL_HOST_DEVICE size_t sl_point_div(size_t a, size_t b)
{
    if (((a | b) >> 32) == 0)
        return (size_t)((unsigned)a / (unsigned)b);
    return a / b;
}

/* The index of position i along an axis of n entries `stride` apart (i / stride mod n). */
static inline SL_HOST_DEVICE size_t sl_point_index(size_t i, size_t stride, size_t n)
{
    size_t q = sl_point_div(i, stride);
    return q - sl_point_div(q, n) * n;
}

/* The coefficients of output row k of n: the head or tail rows, else the interior ones (given
 * apart so that a kernel can read them from a faster copy). */
static inline SL_HOST_DEVICE const double *sl_point_coefs(const sl_stencil *st,
                                                          const double *interior, size_t k,
                                                          size_t n)
{
    if (k < (size_t)st->nhead)
        return st->head[k];
    if (n - 1 - k < (size_t)st->ntail)
        return st->tail[n - 1 - k];
    return interior;
}

/* Output point i of the tile (slices, then rows, then reals: the kernel's flat thread index)
 * as (slice o, row r, real j); returns its offset in the output (slices out_slice apart). */
static inline SL_HOST_DEVICE size_t sl_point_locate(const sl_point_task *p, size_t i,
                                                    size_t *o, size_t *r, size_t *j)
{
    size_t per_slice = p->rows * p->row_len;
    *o = sl_point_div(i, per_slice);
    size_t rest = i - *o * per_slice;
    *r = sl_point_div(rest, p->row_len);
    *j = rest - *r * p->row_len;
    return *o * p->out_slice + rest;
}

/* Coefficient of the tap reading input index k + d for output index k (the adjoint is the
 * exact transpose: the forward coefficient of output k + d for offset -d). */
static inline SL_HOST_DEVICE double sl_point_coef(const sl_stencil *st, const double *interior,
                                                  int adjoint, size_t k, long long d, size_t n)
{
    if (adjoint)
        return sl_point_coefs(st, interior, (size_t)((long long)k + d), n)[-d - st->lo];
    return sl_point_coefs(st, interior, k, n)[d - st->lo];
}

/* The taps' offsets [*d0, *d1] of output index k, clipped to inputs inside [0, n). */
static inline SL_HOST_DEVICE void sl_point_taps(const sl_stencil *st, int adjoint, size_t k,
                                                size_t n, long long *d0, long long *d1)
{
    long long lo = adjoint ? -st->hi : st->lo, hi = adjoint ? -st->lo : st->hi;
    long long first = -(long long)k, last = (long long)n - 1 - (long long)k;
    *d0 = lo > first ? lo : first;
    *d1 = hi < last ? hi : last;
}

/* Offset (reals) of slice o's global row k from the base it is returned in: the tile's input,
 * or a piece holding it; NULL when no buffer holds it (never when the operator planned its
 * halo; the CPU codelet skips such taps too). */
static inline SL_HOST_DEVICE const void *sl_point_row(const sl_point_task *p, size_t o,
                                                      size_t k, size_t *at)
{
    if (k >= p->row0 && k - p->row0 < p->rows) {
        *at = o * p->in_slice + (k - p->row0) * p->row_len;
        return p->in;
    }
    for (int i = 0; i < p->npieces; i++) {
        const sl_point_piece *pc = &p->pieces[i];
        if (k >= pc->row0 && k - pc->row0 < pc->nrows) {
            *at = o * pc->slice_stride + (k - pc->row0) * p->row_len;
            return pc->base;
        }
    }
    return NULL;
}

/* Term t at point (o, r, j) and the point's sum over the terms (what the task writes), for
 * float (f32) and double (f64) reals; arithmetic in the element type, as on the CPU.
 * interior[t]: term t's interior coefficients (its stencil's, or a copy of them). */
#define SL_POINT_DEFINE(T, SUF)                                                                \
    static inline SL_HOST_DEVICE T sl_point_term_##SUF(const sl_point_task *p, int t,          \
                                                       const double *interior, size_t o,       \
                                                       size_t r, size_t j)                     \
    {                                                                                          \
        const sl_point_term *u = &p->terms[t];                                                 \
        size_t n = u->len, k, own = o * p->in_slice + r * p->row_len + j;                      \
        long long step = 0, d0, d1;                                                            \
        if (u->along == SL_POINT_ROWS)                                                         \
            k = p->row0 + r;                                                                   \
        else if (u->along == SL_POINT_INNER)                                                   \
            k = sl_point_index(j, u->stride, n), step = (long long)u->stride;                  \
        else                                                                                   \
            k = sl_point_index(o, u->stride, n), step = (long long)(u->stride * p->in_slice);  \
        sl_point_taps(u->st, p->adjoint, k, n, &d0, &d1);                                      \
        T sum = 0;                                                                             \
        for (long long d = d0; d <= d1; d++) {                                                 \
            double c = sl_point_coef(u->st, interior, p->adjoint, k, d, n);                    \
            if (c == 0)                                                                        \
                continue; /* as the CPU: a zero tap reads nothing (no 0 * inf) */             \
            const T *x = (const T *)p->in;                                                     \
            size_t at = (size_t)((long long)own + d * step);                                   \
            if (u->along == SL_POINT_ROWS) {                                                   \
                x = (const T *)sl_point_row(p, o, (size_t)((long long)k + d), &at);            \
                if (!x)                                                                        \
                    continue;                                                                  \
                at += j;                                                                       \
            }                                                                                  \
            sum += (T)c * x[at];                                                               \
        }                                                                                      \
        return sum;                                                                            \
    }                                                                                          \
                                                                                               \
    static inline SL_HOST_DEVICE T sl_stencil_point_##SUF(const sl_point_task *p,              \
                                                          const double *const *interior,       \
                                                          size_t o, size_t r, size_t j)        \
    {                                                                                          \
        T y = 0;                                                                               \
        for (int t = 0; t < p->nterms; t++)                                                    \
            y += sl_point_term_##SUF(p, t, interior[t], o, r, j);                              \
        return y;                                                                              \
    }

SL_POINT_DEFINE(float, f32)
SL_POINT_DEFINE(double, f64)

#endif
