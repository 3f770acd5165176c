/* See stencil_kernels.h. Rows whose stencil is the interior one and whose inputs lie in the
 * tile take a fast path; the few boundary rows (ends of the axis, tile edges reading
 * neighbours) look their taps up one by one. Work on contiguous runs is chunked so the output
 * chunk stays in L1 while each tap streams over it. */
#include <stdint.h>

#include "cpu/stencil_kernels.h"

#define CHUNK 512

static const double *row_coefs(const sl_stencil *st, size_t k, size_t n)
{
    if (k < (size_t)st->nhead)
        return st->head[k];
    if (n - 1 - k < (size_t)st->ntail)
        return st->tail[n - 1 - k];
    return st->interior;
}

/* The non-zero taps of output row k (offsets to input rows, coefficients). */
static int row_taps(const sl_stencil *st, int adjoint, size_t k, size_t n, int *offset,
                    double *coef)
{
    int m = 0, d0 = adjoint ? -st->hi : st->lo, d1 = adjoint ? -st->lo : st->hi;
    for (int d = d0; d <= d1; d++) {
        long long i = (long long)k + d;
        if (i < 0 || i >= (long long)n)
            continue;
        double c = adjoint ? row_coefs(st, (size_t)i, n)[-d - st->lo]
                           : row_coefs(st, k, n)[d - st->lo];
        if (c != 0) {
            offset[m] = d;
            coef[m++] = c;
        }
    }
    return m;
}

/* The taps of interior rows (the adjoint reads the interior stencil reversed). */
static int interior_taps(const sl_stencil *st, int adjoint, int *offset, double *coef)
{
    int m = 0;
    for (int d = adjoint ? -st->hi : st->lo; d <= (adjoint ? -st->lo : st->hi); d++) {
        double c = st->interior[adjoint ? -d - st->lo : d - st->lo];
        if (c != 0) {
            offset[m] = d;
            coef[m++] = c;
        }
    }
    return m;
}

/* Global rows [*k0, *k1) of the output that use the interior taps and read only own rows. */
static void fast_rows(const sl_stencil *st, const sl_stencil_geometry *g, size_t *k0, size_t *k1)
{
    size_t m = (size_t)sl_stencil_margin(st);
    size_t lo = g->row0 + m, head = (size_t)st->nhead + m;
    *k0 = lo > head ? lo : head;
    size_t own_end = g->row0 + g->len, tail = (size_t)st->ntail + m;
    size_t hi1 = own_end >= m ? own_end - m : 0, hi2 = g->n >= tail ? g->n - tail : 0;
    *k1 = hi1 < hi2 ? hi1 : hi2;
    if (*k1 < *k0)
        *k1 = *k0;
}

#define DEFINE_STENCIL(T, SUF)                                                                 \
    static void combine_##SUF(T *restrict y, int ntaps, const T *const *src,                 \
                              const double *coef, size_t run, int acc)                        \
    {                                                                                          \
        for (size_t c0 = 0; c0 < run; c0 += CHUNK) {                                           \
            size_t c1 = c0 + CHUNK < run ? c0 + CHUNK : run;                                   \
            int t = 0;                                                                         \
            if (!acc) {                                                                        \
                if (ntaps == 0) {                                                              \
                    for (size_t c = c0; c < c1; c++)                                           \
                        y[c] = 0;                                                              \
                    continue;                                                                  \
                }                                                                              \
                const T a = (T)coef[0], *restrict s = src[0];                                  \
                for (size_t c = c0; c < c1; c++)                                               \
                    y[c] = a * s[c];                                                           \
                t = 1;                                                                         \
            }                                                                                  \
            for (; t < ntaps; t++) {                                                           \
                const T a = (T)coef[t], *restrict s = src[t];                                  \
                for (size_t c = c0; c < c1; c++)                                               \
                    y[c] += a * s[c];                                                          \
            }                                                                                  \
        }                                                                                      \
    }                                                                                          \
                                                                                               \
    /* Input row k of the current slice: own rows first, then the pieces (pre1 index p1). */  \
    static const T *row_ptr_##SUF(const sl_stencil_geometry *g, const T *own, size_t p1,     \
                                  size_t k, const sl_stencil_piece *pc, int np)               \
    {                                                                                          \
        if (k >= g->row0 && k < g->row0 + g->len)                                              \
            return own + (k - g->row0) * g->s_len;                                             \
        for (int i = 0; i < np; i++)                                                           \
            if (k >= pc[i].row0 && k < pc[i].row0 + pc[i].nrows)                               \
                return (const T *)pc[i].base + p1 * pc[i].pre_stride +                         \
                       (k - pc[i].row0) * g->s_len;                                            \
        return 0;                                                                              \
    }                                                                                          \
                                                                                               \
    /* One output row through its own taps. */                                                \
    static void one_row_##SUF(const sl_stencil *st, int adjoint, int acc,                     \
                              const sl_stencil_geometry *g, T *yo, const T *xo, size_t p1,   \
                              size_t k, const sl_stencil_piece *pc, int np)                   \
    {                                                                                          \
        int off[SL_STENCIL_MAX_TAPS];                                                          \
        double coef[SL_STENCIL_MAX_TAPS];                                                      \
        const T *src[SL_STENCIL_MAX_TAPS];                                                     \
        int m = row_taps(st, adjoint, k, g->n, off, coef), used = 0;                          \
        for (int t = 0; t < m; t++) {                                                          \
            const T *p = row_ptr_##SUF(g, xo, p1, (size_t)((long long)k + off[t]), pc, np);    \
            if (p) { /* never missing when the operator planned its halo */                   \
                src[used] = p;                                                                 \
                coef[used++] = coef[t];                                                        \
            }                                                                                  \
        }                                                                                      \
        combine_##SUF(yo + (k - g->row0) * g->s_len, used, src, coef, g->run, acc);            \
    }                                                                                          \
                                                                                               \
    /* Rows contiguous and one element each: vectorise along the axis. */                     \
    static void along_##SUF(int ntaps, const int *off, const double *coef, T *restrict y,     \
                            const T *x, size_t count, int acc)                                 \
    {                                                                                          \
        for (size_t c0 = 0; c0 < count; c0 += CHUNK) {                                         \
            size_t c1 = c0 + CHUNK < count ? c0 + CHUNK : count;                               \
            if (!acc)                                                                          \
                for (size_t c = c0; c < c1; c++)                                               \
                    y[c] = 0;                                                                  \
            for (int t = 0; t < ntaps; t++) {                                                  \
                const T a = (T)coef[t], *restrict s = x + off[t];                              \
                for (size_t c = c0; c < c1; c++)                                               \
                    y[c] += a * s[c];                                                          \
            }                                                                                  \
        }                                                                                      \
    }                                                                                          \
                                                                                               \
    static void stencil_##SUF(const sl_stencil *st, int adjoint, int acc,                     \
                              const sl_stencil_geometry *g, T *out, const T *in,              \
                              const sl_stencil_piece *pc, int np)                             \
    {                                                                                          \
        int off[SL_STENCIL_MAX_TAPS];                                                          \
        double coef[SL_STENCIL_MAX_TAPS];                                                      \
        const T *src[SL_STENCIL_MAX_TAPS];                                                     \
        int ni = interior_taps(st, adjoint, off, coef);                                        \
        size_t k0, k1, end = g->row0 + g->len;                                                 \
        fast_rows(st, g, &k0, &k1);                                                            \
        int vector_along = g->s_len == 1 && g->run == 1;                                       \
        for (size_t p1 = 0; p1 < g->pre1; p1++)                                                \
            for (size_t p2 = 0; p2 < g->pre2; p2++)                                            \
                for (size_t q = 0; q < g->post; q++) {                                         \
                    size_t base = p1 * g->s_pre1 + p2 * g->s_pre2 + q * g->s_post;             \
                    T *yo = out + base;                                                        \
                    const T *xo = in + base;                                                   \
                    for (size_t k = g->row0; k < k0 && k < end; k++)                           \
                        one_row_##SUF(st, adjoint, acc, g, yo, xo, p1, k, pc, np);             \
                    if (vector_along && k1 > k0) {                                             \
                        along_##SUF(ni, off, coef, yo + (k0 - g->row0),                        \
                                    xo + (k0 - g->row0), k1 - k0, acc);                        \
                    } else {                                                                   \
                        for (size_t k = k0; k < k1; k++) {                                     \
                            const T *xr = xo + (k - g->row0) * g->s_len;                       \
                            for (int t = 0; t < ni; t++)                                       \
                                src[t] = xr + (long long)off[t] * (long long)g->s_len;         \
                            combine_##SUF(yo + (k - g->row0) * g->s_len, ni, src, coef,        \
                                          g->run, acc);                                        \
                        }                                                                      \
                    }                                                                          \
                    for (size_t k = k1 > k0 ? k1 : k0; k < end; k++)                           \
                        one_row_##SUF(st, adjoint, acc, g, yo, xo, p1, k, pc, np);             \
                }                                                                              \
    }

DEFINE_STENCIL(float, f32)
DEFINE_STENCIL(double, f64)

void sl_kernel_stencil(int single, const sl_stencil *st, int adjoint, int accumulate,
                       const sl_stencil_geometry *g, void *out, const void *in,
                       const sl_stencil_piece *pieces, int npieces)
{
    if (single)
        stencil_f32(st, adjoint, accumulate, g, out, in, pieces, npieces);
    else
        stencil_f64(st, adjoint, accumulate, g, out, in, pieces, npieces);
}
