/* bench/fredholm: Fredholm1 forward + adjoint (sl_op_matvec + sl_op_rmatvec, then a wait) in
 * Gflop/s, next to the same products done directly by OpenBLAS on each rank's local slices (a
 * loop of cblas ?gemm, or ?gemv when nz = 1: what the codelet calls), all ranks at once, in the
 * same run. The two alternate, BENCH_REPS pairs, so that both see the same load on this shared
 * host (load averages of 10-14 on 2 cores were seen while measuring): the figures are the
 * medians of each, and the fractions the medians of the pairs' ratios, of wall time and of
 * CPU time (process CPU time summed over ranks: the StarPU worker, the MPI thread and the
 * main thread on the operator's side, the main thread on the reference's).
 *
 * Usage: mpirun -np P fredholm_bench [nsl nx ny nz dtype saveGt csv layout groups]
 *        (default 64 256 256 32 d 1 fredholm_bench.csv slices; dtype d = float64,
 *        z = complex128; layout slices = sl_op_fredholm1, blocked = sl_op_fredholm1_blocked,
 *        every slice a SUMMA product over all ranks on the grid STARLOPS_GRID or the traffic
 *        model picks, saveGt not applying; groups: its batch groups Pb, default 1)
 * The reference always multiplies the slices of the even slice split: each rank's share of
 * the work with no communication, the ideal either layout is held to. */
#include <cblas.h>
#include <complex.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <starlops.h>

#include "bench_common.h"

typedef struct problem {
    sl_dtype dtype;
    size_t nsl, nx, ny, nz, local_nsl;
    int save_gt, blocked, groups;
    void *g, *gt, *x, *y, *xa; /* this rank's slices: G, G^H, model, data, adjoint output */
} problem;

/* Deterministic values in [-1, 1) (imaginary parts too for complex128). */
static void fill(sl_dtype dt, void *v, size_t n, unsigned seed)
{
    unsigned long s = seed * 2654435761UL + 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005UL + 1442695040888963407UL;
        double re = (double)(s >> 11) / (double)(1UL << 53) * 2 - 1;
        if (dt == SL_F64)
            ((double *)v)[i] = re;
        else
            ((double _Complex *)v)[i] = CMPLX(re, 0.5 * re);
    }
}

/* out (m x nz) = op(A) in (k x nz) for one slice, as the codelet's kernel calls it. */
static void product(const problem *p, int adjoint_a, size_t m, size_t k, const void *a,
                    const void *in, void *out)
{
    const int M = (int)m, N = (int)p->nz, K = (int)k, lda = adjoint_a ? M : K;
    const double _Complex one = 1, zero = 0;
    enum CBLAS_TRANSPOSE t = !adjoint_a ? CblasNoTrans
                             : p->dtype == SL_F64 ? CblasTrans : CblasConjTrans;
    int am = adjoint_a ? K : M, an = adjoint_a ? M : K;
    if (p->dtype == SL_F64 && N == 1)
        cblas_dgemv(CblasRowMajor, t, am, an, 1.0, a, lda, in, 1, 0.0, out, 1);
    else if (p->dtype == SL_F64)
        cblas_dgemm(CblasRowMajor, t, CblasNoTrans, M, N, K, 1.0, a, lda, in, N, 0.0, out, N);
    else if (N == 1)
        cblas_zgemv(CblasRowMajor, t, am, an, &one, a, lda, in, 1, &zero, out, 1);
    else
        cblas_zgemm(CblasRowMajor, t, CblasNoTrans, M, N, K, &one, a, lda, in, N, &zero, out,
                    N);
}

/* The reference: forward then adjoint over this rank's slices. */
static void reference(void *arg)
{
    const problem *p = arg;
    size_t es = sl_dtype_size(p->dtype), gs = p->nx * p->ny;
    for (size_t s = 0; s < p->local_nsl; s++)
        product(p, 0, p->nx, p->ny, (char *)p->g + s * gs * es,
                (char *)p->x + s * p->ny * p->nz * es, (char *)p->y + s * p->nx * p->nz * es);
    for (size_t s = 0; s < p->local_nsl; s++)
        product(p, !p->save_gt, p->ny, p->nx, (char *)(p->save_gt ? p->gt : p->g) + s * gs * es,
                (char *)p->y + s * p->nx * p->nz * es, (char *)p->xa + s * p->ny * p->nz * es);
}

typedef struct op_run {
    sl_context *ctx;
    const sl_op *op;
    sl_darray *x, *y, *xa; /* model, data, adjoint output (not fed back: no growth) */
} op_run;

static void apply_op(void *arg)
{
    op_run *r = arg;
    if (sl_op_matvec(r->op, r->x, r->y) != SL_OK || sl_op_rmatvec(r->op, r->y, r->xa) != SL_OK ||
        sl_wait(r->ctx) != SL_OK) {
        fprintf(stderr, "fredholm_bench: %s\n", sl_last_error(r->ctx));
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
}

static problem make_problem(int argc, char **argv, int rank, int size)
{
    problem p = {0};
    p.nsl = argc > 1 ? strtoull(argv[1], NULL, 10) : 64;
    p.nx = argc > 2 ? strtoull(argv[2], NULL, 10) : 256;
    p.ny = argc > 3 ? strtoull(argv[3], NULL, 10) : 256;
    p.nz = argc > 4 ? strtoull(argv[4], NULL, 10) : 32;
    p.dtype = argc > 5 && argv[5][0] == 'z' ? SL_C128 : SL_F64;
    p.save_gt = argc > 6 ? atoi(argv[6]) : 1;
    size_t base = p.nsl / (size_t)size, r = (size_t)rank;
    p.local_nsl = base + (r < p.nsl % (size_t)size);
    size_t es = sl_dtype_size(p.dtype), n = p.local_nsl + 1;
    p.g = malloc(n * p.nx * p.ny * es);
    p.gt = malloc(n * p.nx * p.ny * es);
    p.x = malloc(n * p.ny * p.nz * es);
    p.xa = malloc(n * p.ny * p.nz * es);
    p.y = malloc(n * p.nx * p.nz * es);
    fill(p.dtype, p.g, p.local_nsl * p.nx * p.ny, 1 + (unsigned)rank);
    fill(p.dtype, p.gt, p.local_nsl * p.nx * p.ny, 2 + (unsigned)rank);
    fill(p.dtype, p.x, p.local_nsl * p.ny * p.nz, 3 + (unsigned)rank);
    return p;
}

/* G[slice] block for the 2D-blocked layout: the same kind of values as fill() gives. */
static void fill_blocked(size_t slice, size_t row0, size_t col0, size_t rows, size_t cols,
                         void *block, void *user)
{
    const problem *p = user;
    size_t es = sl_dtype_size(p->dtype);
    for (size_t r = 0; r < rows; r++)
        fill(p->dtype, (char *)block + r * cols * es, cols,
             (unsigned)(slice * p->nx + row0 + r) * 7919u + (unsigned)col0);
}

static sl_op *make_operator(sl_context *ctx, problem *p)
{
    sl_op *op = NULL;
    sl_status st = p->blocked ? sl_op_fredholm1_blocked(ctx, p->dtype, p->nsl, p->nx, p->ny,
                                                        p->nz, fill_blocked, p, p->groups,
                                                        NULL, &op)
                              : sl_op_fredholm1(ctx, p->dtype, p->nsl, p->nx, p->ny, p->nz,
                                                p->g, NULL, p->save_gt, &op);
    if (st != SL_OK) {
        fprintf(stderr, "fredholm_bench: %s\n", sl_last_error(ctx));
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    return op;
}

/* Seconds of one call of fn(arg): wall time (the slowest rank's) and CPU time of the process
 * (all its threads: the StarPU worker, the MPI progress thread and the main thread), summed
 * over ranks. */
typedef struct sample {
    double wall, cpu;
} sample;

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static sample timed(bench_fn fn, void *arg, MPI_Comm comm)
{
    MPI_Barrier(comm);
    double t0 = MPI_Wtime(), c0 = cpu_now();
    fn(arg);
    double mine[2] = {MPI_Wtime() - t0, cpu_now() - c0}, wall, cpu;
    MPI_Allreduce(&mine[0], &wall, 1, MPI_DOUBLE, MPI_MAX, comm);
    MPI_Allreduce(&mine[1], &cpu, 1, MPI_DOUBLE, MPI_SUM, comm);
    return (sample){wall, cpu};
}

static double median(double *v)
{
    qsort(v, BENCH_REPS, sizeof *v, bench_cmp_double);
    return v[BENCH_REPS / 2];
}

/* Medians: wall seconds of the operator and of the reference, and the pairs' ratios ref / op
 * of wall time and of CPU time. On a shared, overloaded host the CPU-time ratio is the
 * steadier one: it counts what each side computed, not how long it waited for a core. */
typedef struct timing {
    double op, ref, fraction, cpu_fraction;
} timing;

/* The operator and the reference, alternately. */
static timing measure(sl_context *ctx, problem *p)
{
    sl_op *op = make_operator(ctx, p);
    op_run r = {ctx, op, NULL, NULL, NULL};
    sl_op_create_model(op, &r.x);
    sl_op_create_model(op, &r.xa);
    sl_op_create_data(op, &r.y);
    sl_darray_random(r.x, 5);
    apply_op(&r); /* warm-up: first touch of the tiles, BLAS buffers */
    reference(p);
    double t_op[BENCH_REPS], t_ref[BENCH_REPS], ratio[BENCH_REPS], cpu_ratio[BENCH_REPS];
    for (int i = 0; i < BENCH_REPS; i++) {
        sample ref = timed(reference, p, MPI_COMM_WORLD);
        sample opt = timed(apply_op, &r, MPI_COMM_WORLD);
        t_ref[i] = ref.wall;
        t_op[i] = opt.wall;
        ratio[i] = ref.wall / opt.wall;
        cpu_ratio[i] = ref.cpu / opt.cpu;
    }
    sl_darray_destroy(r.x);
    sl_darray_destroy(r.y);
    sl_darray_destroy(r.xa);
    sl_op_destroy(op);
    return (timing){median(t_op), median(t_ref), median(ratio), median(cpu_ratio)};
}

static void report(const problem *p, int size, const char *csv_path, timing t)
{
    double flops = 2.0 * 2.0 * (double)p->nsl * (double)p->nx * (double)p->ny * (double)p->nz *
                   (p->dtype == SL_C128 ? 4.0 : 1.0);
    const char *dt = sl_dtype_name(p->dtype);
    char layout[32];
    if (p->blocked && p->groups > 1)
        snprintf(layout, sizeof layout, "blocked-Pb%d", p->groups);
    else
        snprintf(layout, sizeof layout, "%s", p->blocked ? "blocked" : "slices");
    printf("fredholm1 %s %s (%zu, %zu, %zu) nz=%zu saveGt=%d, %d ranks: %.2f Gflop/s (%.3f ms), "
           "batched %s %.2f Gflop/s (%.3f ms): %.0f%% (wall), %.0f%% (CPU time)\n",
           layout, dt, p->nsl,
           p->nx, p->ny, p->nz, p->save_gt, size, flops / t.op / 1e9, t.op * 1e3,
           p->nz == 1 ? "gemv" : "gemm", flops / t.ref / 1e9, t.ref * 1e3, 100 * t.fraction,
           100 * t.cpu_fraction);
    FILE *csv = fopen(csv_path, "a");
    if (!csv)
        return;
    if (ftell(csv) == 0)
        fprintf(csv, "ranks,dtype,nsl,nx,ny,nz,saveGt,seconds,gflops,ref_seconds,ref_gflops,"
                     "fraction,cpu_fraction,layout\n");
    fprintf(csv, "%d,%s,%zu,%zu,%zu,%zu,%d,%.6e,%.3f,%.6e,%.3f,%.4f,%.4f,%s\n", size, dt,
            p->nsl, p->nx, p->ny, p->nz, p->save_gt, t.op, flops / t.op / 1e9, t.ref,
            flops / t.ref / 1e9, t.fraction, t.cpu_fraction, layout);
    fclose(csv);
}

int main(int argc, char **argv)
{
    int provided, rank, size;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm comm = MPI_COMM_WORLD;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    problem p = make_problem(argc, argv, rank, size);
    const char *csv_path = argc > 7 ? argv[7] : "fredholm_bench.csv";
    p.blocked = argc > 8 && !strcmp(argv[8], "blocked");
    p.groups = argc > 9 ? atoi(argv[9]) : 1;
    sl_context *ctx;
    if (sl_init_comm(comm, &ctx) != SL_OK) {
        fprintf(stderr, "sl_init_comm: %s\n", sl_init_error());
        MPI_Abort(comm, 1);
    }
    openblas_set_num_threads(1); /* one core per rank, as the StarPU worker's BLAS */
    timing t = measure(ctx, &p);
    if (rank == 0)
        report(&p, size, csv_path, t);
    sl_finalize(ctx);
    free(p.g), free(p.gt), free(p.x), free(p.y), free(p.xa);
    MPI_Finalize();
    return 0;
}
