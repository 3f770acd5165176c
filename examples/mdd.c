/* Multi-dimensional deconvolution (MDD; PyLops-MPI's MDD tutorial) on synthetic data this
 * program makes: a down-going wavefield G (a Ricker wavelet arriving along a hyperbola between
 * every source and receiver) and a layered reflectivity R (reflections with hyperbolic moveout
 * around one virtual source) give the up-going wavefield U = MDC(G) R; CGLS then recovers R
 * from U and G. The frequency-domain kernel is split over the ranks (each builds only its
 * frequencies), the model and data over receivers and sources.
 *
 *   mpirun -np 2 mdd [--nt 81] [--nsr 24] [--niter 50] [--max-error E] [--quiet]
 *
 * Prints the sizes, the CGLS residual, the model error ||R_inv - R|| / ||R|| and the time; with
 * --max-error the exit status says whether the error is below it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

typedef struct setup {
    size_t nt, nsr, nfmax;
    int niter, quiet;
    double max_error;
    double dt, dr, f0, v, t0;
} setup;

static int parse(int argc, char **argv, setup *s)
{
    *s = (setup){.nt = 81, .nsr = 24, .niter = 50, .dt = 0.004, .dr = 10, .f0 = 15,
                 .v = 2000, .t0 = 0.04};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quiet"))
            s->quiet = 1;
        else if (v && !strcmp(a, "--nt") && ++i)
            s->nt = strtoull(v, NULL, 10);
        else if (v && !strcmp(a, "--nsr") && ++i)
            s->nsr = strtoull(v, NULL, 10);
        else if (v && !strcmp(a, "--niter") && ++i)
            s->niter = atoi(v);
        else if (v && !strcmp(a, "--max-error") && ++i)
            s->max_error = atof(v);
        else
            return 0;
    }
    s->nfmax = s->nt / 2 + 1;
    return s->nt >= 9 && s->nt % 2 == 1 && s->nsr >= 2 && s->niter >= 0;
}

/* Ricker wavelet of peak frequency f0 at time t. */
static double ricker(double f0, double t)
{
    double a = M_PI * M_PI * f0 * f0 * t * t;
    return (1 - 2 * a) * exp(-a);
}

/* G[f] (ns x nr): the DFT over the nt samples of a Ricker wavelet delayed by the traveltime
 * between source s and receiver r (numpy's rfft convention, unscaled: MDC scales it). */
static void fill_kernel(size_t f, void *block, void *user)
{
    const setup *s = user;
    double _Complex *g = block;
    for (size_t is = 0; is < s->nsr; is++)
        for (size_t ir = 0; ir < s->nsr; ir++) {
            double x = ((double)is - (double)ir) * s->dr;
            double tau = sqrt(s->t0 * s->t0 + x * x / (s->v * s->v));
            double _Complex sum = 0;
            for (size_t t = 0; t < s->nt; t++) {
                double w = ricker(s->f0, (double)t * s->dt - tau - 1.0 / s->f0);
                double ph = -2.0 * M_PI * (double)((f * t) % s->nt) / (double)s->nt;
                sum += w * CMPLX(cos(ph), sin(ph));
            }
            g[is * s->nsr + ir] = sum;
        }
}

/* R (nt, nr, 1), time centred (twosided): three reflections with hyperbolic moveout around the
 * virtual source at the middle receiver, each a band-limited (Ricker) pulse. */
static double *reflectivity(const setup *s)
{
    double *r = calloc(s->nt * s->nsr, sizeof *r);
    const double lag[3] = {0.03, 0.07, 0.11}, amp[3] = {1.0, -0.6, 0.4};
    double mid = 0.5 * (double)(s->nsr - 1);
    for (size_t ir = 0; ir < s->nsr; ir++)
        for (int k = 0; k < 3; k++) {
            double x = ((double)ir - mid) * s->dr;
            double t = sqrt(lag[k] * lag[k] + x * x / (s->v * s->v));
            for (size_t it = 0; it < s->nt; it++) {
                double tt = ((double)it - (double)(s->nt / 2)) * s->dt; /* centred time */
                r[it * s->nsr + ir] += amp[k] * ricker(s->f0, tt - t);
            }
        }
    return r;
}

static double norm2(const double *a, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * a[i];
    return sqrt(s);
}

int main(int argc, char **argv)
{
    sl_context *ctx = NULL;
    int rank, size;
    if (example_start(&argc, &argv, &ctx, &rank, &size))
        return 1;
    setup s;
    if (!parse(argc, argv, &s)) {
        if (rank == 0)
            fprintf(stderr, "usage: mdd [--nt N (odd, >= 9)] [--nsr N] [--niter N] "
                            "[--max-error E] [--quiet]\n");
        sl_finalize(ctx);
        return 2;
    }
    double t_start = MPI_Wtime();
    sl_op *mdc = NULL;
    sl_mdc_opts o = {.dt = s.dt, .dr = s.dr}; /* twosided, saveGt: PyLops' defaults */
    TRY(sl_op_mdc(ctx, SL_F64, s.nt, 1, s.nfmax, s.nsr, s.nsr, fill_kernel, &s, &o, &mdc));
    sl_darray *r_true = NULL, *r_inv = NULL, *u = NULL;
    TRY(sl_op_create_model(mdc, &r_true));
    TRY(sl_op_create_model(mdc, &r_inv));
    TRY(sl_op_create_data(mdc, &u));
    double *r = reflectivity(&s);
    TRY(sl_darray_from_global(r_true, r));
    TRY(sl_op_matvec(mdc, r_true, u)); /* the up-going wavefield */
    TRY(sl_wait(ctx));
    double t_model = MPI_Wtime();

    sl_solver_opts so = {.niter = s.niter, .tol = SL_TOL_NONE, .show = !s.quiet};
    sl_solve_result res;
    TRY(sl_cgls(mdc, u, r_inv, &so, &res));
    double t_solve = MPI_Wtime();

    double *got = malloc(s.nt * s.nsr * sizeof *got);
    TRY(sl_darray_gather(r_inv, SL_ALL_RANKS, got));
    for (size_t i = 0; i < s.nt * s.nsr; i++)
        got[i] -= r[i];
    double err = norm2(got, s.nt * s.nsr) / norm2(r, s.nt * s.nsr);
    int ok = isfinite(err) && (s.max_error <= 0 || err < s.max_error);
    if (rank == 0) {
        printf("mdd: nt %zu, %zu sources x %zu receivers, 1 virtual source, %zu frequencies "
               "over %d ranks\n", s.nt, s.nsr, s.nsr, s.nfmax, size);
        printf("  CGLS: %d iterations, r1norm %.4e, model error %.4f, %.2f s (kernel and data "
               "%.2f s)\n", res.iterations, res.r1norm, err, t_solve - t_model,
               t_model - t_start);
        if (s.max_error > 0)
            printf("  check: model error %.4f < %.4f: %s\n", err, s.max_error, ok ? "yes" : "NO");
    }
    sl_solve_result_free(&res);
    free(r);
    free(got);
    sl_darray_destroy(r_true);
    sl_darray_destroy(r_inv);
    sl_darray_destroy(u);
    sl_op_destroy(mdc);
    sl_finalize(ctx);
    return ok ? 0 : 1;
}
