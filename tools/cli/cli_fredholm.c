/* The CLI's `fredholm1` and `mdc` operators. fredholm1 (PyLops Fredholm1's parameters): G from
 * --G, a 3-D .npy of shape (nsl, nx, ny) every rank reads, each rank passing its slices of the balanced split;
 * --nz columns (default 1) and --saveGt. Model files hold (nsl, ny, nz) values, data files
 * (nsl, nx, nz), flat or shaped. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* This rank's first slice under the balanced split (the operator's own default). */
static size_t first_slice(sl_context *ctx, size_t nsl)
{
    sl_context_info info;
    sl_context_get_info(ctx, &info);
    size_t base = nsl / (size_t)info.size, extra = nsl % (size_t)info.size;
    size_t r = (size_t)info.rank;
    return r * base + (r < extra ? r : extra);
}

static sl_status check_kernel(const sl_npy_array *g, const sl_npy_array *v, const char *path)
{
    if (g->ndim != 3)
        return cli_fail(SL_ERR_SHAPE, "--G must be 3-D (nsl, nx, ny), got %d dimensions",
                        g->ndim);
    if (v->dtype != g->dtype)
        return cli_fail(SL_ERR_DTYPE, "%s is %s but G is %s", path, sl_dtype_name(v->dtype),
                        sl_dtype_name(g->dtype));
    return SL_OK;
}

/* Reads --G and the vector file (every rank), checks them with `check`, builds the operator
 * with `make` and fills the vectors; the two operators below differ only in those steps. */
typedef sl_status (*kernel_check_fn)(const cli_args *a, const sl_npy_array *g,
                                     const sl_npy_array *v, const char *path);
typedef sl_status (*kernel_make_fn)(sl_context *ctx, const cli_args *a, const sl_npy_array *g,
                                    sl_op **out);

static sl_status build_with_kernel(sl_context *ctx, const cli_args *args, cli_problem *p,
                                   kernel_check_fn check, kernel_make_fn make)
{
    memset(p, 0, sizeof *p);
    if (!args->g)
        return cli_agree(ctx, cli_fail(SL_ERR_ARG, "%s needs --G G.npy", args->op));
    const char *vec_path = !strcmp(args->command, "solve") ? args->data : args->in;
    /* zeroed before any exit: both are freed at the end whichever step failed */
    sl_npy_array g, v;
    memset(&g, 0, sizeof g);
    memset(&v, 0, sizeof v);
    sl_status st = sl_npy_read(ctx, args->g, &g);
    if (st == SL_OK)
        st = sl_npy_read(ctx, vec_path, &v);
    if (st == SL_OK)
        st = check(args, &g, &v, vec_path);
    st = cli_agree(ctx, st);
    if (st == SL_OK)
        st = make(ctx, args, &g, &p->op);
    if (st == SL_OK)
        st = cli_make_vectors(ctx, args, p, &v, vec_path);
    sl_npy_free(&g);
    sl_npy_free(&v);
    if (st != SL_OK)
        cli_free_problem(p);
    return st;
}

static sl_status fredholm_check(const cli_args *a, const sl_npy_array *g, const sl_npy_array *v,
                                const char *path)
{
    (void)a;
    return check_kernel(g, v, path);
}

static sl_status fredholm_make(sl_context *ctx, const cli_args *args, const sl_npy_array *g,
                               sl_op **out)
{
    size_t nsl = g->shape[0], nx = g->shape[1], ny = g->shape[2];
    size_t offset = first_slice(ctx, nsl) * nx * ny * sl_dtype_size(g->dtype);
    return sl_op_fredholm1(ctx, g->dtype, nsl, nx, ny, (size_t)args->nz,
                           (const char *)g->data + offset, NULL, args->save_gt, out);
}

sl_status cli_build_fredholm1(sl_context *ctx, const cli_args *args, cli_problem *p)
{
    return build_with_kernel(ctx, args, p, fredholm_check, fredholm_make);
}

/* ---- mdc (PyLops MDC's parameters): --G the frequency-domain kernel (nfmax, ns, nr), complex,
 * every rank reading it and handing the operator the frequencies it asks for; --nt, --nv, --dt,
 * --dr, --onesided (PyLops twosided=False), --conj, --prescaled. Model files hold (nt, nr, nv)
 * real values, data files (nt, ns, nv), of G's precision. ---- */

typedef struct kernel_file {
    const sl_npy_array *g;
} kernel_file;

static void fill_from_file(size_t f, void *block, void *user)
{
    const kernel_file *k = user;
    size_t bytes = k->g->shape[1] * k->g->shape[2] * sl_dtype_size(k->g->dtype);
    memcpy(block, (const char *)k->g->data + f * bytes, bytes);
}

static sl_status check_mdc(const cli_args *a, const sl_npy_array *g, const sl_npy_array *v,
                           const char *path)
{
    if (a->nt <= 0)
        return cli_fail(SL_ERR_ARG, "mdc needs --nt (time samples)");
    if (g->ndim != 3 || (g->dtype != SL_C64 && g->dtype != SL_C128))
        return cli_fail(SL_ERR_SHAPE, "--G must be a complex 3-D array (nfmax, ns, nr), got "
                        "%d-D %s", g->ndim, sl_dtype_name(g->dtype));
    sl_dtype real = g->dtype == SL_C64 ? SL_F32 : SL_F64;
    if (v->dtype != real)
        return cli_fail(SL_ERR_DTYPE, "%s is %s: MDC's model and data are %s (G is %s)", path,
                        sl_dtype_name(v->dtype), sl_dtype_name(real), sl_dtype_name(g->dtype));
    return SL_OK;
}

static sl_status mdc_make(sl_context *ctx, const cli_args *args, const sl_npy_array *g,
                          sl_op **out)
{
    sl_mdc_opts o = {.dt = args->dt, .dr = args->dr, .onesided = args->onesided,
                     .conj = args->conj, .prescaled = args->prescaled};
    kernel_file k = {g};
    return sl_op_mdc(ctx, g->dtype == SL_C64 ? SL_F32 : SL_F64, (size_t)args->nt,
                     (size_t)args->nv, g->shape[0], g->shape[1], g->shape[2], fill_from_file,
                     &k, &o, out);
}

sl_status cli_build_mdc(sl_context *ctx, const cli_args *args, cli_problem *p)
{
    return build_with_kernel(ctx, args, p, check_mdc, mdc_make);
}
