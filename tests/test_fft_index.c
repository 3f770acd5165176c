/* The CUDA FFT path's index logic on the host (no GPU, no StarPU): what cuda/fft.cu does with
 * a call's lines (fft_index.h's per-sample move, its thread mapping, segments cut in chunks of
 * the launch, zero padding by a memset, lines one after the other in batches of its own size)
 * is replayed here with the same header functions, a dense DFT in place of cuFFT, and
 * compared with the CPU kernel (sl_kernel_fft, FFTW) on the same arrays: complex, real and
 * real-transform models, float and double, nfft equal / padded / truncated, both shifts, the
 * three norms, forward and adjoint, contiguous and interleaved lines cut into 1 to 5 segments
 * (more than a launch's chunk). The destination arrays start with the same filler, so a sample
 * written by one path and not the other shows too. */
#include <complex.h>
#include <fftw3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/fft_kernels.h"
#include "unit_harness.h"

/* Segments per emulated launch: small, so that a side's segments take several launches. */
#define CHUNK 2
#define MAXSEG 5

/* A side's arrays: one allocation per segment (as tiles on a device), shared strides. */
typedef struct side_data {
    sl_fft_lines ln;
    size_t len, s1, s2, sk;
    int nseg, cplx, single;
    sl_fft_segment seg[MAXSEG];
    size_t bytes[MAXSEG];
} side_data;

static size_t real_size(int single)
{
    return single ? sizeof(float) : sizeof(double);
}

/* Lines (2 x 2 x nq) of `len` samples, contiguous (nq = 1, sk = 1) or interleaved (nq = 3,
 * sk = 4: gaps between samples), with gaps between lines and blocks too. */
static void side_init(side_data *s, size_t len, int interleaved, int nseg, int cplx, int single)
{
    size_t nq = interleaved ? 3 : 1;
    s->ln = (sl_fft_lines){2 * 2 * nq, 2, nq};
    s->len = len, s->sk = interleaved ? nq + 1 : 1;
    s->s2 = len * s->sk + 2, s->s1 = 2 * s->s2 + 5;
    s->nseg = nseg < (int)len ? nseg : (int)len;
    s->cplx = cplx, s->single = single;
    size_t es = real_size(single) * (cplx ? 2 : 1), last = s->ln.count - 1;
    size_t end = sl_fft_line_start(last, s->ln.n2, s->ln.nq, s->s1, s->s2) + 1;
    for (int g = 0; g < s->nseg; g++) {
        size_t k0 = len * (size_t)g / (size_t)s->nseg, k1 = len * (size_t)(g + 1) / (size_t)s->nseg;
        s->bytes[g] = (end + (k1 - k0 - 1) * s->sk) * es;
        s->seg[g] = (sl_fft_segment){malloc(s->bytes[g]), k0, k1 - k0};
    }
}

static void side_free(side_data *s)
{
    for (int g = 0; g < s->nseg; g++)
        free(s->seg[g].base);
}

/* Every real of the side's buffers from a seed (the source) or a filler (destinations). */
static void side_fill(side_data *s, unsigned seed, int filler)
{
    for (int g = 0; g < s->nseg; g++) {
        size_t n = s->bytes[g] / real_size(s->single);
        for (size_t i = 0; i < n; i++) {
            double v = filler ? 777.0 : sin(0.37 * (double)(i + 1) * (seed + 1) + g);
            if (s->single)
                ((float *)s->seg[g].base)[i] = (float)v;
            else
                ((double *)s->seg[g].base)[i] = v;
        }
    }
}

static sl_fft_side kernel_side(const side_data *s)
{
    return (sl_fft_side){s->s1, s->s2, s->sk, s->nseg, s->seg};
}

static int places_of(const side_data *s, sl_fft_place *p)
{
    for (int g = 0; g < s->nseg; g++)
        p[g] = (sl_fft_place){s->seg[g].base, s->seg[g].k0, s->seg[g].len, s->s1, s->s2, s->sk};
    return s->nseg;
}

/* One emulated launch per chunk of segments: thread idx -> (line, index) -> move. */
static void emulate_moves(const sl_fft_move *mv, const side_data *s, size_t l0, size_t nb,
                          void *work, int to_buf)
{
    sl_fft_place all[MAXSEG];
    int nseg = places_of(s, all);
    for (int g0 = 0; g0 < nseg; g0 += CHUNK) {
        int n = nseg - g0 < CHUNK ? nseg - g0 : CHUNK;
        const sl_fft_place *seg = all + g0;
        size_t k0 = seg[0].k0, count = seg[n - 1].k0 + seg[n - 1].len - k0;
        for (size_t idx = 0; idx < nb * count; idx++) {
            size_t b, i;
            sl_fft_thread_elem(idx, nb, count, seg[0].sk == 1, &b, &i);
            if (s->single)
                sl_fft_move_one_s(mv, seg, n, s->ln.n2, s->ln.nq, l0 + b, b, k0 + i, work,
                                  to_buf);
            else
                sl_fft_move_one_d(mv, seg, n, s->ln.n2, s->ln.nq, l0 + b, b, k0 + i, work,
                                  to_buf);
        }
    }
}

static double get(const void *w, int single, size_t i)
{
    return single ? ((const float *)w)[i] : ((const double *)w)[i];
}

static void put(void *w, int single, size_t i, double v)
{
    if (single)
        ((float *)w)[i] = (float)v;
    else
        ((double *)w)[i] = v;
}

/* cuFFT's unnormalised transforms of nb lines, one after the other, as a dense DFT:
 * C2C (sign -1 forward, +1 inverse), R2C (nfft / 2 + 1 bins), C2R (Hermitian extension). */
static void dense_dft(const sl_fft_engine *e, size_t nb, const void *in, void *out)
{
    size_t n = e->nfft, m = n / 2 + 1;
    double sign = e->forward ? -1.0 : 1.0;
    for (size_t b = 0; b < nb; b++)
        for (size_t j = 0; j < e->out_len; j++) {
            double complex acc = 0;
            for (size_t k = 0; k < n; k++) {
                double complex x;
                if (e->r2c && e->forward)
                    x = get(in, e->single, b * n + k);
                else if (e->r2c) { /* bins beyond m: conjugates of their mirrors */
                    size_t kk = k < m ? k : n - k, at = 2 * (b * m + kk);
                    x = get(in, e->single, at) + I * get(in, e->single, at + 1);
                    x = k < m ? x : conj(x);
                } else {
                    size_t at = 2 * (b * n + k);
                    x = get(in, e->single, at) + I * get(in, e->single, at + 1);
                }
                acc += x * cexp(sign * 2 * M_PI * I * (double)((j * k) % n) / (double)n);
            }
            if (e->r2c && !e->forward)
                put(out, e->single, b * n + j, creal(acc));
            else {
                put(out, e->single, 2 * (b * e->out_len + j), creal(acc));
                put(out, e->single, 2 * (b * e->out_len + j) + 1, cimag(acc));
            }
        }
}

/* fft.cu's sl_cuda_fft_lines, on the host: batches of `batch` lines. */
static void emulate_device(const sl_fft_engine *e, size_t batch, const side_data *src,
                           const side_data *dst)
{
    sl_fft_move ms, md;
    sl_fft_engine_moves(e, &ms, &md);
    size_t rs = real_size(e->single);
    size_t len = e->in_len > e->out_len ? e->in_len : e->out_len;
    void *win = malloc(batch * len * 2 * rs), *wout = malloc(batch * len * 2 * rs);
    for (size_t i = 0; i < batch * len * 2; i++) /* stale values, as a reused buffer holds */
        put(win, e->single, i, NAN), put(wout, e->single, i, NAN);
    for (size_t l0 = 0; l0 < src->ln.count; l0 += batch) {
        size_t nb = src->ln.count - l0 < batch ? src->ln.count - l0 : batch;
        if (ms.len < ms.blen)
            memset(win, 0, nb * ms.blen * (ms.buf_cplx ? 2 : 1) * rs);
        emulate_moves(&ms, src, l0, nb, win, 1);
        dense_dft(e, nb, win, wout);
        emulate_moves(&md, dst, l0, nb, wout, 0);
    }
    free(win);
    free(wout);
}

typedef struct fcase {
    int single, kind; /* kind 0: complex model, 1: real model, 2: real transform */
    size_t n, nfft;
    int shift_model, shift_data, norm, adjoint, interleaved, nseg;
} fcase;

/* The data side's factors, written out independently of fft_index.h (PyLops' definition). */
static double *factors(const fcase *c, size_t m, double *scale)
{
    double nf = (double)c->nfft, *f = malloc(m * sizeof *f);
    *scale = c->norm == 0 ? 1 / sqrt(nf) : c->norm == 1 ? 1.0 : 1 / nf;
    for (size_t k = 0; k < m; k++) {
        int w = c->kind == 2 && k >= 1 && 2 * k < c->nfft;
        f[k] = *scale * (!w ? 1.0 : c->adjoint ? 1 / sqrt(2.0) : sqrt(2.0));
    }
    return f;
}

/* The engine the operator would make (fft_plan.c's init_engine), without the direct path. */
static sl_fft_engine engine_of(const fcase *c, double *factor, double scale)
{
    size_t m = c->kind == 2 ? c->nfft / 2 + 1 : c->nfft;
    sl_fft_engine e = {0};
    e.single = c->single, e.forward = !c->adjoint, e.r2c = c->kind == 2;
    e.model_real = c->kind != 0;
    e.n = c->n, e.nfft = c->nfft, e.m = m;
    e.shift_model = c->shift_model ? (c->n - c->n / 2) % c->n : 0;
    e.shift_data = c->shift_data ? (m - m / 2) % m : 0;
    e.factor = c->norm == 1 && c->kind != 2 ? NULL : factor;
    e.scale = scale;
    e.zero_ends = c->adjoint && c->kind == 2;
    e.batch = 4;
    e.interleaved = c->interleaved;
    e.in_len = c->adjoint ? m : c->nfft;
    e.out_len = c->adjoint ? c->nfft : m;
    return e;
}

static void compare(const fcase *c, const side_data *a, const side_data *b)
{
    double err = 0, big = 0;
    for (int g = 0; g < a->nseg; g++)
        for (size_t i = 0; i < a->bytes[g] / real_size(a->single); i++) {
            double x = get(a->seg[g].base, a->single, i), y = get(b->seg[g].base, b->single, i);
            err = fmax(err, isnan(x) || isnan(y) ? INFINITY : fabs(x - y));
            big = y == 777.0 ? big : fmax(big, fabs(y)); /* the scale of the results */
        }
    double tol = (c->single ? 1e-5 : 1e-12) * fmax(big, 1.0);
    CHECK(err <= tol, "%s kind %d n %zu nfft %zu shifts %d/%d norm %d %s %s %d segments: "
          "max diff %.3g (max %.3g)", c->single ? "float" : "double", c->kind, c->n, c->nfft,
          c->shift_model, c->shift_data, c->norm, c->adjoint ? "adjoint" : "forward",
          c->interleaved ? "interleaved" : "contiguous", c->nseg, err, big);
}

static void run_case(const fcase *c)
{
    size_t m = c->kind == 2 ? c->nfft / 2 + 1 : c->nfft;
    double scale, *f = factors(c, m, &scale);
    sl_fft_engine e = engine_of(c, f, scale);
    CHECK(sl_fft_engine_plan(&e, FFTW_ESTIMATE) == 0, "no FFTW plan");
    int model_cplx = c->kind == 0;
    side_data model, data, out_cpu, out_dev;
    const side_data *src = c->adjoint ? &data : &model;
    side_init(&model, c->n, c->interleaved, c->nseg, model_cplx, c->single);
    side_init(&data, m, c->interleaved, c->nseg, 1, c->single);
    side_init(&out_cpu, c->adjoint ? c->n : m, c->interleaved, c->nseg,
              c->adjoint ? model_cplx : 1, c->single);
    side_init(&out_dev, c->adjoint ? c->n : m, c->interleaved, c->nseg,
              c->adjoint ? model_cplx : 1, c->single);
    side_fill(&model, 1, 0);
    side_fill(&data, 2, 0);
    side_fill(&out_cpu, 0, 1);
    side_fill(&out_dev, 0, 1);
    size_t bytes = sl_fft_engine_buffer_bytes(&e);
    void *win = sl_fft_alloc(bytes), *wout = sl_fft_alloc(bytes);
    sl_fft_side ks = kernel_side(src), kd = kernel_side(&out_cpu);
    if (e.plan)
        sl_kernel_fft(&e, &src->ln, &ks, &kd, win, wout);
    emulate_device(&e, 5, src, &out_dev); /* 12 lines: batches of 5, 5, 2 */
    compare(c, &out_dev, &out_cpu);
    sl_fft_free(win);
    sl_fft_free(wout);
    side_free(&model), side_free(&data), side_free(&out_cpu), side_free(&out_dev);
    sl_fft_engine_destroy(&e);
    free(f);
}

/* The pieces of fft_index.h the replay above does not reach on its own. */
static void check_pieces(void)
{
    for (size_t len = 1; len < 9; len++)
        for (size_t shift = 0; shift < len; shift++) {
            int seen[9] = {0}, ok = 1;
            for (size_t k = 0; k < len; k++) {
                size_t kb = sl_fft_bin(k, shift, len);
                ok &= kb == (k + shift) % len && !seen[kb];
                seen[kb] = 1;
            }
            CHECK(ok, "sl_fft_bin(., %zu, %zu) is not the cyclic shift", shift, len);
        }
    CHECK(sl_fft_stride_at((sl_fft_stride){3, 0}, 10) == 30, "per-ld stride");
    CHECK(sl_fft_stride_at((sl_fft_stride){0, 7}, 10) == 7, "fixed stride");
    CHECK(sl_fft_is_end(0, 9) && !sl_fft_is_end(4, 9) && sl_fft_is_end(4, 8), "DC / Nyquist");
}

int main(void)
{
    check_pieces();
    static const size_t ns[2] = {7, 8};
    static const int nsegs[4] = {1, 3, 3, 5};
    for (int single = 0; single < 2; single++)
        for (int kind = 0; kind < 3; kind++)
            for (int ni = 0; ni < 2; ni++)
                for (int pad = -1; pad <= 1; pad++)
                    for (int sh = 0; sh < 4; sh++)
                        for (int norm = 0; norm < 3; norm++)
                            for (int adj = 0; adj < 2; adj++)
                                for (int geo = 0; geo < 4; geo++) {
                                    size_t n = ns[ni];
                                    fcase c = {single, kind, n, pad < 0 ? n - 2 : n + 3 * pad,
                                               sh & 1, sh >> 1, norm, adj, geo > 1,
                                               nsegs[geo]};
                                    run_case(&c);
                                }
    return unit_end("test_fft_index", "the CUDA path's index logic against the CPU kernel");
}
