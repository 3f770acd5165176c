/* bench/darray: bandwidth of axpy, dot and norm on distributed float64 arrays, printed next to
 * a STREAM triad measured by this program on the same ranks at the same moment, plus the
 * per-task overhead (tiny tasks). Writes CSV (bench/plot_darray.py plots it).
 *
 * Usage: mpirun -np P darray_bench [elements_per_rank (default 2^26)] [csv path]
 * Bytes counted as STREAM does: axpy reads x, y and writes y (24 B/element), dot reads two
 * arrays (16 B), norm one (8 B), triad a = b + s*c (24 B). */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starlops.h>

#include "bench_common.h"

typedef struct op_arg {
    sl_context *ctx;
    sl_darray *x, *y;
    int op; /* 0 axpy, 1 dot, 2 norm, 3 scale (overhead) */
} op_arg;

static void run_op(void *p)
{
    op_arg *o = p;
    sl_scalar *s = NULL;
    double v;
    switch (o->op) {
    case 0: sl_darray_axpy(1e-9, o->x, o->y); sl_wait(o->ctx); return;
    case 1: sl_darray_dot(o->x, o->y, &s); break;
    case 2: sl_darray_norm(o->x, 2, &s); break;
    default: sl_darray_scale(o->x, 1.0); sl_wait(o->ctx); return;
    }
    sl_scalar_get_real(s, &v);
    sl_scalar_destroy(s);
}

static void report(FILE *csv, int rank, int size, const char *op, size_t n, size_t tile,
                   double sec, double bytes, double triad_gbs)
{
    double gbs = bytes * size / sec / 1e9;
    if (rank == 0) {
        printf("%-6s %6.2f ms  %7.2f GB/s  (triad %6.2f GB/s: %5.1f%%)\n", op, sec * 1e3, gbs,
               triad_gbs, 100 * gbs / triad_gbs);
        if (csv)
            fprintf(csv, "%d,%s,%zu,%zu,%.6e,%.3f,%.3f,%.4f\n", size, op, n, tile, sec, gbs,
                    triad_gbs, gbs / triad_gbs);
    }
}

/* Per-task overhead: an array of tiny tiles (8 elements), one scale task per tile. */
static double task_overhead_us(MPI_Comm comm)
{
    setenv("STARLOPS_TILE", "8", 1);
    sl_context *ctx;
    if (sl_init_comm(comm, &ctx) != SL_OK)
        return NAN;
    sl_context_info ci;
    sl_context_get_info(ctx, &ci);
    size_t n = (size_t)8 * 4096 * ci.size;
    sl_darray *x;
    sl_darray_create(ctx, SL_F64, 1, &n, SL_SCATTER, 0, NULL, NULL, &x);
    sl_darray_info xi;
    sl_darray_get_info(x, &xi);
    size_t ntiles = xi.ntiles;
    op_arg o = {ctx, x, NULL, 3};
    run_op(&o); /* warm-up */
    double sec = bench_time(run_op, &o, comm);
    sl_darray_destroy(x);
    sl_finalize(ctx);
    return sec / (double)ntiles * 1e6;
}

int main(int argc, char **argv)
{
    int provided, rank, size;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : (size_t)1 << 26;
    const char *csv_path = argc > 2 ? argv[2] : "darray_bench.csv";
    FILE *csv = NULL;
    if (rank == 0) {
        csv = fopen(csv_path, "a");
        if (csv && ftell(csv) == 0)
            fprintf(csv, "ranks,op,elements_per_rank,tile,seconds,GBps,triad_GBps,fraction\n");
    }
    double triad_gbs = bench_measure_triad(n, MPI_COMM_WORLD, size);

    sl_context *ctx;
    if (sl_init_comm(MPI_COMM_WORLD, &ctx) != SL_OK) {
        fprintf(stderr, "sl_init_comm: %s\n", sl_init_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    sl_context_info ci;
    sl_context_get_info(ctx, &ci);
    size_t global = n * (size_t)size, tile = ci.tile_elements;
    sl_darray *x, *y;
    sl_darray_create(ctx, SL_F64, 1, &global, SL_SCATTER, 0, NULL, NULL, &x);
    sl_darray_create_like(x, &y);
    sl_darray_fill(x, 1.0);
    sl_darray_fill(y, 2.0);
    sl_wait(ctx);
    if (rank == 0)
        printf("bench/darray: %zu float64 per rank, %d ranks, tile %zu elements\n", n, size,
               tile);
    const char *names[3] = {"axpy", "dot", "norm"};
    const double bytes[3] = {24.0 * n, 16.0 * n, 8.0 * n};
    for (int op = 0; op < 3; op++) {
        op_arg o = {ctx, x, y, op};
        run_op(&o);
        report(csv, rank, size, names[op], n, tile, bench_time(run_op, &o, MPI_COMM_WORLD),
               bytes[op], triad_gbs);
    }
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    sl_finalize(ctx);

    double us = task_overhead_us(MPI_COMM_WORLD);
    if (rank == 0) {
        printf("task overhead: %.2f us per task (insert + execute, 8-element tiles)\n", us);
        if (csv) {
            fprintf(csv, "%d,task_overhead_us,8,8,%.6e,,,\n", size, us * 1e-6);
            fclose(csv);
        }
    }
    MPI_Finalize();
    return 0;
}
