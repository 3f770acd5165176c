/* CLI builders of the FFT operators: fft (PyLops FFT): --dims, --axis (default -1), --nfft,
 * --real, --norm ortho|none|1/n, --ifftshift-before, --fftshift-after, --split-axis (default 0,
 * or 1 when the transform runs along axis 0, so that no application redistributes); fft2d and
 * fftnd (PyLops FFT2D / FFTND): --axes (default the last two / three), --nfft for the last
 * listed axis (the others keep their lengths), the rest as fft, the shifts on every axis. The
 * model's dtype is the input file's when it holds the model; when it holds the data (adjoint,
 * solve) the model is its real counterpart with --real, else the same complex dtype. */
#include <stdint.h>
#include <string.h>

#include "cli.h"

static sl_dtype real_of(sl_dtype t)
{
    return t == SL_C64 ? SL_F32 : t == SL_C128 ? SL_F64 : t;
}

/* Options and the model's axis from the flags (the same on every rank). */
static sl_status fft_options(const cli_args *a, sl_fft_opts *o, int *axis)
{
    memset(o, 0, sizeof *o);
    if (a->ndims == 0)
        return cli_fail(SL_ERR_ARG, "fft needs --dims n0,n1,...");
    int ax = a->axis == CLI_DEFAULT_AXIS ? -1 : a->axis;
    if (ax < -a->ndims || ax >= a->ndims)
        return cli_fail(SL_ERR_ARG, "--axis %d of %d dims", ax, a->ndims);
    *axis = ax < 0 ? ax + a->ndims : ax;
    if (a->norm && sl_fft_norm_from_name(a->norm, &o->norm) != SL_OK)
        return cli_fail(SL_ERR_ARG, "--norm %s (ortho, none or 1/n)", a->norm);
    o->nfft = a->nfft > 0 ? (size_t)a->nfft : 0;
    o->real = a->real;
    o->ifftshift_before = a->ifftshift_before;
    o->fftshift_after = a->fftshift_after;
    return SL_OK;
}

/* Values the file must hold: the model's (--dims) or the data's (dims[axis] -> nfft bins). */
static sl_status check_file(const cli_args *a, const sl_fft_opts *o, const int *axes,
                            int naxes, const sl_npy_array *v, const char *path, int reads_data)
{
    size_t want = 1, have = 1, len[SL_MAX_NDIM];
    memcpy(len, a->dims, (size_t)a->ndims * sizeof *len);
    for (int k = 0; k < naxes && reads_data; k++) {
        size_t nfft = o[k].nfft ? o[k].nfft : a->dims[axes[k]];
        len[axes[k]] = o[k].real ? nfft / 2 + 1 : nfft;
    }
    for (int d = 0; d < a->ndims; d++)
        want = want > SIZE_MAX / len[d] ? 0 : want * len[d];
    for (int d = 0; d < v->ndim; d++)
        have *= v->shape[d];
    if (reads_data && v->dtype != SL_C64 && v->dtype != SL_C128)
        return cli_fail(SL_ERR_DTYPE, "%s is %s: the FFT's data is complex", path,
                        sl_dtype_name(v->dtype));
    if (have != want)
        return cli_fail(SL_ERR_SHAPE, "%s holds %zu values, the operator's %s has %zu "
                        "(--dims, --axis, --nfft, --real)", path, have,
                        reads_data ? "data" : "model", want);
    return SL_OK;
}

/* fft2d / fftnd: the axes (--axes, or the last naxes_default), each axis's options: the
 * shifts everywhere, --nfft and --real on the last listed axis, one norm. */
static sl_status nd_options(const cli_args *a, int naxes_default, sl_fft_opts *o, int *axes,
                            int *naxes)
{
    int axis_unused = 0;
    sl_fft_opts base;
    sl_status st = fft_options(a, &base, &axis_unused);
    if (st != SL_OK)
        return st;
    *naxes = a->naxes ? a->naxes : naxes_default;
    if (*naxes > a->ndims)
        return cli_fail(SL_ERR_ARG, "%d axes for --dims of %d", *naxes, a->ndims);
    for (int k = 0; k < *naxes; k++) {
        int ax = a->naxes ? a->axes[k] : k - *naxes;
        if (ax < -a->ndims || ax >= a->ndims)
            return cli_fail(SL_ERR_ARG, "--axes: %d of %d dims", ax, a->ndims);
        axes[k] = ax < 0 ? ax + a->ndims : ax;
        o[k] = base;
        o[k].nfft = k == *naxes - 1 ? base.nfft : 0;
        o[k].real = k == *naxes - 1 ? base.real : 0;
    }
    return SL_OK;
}

/* The split: axis 0, or the first axis not transformed (no application redistributes). */
static int default_split(const cli_args *a, const int *axes, int naxes)
{
    if (a->split_axis != CLI_DEFAULT_AXIS)
        return a->split_axis;
    for (int d = 0; d < a->ndims; d++) {
        int used = 0;
        for (int k = 0; k < naxes; k++)
            used |= axes[k] == d;
        if (!used)
            return d;
    }
    return 0;
}

/* naxes_default 0: fft (one axis, --axis); else fft2d / fftnd. */
static sl_status build(sl_context *ctx, const cli_args *a, cli_problem *p, int naxes_default)
{
    memset(p, 0, sizeof *p);
    int reads_data = !strcmp(a->command, "solve") || a->adjoint, naxes = 1;
    int axes[SL_MAX_NDIM] = {0};
    const char *path = !strcmp(a->command, "solve") ? a->data : a->in;
    sl_fft_opts o[SL_MAX_NDIM];
    sl_npy_array v;
    memset(&v, 0, sizeof v);
    sl_status st = cli_agree(ctx, naxes_default ? nd_options(a, naxes_default, o, axes, &naxes)
                                                : fft_options(a, &o[0], &axes[0]));
    if (st == SL_OK) {
        st = sl_npy_read(ctx, path, &v);
        if (st == SL_OK)
            st = check_file(a, o, axes, naxes, &v, path, reads_data);
        st = cli_agree(ctx, st);
    }
    int split = default_split(a, axes, naxes);
    sl_dtype model = reads_data && o[naxes - 1].real ? real_of(v.dtype) : v.dtype;
    sl_darray *like = NULL;
    if (st == SL_OK)
        st = sl_darray_create(ctx, model, a->ndims, a->dims, SL_SCATTER, split, NULL, NULL,
                              &like);
    if (st == SL_OK)
        st = naxes_default ? sl_op_fftnd(like, naxes, axes, o, &p->op)
                           : sl_op_fft(like, axes[0], &o[0], &p->op);
    if (st == SL_OK)
        st = cli_make_vectors(ctx, a, p, &v, path); /* agreed inside */
    sl_darray_destroy(like);
    sl_npy_free(&v);
    if (st != SL_OK)
        cli_free_problem(p);
    return st;
}

sl_status cli_build_fft(sl_context *ctx, const cli_args *a, cli_problem *p)
{
    return build(ctx, a, p, 0);
}

sl_status cli_build_fft2d(sl_context *ctx, const cli_args *a, cli_problem *p)
{
    if (a->naxes && a->naxes != 2)
        return cli_agree(ctx, cli_fail(SL_ERR_ARG, "fft2d takes two --axes (got %d)",
                                       a->naxes));
    return build(ctx, a, p, 2);
}

sl_status cli_build_fftnd(sl_context *ctx, const cli_args *a, cli_problem *p)
{
    return build(ctx, a, p, a->ndims < 3 ? a->ndims : 3);
}
