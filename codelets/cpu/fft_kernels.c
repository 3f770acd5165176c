/* Batched line FFTs over strided arrays with FFTW (see fft_kernels.h). */
#include <pthread.h>
#include <string.h>

#include <fftw3.h>

#include "fft_kernels.h"

/* FFTW's planner and plan destruction share global state: one lock for every engine. */
static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

size_t sl_fft_engine_buffer_bytes(const sl_fft_engine *e)
{
    size_t len = e->in_len > e->out_len ? e->in_len : e->out_len;
    return e->batch * len * 2 * (e->single ? sizeof(float) : sizeof(double));
}

void *sl_fft_alloc(size_t bytes)
{
    return fftw_malloc(bytes ? bytes : 1);
}

void sl_fft_free(void *p)
{
    fftw_free(p);
}

/* Workspace strides of the plan: interleaved lines (FFTW vectorises across them) or
 * consecutive ones. */
static void plan_strides(const sl_fft_engine *e, int interleaved, int *is, int *id, int *os,
                         int *od)
{
    *is = interleaved ? (int)e->batch : 1;
    *os = *is;
    *id = interleaved ? 1 : (int)e->in_len;
    *od = interleaved ? 1 : (int)e->out_len;
}

/* direct: consecutive lines (the plan run on the arrays themselves). */
static void *plan_double(const sl_fft_engine *e, int direct, void *in, void *out,
                         unsigned flags)
{
    int n = (int)e->nfft, b = (int)(direct ? e->direct_batch : e->batch), is, id, os, od;
    plan_strides(e, e->interleaved && !direct, &is, &id, &os, &od);
    if (e->r2c && e->forward)
        return fftw_plan_many_dft_r2c(1, &n, b, in, NULL, is, id, out, NULL, os, od, flags);
    if (e->r2c)
        return fftw_plan_many_dft_c2r(1, &n, b, in, NULL, is, id, out, NULL, os, od, flags);
    return fftw_plan_many_dft(1, &n, b, in, NULL, is, id, out, NULL, os, od,
                              e->forward ? FFTW_FORWARD : FFTW_BACKWARD, flags);
}

static void *plan_single(const sl_fft_engine *e, int direct, void *in, void *out,
                         unsigned flags)
{
    int n = (int)e->nfft, b = (int)(direct ? e->direct_batch : e->batch), is, id, os, od;
    plan_strides(e, e->interleaved && !direct, &is, &id, &os, &od);
    if (e->r2c && e->forward)
        return fftwf_plan_many_dft_r2c(1, &n, b, in, NULL, is, id, out, NULL, os, od, flags);
    if (e->r2c)
        return fftwf_plan_many_dft_c2r(1, &n, b, in, NULL, is, id, out, NULL, os, od, flags);
    return fftwf_plan_many_dft(1, &n, b, in, NULL, is, id, out, NULL, os, od,
                               e->forward ? FFTW_FORWARD : FFTW_BACKWARD, flags);
}

int sl_fft_engine_plan(sl_fft_engine *e, unsigned flags)
{
    size_t bytes = sl_fft_engine_buffer_bytes(e), len = e->in_len > e->out_len ? e->in_len
                                                                               : e->out_len;
    size_t real = e->single ? sizeof(float) : sizeof(double);
    if (e->direct && e->direct_batch * len * 2 * real > bytes) /* room for the direct plan */
        bytes = e->direct_batch * len * 2 * real;
    /* planned on buffers of the workspaces' size and alignment (FFTW_MEASURE overwrites
     * them), so that executing on any workspace is valid */
    void *in = sl_fft_alloc(bytes), *out = sl_fft_alloc(bytes);
    if (!in || !out) {
        sl_fft_free(in);
        sl_fft_free(out);
        return -1;
    }
    pthread_mutex_lock(&planner_lock);
    e->plan = e->single ? plan_single(e, 0, in, out, flags) : plan_double(e, 0, in, out, flags);
    if (e->direct) /* on aligned buffers: run only where the arrays' lines are aligned too */
        e->plan_direct = e->single ? plan_single(e, 1, in, out, flags)
                                   : plan_double(e, 1, in, out, flags);
    pthread_mutex_unlock(&planner_lock);
    sl_fft_free(in);
    sl_fft_free(out);
    return e->plan && (!e->direct || e->plan_direct) ? 0 : -1;
}

static void destroy_plan(int single, void *plan)
{
    if (plan && single)
        fftwf_destroy_plan(plan);
    else if (plan)
        fftw_destroy_plan(plan);
}

void sl_fft_engine_destroy(sl_fft_engine *e)
{
    pthread_mutex_lock(&planner_lock);
    destroy_plan(e->single, e->plan);
    destroy_plan(e->single, e->plan_direct);
    pthread_mutex_unlock(&planner_lock);
    e->plan = e->plan_direct = NULL;
}

static void execute(const sl_fft_engine *e, void *plan, void *in, void *out)
{
    if (e->single) {
        if (e->r2c && e->forward)
            fftwf_execute_dft_r2c(plan, in, out);
        else if (e->r2c)
            fftwf_execute_dft_c2r(plan, in, out);
        else
            fftwf_execute_dft(plan, in, out);
    } else {
        if (e->r2c && e->forward)
            fftw_execute_dft_r2c(plan, in, out);
        else if (e->r2c)
            fftw_execute_dft_c2r(plan, in, out);
        else
            fftw_execute_dft(plan, in, out);
    }
}

/* Offsets (elements) of lines l0 .. l0 + nb - 1 on one side. */
static void line_offsets(const sl_fft_lines *ln, const sl_fft_side *s, size_t l0, size_t nb,
                         size_t *off)
{
    for (size_t b = 0; b < nb; b++)
        off[b] = sl_fft_line_start(l0 + b, ln->n2, ln->nq, s->s1, s->s2);
}

/* One side of a move between an array and the workspace: the array's line length and shift,
 * whether each holds complex values, the workspace's line length and layout, the factors. */
typedef struct move {
    size_t len, shift, blen, batch;
    int arr_cplx, buf_cplx, interleaved;
    const double *factor;
} move;

/* A run of array indices [k, k + count) of one segment whose workspace bins are kb.. (no
 * wrap inside), all inside the workspace line or all beyond it. */
typedef struct run {
    size_t k, count, kb;
    int inside;
} run;

/* The runs of segment [k0, k0 + len): split where the shift wraps and where bins leave the
 * workspace line (zero padding or truncation). At most 4. */
static int segment_runs(const move *mv, size_t k0, size_t len, run *r)
{
    int nr = 0;
    size_t wrap = mv->len - mv->shift; /* first k whose bin wraps to 0 */
    size_t cuts[2] = {k0 < wrap && k0 + len > wrap ? wrap : k0 + len, k0 + len};
    size_t k = k0;
    for (int c = 0; c < 2 && k < k0 + len; c++) {
        size_t end = cuts[c], kb = sl_fft_bin(k, mv->shift, mv->len);
        size_t in_end = kb < mv->blen ? mv->blen - kb : 0; /* indices still inside */
        if (in_end > 0)
            r[nr++] = (run){k, in_end < end - k ? in_end : end - k, kb, 1};
        size_t done = in_end < end - k ? in_end : end - k;
        if (k + done < end)
            r[nr++] = (run){k + done, end - k - done, kb + done, 0};
        k = end;
    }
    return nr;
}

#define DEFINE_MOVE(T, SUF)                                                                    \
    /* n reals from src to dst times f (a plain copy when f is 1: no factor). */                \
    static inline void copy_scaled_##SUF(T *restrict dst, const T *restrict src, size_t n,     \
                                         T f)                                                  \
    {                                                                                          \
        if (f == (T)1) {                                                                       \
            memcpy(dst, src, n * sizeof(T));                                                   \
            return;                                                                            \
        }                                                                                      \
        for (size_t i = 0; i < n; i++)                                                         \
            dst[i] = f * src[i];                                                               \
    }                                                                                          \
    /* A run of `count` elements contiguous on both sides (af reals each), factor per element \
     * (fk, or none). */                                                                       \
    static inline void copy_run_##SUF(T *restrict dst, const T *restrict src, size_t count,    \
                                      size_t af, const double *fk)                             \
    {                                                                                          \
        if (!fk) {                                                                             \
            memcpy(dst, src, count * af * sizeof(T));                                          \
            return;                                                                            \
        }                                                                                      \
        if (af == 1) {                                                                         \
            for (size_t i = 0; i < count; i++)                                                 \
                dst[i] = (T)fk[i] * src[i];                                                    \
            return;                                                                            \
        }                                                                                      \
        for (size_t i = 0; i < count; i++) { /* complex: both parts by the same factor */     \
            T f = (T)fk[i];                                                                    \
            dst[2 * i] = f * src[2 * i];                                                       \
            dst[2 * i + 1] = f * src[2 * i + 1];                                               \
        }                                                                                      \
    }                                                                                          \
    /* The common cases, as plain copies the compiler vectorises: both sides of one kind, and \
     * the run contiguous in the array along the lines (contiguous workspace) or across them   \
     * (interleaved workspace, consecutive lines). 1 if done. */                               \
    static int move_fast_##SUF(const move *mv, const run *r, T *arr, size_t sk,                \
                               const size_t *off, size_t nb, T *buf, int to_buf)               \
    {                                                                                          \
        size_t af = mv->arr_cplx ? 2 : 1;                                                      \
        if (mv->arr_cplx != mv->buf_cplx)                                                      \
            return 0;                                                                          \
        if (!mv->interleaved) {                                                                \
            if (sk != 1)                                                                       \
                return 0;                                                                      \
            const double *fk = mv->factor ? mv->factor + r->kb : NULL;                         \
            for (size_t b = 0; b < nb; b++) {                                                  \
                T *a = arr + (off[b] + r->k) * af, *w = buf + (b * mv->blen + r->kb) * af;     \
                copy_run_##SUF(to_buf ? w : a, to_buf ? a : w, r->count, af, fk);              \
            }                                                                                  \
            return 1;                                                                          \
        }                                                                                      \
        if (off[nb - 1] - off[0] != nb - 1)                                                    \
            return 0;                                                                          \
        for (size_t i = 0; i < r->count; i++) {                                                \
            size_t kb = r->kb + i;                                                             \
            T f = (T)(mv->factor ? mv->factor[kb] : 1.0);                                      \
            T *a = arr + (off[0] + (r->k + i) * sk) * af, *w = buf + kb * mv->batch * af;      \
            copy_scaled_##SUF(to_buf ? w : a, to_buf ? a : w, nb * af, f);                     \
        }                                                                                      \
        return 1;                                                                              \
    }                                                                                          \
    /* Array <-> workspace for one run inside the workspace line and nb lines. The loops      \
     * follow the workspace layout: across lines innermost when interleaved (neighbouring     \
     * lines are neighbours in memory), along a line otherwise. */                             \
    static void move_run_##SUF(const move *mv, const run *r, T *arr, size_t sk,                \
                               const size_t *off, size_t nb, T *buf, int to_buf)               \
    {                                                                                          \
        if (move_fast_##SUF(mv, r, arr, sk, off, nb, buf, to_buf))                             \
            return;                                                                            \
        int ac = mv->arr_cplx, wc = mv->buf_cplx;                                              \
        size_t af = ac ? 2 : 1, bf = wc ? 2 : 1;                                               \
        if (mv->interleaved) {                                                                 \
            for (size_t i = 0; i < r->count; i++) {                                            \
                size_t kb = r->kb + i, ka = (r->k + i) * sk;                                   \
                T f = (T)(mv->factor ? mv->factor[kb] : 1.0);                                  \
                T *w = buf + kb * mv->batch * bf;                                              \
                for (size_t b = 0; b < nb; b++)                                                \
                    sl_fft_elem_##SUF(arr + (off[b] + ka) * af, w + b * bf, f, ac, wc, to_buf); \
            }                                                                                  \
            return;                                                                            \
        }                                                                                      \
        for (size_t b = 0; b < nb; b++) {                                                      \
            T *a = arr + (off[b] + r->k * sk) * af, *w = buf + (b * mv->blen + r->kb) * bf;    \
            const double *fk = mv->factor ? mv->factor + r->kb : NULL;                         \
            for (size_t i = 0; i < r->count; i++)                                              \
                sl_fft_elem_##SUF(a + i * sk * af, w + i * bf, (T)(fk ? fk[i] : 1.0), ac, wc,  \
                                  to_buf);                                                     \
        }                                                                                      \
    }                                                                                          \
    /* Array places of a run beyond the workspace line (truncated model samples) zeroed. */   \
    static void zero_run_##SUF(const move *mv, const run *r, T *arr, size_t sk,                \
                               const size_t *off, size_t nb)                                   \
    {                                                                                          \
        size_t af = mv->arr_cplx ? 2 : 1;                                                      \
        for (size_t b = 0; b < nb; b++)                                                        \
            for (size_t i = 0; i < r->count; i++) {                                            \
                T *a = arr + (off[b] + (r->k + i) * sk) * af;                                  \
                a[0] = 0;                                                                      \
                if (af == 2)                                                                   \
                    a[1] = 0;                                                                  \
            }                                                                                  \
    }                                                                                          \
    /* Workspace bins [from, blen) of lines < nb, and all bins of the others, set to zero. */ \
    static void zero_bins_##SUF(const move *mv, size_t from, size_t nb, T *buf)                \
    {                                                                                          \
        size_t bf = mv->buf_cplx ? 2 : 1;                                                      \
        for (size_t b = 0; b < mv->batch; b++)                                                 \
            for (size_t kb = (b < nb ? from : 0); kb < mv->blen; kb++) {                       \
                T *w = buf + sl_fft_work_index(b, kb, mv->blen, mv->batch, mv->interleaved) * bf; \
                w[0] = 0;                                                                      \
                if (bf == 2)                                                                   \
                    w[1] = 0;                                                                  \
            }                                                                                  \
    }

DEFINE_MOVE(double, d)
DEFINE_MOVE(float, s)

static void move_lines(int single, const move *mv, const sl_fft_side *s, const size_t *off,
                       size_t nb, void *buf, int to_buf)
{
    for (int g = 0; g < s->nseg; g++) {
        run r[4];
        int nr = segment_runs(mv, s->seg[g].k0, s->seg[g].len, r);
        for (int i = 0; i < nr; i++) {
            /* the segment's base is element k0 of its lines: rebase so k indexes it */
            run ri = r[i];
            ri.k -= s->seg[g].k0;
            if (!ri.inside && to_buf)
                continue; /* truncated samples never reach the transform */
            if (!ri.inside && single)
                zero_run_s(mv, &ri, s->seg[g].base, s->sk, off, nb);
            else if (!ri.inside)
                zero_run_d(mv, &ri, s->seg[g].base, s->sk, off, nb);
            else if (single)
                move_run_s(mv, &ri, s->seg[g].base, s->sk, off, nb, buf, to_buf);
            else
                move_run_d(mv, &ri, s->seg[g].base, s->sk, off, nb, buf, to_buf);
        }
    }
}

/* The model side's and the data side's moves of an engine. */
static void moves(const sl_fft_engine *e, move *src, move *dst)
{
    move model = {e->n, e->shift_model, 0, e->batch, !e->model_real, !e->r2c, e->interleaved,
                  NULL};
    move data = {e->m, e->shift_data, e->m, e->batch, 1, 1, e->interleaved, e->factor};
    model.blen = e->forward ? e->in_len : e->out_len;
    *src = e->forward ? model : data;
    *dst = e->forward ? data : model;
}

void sl_fft_engine_moves(const sl_fft_engine *e, sl_fft_move *src, sl_fft_move *dst)
{
    sl_fft_move model = {e->n, e->shift_model, e->forward ? e->in_len : e->out_len,
                         !e->model_real, !e->r2c, 0, 0, !e->forward, e->scale, e->nfft, 0};
    sl_fft_move data = {e->m, e->shift_data, e->m, 1, 1, e->factor != NULL, e->r2c,
                        !e->forward, e->scale, e->nfft, e->zero_ends};
    *src = e->forward ? model : data;
    *dst = e->forward ? data : model;
}

/* irfft reads only the real parts of DC and Nyquist: zero their imaginary parts so that the
 * result is the adjoint whatever FFTW's c2r does with them. */
static void zero_end_imag(const sl_fft_engine *e, void *buf)
{
    size_t bins[2] = {0, e->nfft / 2};
    for (size_t b = 0; b < e->batch; b++)
        for (size_t i = 0; i < 2; i++) {
            if (!sl_fft_is_end(bins[i], e->nfft)) /* odd nfft: no Nyquist bin */
                continue;
            size_t at = sl_fft_work_index(b, bins[i], e->in_len, e->batch, e->interleaved);
            if (e->single)
                ((float *)buf)[2 * at + 1] = 0;
            else
                ((double *)buf)[2 * at + 1] = 0;
        }
}

/* Lines l0 .. l0 + nb - 1 of `len` elements one after the other, in one segment starting at
 * element 0 (then line l starts at l * len from line 0 of its p1 block, and the blocks follow
 * each other when s1 = n2 * len). */
static int consecutive(const sl_fft_lines *ln, const sl_fft_side *s, size_t l0, size_t nb,
                       size_t len)
{
    if (s->sk != 1 || s->nseg != 1 || s->seg[0].k0 != 0 || ln->nq != 1 || s->s2 != len)
        return 0;
    return l0 / ln->n2 == (l0 + nb - 1) / ln->n2 || s->s1 == ln->n2 * len;
}

/* The data-side factors applied in place to a direct batch's output: per bin (forward), or
 * the adjoint's single scale (a complex transform's factors are all equal). */
static void scale_direct(const sl_fft_engine *e, void *out, size_t nb)
{
    if (!e->factor)
        return;
    size_t len = e->forward ? e->m : e->n;
    for (size_t b = 0; b < nb; b++)
        for (size_t k = 0; k < len; k++) {
            double f = e->forward ? e->factor[k] : e->factor[0];
            if (e->single) {
                float *v = (float *)out + 2 * (b * len + k);
                v[0] *= (float)f, v[1] *= (float)f;
            } else {
                double *v = (double *)out + 2 * (b * len + k);
                v[0] *= f, v[1] *= f;
            }
        }
}

/* direct_batch consecutive lines from l0 straight from array to array; 0 if not possible. */
static int run_direct(const sl_fft_engine *e, const sl_fft_lines *ln, const sl_fft_side *src,
                      const sl_fft_side *dst, size_t l0)
{
    size_t real = e->single ? sizeof(float) : sizeof(double), nb = e->direct_batch;
    size_t ssize = e->forward && e->model_real ? real : 2 * real, dsize = 2 * real;
    if (!e->direct || ln->count - l0 < nb || !consecutive(ln, src, l0, nb, e->in_len) ||
        !consecutive(ln, dst, l0, nb, e->out_len))
        return 0;
    size_t soff, doff;
    line_offsets(ln, src, l0, 1, &soff);
    line_offsets(ln, dst, l0, 1, &doff);
    void *in = (char *)src->seg[0].base + soff * ssize;
    void *out = (char *)dst->seg[0].base + doff * dsize;
    /* the plan was made on fftw_malloc'ed (SIMD-aligned) buffers: the new arrays must be
     * aligned alike (an unaligned plan was slower than the workspace path) */
    int aligned = e->single ? !fftwf_alignment_of(in) && !fftwf_alignment_of(out)
                            : !fftw_alignment_of(in) && !fftw_alignment_of(out);
    if (!aligned)
        return 0;
    execute(e, e->plan_direct, in, out);
    scale_direct(e, out, nb);
    return 1;
}

void sl_kernel_fft(const sl_fft_engine *e, const sl_fft_lines *lines, const sl_fft_side *src,
                   const sl_fft_side *dst, void *win, void *wout)
{
    move ms, md;
    moves(e, &ms, &md);
    size_t soff[SL_FFT_MAX_BATCH], doff[SL_FFT_MAX_BATCH];
    for (size_t l0 = 0, nb = 0; l0 < lines->count; l0 += nb) {
        if (run_direct(e, lines, src, dst, l0)) {
            nb = e->direct_batch;
            continue;
        }
        nb = lines->count - l0 < e->batch ? lines->count - l0 : e->batch;
        line_offsets(lines, src, l0, nb, soff);
        line_offsets(lines, dst, l0, nb, doff);
        /* bins no array sample reaches (padding, a short last batch) are zero */
        if (ms.len < ms.blen || nb < e->batch) {
            if (e->single)
                zero_bins_s(&ms, ms.len < ms.blen ? ms.len : ms.blen, nb, win);
            else
                zero_bins_d(&ms, ms.len < ms.blen ? ms.len : ms.blen, nb, win);
        }
        move_lines(e->single, &ms, src, soff, nb, win, 1);
        if (e->zero_ends)
            zero_end_imag(e, win);
        execute(e, e->plan, win, wout);
        move_lines(e->single, &md, dst, doff, nb, wout, 0);
    }
}
