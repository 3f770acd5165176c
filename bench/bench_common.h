/* Shared by the benchmarks: median timing across ranks and the STREAM triad ceiling measured
 * in the same run (on the same ranks, at the same moment). */
#ifndef STARLOPS_BENCH_COMMON_H
#define STARLOPS_BENCH_COMMON_H

#include <mpi.h>
#include <stdlib.h>

#define BENCH_REPS 7

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median wall time of BENCH_REPS runs, all ranks in step (the slowest rank counts). */
typedef void (*bench_fn)(void *arg);
static inline double bench_time(bench_fn fn, void *arg, MPI_Comm comm)
{
    double t[BENCH_REPS];
    for (int r = 0; r < BENCH_REPS; r++) {
        MPI_Barrier(comm);
        double t0 = MPI_Wtime();
        fn(arg);
        double dt = MPI_Wtime() - t0, worst;
        MPI_Allreduce(&dt, &worst, 1, MPI_DOUBLE, MPI_MAX, comm);
        t[r] = worst;
    }
    qsort(t, BENCH_REPS, sizeof t[0], bench_cmp_double);
    return t[BENCH_REPS / 2];
}

typedef struct bench_ping_pong_arg {
    char *buf;
    size_t bytes;
    int reps, rank;
    MPI_Comm comm;
} bench_ping_pong_arg;

static void bench_ping_pong(void *p)
{
    bench_ping_pong_arg *r = p;
    for (int i = 0; i < r->reps; i++) {
        if (r->rank == 0) {
            MPI_Send(r->buf, (int)r->bytes, MPI_BYTE, 1, 7, r->comm);
            MPI_Recv(r->buf, (int)r->bytes, MPI_BYTE, 1, 7, r->comm, MPI_STATUS_IGNORE);
        } else if (r->rank == 1) {
            MPI_Recv(r->buf, (int)r->bytes, MPI_BYTE, 0, 7, r->comm, MPI_STATUS_IGNORE);
            MPI_Send(r->buf, (int)r->bytes, MPI_BYTE, 0, 7, r->comm);
        }
    }
}

/* One-way time of a raw two-sided transfer of `bytes` from buf between ranks 0 and 1: half the
 * round trip of a ping-pong (MPI_Send / MPI_Recv), `reps` round trips per timed run. */
static inline double bench_two_sided_one_way(char *buf, size_t bytes, int reps, int rank,
                                             MPI_Comm comm)
{
    bench_ping_pong_arg r = {buf, bytes, reps, rank, comm};
    return bench_time(bench_ping_pong, &r, comm) / (2.0 * reps);
}

typedef struct bench_triad_arg {
    double *a, *b, *c;
    size_t n;
} bench_triad_arg;

static void bench_triad(void *p)
{
    bench_triad_arg *t = p;
    double *restrict a = t->a;
    const double *restrict b = t->b, *restrict c = t->c;
    for (size_t i = 0; i < t->n; i++)
        a[i] = b[i] + 3.0 * c[i];
}

/* Aggregate STREAM triad bandwidth (GB/s, 24 B per element) of n doubles per rank. */
static inline double bench_measure_triad(size_t n, MPI_Comm comm, int size)
{
    bench_triad_arg t = {malloc(n * sizeof(double)), malloc(n * sizeof(double)),
                         malloc(n * sizeof(double)), n};
    for (size_t i = 0; i < n; i++)
        t.a[i] = 0, t.b[i] = 1, t.c[i] = 2;
    double sec = bench_time(bench_triad, &t, comm);
    free(t.a);
    free(t.b);
    free(t.c);
    return 24.0 * (double)n * size / sec / 1e9;
}

#endif
