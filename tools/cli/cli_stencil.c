/* CLI builders of the stencil operators: firstderivative, secondderivative, laplacian,
 * gradient, convolve, poststack. The array shape comes from --dims, the split from
 * --split-axis (default: axis 0, or for poststack/convolve a spatial axis other than the
 * filtering one), the dtype from the input file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static sl_status parse_kind(const char *s, sl_deriv_kind *k)
{
    if (!s || !strcmp(s, "centered")) *k = SL_DERIV_CENTERED;
    else if (!strcmp(s, "forward")) *k = SL_DERIV_FORWARD;
    else if (!strcmp(s, "backward")) *k = SL_DERIV_BACKWARD;
    else return cli_fail(SL_ERR_ARG, "--kind %s (centered, forward or backward)", s);
    return SL_OK;
}

/* Elements of `copies` arrays of --dims, or 0 when that overflows (no file holds that many). */
static size_t dims_count(const cli_args *a, size_t copies)
{
    size_t n = copies;
    for (int d = 0; d < a->ndims; d++) {
        if (n > SIZE_MAX / a->dims[d])
            return 0;
        n *= a->dims[d];
    }
    return n;
}

/* The file fills the side the command reads: checked before arrays of --dims are allocated,
 * which could be far larger than the file. `copies`: arrays of --dims in the data (gradient's
 * data stacks one per axis). */
static sl_status check_count(const cli_args *a, const sl_npy_array *v, const char *path,
                             size_t copies)
{
    int reads_data = !strcmp(a->command, "solve") || a->adjoint;
    size_t have = 1, want = dims_count(a, reads_data ? copies : 1);
    for (int d = 0; d < v->ndim; d++) have *= v->shape[d];
    if (have == want)
        return SL_OK;
    return cli_fail(SL_ERR_SHAPE, "%s holds %zu values, the operator's %s has %zu (--dims)",
                    path, have, reads_data ? "data" : "model", want);
}

/* The input file and an array of --dims split along the chosen axis, in the file's dtype. */
static sl_status read_input(sl_context *ctx, const cli_args *a, int filter_axis, size_t copies,
                            sl_npy_array *v, const char **path, sl_darray **like)
{
    *path = !strcmp(a->command, "solve") ? a->data : a->in;
    memset(v, 0, sizeof *v);
    if (a->ndims == 0)
        return cli_agree(ctx, cli_fail(SL_ERR_ARG, "%s needs --dims n0,n1,...", a->op));
    sl_status st = sl_npy_read(ctx, *path, v);
    int split = a->split_axis;
    if (split == CLI_DEFAULT_AXIS) {
        int fa = filter_axis < 0 ? filter_axis + a->ndims : filter_axis;
        split = filter_axis != CLI_DEFAULT_AXIS && fa == 0 && a->ndims > 1 ? 1 : 0;
    }
    if (st == SL_OK && (split < -a->ndims || split >= a->ndims))
        st = cli_fail(SL_ERR_ARG, "--split-axis %d of %d dims", split, a->ndims);
    if (st == SL_OK)
        st = check_count(a, v, *path, copies);
    st = cli_agree(ctx, st);
    if (st == SL_OK)
        st = sl_darray_create(ctx, v->dtype, a->ndims, a->dims, SL_SCATTER, split, NULL, NULL,
                              like);
    return st;
}

/* Values of a .npy array. */
static size_t npy_count(const sl_npy_array *w)
{
    size_t n = 1;
    for (int d = 0; d < w->ndim; d++)
        n *= w->shape[d];
    return n;
}

typedef sl_status (*make_fn)(const cli_args *a, const sl_darray *like, sl_deriv_kind kind,
                             const double *wavelet, size_t nwav, sl_op **out);

/* The common path: read, build with `make`, fill the vectors. */
static sl_status build(sl_context *ctx, const cli_args *a, cli_problem *p, int filter_axis,
                       int needs_wavelet, size_t copies, make_fn make)
{
    memset(p, 0, sizeof *p);
    /* zeroed before the first exit: both are freed at the end whichever step failed */
    sl_npy_array v, w;
    memset(&v, 0, sizeof v);
    memset(&w, 0, sizeof w);
    sl_deriv_kind kind = SL_DERIV_CENTERED;
    sl_status st = cli_agree(ctx, parse_kind(a->kind, &kind));
    const char *path = NULL;
    sl_darray *like = NULL;
    /* needs_wavelet 2: the filter bank of nonstatconvolve1d (--hs, nfilters x nh) */
    const char *wflag = needs_wavelet == 2 ? "--hs" : "--wavelet";
    const char *wpath = needs_wavelet == 2 ? a->hs : a->wavelet;
    if (st == SL_OK && needs_wavelet) {
        st = !wpath ? cli_fail(SL_ERR_ARG, "%s needs %s FILE.npy", a->op, wflag)
                    : sl_npy_read(ctx, wpath, &w);
        if (st == SL_OK && (w.ndim != needs_wavelet || w.dtype != SL_F64))
            st = cli_fail(SL_ERR_SHAPE, "%s %s must be a %d-D float64 array (it is %d-D %s)",
                          wflag, wpath, needs_wavelet, w.ndim, sl_dtype_name(w.dtype));
        st = cli_agree(ctx, st);
    }
    if (st == SL_OK)
        st = read_input(ctx, a, filter_axis, copies, &v, &path, &like);
    if (st == SL_OK)
        st = make(a, like, kind, w.data, needs_wavelet ? npy_count(&w) : 0, &p->op);
    if (st == SL_OK)
        st = cli_make_vectors(ctx, a, p, &v, path); /* agreed inside */
    sl_darray_destroy(like);
    sl_npy_free(&v);
    sl_npy_free(&w);
    if (st != SL_OK)
        cli_free_problem(p);
    return st;
}

/* --axis, or the operator's default (PyLops: -1 for derivatives, 0 = time for poststack). */
static int axis_or(const cli_args *a, int dflt)
{
    return a->axis == CLI_DEFAULT_AXIS ? dflt : a->axis;
}

static double sampling_of(const cli_args *a, int k)
{
    return a->nsampling == 0 ? 1.0 : a->nsampling == 1 ? a->sampling[0] : a->sampling[k];
}

static sl_status make_first(const cli_args *a, const sl_darray *like, sl_deriv_kind kind,
                            const double *w, size_t nw, sl_op **out)
{
    return sl_op_first_derivative(like, axis_or(a, -1), kind, a->order, a->edge, sampling_of(a, 0), out);
}

static sl_status make_second(const cli_args *a, const sl_darray *like, sl_deriv_kind kind,
                             const double *w, size_t nw, sl_op **out)
{
    return sl_op_second_derivative(like, axis_or(a, -1), kind, a->edge, sampling_of(a, 0), out);
}

static sl_status make_laplacian(const cli_args *a, const sl_darray *like, sl_deriv_kind kind,
                                const double *w, size_t nw, sl_op **out)
{
    int axes[SL_MAX_NDIM] = {-2, -1}, naxes = a->naxes ? a->naxes : 2; /* PyLops' default */
    double sampling[SL_MAX_NDIM];
    if (a->naxes)
        memcpy(axes, a->axes, sizeof axes);
    for (int k = 0; k < naxes; k++)
        sampling[k] = sampling_of(a, k);
    if ((a->nweights && a->nweights != naxes) || (a->nsampling > 1 && a->nsampling != naxes))
        return cli_fail(SL_ERR_ARG, "--weights/--sampling need one value per axis (%d)", naxes);
    return sl_op_laplacian(like, naxes, axes, a->nweights ? a->weights : NULL, sampling,
                           a->edge, kind, out);
}

static sl_status make_gradient(const cli_args *a, const sl_darray *like, sl_deriv_kind kind,
                               const double *w, size_t nw, sl_op **out)
{
    double sampling[SL_MAX_NDIM];
    for (int k = 0; k < a->ndims; k++)
        sampling[k] = sampling_of(a, k);
    return sl_op_gradient(like, sampling, a->edge, kind, out);
}

static sl_status make_convolve(const cli_args *a, const sl_darray *like, sl_deriv_kind kind,
                               const double *w, size_t nw, sl_op **out)
{
    size_t offset = a->offset >= 0 ? (size_t)a->offset : nw / 2;
    return sl_op_convolve1d(like, axis_or(a, -1), w, nw, offset, out);
}

static sl_status make_poststack(const cli_args *a, const sl_darray *like, sl_deriv_kind kind,
                                const double *w, size_t nw, sl_op **out)
{
    return sl_op_poststack(like, axis_or(a, 0), w, nw, out);
}

/* nw = nfilters * nh values; --ih gives nfilters (the same on every rank: the same flags). */
static sl_status make_nonstationary(const cli_args *a, const sl_darray *like,
                                    sl_deriv_kind kind, const double *w, size_t nw, sl_op **out)
{
    (void)kind;
    if (a->nih == 0 || nw % (size_t)a->nih)
        return cli_fail(SL_ERR_ARG, "--ih: %d positions for %zu filter values (--hs has one "
                        "row per position)", a->nih, nw);
    return sl_op_nonstationary_convolve1d(like, axis_or(a, -1), w, (size_t)a->nih,
                                          nw / (size_t)a->nih, a->ih, out);
}

/* A failed constructor already failed on every rank (the library agrees); a CLI-level check
 * (make_laplacian's) is the same on every rank too, since every rank parsed the same flags. */
sl_status cli_build_firstderivative(sl_context *ctx, const cli_args *a, cli_problem *p)
{
    return build(ctx, a, p, CLI_DEFAULT_AXIS, 0, 1, make_first);
}

sl_status cli_build_secondderivative(sl_context *ctx, const cli_args *a, cli_problem *p)
{
    return build(ctx, a, p, CLI_DEFAULT_AXIS, 0, 1, make_second);
}

sl_status cli_build_laplacian(sl_context *ctx, const cli_args *a, cli_problem *p)
{
    return build(ctx, a, p, CLI_DEFAULT_AXIS, 0, 1, make_laplacian);
}

sl_status cli_build_gradient(sl_context *ctx, const cli_args *a, cli_problem *p)
{
    return build(ctx, a, p, CLI_DEFAULT_AXIS, 0, (size_t)a->ndims, make_gradient);
}

sl_status cli_build_convolve(sl_context *ctx, const cli_args *a, cli_problem *p)
{
    return build(ctx, a, p, axis_or(a, -1), 1, 1, make_convolve);
}

sl_status cli_build_poststack(sl_context *ctx, const cli_args *a, cli_problem *p)
{
    return build(ctx, a, p, axis_or(a, 0), 1, 1, make_poststack);
}

sl_status cli_build_nonstationary(sl_context *ctx, const cli_args *a, cli_problem *p)
{
    return build(ctx, a, p, axis_or(a, -1), 2, 1, make_nonstationary);
}
