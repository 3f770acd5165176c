/* 3D post-stack seismic inversion (PyLops' PoststackLinearModelling, distributed along a
 * spatial axis): a synthetic log-impedance model (layers + a smooth anomaly over a linear
 * trend), a Ricker wavelet, data d = W D m plus noise, then two inversions from the trend as
 * the starting model:
 *   (a) CGLS on the modelling operator,
 *   (b) CGLS on VStack[Op; sqrt(eps) Laplacian] with data [d; 0] (regularised).
 * Prints the iteration logs, the relative model errors ||m_est - m|| / ||m - m_trend|| and the
 * wall times, and writes m_true.npy, m_cgls.npy and m_reg.npy (rank 0).
 *
 *   mpirun -np 2 poststack3d [--nt 240] [--nx 120] [--ny 120] [--niter 30] [--eps 0.3]
 *                            [--noise 0.2] [--out DIR] [--max-error E] [--quiet]
 * Exit status 0 iff both inversions ran and, when --max-error is given, the regularised error
 * is below E and below the unregularised one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starlops.h>

#include "common.h"

typedef struct options {
    size_t nt, nx, ny;
    int niter, quiet;
    double eps, noise, max_error;
    const char *out;
} options;

static int parse(int argc, char **argv, options *o)
{
    *o = (options){240, 120, 120, 30, 0, 0.3, 0.2, -1, "."};
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(f, "--quiet")) { o->quiet = 1; continue; }
        if (!v) return 0;
        i++;
        if (!strcmp(f, "--nt")) o->nt = strtoull(v, NULL, 10);
        else if (!strcmp(f, "--nx")) o->nx = strtoull(v, NULL, 10);
        else if (!strcmp(f, "--ny")) o->ny = strtoull(v, NULL, 10);
        else if (!strcmp(f, "--niter")) o->niter = atoi(v);
        else if (!strcmp(f, "--eps")) o->eps = atof(v);
        else if (!strcmp(f, "--noise")) o->noise = atof(v);
        else if (!strcmp(f, "--max-error")) o->max_error = atof(v);
        else if (!strcmp(f, "--out")) o->out = v;
        else return 0;
    }
    return o->nt >= 8 && o->nx >= 1 && o->ny >= 1 && o->niter >= 0 && o->eps >= 0;
}

/* Impedance trend (m/s * g/cc) growing with time. */
static double trend(const options *o, size_t t)
{
    return 4000.0 + 3000.0 * (double)t / (double)o->nt;
}

/* Log impedance: the trend, layers 12 samples thick (within the wavelet's band) with
 * contrasts of up to 15%, and a smooth anomaly (+20%) in the middle of the volume. */
static double log_impedance(const options *o, size_t t, size_t x, size_t y)
{
    int layer = (int)(t / 12);
    double contrast = 1.0 + 0.075 * (double)((layer * 7) % 5 - 2);
    double dt = ((double)t - 0.55 * (double)o->nt) / (0.1 * (double)o->nt);
    double dx = ((double)x - 0.5 * (double)o->nx) / (0.2 * (double)o->nx + 1);
    double dy = ((double)y - 0.5 * (double)o->ny) / (0.2 * (double)o->ny + 1);
    double anomaly = 1.0 + 0.2 * exp(-(dt * dt + dx * dx + dy * dy));
    return log(trend(o, t) * contrast * anomaly);
}

/* Fills this rank's block (nt x local nx x ny) from f(t, global x, y). */
static sl_status fill(sl_darray *a, const options *o, int with_structure)
{
    sl_darray_info info;
    sl_status st = sl_darray_get_info(a, &info);
    if (st != SL_OK)
        return st;
    const size_t *local = info.local_shape;
    size_t x0 = info.local_offset;
    double *buf = malloc((local[0] * local[1] * local[2] + 1) * sizeof(double));
    if (!buf)
        return SL_ERR_NOMEM;
    for (size_t t = 0; t < local[0]; t++)
        for (size_t x = 0; x < local[1]; x++)
            for (size_t y = 0; y < local[2]; y++)
                buf[(t * local[1] + x) * local[2] + y] =
                    with_structure ? log_impedance(o, t, x0 + x, y) : log(trend(o, t));
    st = sl_darray_from_local(a, buf);
    free(buf);
    return st;
}

/* Ricker wavelet of peak frequency f (Hz), 41 samples at dt (s), centred. */
static void ricker(double f, double dt, double *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double t = ((double)i - (double)(n / 2)) * dt, a = M_PI * M_PI * f * f * t * t;
        w[i] = (1 - 2 * a) * exp(-a);
    }
}

/* ||a - b|| / ||b - c|| (a host wait). */
static double rel_error(sl_context *ctx, const sl_darray *a, const sl_darray *b,
                        const sl_darray *c)
{
    sl_darray *d1 = NULL, *d2 = NULL;
    sl_scalar *n1 = NULL, *n2 = NULL;
    double v1 = NAN, v2 = NAN;
    if (sl_darray_create_like(b, &d1) == SL_OK && sl_darray_create_like(b, &d2) == SL_OK &&
        sl_darray_sub(a, b, d1) == SL_OK && sl_darray_sub(b, c, d2) == SL_OK &&
        sl_darray_norm(d1, 2, &n1) == SL_OK && sl_darray_norm(d2, 2, &n2) == SL_OK) {
        sl_scalar_get_real(n1, &v1);
        sl_scalar_get_real(n2, &v2);
    }
    (void)ctx;
    sl_scalar_destroy(n1);
    sl_scalar_destroy(n2);
    sl_darray_destroy(d1);
    sl_darray_destroy(d2);
    return v1 / v2;
}

static sl_status save(sl_context *ctx, const sl_darray *x, const options *o, const char *name)
{
    sl_context_info ci;
    sl_context_get_info(ctx, &ci);
    int rank = ci.rank;
    size_t shape[3] = {o->nt, o->nx, o->ny}, n = o->nt * o->nx * o->ny;
    double *buf = rank == 0 ? malloc(n * sizeof(double)) : NULL;
    sl_status st = sl_darray_gather(x, 0, buf);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", o->out, name);
    if (st == SL_OK && rank == 0)
        st = sl_npy_write(ctx, path, SL_F64, 3, shape, buf);
    free(buf);
    return st;
}

int main(int argc, char **argv)
{
    sl_context *ctx = NULL;
    int rank, size;
    if (example_start(&argc, &argv, &ctx, &rank, &size))
        return 1;
    options o;
    if (!parse(argc, argv, &o)) {
        fprintf(stderr, "usage: poststack3d [--nt N] [--nx N] [--ny N] [--niter N] [--eps E] "
                        "[--noise S] [--out DIR] [--max-error E] [--quiet]\n");
        sl_finalize(ctx);
        return 2;
    }
    double t_start = MPI_Wtime();

    /* volume (time, x, y), split along x (a spatial axis: the time filtering stays local) */
    size_t dims[3] = {o.nt, o.nx, o.ny};
    sl_darray *m = NULL, *m0 = NULL, *d = NULL, *noise = NULL, *m_cgls = NULL, *m_reg = NULL;
    TRY(sl_darray_create(ctx, SL_F64, 3, dims, SL_SCATTER, 1, NULL, NULL, &m));
    TRY(sl_darray_create_like(m, &m0));
    TRY(sl_darray_create_like(m, &d));
    TRY(sl_darray_create_like(m, &noise));
    TRY(sl_darray_create_like(m, &m_cgls));
    TRY(sl_darray_create_like(m, &m_reg));
    TRY(fill(m, &o, 1));
    TRY(fill(m0, &o, 0));

    double wav[41];
    ricker(20.0, 0.004, wav, 41);
    sl_op *op = NULL, *lap = NULL, *reg = NULL, *stack = NULL;
    TRY(sl_op_poststack(m, 0, wav, 41, &op));
    /* lateral smoothing only: the layers stay sharp in time, the noise is incoherent across x
     * and y */
    int axes[2] = {1, 2};
    TRY(sl_op_laplacian(m, 2, axes, NULL, NULL, 1, SL_DERIV_CENTERED, &lap));
    TRY(sl_op_scale(lap, sqrt(o.eps), &reg));
    const sl_op *parts[2] = {op, reg};
    TRY(sl_op_stacked_vstack(2, parts, &stack));

    /* data with noise: sigma = noise * max |d| */
    sl_scalar *dmax = NULL;
    double dm = 0;
    TRY(sl_op_matvec(op, m, d));
    TRY(sl_darray_norm(d, INFINITY, &dmax));
    TRY(sl_scalar_get_real(dmax, &dm));
    sl_scalar_destroy(dmax);
    TRY(sl_darray_random(noise, 2024));
    TRY(sl_darray_axpy(o.noise * dm, noise, d));
    double t_model = MPI_Wtime();

    /* (a) CGLS on the modelling operator */
    sl_solver_opts a = {.niter = o.niter, .x0 = m0, .show = !o.quiet};
    sl_solve_result ra;
    TRY(sl_cgls(op, d, m_cgls, &a, &ra));
    double t_a = MPI_Wtime();

    /* (b) regularised: [Op; sqrt(eps) L] m = [d; 0] */
    sl_darray *zero = NULL, *data = NULL;
    TRY(sl_darray_create_like(m, &zero));
    sl_darray *data_parts[2] = {d, zero};
    TRY(sl_darray_stack(2, data_parts, &data)); /* the stacked operator's data */
    sl_solver_opts b = {.niter = o.niter, .x0 = m0, .show = !o.quiet};
    sl_solve_result rb;
    TRY(sl_cgls(stack, data, m_reg, &b, &rb));
    double t_b = MPI_Wtime();

    double err_a = rel_error(ctx, m_cgls, m, m0), err_b = rel_error(ctx, m_reg, m, m0);
    TRY(save(ctx, m, &o, "m_true.npy"));
    TRY(save(ctx, m_cgls, &o, "m_cgls.npy"));
    TRY(save(ctx, m_reg, &o, "m_reg.npy"));
    if (rank == 0) {
        printf("poststack3d: %zu x %zu x %zu (time, x, y) split along x over %d ranks, "
               "wavelet 41 samples, noise %.2f, eps %.3g\n", o.nt, o.nx, o.ny, size, o.noise,
               o.eps);
        printf("  (a) CGLS:             %d iterations, r1norm %.4e, model error %.4f, %.2f s\n",
               ra.iterations, ra.r1norm, err_a, t_a - t_model);
        printf("  (b) CGLS regularised: %d iterations, r1norm %.4e, model error %.4f, %.2f s\n",
               rb.iterations, rb.r1norm, err_b, t_b - t_a);
        printf("  model + data %.2f s, total %.2f s; models written to %s/m_{true,cgls,reg}.npy\n",
               t_model - t_start, MPI_Wtime() - t_start, o.out);
    }
    int ok = isfinite(err_a) && isfinite(err_b);
    if (o.max_error > 0)
        ok = ok && err_b < o.max_error && err_b < err_a;
    if (rank == 0 && o.max_error > 0)
        printf("  check: regularised error %.4f < %.4f and < unregularised %.4f: %s\n", err_b,
               o.max_error, err_a, ok ? "yes" : "NO");
    sl_darray_destroy(data);
    sl_darray_destroy(zero);
    sl_op_destroy(stack);
    sl_op_destroy(reg);
    sl_op_destroy(lap);
    sl_op_destroy(op);
    sl_darray_destroy(m);
    sl_darray_destroy(m0);
    sl_darray_destroy(d);
    sl_darray_destroy(noise);
    sl_darray_destroy(m_cgls);
    sl_darray_destroy(m_reg);
    sl_finalize(ctx);
    return ok ? 0 : 1;
}
