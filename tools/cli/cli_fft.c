/* CLI builder of the FFT operator (PyLops FFT): --dims, --axis (default -1), --nfft, --real,
 * --norm ortho|none|1/n, --ifftshift-before, --fftshift-after, --split-axis (default 0, or 1
 * when the transform runs along axis 0, so that no application redistributes). The
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
static sl_status check_file(const cli_args *a, const sl_fft_opts *o, int axis,
                            const sl_npy_array *v, const char *path, int reads_data)
{
    size_t want = 1, have = 1, nfft = o->nfft ? o->nfft : a->dims[axis];
    for (int d = 0; d < a->ndims; d++) {
        size_t len = d == axis && reads_data ? (o->real ? nfft / 2 + 1 : nfft) : a->dims[d];
        want = want > SIZE_MAX / len ? 0 : want * len;
    }
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

sl_status cli_build_fft(sl_context *ctx, const cli_args *a, cli_problem *p)
{
    memset(p, 0, sizeof *p);
    int reads_data = !strcmp(a->command, "solve") || a->adjoint, axis = 0;
    const char *path = !strcmp(a->command, "solve") ? a->data : a->in;
    sl_fft_opts o;
    sl_npy_array v;
    memset(&v, 0, sizeof v);
    sl_status st = cli_agree(ctx, fft_options(a, &o, &axis));
    if (st == SL_OK) {
        st = sl_npy_read(ctx, path, &v);
        if (st == SL_OK)
            st = check_file(a, &o, axis, &v, path, reads_data);
        st = cli_agree(ctx, st);
    }
    /* by default split along axis 0, or 1 when transforming along 0: no redistribution */
    int split = a->split_axis != CLI_DEFAULT_AXIS ? a->split_axis
                : axis == 0 && a->ndims > 1    ? 1
                                               : 0;
    sl_dtype model = reads_data && o.real ? real_of(v.dtype) : v.dtype;
    sl_darray *like = NULL;
    if (st == SL_OK)
        st = sl_darray_create(ctx, model, a->ndims, a->dims, SL_SCATTER, split, NULL, NULL,
                              &like);
    if (st == SL_OK)
        st = sl_op_fft(like, axis, &o, &p->op);
    if (st == SL_OK)
        st = cli_make_vectors(ctx, a, p, &v, path); /* agreed inside */
    sl_darray_destroy(like);
    sl_npy_free(&v);
    if (st != SL_OK)
        cli_free_problem(p);
    return st;
}
