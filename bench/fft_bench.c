/* bench/fft: sl_op_fft along each axis of a 3-d array next to a plain local FFTW transform of
 * the same block measured in the same run (out of place, FFTW_MEASURE, the same precision and
 * kind, unscaled: norm "none"). The two alternate, one reference run then one application,
 * 15 times after a warm-up, so that both see the same load on a shared host; the figures are
 * the medians of each and of the 15 ratios. Cases: complex128
 * (c2c), float64 with real = 1 (r2c), complex128 with norm "ortho" (the scaling folded into the
 * moves; FFTW's reference stays unscaled). The array is split along axis 0; at P ranks the
 * reference is rank 0's block and the transform along axis 0 redistributes. Writes CSV
 * (bench/plot_fft.py plots it).
 *
 * Usage: mpirun -np P fft_bench [n0 n1 n2 (default 128 128 128)] [csv path] */
#include <complex.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>
#include <starlops.h>

#include "bench_apply.h"

typedef struct fft_case {
    const char *name;
    sl_dtype dtype; /* the model's */
    int real;
    sl_fft_norm norm;
} fft_case;

static const fft_case cases[] = {
    {"c2c_complex128", SL_C128, 0, SL_FFT_NORM_NONE},
    {"r2c_float64", SL_F64, 1, SL_FFT_NORM_NONE},
    {"c2c_complex128_ortho", SL_C128, 0, SL_FFT_NORM_ORTHO},
};

/* The reference: one guru plan over the whole C-order block, the transform along `axis`, the
 * other two axes as FFTW's loops. */
static fftw_plan reference_plan(const fft_case *c, const size_t *dims, int axis, void **in,
                                void **out)
{
    size_t n = dims[0] * dims[1] * dims[2], len = dims[axis];
    size_t m = c->real ? len / 2 + 1 : len, nout = n / len * m;
    int stride_in[3] = {(int)(dims[1] * dims[2]), (int)dims[2], 1};
    int stride_out[3] = {stride_in[0], stride_in[1], 1};
    if (axis == 1)
        stride_out[0] = (int)(m * dims[2]);
    else if (axis == 2)
        stride_out[0] = (int)(dims[1] * m), stride_out[1] = (int)m;
    fftw_iodim dim = {(int)len, stride_in[axis], stride_out[axis]}, loops[2];
    for (int d = 0, k = 0; d < 3; d++)
        if (d != axis)
            loops[k++] = (fftw_iodim){(int)dims[d], stride_in[d], stride_out[d]};
    *in = fftw_malloc(n * 16);
    *out = fftw_malloc(nout * 16);
    fftw_plan p = c->real
        ? fftw_plan_guru_dft_r2c(1, &dim, 2, loops, *in, *out, FFTW_MEASURE)
        : fftw_plan_guru_dft(1, &dim, 2, loops, *in, *out, FFTW_FORWARD, FFTW_MEASURE);
    for (size_t i = 0; i < n * (c->real ? 1 : 2); i++)
        ((double *)*in)[i] = sin(0.37 * (double)i);
    return p;
}

#define PAIRS 15

/* Seconds of fn(arg) on the slowest rank. */
static double timed(void (*fn)(void *), void *arg)
{
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    fn(arg);
    double dt = MPI_Wtime() - t0, worst;
    MPI_Allreduce(&dt, &worst, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return worst;
}

static void run_plan(void *p)
{
    fftw_execute(*(fftw_plan *)p);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return v[n / 2];
}

/* Medians of the operator's and the reference's times and of their ratios, alternated. */
static void paired_times(sl_context *ctx, const fft_case *c, const size_t *dims,
                         const size_t *local, int axis, double out[3])
{
    sl_darray *x = NULL, *y = NULL;
    sl_op *op = NULL;
    sl_fft_opts o = {.real = c->real, .norm = c->norm};
    sl_darray_create(ctx, c->dtype, 3, dims, SL_SCATTER, 0, NULL, NULL, &x);
    sl_darray_random(x, 3);
    if (sl_op_fft(x, axis, &o, &op) != SL_OK || sl_op_create_data(op, &y) != SL_OK) {
        fprintf(stderr, "fft_bench: %s\n", sl_last_error(ctx));
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    void *in, *rout;
    fftw_plan plan = reference_plan(c, local, axis, &in, &rout);
    bench_apply_arg a = {ctx, op, x, y};
    for (int w = 0; w < 3; w++) {
        bench_apply(&a);
        run_plan(&plan);
    }
    double t_op[PAIRS], t_ref[PAIRS], ratio[PAIRS];
    for (int r = 0; r < PAIRS; r++) {
        t_ref[r] = timed(run_plan, &plan);
        t_op[r] = timed(bench_apply, &a);
        ratio[r] = t_ref[r] / t_op[r];
    }
    out[0] = median(t_op, PAIRS), out[1] = median(t_ref, PAIRS), out[2] = median(ratio, PAIRS);
    fftw_destroy_plan(plan);
    fftw_free(in);
    fftw_free(rout);
    sl_op_destroy(op);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
}

int main(int argc, char **argv)
{
    int provided, rank, size;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    size_t dims[3] = {128, 128, 128};
    for (int i = 0; i < 3 && argc > 3; i++)
        dims[i] = strtoull(argv[1 + i], NULL, 10);
    const char *csv_path = argc > 4 ? argv[4] : argc == 2 ? argv[1] : "fft_bench.csv";
    FILE *csv = NULL;
    if (rank == 0) {
        csv = fopen(csv_path, "a");
        if (csv && ftell(csv) == 0)
            fprintf(csv, "ranks,case,axis,n0,n1,n2,seconds,fftw_seconds,fraction,gflops\n");
    }
    /* rank 0's block of the balanced split along axis 0: the reference's size */
    size_t local[3] = {dims[0] / (size_t)size + (dims[0] % (size_t)size > 0), dims[1], dims[2]};
    sl_context *ctx;
    if (sl_init_comm(MPI_COMM_WORLD, &ctx) != SL_OK) {
        fprintf(stderr, "sl_init_comm: %s\n", sl_init_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (rank == 0)
        printf("bench/fft: %zu x %zu x %zu split along axis 0, %d ranks; reference: FFTW on "
               "%zu x %zu x %zu\n", dims[0], dims[1], dims[2], size, local[0], local[1],
               local[2]);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        for (int axis = 0; axis < 3; axis++) {
            double t[3];
            paired_times(ctx, &cases[k], dims, local, axis, t);
            double sec = t[0], worst = t[1];
            /* the usual FFT count: 5 N log2(n) (half for a real transform) */
            double n = (double)(dims[0] * dims[1] * dims[2]);
            double flops = (cases[k].real ? 2.5 : 5.0) * n * log2((double)dims[axis]);
            if (rank == 0) {
                printf("%-22s axis %d  %8.2f ms  FFTW %8.2f ms  %5.1f%%  %6.2f Gflop/s\n",
                       cases[k].name, axis, sec * 1e3, worst * 1e3, 100 * t[2],
                       flops / sec / 1e9);
                if (csv)
                    fprintf(csv, "%d,%s,%d,%zu,%zu,%zu,%.6e,%.6e,%.4f,%.3f\n", size,
                            cases[k].name, axis, dims[0], dims[1], dims[2], sec, worst,
                            t[2], flops / sec / 1e9);
            }
        }
    if (csv)
        fclose(csv);
    sl_finalize(ctx);
    MPI_Finalize();
    return 0;
}
