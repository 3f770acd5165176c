/* See stencil_kernels.h. Rows whose stencil is the interior one and whose inputs lie in the
 * tile take a fast path; the few boundary rows (ends of the axis, tile edges reading
 * neighbours) look their taps up one by one. Work on contiguous runs is chunked so the output
 * chunk stays in L1 while each tap streams over it. Multi-term stencils on whole rows
 * (sl_kernel_stencil_row, the Laplacian) merge their terms' taps into one pass and patch the
 * points on some term's boundary afterwards, segment by segment. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* The taps of every row that is not a fast row, worked out once per call rather than once per
 * line through the block: the interior taps, the fast range [k0, k1), and the other rows. */
#define MAX_BOUNDARY 64
/* lines_*: lines handled per pass and boundary rows per line it takes */
#define LINE_BATCH 32
#define LINE_ROWS 8
typedef struct sl_stencil_workspace boundary_rows;
struct sl_stencil_workspace {
    int ni, ioff[SL_STENCIL_MAX_TAPS];
    double icoef[SL_STENCIL_MAX_TAPS];
    size_t k0, k1; /* fast rows, possibly none */
    int nrows;     /* boundary rows in this batch */
    size_t row[MAX_BOUNDARY];
    int ntaps[MAX_BOUNDARY], off[MAX_BOUNDARY][SL_STENCIL_MAX_TAPS];
    double coef[MAX_BOUNDARY][SL_STENCIL_MAX_TAPS];
};

sl_stencil_workspace *sl_stencil_workspace_new(void)
{
    return malloc(sizeof(sl_stencil_workspace));
}

void sl_stencil_workspace_free(sl_stencil_workspace *w)
{
    free(w);
}

/* Whether every input row of output row k is one of the call's own rows. */
static int own_taps(const sl_stencil_geometry *g, size_t k, int ntaps, const int *off)
{
    for (int t = 0; t < ntaps; t++) {
        long long i = (long long)k + off[t];
        if (i < (long long)g->row0 || i >= (long long)(g->row0 + g->len))
            return 0;
    }
    return 1;
}

static void add_row(const sl_stencil *st, int adjoint, const sl_stencil_geometry *g,
                    boundary_rows *b, size_t k)
{
    int r = b->nrows++;
    b->row[r] = k;
    b->ntaps[r] = row_taps(st, adjoint, k, g->n, b->off[r], b->coef[r]);
}

/* The hot loops are also compiled for AVX2 and picked at load time where the CPU has it (the
 * library itself stays portable x86-64). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define SL_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SL_VECTOR_CLONES
#endif

/* One fused pass of k taps: y = sum (or y += sum), vectorised over c. */
#define TAPS_CASE(k, SUM)                                                                      \
    if (n == k) {                                                                              \
        if (acc)                                                                               \
            for (size_t c = c0; c < c1; c++)                                                   \
                y[c] += SUM;                                                                   \
        else                                                                                   \
            for (size_t c = c0; c < c1; c++)                                                   \
                y[c] = SUM;                                                                    \
        continue;                                                                              \
    }

#define DEFINE_STENCIL(T, SUF)                                                                 \
    /* y[c0..c1) (= or +=) sum of the taps, up to seven taps per pass over y (one pass for a \
     * 3-d Laplacian's merged taps). */                                                        \
    SL_VECTOR_CLONES static void taps_##SUF(T *restrict y, int ntaps, const T *const *src,    \
                                            const double *coef, size_t c0, size_t c1, int acc) \
    {                                                                                          \
        if (ntaps == 0 && !acc)                                                                \
            for (size_t c = c0; c < c1; c++)                                                   \
                y[c] = 0;                                                                      \
        for (int t = 0; t < ntaps; t += 7, acc = 1) {                                          \
            int n = ntaps - t < 7 ? ntaps - t : 7;                                             \
            const T *restrict s0 = src[t];                                                     \
            const T *restrict s1 = n > 1 ? src[t + 1] : s0, *restrict s2 = n > 2 ? src[t + 2] : s0; \
            const T *restrict s3 = n > 3 ? src[t + 3] : s0, *restrict s4 = n > 4 ? src[t + 4] : s0; \
            const T *restrict s5 = n > 5 ? src[t + 5] : s0, *restrict s6 = n > 6 ? src[t + 6] : s0; \
            const T a0 = (T)coef[t], a1 = n > 1 ? (T)coef[t + 1] : 0;                          \
            const T a2 = n > 2 ? (T)coef[t + 2] : 0, a3 = n > 3 ? (T)coef[t + 3] : 0;          \
            const T a4 = n > 4 ? (T)coef[t + 4] : 0, a5 = n > 5 ? (T)coef[t + 5] : 0;          \
            const T a6 = n > 6 ? (T)coef[t + 6] : 0;                                           \
            TAPS_CASE(1, a0 * s0[c])                                                           \
            TAPS_CASE(2, a0 * s0[c] + a1 * s1[c])                                              \
            TAPS_CASE(3, a0 * s0[c] + a1 * s1[c] + a2 * s2[c])                                 \
            TAPS_CASE(4, a0 * s0[c] + a1 * s1[c] + a2 * s2[c] + a3 * s3[c])                    \
            TAPS_CASE(5, a0 * s0[c] + a1 * s1[c] + a2 * s2[c] + a3 * s3[c] + a4 * s4[c])       \
            TAPS_CASE(6, a0 * s0[c] + a1 * s1[c] + a2 * s2[c] + a3 * s3[c] + a4 * s4[c] +      \
                             a5 * s5[c])                                                       \
            TAPS_CASE(7, a0 * s0[c] + a1 * s1[c] + a2 * s2[c] + a3 * s3[c] + a4 * s4[c] +      \
                             a5 * s5[c] + a6 * s6[c])                                          \
        }                                                                                      \
    }                                                                                          \
                                                                                               \
    static void combine_##SUF(T *restrict y, int ntaps, const T *const *src,                 \
                              const double *coef, size_t run, int acc)                        \
    {                                                                                          \
        for (size_t c0 = 0; c0 < run; c0 += CHUNK)                                             \
            taps_##SUF(y, ntaps, src, coef, c0, c0 + CHUNK < run ? c0 + CHUNK : run, acc);     \
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
    /* One boundary row through its precomputed taps (offsets to input rows, coefficients). */ \
    static void one_row_##SUF(int acc, const sl_stencil_geometry *g, T *yo, const T *xo,      \
                              size_t p1, size_t k, int m, const int *off, const double *coef, \
                              const sl_stencil_piece *pc, int np)                             \
    {                                                                                          \
        double c[SL_STENCIL_MAX_TAPS];                                                         \
        const T *src[SL_STENCIL_MAX_TAPS];                                                     \
        int used = 0;                                                                          \
        for (int t = 0; t < m; t++) {                                                          \
            const T *p = row_ptr_##SUF(g, xo, p1, (size_t)((long long)k + off[t]), pc, np);    \
            if (p) { /* never missing when the operator planned its halo */                   \
                src[used] = p;                                                                 \
                c[used++] = coef[t];                                                           \
            }                                                                                  \
        }                                                                                      \
        combine_##SUF(yo + (k - g->row0) * g->s_len, used, src, c, g->run, acc);               \
    }                                                                                          \
                                                                                               \
    /* Rows contiguous and one element each: vectorise along the axis. */                     \
    static void along_##SUF(int ntaps, const int *off, const double *coef, T *restrict y,     \
                            const T *x, size_t count, int acc)                                 \
    {                                                                                          \
        const T *src[SL_STENCIL_MAX_TAPS];                                                     \
        for (int t = 0; t < ntaps; t++)                                                        \
            src[t] = x + off[t];                                                               \
        for (size_t c0 = 0; c0 < count; c0 += CHUNK)                                           \
            taps_##SUF(y, ntaps, src, coef, c0, c0 + CHUNK < count ? c0 + CHUNK : count, acc); \
    }                                                                                          \
                                                                                               \
    /* Short contiguous lines one after another (a stencil along the last axis): one         \
     * vectorised pass over a run of lines as if they were one line, then the rows at the     \
     * lines' ends rewritten with their own taps (in acc mode from the values they had).      \
     * Returns 0 when the layout is not that. */                                              \
    static int lines_##SUF(int acc, const sl_stencil_geometry *g, T *out, const T *in,         \
                           const boundary_rows *b)                                             \
    {                                                                                          \
        if (g->post != 1 || g->pre2 < 2 || g->s_pre2 != g->len || g->row0 != 0 ||             \
            g->len != g->n || b->k1 <= b->k0 || b->nrows > LINE_ROWS)                           \
            return 0;                                                                          \
        size_t len = g->len, per = len >= CHUNK * 4 ? 1 : CHUNK * 4 / len;                     \
        if (per > LINE_BATCH) per = LINE_BATCH;                                                \
        T saved[LINE_BATCH * LINE_ROWS];                                                       \
        for (size_t p1 = 0; p1 < g->pre1; p1++) {                                              \
            T *yb = out + p1 * g->s_pre1;                                                      \
            const T *xb = in + p1 * g->s_pre1;                                                 \
            for (size_t l0 = 0; l0 < g->pre2; l0 += per) {                                     \
                size_t nl = g->pre2 - l0 < per ? g->pre2 - l0 : per;                           \
                for (size_t l = 0; acc && l < nl; l++)                                         \
                    for (int r = 0; r < b->nrows; r++)                                         \
                        saved[l * LINE_ROWS + r] = yb[(l0 + l) * len + b->row[r]];             \
                size_t start = l0 * len + b->k0, end = (l0 + nl - 1) * len + b->k1;            \
                along_##SUF(b->ni, b->ioff, b->icoef, yb + start, xb + start, end - start,     \
                            acc);                                                              \
                for (size_t l = 0; l < nl; l++)                                                \
                    for (int r = 0; r < b->nrows; r++) {                                       \
                        size_t at = (l0 + l) * len + b->row[r];                                \
                        T sum = acc ? saved[l * LINE_ROWS + r] : 0;                            \
                        for (int t = 0; t < b->ntaps[r]; t++)                                  \
                            sum += (T)b->coef[r][t] * xb[(long long)at + b->off[r][t]];        \
                        yb[at] = sum;                                                          \
                    }                                                                          \
            }                                                                                  \
        }                                                                                      \
        return 1;                                                                              \
    }                                                                                          \
                                                                                               \
    static void stencil_##SUF(const sl_stencil *st, int adjoint, int acc,                     \
                              const sl_stencil_geometry *g, T *out, const T *in,              \
                              const sl_stencil_piece *pc, int np, const boundary_rows *b)     \
    {                                                                                          \
        const T *src[SL_STENCIL_MAX_TAPS];                                                     \
        int vector_along = g->s_len == 1 && g->run == 1;                                       \
        if (vector_along && lines_##SUF(acc, g, out, in, b))                                   \
            return;                                                                            \
        for (size_t p1 = 0; p1 < g->pre1; p1++)                                                \
            for (size_t p2 = 0; p2 < g->pre2; p2++)                                            \
                for (size_t q = 0; q < g->post; q++) {                                         \
                    size_t base = p1 * g->s_pre1 + p2 * g->s_pre2 + q * g->s_post;             \
                    T *yo = out + base;                                                        \
                    const T *xo = in + base;                                                   \
                    for (int r = 0; r < b->nrows; r++) {                                       \
                        size_t k = b->row[r];                                                  \
                        if (vector_along && own_taps(g, k, b->ntaps[r], b->off[r])) {          \
                            T sum = acc ? yo[k - g->row0] : 0; /* one element: inline */       \
                            for (int t = 0; t < b->ntaps[r]; t++)                              \
                                sum += (T)b->coef[r][t] * xo[k - g->row0 + b->off[r][t]];      \
                            yo[k - g->row0] = sum;                                             \
                        } else {                                                               \
                            one_row_##SUF(acc, g, yo, xo, p1, k, b->ntaps[r], b->off[r],       \
                                          b->coef[r], pc, np);                                 \
                        }                                                                      \
                    }                                                                          \
                    if (vector_along && b->k1 > b->k0) {                                       \
                        along_##SUF(b->ni, b->ioff, b->icoef, yo + (b->k0 - g->row0),          \
                                    xo + (b->k0 - g->row0), b->k1 - b->k0, acc);               \
                    } else {                                                                   \
                        for (size_t k = b->k0; k < b->k1; k++) {                               \
                            const T *xr = xo + (k - g->row0) * g->s_len;                       \
                            for (int t = 0; t < b->ni; t++)                                    \
                                src[t] = xr + (long long)b->ioff[t] * (long long)g->s_len;     \
                            combine_##SUF(yo + (k - g->row0) * g->s_len, b->ni, src, b->icoef, \
                                          g->run, acc);                                        \
                        }                                                                      \
                    }                                                                          \
                }                                                                              \
        (void)st, (void)adjoint;                                                               \
    }

DEFINE_STENCIL(float, f32)
DEFINE_STENCIL(double, f64)

/* ---- whole rows of multi-term stencils ---- */

#define ROW_MAX_TAPS 64
#define ROW_MAX_MARGIN 8 /* terms reaching further take the term-by-term path */
#define ROW_TERM_TAPS (2 * ROW_MAX_MARGIN + 1)

/* The taps of one term at one index along its axis: interior ones, or a boundary row's. */
typedef struct term_taps {
    int n, off[ROW_MAX_TAPS];
    double coef[ROW_MAX_TAPS];
} term_taps;

/* An inside-row term's taps for its boundary indices and its interior, worked out once. */
typedef struct small_taps {
    int n, off[ROW_TERM_TAPS];
    double coef[ROW_TERM_TAPS];
} small_taps;
typedef struct row_term_taps {
    size_t lo, hi;
    small_taps head[ROW_MAX_MARGIN + SL_STENCIL_MAX_EDGE], tail[ROW_MAX_MARGIN + SL_STENCIL_MAX_EDGE];
    small_taps interior;
} row_term_taps;

static void small_of(const sl_stencil *st, int adjoint, size_t i, size_t len, small_taps *t)
{
    int off[SL_STENCIL_MAX_TAPS];
    double coef[SL_STENCIL_MAX_TAPS];
    int n = row_taps(st, adjoint, i, len, off, coef);
    t->n = n;
    memcpy(t->off, off, (size_t)n * sizeof *off);
    memcpy(t->coef, coef, (size_t)n * sizeof *coef);
}

/* Rows [0, lo) and [len - hi, len) of a term are its boundary rows (not fast ones): those
 * whose taps differ from the interior ones or would leave the axis. Row k of the forward
 * stencil uses its own coefficients (c_k) and reads x[k + lo .. k + hi]; row k of the adjoint
 * uses the coefficients of rows k - hi .. k - lo, which must all be interior. */
static void term_edges(const sl_stencil *st, int adjoint, size_t len, size_t *lo, size_t *hi)
{
    size_t left = (size_t)-st->lo, right = (size_t)st->hi;
    size_t head = (size_t)st->nhead, tail = (size_t)st->ntail;
    if (adjoint) {
        *lo = head + right;
        *hi = tail + left;
    } else {
        *lo = head > left ? head : left;
        *hi = tail > right ? tail : right;
    }
    if (*lo > len) *lo = len;
    if (*hi > len - *lo) *hi = len - *lo;
}

static const void *tile_row(size_t k, size_t row_bytes, const sl_stencil_piece *pc, int np)
{
    for (int i = 0; i < np; i++)
        if (k >= pc[i].row0 && k < pc[i].row0 + pc[i].nrows)
            return (const char *)pc[i].base + (k - pc[i].row0) * row_bytes;
    return NULL;
}

/* One point p (a real's position in the row) of every term, exactly, written to the segment
 * [a, ...) held at yseg. fixed[u], where not NULL, holds inside-row term u's taps at p (worked
 * out once for a whole block of points). */
#define POINT(T)                                                                               \
    do {                                                                                       \
        T v = 0;                                                                               \
        for (int t = 0; t < nterms; t++) {                                                     \
            const sl_row_term *rt = &terms[t];                                                 \
            if (rt->along_tiles) {                                                             \
                for (int j = 0; j < split_taps->n; j++)                                        \
                    v += (T)split_taps->coef[j] * ((const T *)split_srcs[j])[p];               \
                continue;                                                                      \
            }                                                                                  \
            const small_taps *tt = fixed[t] ? fixed[t] : taps_at(rt, &rtaps[t], p);            \
            for (int j = 0; j < tt->n; j++)                                                    \
                v += (T)tt->coef[j] * x[(long long)p + (long long)tt->off[j] * (long long)rt->stride]; \
        }                                                                                      \
        yseg[p - a] = v;                                                                       \
    } while (0)

/* Adds a tap, merging it with one reading the same place. */
static int add_tap(term_taps *all, const void **srcs, const void *src, double coef)
{
    for (int j = 0; j < all->n; j++)
        if (srcs[j] == src) {
            all->coef[j] += coef;
            return 1;
        }
    if (all->n == ROW_MAX_TAPS)
        return 0;
    srcs[all->n] = src;
    all->coef[all->n++] = coef;
    return 1;
}

/* The taps of inside-row term u at point p (its index there: boundary or interior). */
static const small_taps *taps_at(const sl_row_term *u, const row_term_taps *r, size_t p)
{
    size_t i = (p / u->stride) % u->len;
    return i < r->lo ? &r->head[i] : i >= u->len - r->hi ? &r->tail[u->len - 1 - i] : &r->interior;
}

/* The flat pass with stores that bypass the caches, for outputs much larger than them: a
 * plain store first reads the line it writes (a third of a stencil's memory traffic), a
 * streaming store does not. AVX2 and FMA where the CPU has them (else the caller's plain
 * pass): with stores streaming, the pass is short of memory bandwidth by its instructions, and
 * fused multiply-adds (one per tap) took it from 71-72% to 77-78% of the triad on a 3-d
 * Laplacian (256^3). Results therefore match taps_'s to rounding, not bit for bit. The fence
 * orders the stores before whatever ends the task. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#define STREAM_TARGET __attribute__((target("avx2,fma")))
#define STREAM_INLINE static inline __attribute__((always_inline, target("avx2,fma")))
/* Up to this many taps, a pass with the taps' pointers and coefficients in registers (a loop
 * over the taps costs more than the memory it waits for once stores stream). */
#define STREAM_FIXED_TAPS 8

/* Generates, for T in {double, float} (vector V, L lanes): the vector part of a flat pass with
 * K taps known at compile time, from c (aligned for the stores) while a whole vector fits. */
#define DEFINE_STREAM(T, V, L, SUF, SET1, LOAD, MUL, FMA, STREAM)                              \
    STREAM_INLINE size_t stream_fixed_##SUF(T *y, const T *const *src, const V *cv, size_t c,  \
                                            size_t c1, const int K)                            \
    {                                                                                          \
        const T *s[STREAM_FIXED_TAPS];                                                         \
        V k[STREAM_FIXED_TAPS];                                                                \
        for (int j = 0; j < K; j++)                                                            \
            s[j] = src[j], k[j] = cv[j];                                                       \
        for (; c + L <= c1; c += L) {                                                          \
            V v = MUL(k[0], LOAD(s[0] + c));                                                   \
            for (int j = 1; j < K; j++)                                                        \
                v = FMA(k[j], LOAD(s[j] + c), v);                                              \
            STREAM(y + c, v);                                                                  \
        }                                                                                      \
        return c;                                                                              \
    }                                                                                          \
                                                                                               \
    STREAM_INLINE T stream_point_##SUF(int n, const T *const *src, const double *coef,         \
                                       size_t c)                                               \
    {                                                                                          \
        T v = (T)coef[0] * src[0][c];                                                          \
        for (int j = 1; j < n; j++)                                                            \
            v += (T)coef[j] * src[j][c];                                                       \
        return v;                                                                              \
    }                                                                                          \
                                                                                               \
    STREAM_TARGET static void stream_taps_##SUF(T *y, int n, const T *const *src,              \
                                                const double *coef, size_t c0, size_t c1)      \
    {                                                                                          \
        V cv[ROW_MAX_TAPS];                                                                    \
        for (int j = 0; j < n; j++)                                                            \
            cv[j] = SET1((T)coef[j]);                                                          \
        size_t c = c0;                                                                         \
        for (; c < c1 && ((uintptr_t)(y + c) & 31); c++)                                       \
            y[c] = stream_point_##SUF(n, src, coef, c);                                        \
        switch (n) {                                                                           \
        case 1: c = stream_fixed_##SUF(y, src, cv, c, c1, 1); break;                           \
        case 2: c = stream_fixed_##SUF(y, src, cv, c, c1, 2); break;                           \
        case 3: c = stream_fixed_##SUF(y, src, cv, c, c1, 3); break;                           \
        case 4: c = stream_fixed_##SUF(y, src, cv, c, c1, 4); break;                           \
        case 5: c = stream_fixed_##SUF(y, src, cv, c, c1, 5); break;                           \
        case 6: c = stream_fixed_##SUF(y, src, cv, c, c1, 6); break;                           \
        case 7: c = stream_fixed_##SUF(y, src, cv, c, c1, 7); break;                           \
        case 8: c = stream_fixed_##SUF(y, src, cv, c, c1, 8); break;                           \
        default:                                                                               \
            for (; c + L <= c1; c += L) {                                                      \
                V v = MUL(cv[0], LOAD(src[0] + c));                                            \
                for (int j = 1; j < n; j++)                                                    \
                    v = FMA(cv[j], LOAD(src[j] + c), v);                                       \
                STREAM(y + c, v);                                                              \
            }                                                                                  \
        }                                                                                      \
        for (; c < c1; c++)                                                                    \
            y[c] = stream_point_##SUF(n, src, coef, c);                                        \
    }

DEFINE_STREAM(double, __m256d, 4, f64, _mm256_set1_pd, _mm256_loadu_pd, _mm256_mul_pd,
              _mm256_fmadd_pd, _mm256_stream_pd)
DEFINE_STREAM(float, __m256, 8, f32, _mm256_set1_ps, _mm256_loadu_ps, _mm256_mul_ps,
              _mm256_fmadd_ps, _mm256_stream_ps)

static int stream_taps_available(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static void stream_fence(void)
{
    _mm_sfence();
}
#else
static void stream_taps_f64(double *y, int n, const double *const *src, const double *coef,
                            size_t c0, size_t c1)
{
}
static void stream_taps_f32(float *y, int n, const float *const *src, const double *coef,
                            size_t c0, size_t c1)
{
}
static int stream_taps_available(void)
{
    return 0;
}
static void stream_fence(void)
{
}
#endif

/* Boundary runs at least this long take the vector path. */
#define ROW_VECTOR_RUN 16
/* Points of a row done at a time: the boundary points of a segment read what its interior
 * pass just read, so a segment's 8 streams (16 KiB each in double) must stay in L2. */
#define ROW_SEGMENT 2048

/* The boundary points of the smallest-stride term (the ends of every line along the last
 * axis: a few per line, scattered through the row) in the blocks where every other inside-row
 * term is interior: one merged tap list per boundary index, made once per row, so such a point
 * costs one short dot product instead of a walk over the terms (measured: the walk took an
 * eighth of a 3-d Laplacian's time at 256^3). The other terms must have strides that are
 * multiples of the term's block (C order gives that), so their indices are constant on a
 * block and counted block by block. */
#define EDGE_LIST_TAPS 24
#define EDGE_MAX_INDICES (2 * (ROW_MAX_MARGIN + SL_STENCIL_MAX_EDGE))
typedef struct edge_lists {
    int on, term;
    int nidx;
    size_t index[EDGE_MAX_INDICES];
    int n[EDGE_MAX_INDICES];
    const void *src[EDGE_MAX_INDICES][EDGE_LIST_TAPS];
    double coef[EDGE_MAX_INDICES][EDGE_LIST_TAPS];
} edge_lists;

/* Position of one other term along its axis while walking blocks of the listed term. */
typedef struct block_walk {
    size_t per, left, index; /* blocks per index step, blocks left in this step, the index */
} block_walk;

static int edge_list_add(term_taps *all, const void **srcs, const small_taps *tt,
                         const char *x, size_t stride, size_t es)
{
    for (int j = 0; j < tt->n; j++)
        if (!add_tap(all, srcs, x + (long long)tt->off[j] * (long long)stride * (long long)es,
                     tt->coef[j]))
            return 0;
    return 1;
}

static void build_edge_lists(int nterms, const sl_row_term *terms, const row_term_taps *rtaps,
                             const term_taps *split, const void *const *split_srcs,
                             const void *in, size_t es, edge_lists *e)
{
    e->on = 0;
    int ts = -1;
    for (int t = 0; t < nterms; t++)
        if (!terms[t].along_tiles && (ts < 0 || terms[t].stride < terms[ts].stride))
            ts = t;
    if (ts < 0 || terms[ts].stride >= ROW_VECTOR_RUN)
        return; /* long runs: the vector path does them */
    size_t block = terms[ts].len * terms[ts].stride;
    for (int u = 0; u < nterms; u++)
        if (u != ts && !terms[u].along_tiles && terms[u].stride % block)
            return;
    const row_term_taps *r = &rtaps[ts];
    e->term = ts;
    e->nidx = 0;
    for (size_t i = 0; i < terms[ts].len; i++) {
        if (i == r->lo && terms[ts].len > r->hi)
            i = terms[ts].len - r->hi > r->lo ? terms[ts].len - r->hi : r->lo;
        if (i >= terms[ts].len)
            break;
        term_taps all = {0};
        const void *srcs[ROW_MAX_TAPS];
        int ok = 1;
        for (int j = 0; j < split->n; j++)
            ok = ok && add_tap(&all, srcs, split_srcs[j], split->coef[j]);
        for (int u = 0; u < nterms && ok; u++)
            if (!terms[u].along_tiles)
                ok = edge_list_add(&all, srcs, u == ts ? taps_at(&terms[u], r, i * terms[u].stride)
                                                       : &rtaps[u].interior,
                                   in, terms[u].stride, es);
        if (!ok || all.n > EDGE_LIST_TAPS)
            return;
        int k = e->nidx++;
        e->index[k] = i;
        e->n[k] = all.n;
        memcpy(e->src[k], srcs, (size_t)all.n * sizeof *srcs);
        memcpy(e->coef[k], all.coef, (size_t)all.n * sizeof *all.coef);
    }
    e->on = 1;
}

/* The walks of the other inside-row terms from block `first` of the listed term on. */
static void walks_start(int nterms, const sl_row_term *terms, const edge_lists *e,
                        size_t first, block_walk *w)
{
    size_t block = terms[e->term].len * terms[e->term].stride;
    for (int u = 0; u < nterms; u++) {
        if (u == e->term || terms[u].along_tiles)
            continue;
        w[u].per = terms[u].stride / block;
        w[u].index = first / w[u].per % terms[u].len;
        w[u].left = w[u].per - first % w[u].per;
    }
}

/* Whether every other inside-row term is interior at the current block; then steps on. */
static int walks_interior_then_step(int nterms, const sl_row_term *terms,
                                    const row_term_taps *rtaps, const edge_lists *e,
                                    block_walk *w)
{
    int interior = 1;
    for (int u = 0; u < nterms; u++) {
        if (u == e->term || terms[u].along_tiles)
            continue;
        size_t i = w[u].index;
        interior = interior && i >= rtaps[u].lo && i < terms[u].len - rtaps[u].hi;
        if (--w[u].left == 0) {
            w[u].left = w[u].per;
            if (++w[u].index == terms[u].len)
                w[u].index = 0;
        }
    }
    return interior;
}

#define DEFINE_ROW_KERNEL(T, SUF)                                                              \
    /* Points [p0, p1) of a run on which every inside-row term of stride >= `stride` has one  \
     * index: their taps there, the interior taps of the smaller-stride terms and the split   \
     * term's, merged, in one vector pass. The smaller terms' boundary points inside the run  \
     * are wrong after it and are rewritten later (terms go by decreasing stride). */         \
    static void run_##SUF(int nterms, const sl_row_term *terms, const row_term_taps *rtaps,   \
                          size_t stride, T *yseg, size_t a, const T *x,                       \
                          const term_taps *split, const void *const *split_src, size_t p0,     \
                          size_t p1)                                                           \
    {                                                                                          \
        term_taps all = {0};                                                                   \
        const void *srcs[ROW_MAX_TAPS];                                                        \
        const T *src[ROW_MAX_TAPS];                                                            \
        int ok = 1;                                                                            \
        for (int j = 0; j < split->n; j++)                                                     \
            ok = ok && add_tap(&all, srcs, split_src[j], split->coef[j]);                      \
        for (int u = 0; u < nterms; u++) {                                                     \
            const sl_row_term *ru = &terms[u];                                                 \
            if (ru->along_tiles)                                                               \
                continue;                                                                      \
            const small_taps *tt = ru->stride >= stride ? taps_at(ru, &rtaps[u], p0)           \
                                                        : &rtaps[u].interior;                  \
            for (int j = 0; j < tt->n; j++)                                                    \
                ok = ok && add_tap(&all, srcs, x + (long long)tt->off[j] * (long long)ru->stride, \
                                   tt->coef[j]);                                               \
        }                                                                                      \
        if (!ok)                                                                               \
            return; /* too many taps: the caller's points stay exact one by one */            \
        for (int j = 0; j < all.n; j++)                                                        \
            src[j] = (const T *)srcs[j] + a; /* indexed like the segment */                    \
        for (size_t c0 = p0; c0 < p1; c0 += CHUNK) {                                           \
            size_t c1 = c0 + CHUNK < p1 ? c0 + CHUNK : p1;                                     \
            taps_##SUF(yseg, all.n, src, all.coef, c0 - a, c1 - a, 0);                         \
        }                                                                                      \
    }                                                                                          \
                                                                                               \
    /* The listed term's boundary points of block b0 inside [a, b), through the lists. */     \
    static void list_points_##SUF(const edge_lists *e, size_t stride, size_t b0, T *yseg,      \
                                  size_t a, size_t b)                                          \
    {                                                                                          \
        for (int k = 0; k < e->nidx; k++) {                                                    \
            size_t r0 = b0 + e->index[k] * stride, r1 = r0 + stride;                           \
            size_t p0 = r0 > a ? r0 : a, p1 = r1 < b ? r1 : b;                                 \
            for (size_t p = p0; p < p1; p++) {                                                 \
                T v = 0;                                                                       \
                for (int j = 0; j < e->n[k]; j++)                                              \
                    v += (T)e->coef[k][j] * ((const T *)e->src[k][j])[p];                      \
                yseg[p - a] = v;                                                               \
            }                                                                                  \
        }                                                                                      \
    }                                                                                          \
                                                                                               \
    /* Term t's boundary points inside [a, b) of the row (t has the o-th largest stride;    \
     * `reach`: how far the smaller-stride terms read): long runs by vector passes whose      \
     * reach stays in the row, the rest one by one, exactly. */                               \
    static void edges_##SUF(int nterms, const sl_row_term *terms, const row_term_taps *rtaps, \
                            int t, size_t reach, T *yseg, const T *x,                         \
                            const term_taps *split_taps, const void *const *split_srcs,        \
                            const edge_lists *e, size_t a, size_t b)                           \
    {                                                                                          \
        const sl_row_term *rt = &terms[t];                                                     \
        size_t lo = rtaps[t].lo, hi = rtaps[t].hi, block = rt->len * rt->stride;               \
        const small_taps *fixed[SL_STENCIL_MAX_TERMS];                                         \
        int listed = e->on && e->term == t;                                                    \
        block_walk walk[SL_STENCIL_MAX_TERMS];                                                 \
        if (listed)                                                                            \
            walks_start(nterms, terms, e, a / block, walk);                                    \
        for (size_t b0 = a / block * block; b0 < b; b0 += block) {                             \
            if (listed && walks_interior_then_step(nterms, terms, rtaps, e, walk)) {           \
                list_points_##SUF(e, rt->stride, b0, yseg, a, b);                              \
                continue;                                                                      \
            }                                                                                  \
            /* the terms of larger strides have one index over the block */                    \
            for (int u = 0; u < nterms; u++)                                                   \
                fixed[u] = !terms[u].along_tiles && terms[u].stride >= block                   \
                               ? taps_at(&terms[u], &rtaps[u], b0) : NULL;                     \
            for (size_t i = 0; i < rt->len; i++) {                                             \
                if (i == lo && rt->len > hi)                                                   \
                    i = rt->len - hi > lo ? rt->len - hi : lo;                                 \
                if (i >= rt->len)                                                              \
                    break;                                                                     \
                size_t r0 = b0 + i * rt->stride, r1 = r0 + rt->stride, v0 = r0, v1 = r0;       \
                if (r1 <= a || r0 >= b)                                                        \
                    continue;                                                                  \
                if (rt->stride >= ROW_VECTOR_RUN && rt->stride > 2 * reach) {                  \
                    v0 = r0 + reach > a ? r0 + reach : a;                                      \
                    v1 = r1 - reach < b ? r1 - reach : b;                                      \
                    if (v1 > v0)                                                               \
                        run_##SUF(nterms, terms, rtaps, rt->stride, yseg, a, x, split_taps,    \
                                  split_srcs, v0, v1);                                         \
                    else                                                                       \
                        v1 = v0;                                                               \
                }                                                                              \
                size_t p0 = r0 > a ? r0 : a, p1 = r1 < b ? r1 : b;                             \
                for (size_t p = p0; p < p1; p++)                                               \
                    if (p < v0 || p >= v1)                                                     \
                        POINT(T);                                                              \
            }                                                                                  \
        }                                                                                      \
    }                                                                                          \
                                                                                               \
    /* The row segment by segment (ROW_SEGMENT points): each segment's interior pass, then  \
     * its boundary points, while its inputs are still in cache. With `stream` the interior  \
     * pass stores past the caches; the boundary points (a few per line) are plain stores.  \
     */                                                                                        \
    static void row_##SUF(int nterms, const sl_row_term *terms, size_t row_len, T *y,          \
                          const T *x, const term_taps *all, const void *const *srcs,           \
                          size_t flat0, size_t flat1, const term_taps *split_taps,             \
                          const void *const *split_srcs, const row_term_taps *rtaps,           \
                          const edge_lists *e, int stream)                                     \
    {                                                                                          \
        const T *src[ROW_MAX_TAPS];                                                            \
        /* terms by decreasing stride: each one's boundary points are rewritten after the     \
         * passes of the larger ones, which write them with interior taps */                   \
        int order[SL_STENCIL_MAX_TERMS], no = 0;                                               \
        size_t reach[SL_STENCIL_MAX_TERMS];                                                    \
        for (int t = 0; t < nterms; t++)                                                       \
            if (!terms[t].along_tiles) {                                                       \
                int at = no++;                                                                 \
                while (at > 0 && terms[order[at - 1]].stride < terms[t].stride) {              \
                    order[at] = order[at - 1];                                                 \
                    at--;                                                                      \
                }                                                                              \
                order[at] = t;                                                                 \
            }                                                                                  \
        for (int o = 0; o < no; o++) {                                                         \
            reach[o] = 0;                                                                      \
            for (int q = o + 1; q < no; q++) {                                                 \
                size_t r = (size_t)sl_stencil_margin(terms[order[q]].st) * terms[order[q]].stride; \
                reach[o] = r > reach[o] ? r : reach[o];                                        \
            }                                                                                  \
        }                                                                                      \
        stream = stream && all->n > 0 && stream_taps_available();                              \
        for (size_t a = 0; a < row_len; a += ROW_SEGMENT) {                                    \
            size_t b = a + ROW_SEGMENT < row_len ? a + ROW_SEGMENT : row_len;                  \
            size_t f0 = flat0 > a ? flat0 : a, f1 = flat1 < b ? flat1 : b;                     \
            T *yseg = y + a;                                                                   \
            for (int j = 0; j < all->n; j++)                                                   \
                src[j] = (const T *)srcs[j] + a; /* indexed like the segment */                \
            if (f1 > f0 && stream)                                                             \
                stream_taps_##SUF(yseg, all->n, src, all->coef, f0 - a, f1 - a);               \
            else if (f1 > f0)                                                                  \
                taps_##SUF(yseg, all->n, src, all->coef, f0 - a, f1 - a, 0);                   \
            for (int o = 0; o < no; o++)                                                       \
                edges_##SUF(nterms, terms, rtaps, order[o], reach[o], yseg, x, split_taps,     \
                            split_srcs, e, a, b);                                              \
        }                                                                                      \
        if (stream)                                                                            \
            stream_fence();                                                                    \
    }

DEFINE_ROW_KERNEL(float, f32)
DEFINE_ROW_KERNEL(double, f64)

int sl_kernel_stencil_row(int single, int adjoint, int nterms, const sl_row_term *terms,
                          size_t k, size_t n, size_t row_len, void *out, const void *in,
                          const sl_stencil_piece *pieces, int npieces, int stream)
{
    size_t es = single ? sizeof(float) : sizeof(double), left = 0, right = 0;
    term_taps all = {0}, split = {0};
    row_term_taps rtaps[SL_STENCIL_MAX_TERMS];
    const void *srcs[ROW_MAX_TAPS], *split_srcs[SL_STENCIL_MAX_TAPS];
    int have_split = 0;
    for (int t = 0; t < nterms; t++) {
        const sl_row_term *rt = &terms[t];
        if (rt->along_tiles) { /* row k's own taps: interior, or a boundary row's */
            if (have_split || sl_stencil_margin(rt->st) > ROW_MAX_MARGIN)
                return 0;
            have_split = 1;
            split.n = row_taps(rt->st, adjoint, k, n, split.off, split.coef);
            for (int j = 0; j < split.n; j++) {
                split_srcs[j] = tile_row((size_t)((long long)k + split.off[j]), row_len * es,
                                         pieces, npieces);
                if (!split_srcs[j] || !add_tap(&all, srcs, split_srcs[j], split.coef[j]))
                    return 0;
            }
            continue;
        }
        if (rt->stride == 0 || rt->len == 0 || row_len % (rt->len * rt->stride) ||
            sl_stencil_margin(rt->st) > ROW_MAX_MARGIN || t >= SL_STENCIL_MAX_TERMS)
            return 0;
        row_term_taps *rtt = &rtaps[t];
        term_edges(rt->st, adjoint, rt->len, &rtt->lo, &rtt->hi);
        for (size_t i = 0; i < rtt->lo; i++)
            small_of(rt->st, adjoint, i, rt->len, &rtt->head[i]);
        for (size_t i = 0; i < rtt->hi; i++)
            small_of(rt->st, adjoint, rt->len - 1 - i, rt->len, &rtt->tail[i]);
        small_of(rt->st, adjoint, rtt->lo < rt->len - rtt->hi ? rtt->lo : 0, rt->len,
                 &rtt->interior);
        term_taps it;
        it.n = interior_taps(rt->st, adjoint, it.off, it.coef);
        for (int j = 0; j < it.n; j++)
            if (!add_tap(&all, srcs, (const char *)in + (long long)it.off[j] *
                                                           (long long)rt->stride * (long long)es,
                         it.coef[j]))
                return 0;
        /* the adjoint reads the stencil reversed */
        size_t reach_left = (size_t)(adjoint ? rt->st->hi : -rt->st->lo) * rt->stride;
        size_t reach_right = (size_t)(adjoint ? -rt->st->lo : rt->st->hi) * rt->stride;
        left = reach_left > left ? reach_left : left;
        right = reach_right > right ? reach_right : right;
    }
    /* The flat range: points whose inside-row taps stay inside the row. The points outside
     * it are boundary points of the term reaching furthest that way (its boundary rows
     * cover its reach: term_edges), so the edge passes write them. */
    size_t flat0 = left < row_len ? left : row_len;
    size_t flat1 = row_len > right ? row_len - right : flat0;
    if (flat1 < flat0)
        flat1 = flat0;
    edge_lists *lists = malloc(sizeof *lists); /* ~13 KB: not on a worker's stack */
    if (!lists)
        return 0;
    build_edge_lists(nterms, terms, rtaps, &split, split_srcs, in, es, lists);
    if (single)
        row_f32(nterms, terms, row_len, out, in, &all, srcs, flat0, flat1, &split, split_srcs,
                rtaps, lists, stream);
    else
        row_f64(nterms, terms, row_len, out, in, &all, srcs, flat0, flat1, &split, split_srcs,
                rtaps, lists, stream);
    free(lists);
    return 1;
}

/* The fast rows and the boundary rows (in batches of at most MAX_BOUNDARY: thin tiles of
 * long filters have many); every output row is written by exactly one batch. */
static void run_rows(int single, const sl_stencil *st, int adjoint, int accumulate,
                     const sl_stencil_geometry *g, void *out, const void *in,
                     const sl_stencil_piece *pieces, int npieces, boundary_rows *b)
{
    size_t end = g->row0 + g->len, k0, k1;
    b->ni = interior_taps(st, adjoint, b->ioff, b->icoef);
    fast_rows(st, g, &k0, &k1);
    if (k0 > end)
        k0 = k1 = end;
    b->k0 = k0, b->k1 = k1;
    b->nrows = 0;
    for (size_t k = g->row0; k < end; k++) {
        if (k >= k0 && k < k1)
            k = k1; /* skip the fast rows */
        if (k >= end)
            break;
        add_row(st, adjoint, g, b, k);
        if (b->nrows == MAX_BOUNDARY) {
            if (single)
                stencil_f32(st, adjoint, accumulate, g, out, in, pieces, npieces, b);
            else
                stencil_f64(st, adjoint, accumulate, g, out, in, pieces, npieces, b);
            b->nrows = 0;
            b->k1 = b->k0; /* the fast rows are done with the first batch */
        }
    }
    if (b->nrows > 0 || b->k1 > b->k0) { /* the last batch (with the fast rows if first) */
        if (single)
            stencil_f32(st, adjoint, accumulate, g, out, in, pieces, npieces, b);
        else
            stencil_f64(st, adjoint, accumulate, g, out, in, pieces, npieces, b);
    }
}

void sl_kernel_stencil(int single, const sl_stencil *st, int adjoint, int accumulate,
                       const sl_stencil_geometry *g, void *out, const void *in,
                       const sl_stencil_piece *pieces, int npieces, sl_stencil_workspace *w)
{
    run_rows(single, st, adjoint, accumulate, g, out, in, pieces, npieces, w);
}
