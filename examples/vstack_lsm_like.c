/* A least-squares-migration-like inversion: the model (a reflectivity of K samples) lives on
 * every rank, the sources are split across ranks and each rank models its own shots with a
 * local operator G_r (here a band of convolution-like rows). The stacked operator
 * [G_0; G_1; ...] is PyLops-MPI's MPIVStack: replicated model, scattered data, and an adjoint
 * that sums the ranks' G_r^T d_r (one allreduce task). CGLS with a little damping.
 *
 *   mpirun -np 2 vstack_lsm_like [K] [shots_per_rank]
 * Exit status 0 iff the damped solution matches the normal equations' residual test. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <starlops.h>

#include "common.h"

typedef struct shots {
    size_t k, nshots, nt; /* nt = k samples recorded per shot */
    int rank;
} shots;

/* G_r: shot s records the model convolved with a wavelet shifted by the shot position. */
static double wavelet(long t) { return t < -6 || t > 6 ? 0.0 : exp(-0.15 * t * t) * cos(0.9 * t); }

static void model_shots(const void *in, void *out, int adjoint, void *user)
{
    const shots *s = user;
    const double *x = in;
    double *y = out;
    size_t nout = adjoint ? s->k : s->nshots * s->nt;
    for (size_t i = 0; i < nout; i++)
        y[i] = 0;
    for (size_t sh = 0; sh < s->nshots; sh++) {
        long shift = (long)((sh + (size_t)s->rank * s->nshots) % 5);
        for (size_t t = 0; t < s->nt; t++)
            for (size_t j = 0; j < s->k; j++) {
                double g = wavelet((long)t - (long)j - shift);
                if (g == 0) continue;
                if (adjoint) y[j] += g * x[sh * s->nt + t];
                else y[sh * s->nt + t] += g * x[j];
            }
    }
}

int main(int argc, char **argv)
{
    sl_context *ctx = NULL;
    int rank, size;
    if (example_start(&argc, &argv, &ctx, &rank, &size))
        return 1;
    size_t k = argc > 1 ? strtoull(argv[1], NULL, 10) : 200;
    size_t nshots = argc > 2 ? strtoull(argv[2], NULL, 10) : 4;
    shots s = {k, nshots, k, rank};
    size_t nd = (size_t)size * nshots * k;

    sl_darray *refl, *data, *m, *check_model;
    sl_op *op;
    TRY(sl_darray_create(ctx, SL_F64, 1, &k, SL_BROADCAST, 0, NULL, NULL, &refl));
    TRY(sl_darray_create(ctx, SL_F64, 1, &nd, SL_SCATTER, 0, NULL, NULL, &data));
    TRY(sl_op_from_callbacks(refl, data, model_shots, &s, &op));
    TRY(sl_op_create_model(op, &m));
    TRY(sl_op_create_model(op, &check_model));
    /* a sparse reflectivity: a few spikes */
    double *r = calloc(k, sizeof *r);
    for (size_t i = k / 10; i < k; i += k / 7 + 1)
        r[i] = (i % 2 ? 1.0 : -0.7);
    TRY(sl_darray_from_global(refl, r));
    TRY(sl_op_matvec(op, refl, data));

    double damp = 0.3; /* regularised: the band-limited wavelet makes G ill-conditioned */
    sl_solve_result res;
    TRY(sl_cgls(op, data, m, &(sl_solver_opts){.niter = 500, .tol = 1e-24, .damp = damp}, &res));
    /* optimality: ||G^T (d - G m) - damp^2 m|| small relative to ||G^T d|| */
    sl_darray *resid;
    TRY(sl_op_create_data(op, &resid));
    TRY(sl_op_matvec(op, m, resid));
    TRY(sl_darray_axpby(1.0, data, -1.0, resid));
    TRY(sl_op_rmatvec(op, resid, check_model));
    TRY(sl_darray_axpy(-damp * damp, m, check_model));
    sl_scalar *g, *err, *nr;
    TRY(sl_darray_norm(check_model, 2, &g));
    TRY(sl_op_rmatvec(op, data, check_model));
    double vg, vb, ve, vn;
    TRY(sl_darray_norm(check_model, 2, &nr));
    TRY(sl_scalar_get_real(g, &vg));
    TRY(sl_scalar_get_real(nr, &vb));
    TRY(sl_darray_sub(m, refl, m));
    TRY(sl_darray_norm(m, 2, &err));
    TRY(sl_scalar_get_real(err, &ve));
    TRY(sl_darray_norm(refl, 2, &nr));
    TRY(sl_scalar_get_real(nr, &vn));
    int ok = vg / vb < 1e-6;
    if (rank == 0)
        printf("vstack_lsm_like: %zu-sample model, %zu shots on %d ranks: %d CGLS iterations, "
               "normal-equation residual %.2e (relative), model error %.2e %s\n",
               k, nshots * (size_t)size, size, res.iterations, vg / vb, ve / vn,
               ok ? "(ok)" : "(NOT CONVERGED)");
    sl_scalar_destroy(g); sl_scalar_destroy(err); sl_scalar_destroy(nr);
    sl_darray_destroy(resid);
    sl_op_destroy(op);
    sl_darray_destroy(m); sl_darray_destroy(check_model); sl_darray_destroy(data);
    sl_darray_destroy(refl);
    free(r);
    sl_finalize(ctx);
    return ok ? 0 : 1;
}
