/* bench/stencil: FirstDerivative (centered, order 3) along each axis and the 3-axis Laplacian on
 * a float64 volume split along axis 0, as effective bandwidth (the volume read once and
 * written once: 16 B per element) next to the STREAM triad measured just before each; then the
 * halo exchange: time of a FirstDerivative along the split axis on thin volumes (two rows per
 * rank, so the exchange dominates) against the ghost slab's size. Writes CSV
 * (bench/plot_stencil.py plots it).
 *
 * Usage: mpirun -np P stencil_bench [n0 n1 n2 (default 512 512 512 = 2^27)] [csv path] */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starlops.h>

#include "bench_apply.h"

static void row(FILE *csv, int rank, int size, const char *op, size_t n, double sec,
                double triad)
{
    double gbs = 16.0 * (double)n / sec / 1e9;
    if (rank == 0) {
        printf("%-22s %8.2f ms  %7.2f GB/s  (triad %6.2f GB/s: %5.1f%%)\n", op, sec * 1e3, gbs,
               triad, 100 * gbs / triad);
        if (csv)
            fprintf(csv, "%d,%s,%zu,%.6e,%.3f,%.3f,%.4f\n", size, op, n, sec, gbs, triad,
                    gbs / triad);
    }
}

int main(int argc, char **argv)
{
    int provided, rank, size;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    size_t dims[3] = {512, 512, 512};
    for (int i = 0; i < 3 && argc > 3; i++)
        dims[i] = strtoull(argv[1 + i], NULL, 10);
    const char *csv_path = argc > 4 ? argv[4] : argc == 2 ? argv[1] : "stencil_bench.csv";
    size_t n = dims[0] * dims[1] * dims[2];
    FILE *csv = NULL;
    if (rank == 0) {
        csv = fopen(csv_path, "a");
        if (csv && ftell(csv) == 0)
            fprintf(csv, "ranks,op,elements,seconds,GBps,triad_GBps,fraction\n");
    }
    double triad = bench_measure_triad(n / (size_t)size, MPI_COMM_WORLD, size);

    sl_context *ctx;
    if (sl_init_comm(MPI_COMM_WORLD, &ctx) != SL_OK) {
        fprintf(stderr, "sl_init_comm: %s\n", sl_init_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    sl_context_info ci;
    sl_context_get_info(ctx, &ci);
    size_t tile = ci.tile_elements;
    sl_darray *x = NULL, *y = NULL;
    sl_darray_create(ctx, SL_F64, 3, dims, SL_SCATTER, 0, NULL, NULL, &x);
    sl_darray_create_like(x, &y);
    sl_darray_random(x, 1);
    sl_darray_fill(y, 0.0);
    sl_wait(ctx);
    if (rank == 0)
        printf("bench/stencil: %zu x %zu x %zu float64 (%.2f GiB per array) split along axis 0, "
               "%d ranks, tile %zu elements\n", dims[0], dims[1], dims[2],
               (double)n * 8 / (1 << 30), size, tile);
    const char *names[4] = {"firstderivative_axis0", "firstderivative_axis1",
                            "firstderivative_axis2", "laplacian_3axes"};
    for (int k = 0; k < 4; k++) {
        sl_op *op = NULL;
        int axes[3] = {0, 1, 2};
        sl_status st = k < 3 ? sl_op_first_derivative(x, k, SL_DERIV_CENTERED, 3, 0, 1.0, &op)
                             : sl_op_laplacian(x, 3, axes, NULL, NULL, 0, SL_DERIV_CENTERED, &op);
        if (st != SL_OK) {
            if (rank == 0)
                fprintf(stderr, "%s: %s\n", names[k], sl_last_error(ctx));
            continue;
        }
        bench_apply_arg a = {ctx, op, x, y};
        bench_apply(&a); /* warm-up */
        /* the triad again just before: this host's bandwidth drifts by 20-30% over minutes */
        triad = bench_measure_triad(n / (size_t)size, MPI_COMM_WORLD, size);
        row(csv, rank, size, names[k], n, bench_time(bench_apply, &a, MPI_COMM_WORLD), triad);
        sl_op_destroy(op);
    }
    sl_darray_destroy(x);
    sl_darray_destroy(y);

    if (size > 1 && rank == 0)
        printf("halo exchange (FirstDerivative along the split axis, 2 rows per rank):\n");
    for (size_t inner = 64; size > 1 && inner <= ((size_t)1 << 22); inner *= 8) {
        double sec = bench_halo_time(ctx, size, inner);
        if (rank == 0) {
            printf("  slab %9zu B  %9.1f us\n", inner * 8, sec * 1e6);
            if (csv)
                fprintf(csv, "%d,halo_slab_bytes_%zu,%zu,%.6e,,,\n", size, inner * 8,
                        2 * (size_t)size * inner, sec);
        }
    }
    if (csv)
        fclose(csv);
    sl_finalize(ctx);
    MPI_Finalize();
    return 0;
}
