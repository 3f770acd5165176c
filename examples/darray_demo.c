/* Demo: distributed array math whose answer is known in closed form, run under mpirun.
 *
 *   x_i = cos(2*pi*k*i/n), y_i = sin(2*pi*k*i/n), i = 0..n-1, split across ranks in tiles.
 *   ||x||^2 + ||y||^2 = n exactly; <x, y> = 0 and ||x||^2 = n/2 for 0 < k < n/2 (discrete
 *   orthogonality); z = 3x - 2y has ||z||^2 = 13 n / 2 and max |z| -> sqrt(13) as n grows.
 *
 * Every rank fills its own block from its global offset; all math runs as StarPU tasks, the
 * reductions combine across ranks in allreduce tasks. Exit status 0 iff every check holds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <starlops.h>

#include "common.h"

static int fill_wave(sl_context *ctx, sl_darray *a, size_t n, int k, int use_sin)
{
    sl_darray_info info;
    TRY(sl_darray_get_info(a, &info));
    size_t offset = info.local_offset, count = info.local_size;
    double *local = malloc((count ? count : 1) * sizeof *local);
    for (size_t i = 0; i < count; i++) {
        double t = 2.0 * M_PI * k * (double)(offset + i) / (double)n;
        local[i] = use_sin ? sin(t) : cos(t);
    }
    sl_status st = sl_darray_from_local(a, local);
    free(local);
    return st == SL_OK ? 0 : 1;
}

static int check(int rank, const char *what, double got, double want, double tol, int *fails)
{
    int ok = fabs(got - want) <= tol * fmax(1.0, fabs(want));
    if (rank == 0)
        printf("  %-22s = %-22.15g expected %-14.10g %s\n", what, got, want, ok ? "ok" : "WRONG");
    *fails += !ok;
    return ok;
}

int main(int argc, char **argv)
{
    sl_context *ctx = NULL;
    int k = 7, rank, size, fails = 0;
    if (example_start(&argc, &argv, &ctx, &rank, &size))
        return 1;
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 4000037;

    sl_darray *x, *y, *z;
    TRY(sl_darray_create(ctx, SL_F64, 1, &n, SL_SCATTER, 0, NULL, NULL, &x));
    TRY(sl_darray_create_like(x, &y));
    TRY(sl_darray_create_like(x, &z));
    if (fill_wave(ctx, x, n, k, 0) || fill_wave(ctx, y, n, k, 1))
        return 1;
    sl_darray_info info;
    TRY(sl_darray_get_info(x, &info));
    size_t ntiles = info.ntiles;

    /* Submit everything, then read the futures. */
    sl_scalar *xx, *yy, *xy, *zz, *zinf;
    TRY(sl_darray_vdot(x, x, &xx));
    TRY(sl_darray_vdot(y, y, &yy));
    TRY(sl_darray_dot(x, y, &xy));
    TRY(sl_darray_axpby(3.0, x, 0.0, z));
    TRY(sl_darray_axpy(-2.0, y, z));
    TRY(sl_darray_norm(z, 2, &zz));
    TRY(sl_darray_norm(z, INFINITY, &zinf));

    double vxx, vyy, vxy, vzz, vzinf;
    TRY(sl_scalar_get_real(xx, &vxx));
    TRY(sl_scalar_get_real(yy, &vyy));
    TRY(sl_scalar_get_real(xy, &vxy));
    TRY(sl_scalar_get_real(zz, &vzz));
    TRY(sl_scalar_get_real(zinf, &vzinf));
    if (rank == 0)
        printf("starlops demo: n = %zu on %d ranks (%zu tiles on rank 0), wave number %d\n", n,
               size, ntiles, k);
    check(rank, "||x||^2 + ||y||^2", vxx + vyy, (double)n, 1e-10, &fails);
    check(rank, "||x||^2", vxx, n / 2.0, 1e-10, &fails);
    check(rank, "<x, y>", vxy, 0.0, 1e-9, &fails);
    check(rank, "||3x - 2y||_2", vzz, sqrt(6.5 * (double)n), 1e-10, &fails);
    /* max |3 cos t - 2 sin t| = sqrt(13); the samples come within (spacing)^2 of the peak */
    double spacing = 2.0 * M_PI * k / (double)n;
    check(rank, "||3x - 2y||_inf", vzinf, sqrt(13.0), spacing * spacing + 1e-12, &fails);
    if (rank == 0)
        printf("%s\n", fails ? "demo FAILED" : "demo verified: all results match closed forms");
    sl_scalar_destroy(xx);
    sl_scalar_destroy(yy);
    sl_scalar_destroy(xy);
    sl_scalar_destroy(zz);
    sl_scalar_destroy(zinf);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    sl_darray_destroy(z);
    sl_finalize(ctx);
    return fails ? 1 : 0;
}
