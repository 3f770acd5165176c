/* bench/progress_busy: is a completion noticed while every worker is busy with a long task?
 *
 * Two ranks, one worker each. Rank 0 submits a send of `bytes` to rank 1, rank 1 the matching
 * receive; then each rank submits a busy task of `busy_ms` (a timed spin, lower priority, so it
 * starts right after the post). The transfer can only finish while the workers spin: over
 * two-sided MPI a large message's rendezvous needs the receiver inside MPI; with the one-sided
 * backend the receiver copies the message out of its ring. `starpu_data_acquire_cb` callbacks
 * stamp the moment each rank's layer notices the end of its operation (receive: data readable;
 * send: buffer writable again). Reported, from the start of each rank's busy task:
 * notice_recv / notice_send, against the raw two-sided transfer of the same bytes and the busy
 * time itself. With the progress thread (STARLOPS_PROGRESS_US > 0) the notice comes within the
 * transfer time plus about one interval; with hooks only (STARLOPS_PROGRESS_US=0), when the
 * busy task ends. A second figure, busy_stretch, is the spin's CPU work done per unit wall time
 * against the same spin without communication: what the progress thread costs the workers.
 *
 * Uses the library's internal comm layer (the public API has no bare send/receive).
 * Usage: mpirun -n 2 progress_busy [out.csv] [busy_ms]; appends to out.csv (one row per size
 * for the backend and interval in the environment); bench/run_progress_busy.sh sweeps both. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starlops.h>

#include "bench_common.h"
#include "runtime/context_internal.h"

#define REPS 9

typedef struct busy_arg {
    double seconds;
    double started; /* MPI_Wtime at the start */
    double work;    /* spin iterations done: the CPU the worker actually got */
} busy_arg;

static void busy_cpu(void *buffers[], void *cl_arg)
{
    (void)buffers;
    busy_arg *b = cl_arg;
    b->started = MPI_Wtime();
    double work = 0;
    while (MPI_Wtime() - b->started < b->seconds)
        for (int i = 0; i < 1000; i++)
            work += 1.0;
    b->work = work;
}

static struct starpu_codelet busy_cl = {
    .cpu_funcs = {busy_cpu},
    .nbuffers = 0,
    .name = "bench_busy",
};

static void submit_busy(busy_arg *b)
{
    struct starpu_task *t = starpu_task_create();
    t->cl = &busy_cl;
    t->cl_arg = b;
    t->priority = STARPU_MIN_PRIO;
    if (starpu_task_submit(t) != 0) {
        fprintf(stderr, "progress_busy: cannot submit the busy task\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
}

typedef struct stamp_t {
    double when;
    int done;
    pthread_mutex_t lock;
    pthread_cond_t cond;
} stamp_t;

static void stamp(void *arg)
{
    stamp_t *s = arg;
    pthread_mutex_lock(&s->lock);
    s->when = MPI_Wtime();
    s->done = 1;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

/* blocks (no polling: the cores belong to the workers and the layer's threads) */
static void wait_stamp(stamp_t *s)
{
    pthread_mutex_lock(&s->lock);
    while (!s->done)
        pthread_cond_wait(&s->cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

typedef struct sample {
    double notice, busy_work, busy_wall;
} sample;

/* One transfer under a busy task; returns the notice time from the busy task's start. */
static sample one_run(sl_context *ctx, starpu_data_handle_t h, int rank, int tag, double busy_s)
{
    busy_arg b = {.seconds = busy_s};
    stamp_t noticed = {0, 0, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
    MPI_Barrier(ctx->host_comm);
    /* a one-message exchange: a send or a receive under mpi and rma, and what nccl accepts */
    sl_comm_message m = {h, 1 - rank, rank == 0, tag};
    sl_comm_exchange(ctx->comm, (sl_comm_group){ctx->task_comm}, &m, 1);
    submit_busy(&b);
    /* the send's buffer is writable again / the received data readable: the layer noticed */
    starpu_data_acquire_cb(h, rank == 0 ? STARPU_W : STARPU_R, stamp, &noticed);
    wait_stamp(&noticed);
    starpu_data_release(h);
    starpu_task_wait_for_all();
    return (sample){noticed.when - b.started, b.work, b.seconds};
}

/* The spin alone (no communication, both ranks spinning at once as in one_run): CPU work per
 * second a worker gets; median of REPS. */
static double spin_rate(MPI_Comm comm, double busy_s)
{
    double rate[REPS];
    for (int r = 0; r < REPS; r++) {
        busy_arg b = {.seconds = busy_s};
        MPI_Barrier(comm);
        submit_busy(&b);
        starpu_task_wait_for_all();
        rate[r] = b.work / busy_s;
    }
    qsort(rate, REPS, sizeof rate[0], bench_cmp_double);
    return rate[REPS / 2];
}

static double median_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], bench_cmp_double);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    sl_context *ctx = NULL;
    if (sl_init(&argc, &argv, &ctx) != SL_OK) {
        fprintf(stderr, "progress_busy: %s\n", sl_init_error());
        return 1;
    }
    int rank = ctx->rank;
    if (ctx->size != 2) {
        if (rank == 0)
            fprintf(stderr, "progress_busy: run on exactly 2 ranks\n");
        sl_finalize(ctx);
        return 1;
    }
    const char *csv_path = argc > 1 ? argv[1] : "progress_busy.csv";
    double busy_s = (argc > 2 ? atof(argv[2]) : 20.0) / 1e3;
    FILE *csv = NULL;
    if (rank == 0) {
        csv = fopen(csv_path, "a");
        if (csv && ftell(csv) == 0)
            fprintf(csv, "backend,progress_us,bytes,busy_s,raw_two_sided_s,notice_recv_s,"
                         "notice_send_s,busy_stretch\n");
    }
    const char *backend = ctx->comm->ops->name;
    unsigned progress_us = ctx->progress_us;
    if (rank == 0)
        printf("backend %s, progress thread %s (interval %u us), busy task %.1f ms\n", backend,
               progress_us ? "on" : "off", progress_us, busy_s * 1e3);
    double alone = spin_rate(ctx->host_comm, busy_s);
    const size_t sizes[] = {4096, 65536, 1 << 20, 4 << 20};
    int tag = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s] / sizeof(double);
        double *buf = calloc(n, sizeof(double));
        starpu_data_handle_t h;
        starpu_vector_data_register(&h, STARPU_MAIN_RAM, (uintptr_t)buf, (uint32_t)n,
                                    sizeof(double));
        char *raw_buf = calloc(sizes[s], 1); /* not the registered buffer: StarPU owns it */
        double raw = bench_two_sided_one_way(raw_buf, sizes[s], 10, rank, ctx->host_comm);
        free(raw_buf);
        double notice[REPS], stretch[REPS];
        one_run(ctx, h, rank, tag++, busy_s); /* warm-up */
        for (int r = 0; r < REPS; r++) {
            sample x = one_run(ctx, h, rank, tag++, busy_s);
            notice[r] = x.notice;
            stretch[r] = alone > 0 ? alone * x.busy_wall / x.busy_work : 0;
        }
        starpu_data_unregister(h);
        free(buf);
        double mine[2] = {median_of(notice, REPS), median_of(stretch, REPS)}, theirs[2];
        MPI_Sendrecv(mine, 2, MPI_DOUBLE, 1 - rank, 9, theirs, 2, MPI_DOUBLE, 1 - rank, 9,
                     ctx->host_comm, MPI_STATUS_IGNORE);
        if (rank == 0) {
            double recv = theirs[0], send = mine[0];
            double st = mine[1] > theirs[1] ? mine[1] : theirs[1];
            printf("%8zu B  raw %8.1f us   noticed: recv %9.1f us  send %9.1f us  (busy %.0f "
                   "us)  busy stretch x%.3f\n",
                   sizes[s], raw * 1e6, recv * 1e6, send * 1e6, busy_s * 1e6, st);
            if (csv)
                fprintf(csv, "%s,%u,%zu,%.6e,%.6e,%.6e,%.6e,%.4f\n", backend, progress_us,
                        sizes[s], busy_s, raw, recv, send, st);
        }
    }
    if (csv)
        fclose(csv);
    return sl_finalize(ctx) == SL_OK ? 0 : 1;
}
