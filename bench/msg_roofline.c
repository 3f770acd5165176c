/* bench/msg_roofline: what a message costs on this machine, raw and inside the library.
 *
 * Raw (rank 0 <-> rank 1, no StarPU): two-sided ping-pong (MPI_Send/MPI_Recv; one-way time =
 * half the round trip) and one-sided MPI_Put + MPI_Win_flush into a window from
 * MPI_Win_allocate (passive target, lock_all for the whole run), 8 B to 64 MiB. Then the
 * library's own operations with the context's backend (STARLOPS_COMM): the halo exchange of a
 * FirstDerivative along the split axis at several slab sizes (the whole application: pack,
 * exchange, stencil) and, by subtracting the same stencil along the unsplit axis, the
 * exchange's own cost; a SUMMA panel transfer (a 1 x 2 forward whose one remote panel is the
 * message, at 2 ranks); the in-graph reduction round trip (a dot whose value a task reads, then
 * the next dot: a dependent chain), and two independent round trips submitted together (they
 * overlap when collectives are in flight at once). Prints each figure next to the raw
 * transfer of the same bytes with the same backend (two-sided for mpi, Put + flush for rma),
 * fits latency + bytes / bandwidth to the raw data, writes CSV.
 * Usage: mpirun -n 2 msg_roofline [out.csv] [max_bytes]   (plot: bench/plot_msg_roofline.py) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starlops.h>

#include "bench_apply.h"

#define MAX_SIZES 32

typedef struct raw_run {
    char *buf;
    size_t bytes;
    int reps, rank;
    MPI_Comm comm;
    MPI_Win win;
} raw_run;

static int reps_for(size_t bytes)
{
    return bytes <= 65536 ? 200 : bytes <= (1u << 22) ? 20 : 4;
}

/* rank 0 puts into rank 1's window and flushes (the data is then at the target) */
static void put_flush(void *p)
{
    raw_run *r = p;
    if (r->rank != 0)
        return;
    for (int i = 0; i < r->reps; i++) {
        MPI_Put(r->buf, (int)r->bytes, MPI_BYTE, 1, 0, (int)r->bytes, MPI_BYTE, r->win);
        MPI_Win_flush(1, r->win);
    }
}

typedef struct row {
    const char *kind;
    size_t bytes;
    double sec;
} row;

static const char *raw_name = "two-sided"; /* the raw transfer library rows compare with */

static void emit(FILE *csv, int rank, const char *kind, size_t bytes, double sec, double raw)
{
    if (rank != 0)
        return;
    double gbs = sec > 0 ? (double)bytes / sec / 1e9 : 0;
    printf("%-24s %10zu B  %10.2f us  %8.3f GB/s", kind, bytes, sec * 1e6, gbs);
    if (raw > 0)
        printf("   (raw %s %.2f us: x%.2f)", raw_name, raw * 1e6, sec / raw);
    printf("\n");
    if (csv)
        fprintf(csv, "%s,%zu,%.9e,%.6f\n", kind, bytes, sec, gbs);
}

/* Fit of t = latency + bytes / bandwidth to the raw points, least squares on the relative
 * error (weights 1/t^2): a plain fit is all large messages and says nothing of latency. */
static void fit(const size_t *bytes, const double *sec, int n, double *lat, double *bw)
{
    double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) {
        double x = (double)bytes[i], y = sec[i], w = 1.0 / (y * y);
        sw += w, sx += w * x, sy += w * y, sxx += w * x * x, sxy += w * x * y;
    }
    double slope = (sw * sxy - sx * sy) / (sw * sxx - sx * sx);
    *lat = (sy - slope * sx) / sw;
    *bw = slope > 0 ? 1.0 / slope : 0;
}

static int raw_sizes(size_t max_bytes, size_t *sizes)
{
    int n = 0;
    for (size_t b = 8; b <= max_bytes && n < MAX_SIZES; b *= 8)
        sizes[n++] = b;
    if (n < MAX_SIZES && sizes[n - 1] != max_bytes)
        sizes[n++] = max_bytes;
    return n;
}

static void raw_section(FILE *csv, int rank, size_t max_bytes, double *two_sided,
                        double *put, size_t *sizes, int n)
{
    raw_run r = {NULL, 0, 0, rank, MPI_COMM_WORLD, MPI_WIN_NULL};
    /* a page-aligned window plus a 4 KiB stagger of the origin buffer (msg_roofline.md: two
     * page-aligned buffers at the same offset alias in the caches) */
    MPI_Win_allocate((MPI_Aint)max_bytes, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &r.buf, &r.win);
    char *origin = malloc(max_bytes + 8192);
    memset(origin, 1, max_bytes + 8192);
    memset(r.buf, 0, max_bytes);
    MPI_Win_lock_all(0, r.win);
    for (int i = 0; i < n; i++) {
        r.bytes = sizes[i];
        r.reps = reps_for(sizes[i]);
        char *win_buf = r.buf;
        r.buf = origin + 4096 + 64;
        two_sided[i] = bench_two_sided_one_way(r.buf, r.bytes, r.reps, rank, MPI_COMM_WORLD);
        put[i] = bench_time(put_flush, &r, MPI_COMM_WORLD) / r.reps;
        r.buf = win_buf;
        emit(csv, rank, "raw_two_sided", sizes[i], two_sided[i], 0);
        emit(csv, rank, "raw_one_sided_put", sizes[i], put[i], 0);
    }
    MPI_Win_unlock_all(r.win);
    MPI_Win_free(&r.win);
    free(origin);
    double lat, bw;
    fit(sizes, two_sided, n, &lat, &bw);
    if (rank == 0)
        printf("fit two-sided: latency %.2f us, bandwidth %.2f GB/s\n", lat * 1e6, bw / 1e9);
    if (csv && rank == 0)
        fprintf(csv, "fit_two_sided,0,%.9e,%.6f\n", lat, bw / 1e9);
    fit(sizes, put, n, &lat, &bw);
    if (rank == 0)
        printf("fit one-sided: latency %.2f us, bandwidth %.2f GB/s\n", lat * 1e6, bw / 1e9);
    if (csv && rank == 0)
        fprintf(csv, "fit_one_sided,0,%.9e,%.6f\n", lat, bw / 1e9);
}

/* ---- the library's operations ---- */

typedef struct chain_arg {
    sl_context *ctx;
    sl_darray *v[2];
    int nchains, iterations;
} chain_arg;

/* `iterations` times, per chain: d = <v, v> (tile partials + allreduce), then a task that
 * reads d (v += 0 * d * v) and which the next dot waits for: a dependent round trip. */
static void chains(void *p)
{
    chain_arg *c = p;
    for (int it = 0; it < c->iterations; it++)
        for (int k = 0; k < c->nchains; k++) {
            sl_scalar *d = NULL;
            sl_darray_vdot(c->v[k], c->v[k], &d);
            sl_darray_axpby_scalars(d, 0.0, c->v[k], NULL, 1.0, c->v[k]);
            sl_scalar_destroy(d);
        }
    sl_wait(c->ctx);
}

static double round_trip(sl_context *ctx, int nchains)
{
    size_t n = 64;
    chain_arg c = {ctx, {NULL, NULL}, nchains, 200};
    for (int k = 0; k < 2; k++) {
        sl_darray_create(ctx, SL_F64, 1, &n, SL_SCATTER, 0, NULL, NULL, &c.v[k]);
        sl_darray_fill(c.v[k], 1.0);
    }
    chains(&c);
    double sec = bench_time(chains, &c, MPI_COMM_WORLD) / c.iterations;
    sl_darray_destroy(c.v[0]);
    sl_darray_destroy(c.v[1]);
    return sec;
}

/* ---- a SUMMA panel transfer ---- */

static void fill_ones(size_t row0, size_t col0, size_t rows, size_t cols, void *block, void *user)
{
    (void)row0, (void)col0, (void)user;
    for (size_t i = 0; i < rows * cols; i++)
        ((double *)block)[i] = 1.0;
}

/* One forward of a SUMMA MatrixMult on a 1 x 2 grid, N x 2 kb with one right-hand side: all of
 * Y (and X) lives on rank 0, so rank 1's K-panel of A (N x kb doubles = `bytes`) travels to
 * rank 0, where both panels' products run (N * kb multiply-adds each: microseconds). The time is
 * what the library takes to move one panel and use it. 2 ranks only. */
static double summa_panel_time(sl_context *ctx, size_t bytes)
{
    size_t kb = 128, n = bytes / sizeof(double) / kb;
    sl_summa_opts o = {.grid_p = 1, .grid_q = 2, .mb = n < 512 ? n : 512, .kb = kb, .nb = 1};
    sl_op *op = NULL;
    sl_darray *x = NULL, *y = NULL;
    if (sl_op_matrixmult_summa(ctx, SL_F64, n, 2 * kb, 0, fill_ones, NULL, &o, &op) != SL_OK)
        return 0;
    sl_op_create_model(op, &x);
    sl_op_create_data(op, &y);
    sl_darray_fill(x, 1.0);
    return bench_apply_steady_and_free(ctx, op, x, y);
}

/* The raw two-sided time of the measured size nearest to `bytes` (the halo slabs are sizes
 * the raw sweep measures). */
static double raw_at(const size_t *sizes, const double *sec, int n, size_t bytes)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (llabs((long long)sizes[i] - (long long)bytes) <
            llabs((long long)sizes[best] - (long long)bytes))
            best = i;
    return sec[best];
}

int main(int argc, char **argv)
{
    sl_context *ctx;
    if (sl_init(&argc, &argv, &ctx) != SL_OK) {
        fprintf(stderr, "msg_roofline: %s\n", sl_init_error());
        return 1;
    }
    sl_context_info ci;
    sl_context_get_info(ctx, &ci);
    int rank = ci.rank, size = ci.size;
    const char *csv_path = argc > 1 ? argv[1] : "msg_roofline.csv";
    size_t max_bytes = argc > 2 ? strtoull(argv[2], NULL, 10) : (size_t)64 << 20;
    FILE *csv = rank == 0 ? fopen(csv_path, "w") : NULL;
    if (csv)
        fprintf(csv, "kind,bytes,seconds,gbs\n");
    const char *backend = getenv("STARLOPS_COMM") ? getenv("STARLOPS_COMM") : "mpi";
    size_t sizes[MAX_SIZES];
    double two_sided[MAX_SIZES], one_sided[MAX_SIZES];
    int n = raw_sizes(max_bytes, sizes);
    if (size >= 2)
        raw_section(csv, rank, max_bytes, two_sided, one_sided, sizes, n);
    /* library rows next to the raw transfer their backend makes */
    int rma = strcmp(backend, "rma") == 0;
    const double *raw = rma ? one_sided : two_sided;
    raw_name = rma ? "one-sided put+flush" : "two-sided";
    char kind[64];
    for (size_t inner = 64; inner <= ((size_t)1 << 18); inner *= 8) {
        snprintf(kind, sizeof kind, "lib_halo_%s", backend);
        double sec = bench_halo_time(ctx, size, inner);
        double raw_sec = size >= 2 ? raw_at(sizes, raw, n, inner * 8) : 0;
        emit(csv, rank, kind, inner * 8, sec, raw_sec);
        /* the same stencil along the other axis (no exchange): the difference is the
         * exchange's own cost inside the application */
        double local = bench_halo_time_along(ctx, size, inner, 1);
        snprintf(kind, sizeof kind, "lib_halo_exchange_%s", backend);
        emit(csv, rank, kind, inner * 8, sec > local ? sec - local : 0, raw_sec);
    }
    for (size_t bytes = (size_t)32 << 10; size == 2 && bytes <= ((size_t)2 << 20); bytes *= 8) {
        snprintf(kind, sizeof kind, "lib_summa_panel_%s", backend);
        emit(csv, rank, kind, bytes, summa_panel_time(ctx, bytes), raw_at(sizes, raw, n, bytes));
    }
    double one = round_trip(ctx, 1), two = round_trip(ctx, 2);
    snprintf(kind, sizeof kind, "lib_reduction_%s", backend);
    emit(csv, rank, kind, 16, one, 0);
    snprintf(kind, sizeof kind, "lib_two_reductions_%s", backend);
    emit(csv, rank, kind, 32, two, 0);
    if (rank == 0)
        printf("two independent reductions / one: %.2f (target < 1.5)\n", two / one);
    if (csv)
        fclose(csv);
    sl_finalize(ctx);
    return 0;
}
