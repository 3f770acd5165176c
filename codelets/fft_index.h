/* Where each sample of an FFT line goes, written once for the FFT codelet's two kinds of
 * worker: the CPU kernel (cpu/fft_kernels.c, FFTW) and the CUDA kernels around cuFFT
 * (cuda/fft.cu), whose threads each call sl_fft_move_one_{s,d} for one sample. Plain C with
 * no library or StarPU dependency, compiled by the host compiler and by nvcc.
 *
 * A side's line l = (p1, p2, q) (l = (p1 * n2 + p2) * nq + q) starts at p1*s1 + p2*s2 + q of
 * its array; its element k lies in the segment holding k (a line cut across tiles), at
 * base + line start + (k - k0) * sk. Array index k of a line of `len` samples goes to bin
 * (k + shift) % len of the transform's line of `blen` bins: bins at or beyond blen drop the
 * sample (truncation; the adjoint writes zero there), bins no sample reaches are zero
 * (padding). The data side is scaled per bin (the norm, and a real transform's sqrt(2)
 * weights). */
#ifndef STARLOPS_FFT_INDEX_H
#define STARLOPS_FFT_INDEX_H

#include <math.h>
#include <stddef.h>

#include "guard_codes.h" /* SL_HOST_DEVICE */

/* Bin of array index k (< len) after a cyclic shift by `shift` (< len). */
static inline SL_HOST_DEVICE size_t sl_fft_bin(size_t k, size_t shift, size_t len)
{
    size_t wrap = len - shift; /* first k whose bin wraps to 0 */
    return k < wrap ? k + shift : k - wrap;
}

/* Offset (elements) of the start of line l on a side with strides s1, s2 (q is contiguous). */
static inline SL_HOST_DEVICE size_t sl_fft_line_start(size_t l, size_t n2, size_t nq,
                                                      size_t s1, size_t s2)
{
    size_t per1 = n2 * nq;
    return l / per1 * s1 + l % per1 / nq * s2 + l % nq;
}

/* A stride of a side, in elements: part of it counts the tile's rows (the matrix's ld), which
 * differs between a tile in main memory (rows of the whole block, ld = the block's row
 * length) and its packed copy on a device (ld == nx); the rest does not. */
typedef struct sl_fft_stride {
    size_t per_ld, fixed;
} sl_fft_stride;

static inline SL_HOST_DEVICE size_t sl_fft_stride_at(sl_fft_stride s, size_t ld)
{
    return s.per_ld * ld + s.fixed;
}

/* Factor of data-side bin k: PyLops' scale, and the real transform's sqrt(2) weight of the
 * bins other than DC and Nyquist (forward s * sqrt(2); adjoint s / sqrt(2), as irfft counts
 * those bins twice). */
static inline SL_HOST_DEVICE double sl_fft_factor(double scale, int weighted, size_t nfft,
                                                  size_t k, int adjoint)
{
    if (!weighted || k < 1 || k > (nfft - 1) / 2)
        return scale;
    return adjoint ? scale / sqrt(2.0) : scale * sqrt(2.0);
}

/* The bins whose imaginary part irfft ignores (DC, and Nyquist when nfft is even). */
static inline SL_HOST_DEVICE int sl_fft_is_end(size_t kb, size_t nfft)
{
    return kb == 0 || (nfft % 2 == 0 && kb == nfft / 2);
}

/* Element position of bin kb of line b of a workspace of `batch` lines of blen bins: lines
 * interleaved (k * batch + b) or one after the other (b * blen + k). */
static inline SL_HOST_DEVICE size_t sl_fft_work_index(size_t b, size_t kb, size_t blen,
                                                      size_t batch, int interleaved)
{
    return interleaved ? kb * batch + b : b * blen + kb;
}

/* One element between the array (a) and the workspace (w), scaled by f; a complex value lands
 * in a real place as its real part, a real one in a complex place with a zero imaginary part.
 * ac / wc: the array's / the workspace's elements are complex. */
#define SL_FFT_DEFINE_ELEM(T, SUF)                                                             \
    static inline SL_HOST_DEVICE void sl_fft_elem_##SUF(T *a, T *w, T f, int ac, int wc,      \
                                                        int to_buf)                            \
    {                                                                                          \
        if (to_buf) {                                                                          \
            w[0] = f * a[0];                                                                   \
            if (wc)                                                                            \
                w[1] = ac ? f * a[1] : 0;                                                      \
        } else {                                                                               \
            a[0] = f * w[0];                                                                   \
            if (ac)                                                                            \
                a[1] = wc ? f * w[1] : 0;                                                      \
        }                                                                                      \
    }
SL_FFT_DEFINE_ELEM(double, d)
SL_FFT_DEFINE_ELEM(float, s)

/* One side of a move between array lines and the workspace (lines one after the other). */
typedef struct sl_fft_move {
    size_t len, shift, blen; /* array line length, its shift, workspace line length */
    int arr_cplx, buf_cplx;
    int scaled;       /* data side of a scaled transform: sl_fft_factor applies */
    int weighted;     /* ... with a real transform's weights */
    int adjoint;
    double scale;
    size_t nfft;
    int zero_ends;    /* into the workspace of an irfft: sl_fft_is_end bins' imaginary 0 */
} sl_fft_move;

/* A segment of a side's lines with its own strides (each tile's own on a device). */
typedef struct sl_fft_place {
    void *base; /* element k0 of line 0 */
    size_t k0, len;
    size_t s1, s2, sk;
} sl_fft_place;

/* The segment of `seg` (nseg, increasing k0, covering k) that holds k. */
static inline SL_HOST_DEVICE int sl_fft_segment_of(const sl_fft_place *seg, int nseg, size_t k)
{
    int g = 0;
    while (g + 1 < nseg && k >= seg[g + 1].k0)
        g++;
    return g;
}

/* Thread idx (< nb * count) of a move over nb lines and `count` indices of a line: k fastest
 * when a line's elements are neighbours in memory (sk == 1), else the lines fastest (then
 * neighbouring lines are). */
static inline SL_HOST_DEVICE void sl_fft_thread_elem(size_t idx, size_t nb, size_t count,
                                                     int k_fastest, size_t *b, size_t *i)
{
    *b = k_fastest ? idx / count : idx % nb;
    *i = k_fastest ? idx % count : idx / nb;
}

/* Array index k of line `line` (workspace line b): gathered into the workspace (to_buf) or
 * scattered from it; a destination sample beyond the workspace line is zeroed. work holds
 * lines of blen bins one after the other. */
#define SL_FFT_DEFINE_MOVE_ONE(T, SUF)                                                         \
    static inline SL_HOST_DEVICE void sl_fft_move_one_##SUF(                                   \
        const sl_fft_move *mv, const sl_fft_place *seg, int nseg, size_t n2, size_t nq,        \
        size_t line, size_t b, size_t k, T *work, int to_buf)                                  \
    {                                                                                          \
        const sl_fft_place *p = &seg[sl_fft_segment_of(seg, nseg, k)];                         \
        size_t af = mv->arr_cplx ? 2 : 1, bf = mv->buf_cplx ? 2 : 1;                           \
        size_t at = sl_fft_line_start(line, n2, nq, p->s1, p->s2) + (k - p->k0) * p->sk;       \
        T *a = (T *)p->base + at * af;                                                         \
        size_t kb = sl_fft_bin(k, mv->shift, mv->len);                                         \
        if (kb >= mv->blen) {                                                                  \
            if (!to_buf) {                                                                     \
                a[0] = 0;                                                                      \
                if (af == 2)                                                                   \
                    a[1] = 0;                                                                  \
            }                                                                                  \
            return;                                                                            \
        }                                                                                      \
        T *w = work + sl_fft_work_index(b, kb, mv->blen, 0, 0) * bf;                           \
        T f = mv->scaled ? (T)sl_fft_factor(mv->scale, mv->weighted, mv->nfft, kb, mv->adjoint) \
                         : (T)1;                                                               \
        sl_fft_elem_##SUF(a, w, f, mv->arr_cplx, mv->buf_cplx, to_buf);                        \
        if (to_buf && mv->zero_ends && sl_fft_is_end(kb, mv->nfft))                            \
            w[1] = 0;                                                                          \
    }
SL_FFT_DEFINE_MOVE_ONE(double, d)
SL_FFT_DEFINE_MOVE_ONE(float, s)

#endif
