/* MDC (PyLops' _MDC): F1^H . I1^H . Fredholm1(s G) . I . F with F, F1 real FFTs along time
 * ("ortho", nfft = nt; F ifftshifts a twosided model first), I / I1 the truncation to the
 * first nfmax frequencies, s = dr dt sqrt(nt) unless prescaled. Distribution (mdc.h): model and
 * data split along axis 1, so the FFTs and truncations are local, and two relayouts put the
 * frequencies on the distributed axis around Fredholm1 (scattered along them):
 *     x (nt, nr, nv | 1) -F-> (nb, nr, nv | 1) -I-> (nfmax, nr, nv | 1) -R1-> (... | 0)
 *       -Fredholm1-> (nfmax, ns, nv | 0) -R2-> (... | 1) -I1^H-> (nb, ns, nv | 1) -F1^H-> y
 * ("| a": the distributed axis; nb = nt/2 + 1). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <starlops/fft.h>
#include <starlops/fredholm.h>
#include <starlops/mdc.h>

#include "ops/op_internal.h"
#include "ops/relayout.h"
#include "runtime/try.h"

typedef struct mdc_args {
    sl_dtype dtype;
    size_t nt, nv, nfmax, ns, nr;
    sl_mdc_opts o;
} mdc_args;

static sl_dtype complex_of(sl_dtype t)
{
    return t == SL_F32 ? SL_C64 : SL_C128;
}

static sl_status check_args(sl_context *ctx, mdc_args *a, const char *what)
{
    if (a->dtype != SL_F32 && a->dtype != SL_F64)
        return sl_fail(ctx, SL_ERR_DTYPE, "%s: dtype %s (the model and data are real: float32 "
                       "or float64)", what, sl_dtype_name(a->dtype));
    if (!a->nt || !a->nv || !a->nfmax || !a->ns || !a->nr)
        return sl_fail(ctx, SL_ERR_SHAPE, "%s: nt=%zu nv=%zu nfmax=%zu ns=%zu nr=%zu (all >= 1)",
                       what, a->nt, a->nv, a->nfmax, a->ns, a->nr);
    if (!a->o.onesided && a->nt % 2 == 0)
        return sl_fail(ctx, SL_ERR_ARG, "%s: nt=%zu must be odd when twosided (PyLops)", what,
                       a->nt);
    if (!isfinite(a->o.dt) || !isfinite(a->o.dr))
        return sl_fail(ctx, SL_ERR_ARG, "%s: dt=%g dr=%g", what, a->o.dt, a->o.dr);
    if (a->o.dt == 0)
        a->o.dt = 1;
    if (a->o.dr == 0)
        a->o.dr = 1;
    if (a->nfmax > a->nt / 2 + 1)
        a->nfmax = a->nt / 2 + 1; /* PyLops: "nfmax set equal to ceil[(nt+1)/2]" */
    return SL_OK;
}

/* The arguments' fingerprint, field by field (no padding bytes). */
static int64_t args_hash(const mdc_args *a)
{
    uint64_t h = sl_fnv1a(SL_FNV1A_SEED, &a->dtype, sizeof a->dtype);
    const size_t sizes[5] = {a->nt, a->nv, a->nfmax, a->ns, a->nr};
    const double sampling[2] = {a->o.dt, a->o.dr};
    const int flags[4] = {a->o.onesided, a->o.no_saveGt, a->o.conj, a->o.prescaled};
    h = sl_fnv1a(h, sizes, sizeof sizes);
    h = sl_fnv1a(h, sampling, sizeof sampling);
    h = sl_fnv1a(h, flags, sizeof flags);
    return sl_fnv1a_value(h);
}

/* ---- the truncation to the first frequencies (local: time/frequency is not split) ---- */

typedef struct trunc_state {
    size_t keep, full, esize; /* elements of a rank's block kept, in all; bytes each */
} trunc_state;

/* The frequency axis is the first: a rank's block (n0, local, inner) keeps its first `keep`
 * elements. The adjoint pads with zeros. */
static void trunc_fn(const void *in, void *out, int adjoint, void *user)
{
    const trunc_state *t = user;
    if (!in || !out)
        return;
    memcpy(out, in, t->keep * t->esize);
    if (adjoint)
        memset((char *)out + t->keep * t->esize, 0, (t->full - t->keep) * t->esize);
}

/* Truncation from `full` (nb rows along axis 0) to its first nfmax rows, same split. */
static sl_status make_trunc(sl_context *ctx, const sl_layout *full, size_t nfmax, sl_op **out,
                            sl_layout *kept)
{
    SL_TRY(sl_layout_clone(full, ctx->size, kept));
    kept->shape[0] = nfmax;
    trunc_state *t = malloc(sizeof *t);
    if (!t)
        return sl_fail(ctx, SL_ERR_NOMEM, "MDC: out of memory");
    t->esize = sl_dtype_size(full->dtype);
    t->full = sl_layout_local_count(full, ctx->rank);
    t->keep = sl_layout_local_count(kept, ctx->rank);
    return sl_op_from_callback_owned(ctx, full, kept, trunc_fn, t, free, out);
}

/* The same layout distributed along axis 0 with the balanced split. */
static sl_status along_axis0(sl_context *ctx, const sl_layout *l, sl_layout *out)
{
    SL_TRY(sl_layout_clone(l, ctx->size, out));
    out->axis = 0;
    sl_split_balanced(out->shape[0], ctx->size, out->local_sizes);
    return SL_OK;
}

/* ---- the kernel ---- */

/* This rank's frequencies of G (the balanced split Fredholm1 uses), scaled and conjugated as
 * PyLops' MDC does. */
static sl_status local_kernel(sl_context *ctx, const mdc_args *a, sl_mdc_fill_fn fill,
                              void *user, void **g)
{
    size_t off = 0, count = 0, per = a->ns * a->nr;
    sl_split_block(a->nfmax, (size_t)ctx->size, (size_t)ctx->rank, &off, &count);
    int single = a->dtype == SL_F32;
    size_t es = single ? sizeof(float _Complex) : sizeof(double _Complex);
    *g = malloc(count * per * es + 1);
    if (!*g)
        return sl_fail(ctx, SL_ERR_NOMEM, "MDC: out of memory for G");
    double scale = a->o.prescaled ? 1.0 : a->o.dr * a->o.dt * sqrt((double)a->nt);
    for (size_t f = 0; f < count; f++) {
        char *block = (char *)*g + f * per * es;
        fill(off + f, block, user);
        for (size_t i = 0; i < per; i++) {
            if (single) {
                float _Complex *v = (float _Complex *)block + i;
                *v = (float)scale * (a->o.conj ? conjf(*v) : *v);
            } else {
                double _Complex *v = (double _Complex *)block + i;
                *v = scale * (a->o.conj ? conj(*v) : *v);
            }
        }
    }
    return SL_OK;
}

/* ---- assembly ---- */

typedef struct mdc_parts {
    sl_op *f, *trunc, *r1, *fred, *r2, *trunc1, *f1; /* in the order they apply */
    sl_op *trunc1_h, *f1_h;
} mdc_parts;

static void free_parts(mdc_parts *p)
{
    sl_op *all[9] = {p->f1_h, p->trunc1_h, p->f, p->trunc, p->r1, p->fred, p->r2, p->trunc1,
                     p->f1};
    for (int i = 0; i < 9; i++)
        sl_op_destroy(all[i]);
}

/* The FFT along time of real arrays (t, n, nv) split along axis 1. */
static sl_status time_fft(sl_context *ctx, const mdc_args *a, size_t n, int ifftshift,
                          sl_op **out)
{
    size_t shape[3] = {a->nt, n, a->nv};
    sl_darray *like = NULL;
    SL_TRY(sl_darray_create(ctx, a->dtype, 3, shape, SL_SCATTER, 1, NULL, NULL, &like));
    sl_fft_opts o = {.real = 1, .ifftshift_before = ifftshift};
    sl_status st = sl_op_fft(like, 0, &o, out);
    sl_darray_destroy(like);
    return st;
}

static sl_status build_parts(sl_context *ctx, const mdc_args *a, const void *g, mdc_parts *p)
{
    sl_layout kept = {0}, kept1 = {0}, freq = {0}, freq1 = {0};
    sl_status st = time_fft(ctx, a, a->nr, !a->o.onesided, &p->f);
    if (st == SL_OK) st = time_fft(ctx, a, a->ns, 0, &p->f1);
    if (st == SL_OK) st = make_trunc(ctx, sl_op_data_layout(p->f), a->nfmax, &p->trunc, &kept);
    if (st == SL_OK) st = make_trunc(ctx, sl_op_data_layout(p->f1), a->nfmax, &p->trunc1, &kept1);
    if (st == SL_OK) st = along_axis0(ctx, &kept, &freq);
    if (st == SL_OK) st = along_axis0(ctx, &kept1, &freq1);
    if (st == SL_OK) st = sl_op_relayout(ctx, &kept, &freq, &p->r1);
    if (st == SL_OK) st = sl_op_relayout(ctx, &freq1, &kept1, &p->r2);
    if (st == SL_OK)
        st = sl_op_fredholm1(ctx, complex_of(a->dtype), a->nfmax, a->ns, a->nr, a->nv, g, NULL,
                             !a->o.no_saveGt, &p->fred);
    if (st == SL_OK) st = sl_op_adjoint(p->trunc1, &p->trunc1_h);
    if (st == SL_OK) st = sl_op_adjoint(p->f1, &p->f1_h);
    sl_layout_free(&kept), sl_layout_free(&kept1), sl_layout_free(&freq), sl_layout_free(&freq1);
    return st;
}

sl_status sl_op_mdc(sl_context *ctx, sl_dtype dtype, size_t nt, size_t nv, size_t nfmax,
                    size_t ns, size_t nr, sl_mdc_fill_fn fill, void *user,
                    const sl_mdc_opts *opts, sl_op **out)
{
    const char *what = "sl_op_mdc";
    if (!ctx || !fill || !out)
        return sl_null_error(__func__);
    *out = NULL;
    mdc_args a = {dtype, nt, nv, nfmax, ns, nr, {0, 0, 0, 0, 0, 0}};
    if (opts)
        a.o = *opts;
    sl_status local = check_args(ctx, &a, what);
    int64_t h = local == SL_OK ? args_hash(&a) : 0;
    sl_status st = sl_agree(ctx, &h, 1, local == SL_OK, what);
    if (local != SL_OK || st != SL_OK)
        return local != SL_OK ? local : st;
    void *g = NULL;
    local = local_kernel(ctx, &a, fill, user, &g);
    if ((st = sl_agree(ctx, NULL, 0, local == SL_OK, what)) != SL_OK || local != SL_OK) {
        free(g);
        return local != SL_OK ? local : st;
    }
    mdc_parts p = {0};
    st = build_parts(ctx, &a, g, &p);
    free(g); /* Fredholm1 copied it */
    if (st != SL_OK) {
        free_parts(&p);
        return st;
    }
    /* F1^H I1^H R2 Fred R1 I F; the adjoints borrow I1 and F1 */
    sl_op *chain[7] = {p.f, p.trunc, p.r1, p.fred, p.r2, p.trunc1_h, p.f1_h};
    sl_op *borrowed[2] = {p.trunc1, p.f1};
    return sl_op_chain(7, chain, 2, borrowed, out);
}
