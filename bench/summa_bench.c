/* bench/summa: Gflop/s of the float64 MatrixMult forward (Y = A X) and adjoint (X = A^T Y)
 * with M right-hand sides, 1D row split vs 2D SUMMA on every P x Q grid, next to ceilings
 * measured in the same run before StarPU starts:
 *   - dgemm1: one process running cblas_dgemm of the whole product (one core, like one
 *     StarPU worker);
 *   - ceiling: every rank running its own dgemm of its 1/P share at once (no communication);
 *   - pdgemm: ScaLAPACK's SUMMA (PDGEMM) on the same grid and tiles, the reference.
 * Bytes: what each rank submitted to the communication layer per forward + adjoint (max over
 * ranks), next to the model (1D: the adjoint's allreduce of K x M; 2D:
 * sl_matrixmult_summa_volume).
 *
 * Usage: mpirun -np P summa_bench N K M [reps csv]   (CSV rows appended) */
#include <cblas.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starlops.h>

#include "bench_common.h"

/* ScaLAPACK / BLACS (Debian libscalapack-openmpi-dev), Fortran and C BLACS interfaces. */
void Cblacs_get(int ctxt, int what, int *val);
void Cblacs_gridinit(int *ctxt, const char *order, int nprow, int npcol);
void Cblacs_gridexit(int ctxt);
int numroc_(const int *n, const int *nb, const int *iproc, const int *isrcproc,
            const int *nprocs);
void descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb,
               const int *irsrc, const int *icsrc, const int *ictxt, const int *lld, int *info);
void pdgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k,
             const double *alpha, const double *a, const int *ia, const int *ja,
             const int *desca, const double *b, const int *ib, const int *jb, const int *descb,
             const double *beta, double *c, const int *ic, const int *jc, const int *descc);

typedef struct bench {
    size_t n, k, m;
    int reps, rank, size;
    MPI_Comm comm;
    FILE *csv;
} bench;

/* Median over reps of fn(arg), all ranks in step (the slowest rank counts). */
static double median_time(const bench *b, void (*fn)(void *), void *arg)
{
    double t[16];
    int reps = b->reps < 16 ? b->reps : 16;
    for (int r = 0; r < reps; r++) {
        MPI_Barrier(b->comm);
        double t0 = MPI_Wtime();
        fn(arg);
        double dt = MPI_Wtime() - t0;
        MPI_Allreduce(&dt, &t[r], 1, MPI_DOUBLE, MPI_MAX, b->comm);
    }
    qsort(t, (size_t)reps, sizeof t[0], bench_cmp_double);
    return t[reps / 2];
}

static double flops(const bench *b)
{
    return 2.0 * (double)b->n * (double)b->k * (double)b->m;
}

static void row(const bench *b, const char *kind, int p, int q, const char *dir, double sec,
                double bytes, double model)
{
    if (b->rank != 0)
        return;
    double gf = flops(b) / sec / 1e9;
    printf("%-8s %dx%-2d %-3s %9.4f s %8.2f Gflop/s", kind, p, q, dir, sec, gf);
    if (bytes >= 0)
        printf("   %10.3g B/rank (model %.3g)", bytes, model);
    printf("\n");
    fprintf(b->csv, "%d,%zu,%zu,%zu,%s,%d,%d,%s,%.6f,%.4f,%.0f,%.0f\n", b->size, b->n, b->k,
            b->m, kind, p, q, dir, sec, gf, bytes, model);
}

static double *random_matrix(size_t count, unsigned seed)
{
    double *v = malloc(count * sizeof(double) + 8);
    for (size_t i = 0; i < count; i++)
        v[i] = (double)((i * 2654435761u + seed) % 1000) / 1000.0 - 0.5;
    return v;
}

/* --- ceilings ------------------------------------------------------------------------ */
typedef struct gemm_arg {
    size_t rows, k, m;
    double *a, *x, *y;
    int active;
} gemm_arg;

static void run_gemm(void *p)
{
    gemm_arg *g = p;
    if (g->active && g->rows > 0)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)g->rows, (int)g->m,
                    (int)g->k, 1.0, g->a, (int)g->k, g->x, (int)g->m, 0.0, g->y, (int)g->m);
}

static void ceilings(const bench *b)
{
    /* dgemm1: rank 0 alone (the others wait at the barrier, idle). */
    size_t rows = b->n / (size_t)b->size + ((size_t)b->rank < b->n % (size_t)b->size);
    gemm_arg g = {b->rank == 0 ? b->n : rows, b->k, b->m, NULL, NULL, NULL, b->rank == 0};
    g.a = random_matrix(g.rows * b->k, 1);
    g.x = random_matrix(b->k * b->m, 2);
    g.y = malloc(g.rows * b->m * sizeof(double) + 8);
    row(b, "dgemm1", 1, 1, "fwd", median_time(b, run_gemm, &g), -1, 0);
    g.rows = rows; /* ceiling: every rank its share at once */
    g.active = 1;
    row(b, "ceiling", b->size, 1, "fwd", median_time(b, run_gemm, &g), -1, 0);
    free(g.a);
    free(g.x);
    free(g.y);
}

/* --- ScaLAPACK ----------------------------------------------------------------------- */
typedef struct pd_arg {
    char ta;
    int m, n, k;
    double *a, *b, *c;
    int desca[9], descb[9], descc[9];
} pd_arg;

static void run_pdgemm(void *p)
{
    pd_arg *d = p;
    const double one = 1.0, zero = 0.0;
    const int i1 = 1;
    pdgemm_(&d->ta, "N", &d->m, &d->n, &d->k, &one, d->a, &i1, &i1, d->desca, d->b, &i1, &i1,
            d->descb, &zero, d->c, &i1, &i1, d->descc);
}

/* A distributed column-major rows x cols matrix in rb x cb blocks on the BLACS grid. */
static double *pd_matrix(int ctxt, int rows, int cols, int rb, int cb, int pr, int pc, int p,
                         int q, int *desc)
{
    const int zero = 0;
    int lr = numroc_(&rows, &rb, &pr, &zero, &p), lc = numroc_(&cols, &cb, &pc, &zero, &q);
    int lld = lr > 1 ? lr : 1, info;
    descinit_(desc, &rows, &cols, &rb, &cb, &zero, &zero, &ctxt, &lld, &info);
    return random_matrix((size_t)lld * (size_t)(lc > 0 ? lc : 1), 3);
}

static void scalapack(const bench *b, int p, int q, int mb, int kb, int nb)
{
    int ctxt;
    Cblacs_get(-1, 0, &ctxt);
    Cblacs_gridinit(&ctxt, "Row", p, q);
    int pr = b->rank / q, pc = b->rank % q, n = (int)b->n, k = (int)b->k, m = (int)b->m;
    pd_arg f = {'N', n, m, k, NULL, NULL, NULL, {0}, {0}, {0}};
    f.a = pd_matrix(ctxt, n, k, mb, kb, pr, pc, p, q, f.desca);
    f.b = pd_matrix(ctxt, k, m, kb, nb, pr, pc, p, q, f.descb);
    f.c = pd_matrix(ctxt, n, m, mb, nb, pr, pc, p, q, f.descc);
    row(b, "pdgemm", p, q, "fwd", median_time(b, run_pdgemm, &f), -1, 0);
    pd_arg t = f; /* adjoint: X (K x M, in B's place) = A^T Y (Y in C's place) */
    t.ta = 'T';
    t.m = k;
    t.n = m;
    t.k = n;
    t.b = f.c;
    memcpy(t.descb, f.descc, sizeof t.descb);
    t.c = f.b;
    memcpy(t.descc, f.descb, sizeof t.descc);
    row(b, "pdgemm", p, q, "adj", median_time(b, run_pdgemm, &t), -1, 0);
    free(f.a);
    free(f.b);
    free(f.c);
    Cblacs_gridexit(ctxt);
}

/* --- starlops ------------------------------------------------------------------------ */
typedef struct op_arg {
    sl_context *ctx;
    sl_op *op;
    sl_darray *x, *y;
    int adjoint;
} op_arg;

static void run_op(void *p)
{
    op_arg *o = p;
    if (o->adjoint)
        sl_op_rmatvec(o->op, o->y, o->x);
    else
        sl_op_matvec(o->op, o->x, o->y);
    sl_wait(o->ctx);
}

static double traffic(sl_context *ctx, const bench *b)
{
    sl_context_info ci;
    sl_context_get_info(ctx, &ci);
    uint64_t s = ci.bytes_sent, r = ci.bytes_received;
    double mine = (double)(s > r ? s : r), worst;
    MPI_Allreduce(&mine, &worst, 1, MPI_DOUBLE, MPI_MAX, b->comm);
    return worst;
}

static void time_op(const bench *b, sl_context *ctx, sl_op *op, const char *kind, int p, int q,
                    double model_bytes)
{
    op_arg o = {ctx, op, NULL, NULL, 0};
    sl_op_create_model(op, &o.x);
    sl_op_create_data(op, &o.y);
    sl_darray_random(o.x, 5);
    sl_darray_random(o.y, 6);
    run_op(&o); /* warm-up: first touch, calibration of the history models */
    o.adjoint = 1;
    run_op(&o);
    double before = traffic(ctx, b);
    o.adjoint = 0;
    run_op(&o);
    o.adjoint = 1;
    run_op(&o);
    double bytes = traffic(ctx, b) - before;
    o.adjoint = 0;
    row(b, kind, p, q, "fwd", median_time(b, run_op, &o), bytes, model_bytes);
    o.adjoint = 1;
    row(b, kind, p, q, "adj", median_time(b, run_op, &o), bytes, model_bytes);
    sl_darray_destroy(o.x);
    sl_darray_destroy(o.y);
}

static void fill_a(size_t row0, size_t col0, size_t rows, size_t cols, void *block, void *user)
{
    (void)user;
    double *a = block;
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            a[r * cols + c] = (double)(((row0 + r) * 31 + (col0 + c) * 17) % 97) / 97.0;
}

static void starlops_runs(const bench *b, sl_context *ctx, size_t tiles[][3])
{
    size_t rows = b->n / (size_t)b->size + ((size_t)b->rank < b->n % (size_t)b->size);
    size_t row0 = (size_t)b->rank * (b->n / (size_t)b->size) +
                  ((size_t)b->rank < b->n % (size_t)b->size ? (size_t)b->rank
                                                             : b->n % (size_t)b->size);
    double *a = malloc(rows * b->k * sizeof(double) + 8);
    fill_a(row0, 0, rows, b->k, a, NULL);
    sl_op *op = NULL;
    if (sl_op_matrixmult(ctx, SL_F64, b->n, b->k, b->m, a, NULL, &op) == SL_OK)
        time_op(b, ctx, op, "1d", b->size, 1,
                b->size > 1 ? 8.0 * (double)b->k * (double)b->m : 0);
    sl_op_destroy(op);
    free(a);
    for (int p = 1; p <= b->size && p <= 64; p++) {
        if (b->size % p)
            continue;
        sl_summa_opts o = {p, b->size / p, 0, 0, 0, 0, b->rank == 0};
        int gp, gq;
        if (sl_op_matrixmult_summa(ctx, SL_F64, b->n, b->k, b->m, fill_a, NULL, &o, &op) == SL_OK &&
            sl_matrixmult_summa_info(op, &gp, &gq, &tiles[p][0], &tiles[p][1], &tiles[p][2]) ==
                SL_OK)
            time_op(b, ctx, op, "summa", p, b->size / p,
                    8.0 * sl_matrixmult_summa_volume(b->n, b->k, b->m, p, b->size / p));
        else if (b->rank == 0)
            fprintf(stderr, "summa %dx%d: %s\n", p, b->size / p, sl_last_error(ctx));
        sl_op_destroy(op);
    }
}

int main(int argc, char **argv)
{
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    bench b = {0};
    b.comm = MPI_COMM_WORLD;
    MPI_Comm_rank(b.comm, &b.rank);
    MPI_Comm_size(b.comm, &b.size);
    if (argc < 4) {
        if (b.rank == 0)
            fprintf(stderr, "usage: summa_bench N K M [reps csv]\n");
        MPI_Finalize();
        return 2;
    }
    b.n = strtoull(argv[1], NULL, 10);
    b.k = strtoull(argv[2], NULL, 10);
    b.m = strtoull(argv[3], NULL, 10);
    b.reps = argc > 4 ? atoi(argv[4]) : 3;
    const char *csv_path = argc > 5 ? argv[5] : "summa_bench.csv";
    if (b.rank == 0) {
        FILE *probe = fopen(csv_path, "r");
        b.csv = fopen(csv_path, "a");
        if (!probe)
            fprintf(b.csv, "ranks,n,k,m,kind,p,q,dir,seconds,gflops,bytes_per_rank,"
                           "model_bytes\n");
        else
            fclose(probe);
        printf("MatrixMult float64 %zu x %zu, %zu right-hand sides, %d rank(s), median of %d\n",
               b.n, b.k, b.m, b.size, b.reps);
    }
    /* The ceilings before StarPU starts, ScaLAPACK after it has stopped: no runtime thread
     * competes with them. PDGEMM uses the tiles SUMMA chose on each grid. */
    openblas_set_num_threads(1);
    ceilings(&b);
    sl_context *ctx = NULL;
    if (sl_init_comm(b.comm, &ctx) != SL_OK) {
        fprintf(stderr, "sl_init_comm: %s\n", sl_init_error());
        MPI_Abort(b.comm, 1);
    }
    size_t tiles[65][3] = {{0}};
    starlops_runs(&b, ctx, tiles);
    sl_finalize(ctx);
    for (int p = 1; p <= b.size && p <= 64; p++)
        if (b.size % p == 0 && tiles[p][0])
            scalapack(&b, p, b.size / p, (int)tiles[p][0], (int)tiles[p][1], (int)tiles[p][2]);
    if (b.rank == 0)
        fclose(b.csv);
    MPI_Finalize();
    return 0;
}
