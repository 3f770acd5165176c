/* bench/cgls_matrixmult: time per CGLS iteration on a float64 1D MatrixMult, next to its floor
 * measured in the same run: one dgemv plus one transposed dgemv of each rank's local block
 * with OpenBLAS (all ranks at once), which is what an iteration cannot avoid.
 *
 * kind: row (the 1D MatrixMult, default) or summa (the 2D SUMMA MatrixMult on the grid
 * STARLOPS_GRID or the traffic model picks; same matrix, same floor).
 *
 * Usage: mpirun -np P cgls_matrixmult_bench [N K niter csv kind]   (default 8000 6000 20) */
#include <cblas.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starlops.h>

/* The matrix every kind uses: entry (i, j). */
static double entry(size_t i, size_t j)
{
    return (double)((i * 31 + j * 17) % 97) / 97.0 + (i == j ? 10.0 : 0.0);
}

static void fill_block(size_t row0, size_t col0, size_t rows, size_t cols, void *block,
                       void *user)
{
    (void)user;
    double *b = block;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            b[i * cols + j] = entry(row0 + i, col0 + j);
}

static double floor_seconds(const double *a, size_t rows, size_t k, MPI_Comm comm)
{
    double *x = malloc(k * sizeof(double)), *y = malloc((rows + 1) * sizeof(double));
    for (size_t i = 0; i < k; i++) x[i] = 1.0 / (double)(i + 1);
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        MPI_Barrier(comm);
        double t0 = MPI_Wtime();
        if (rows > 0) {
            cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)rows, (int)k, 1.0, a, (int)k, x, 1,
                        0.0, y, 1);
            cblas_dgemv(CblasRowMajor, CblasTrans, (int)rows, (int)k, 1.0, a, (int)k, y, 1, 0.0,
                        x, 1);
        }
        double dt = MPI_Wtime() - t0, worst;
        MPI_Allreduce(&dt, &worst, 1, MPI_DOUBLE, MPI_MAX, comm);
        best = worst < best ? worst : best;
    }
    free(x);
    free(y);
    return best;
}

int main(int argc, char **argv)
{
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 8000;
    size_t k = argc > 2 ? strtoull(argv[2], NULL, 10) : 6000;
    int niter = argc > 3 ? atoi(argv[3]) : 20;
    const char *csv_path = argc > 4 ? argv[4] : "cgls_matrixmult_bench.csv";
    const char *kind = argc > 5 ? argv[5] : "row";
    int summa = strcmp(kind, "summa") == 0;
    int rank, size;
    MPI_Comm comm = MPI_COMM_WORLD;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    size_t rows = n / (size_t)size + ((size_t)rank < n % (size_t)size);
    size_t row0 = (size_t)rank * (n / (size_t)size) +
                  ((size_t)rank < n % (size_t)size ? (size_t)rank : n % (size_t)size);
    double *a = malloc(rows * k * sizeof(double) + 8);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < k; j++)
            a[i * k + j] = entry(row0 + i, j);

    /* The floor runs before StarPU starts, so no runtime thread competes with it. */
    openblas_set_num_threads(1);
    double floor = floor_seconds(a, rows, k, comm);
    sl_context *ctx;
    if (sl_init_comm(comm, &ctx) != SL_OK) {
        fprintf(stderr, "sl_init_comm: %s\n", sl_init_error());
        MPI_Abort(comm, 1);
    }

    sl_op *op;
    sl_darray *x, *y;
    sl_status st = summa ? sl_op_matrixmult_summa(ctx, SL_F64, n, k, 0, fill_block, NULL, NULL, &op)
                         : sl_op_matrixmult(ctx, SL_F64, n, k, 0, a, NULL, &op);
    if (st != SL_OK) {
        fprintf(stderr, "matrixmult: %s\n", sl_last_error(ctx));
        return 1;
    }
    free(a);
    sl_op_create_model(op, &x);
    sl_op_create_data(op, &y);
    sl_darray_random(y, 7);
    sl_solve_result res;
    sl_cgls(op, y, x, &(sl_solver_opts){.niter = 2, .tol = SL_TOL_NONE}, &res); /* warm-up */
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        sl_wait(ctx);
        MPI_Barrier(comm);
        double t0 = MPI_Wtime();
        sl_cgls(op, y, x, &(sl_solver_opts){.niter = niter, .tol = SL_TOL_NONE}, &res);
        sl_wait(ctx);
        double dt = (MPI_Wtime() - t0) / niter, worst;
        MPI_Allreduce(&dt, &worst, 1, MPI_DOUBLE, MPI_MAX, comm);
        best = worst < best ? worst : best;
    }
    if (rank == 0) {
        const char *backend = getenv("STARLOPS_COMM") ? getenv("STARLOPS_COMM") : "mpi";
        printf("cgls_matrixmult %s (%s): %zu x %zu float64, %d ranks: %.3f ms/iteration, floor "
               "(dgemv + dgemv^T) %.3f ms: %.3fx  (r1norm %.6g after %d its)\n",
               kind, backend, n, k, size, best * 1e3, floor * 1e3, best / floor, res.r1norm,
               res.iterations);
        FILE *csv = fopen(csv_path, "a");
        if (csv) {
            if (ftell(csv) == 0)
                fprintf(csv, "ranks,n,k,seconds_per_iteration,floor_seconds,ratio,kind,backend\n");
            fprintf(csv, "%d,%zu,%zu,%.6e,%.6e,%.4f,%s,%s\n", size, n, k, best, floor,
                    best / floor, kind, backend);
            fclose(csv);
        }
    }
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    sl_op_destroy(op);
    sl_finalize(ctx);
    MPI_Finalize();
    return 0;
}
