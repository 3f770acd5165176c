/* Fully distributed inversion with a block-diagonal operator (PyLops-MPI's MPIBlockDiag):
 * each rank owns a dense block G_r (rows_r x cols_r) acting on its own part of the model, the
 * model and the data are both scattered. Data y = G m_true; CGLS recovers m_true.
 *
 *   mpirun -np 2 blockdiag_cgls [cols_per_rank]
 * Exit status 0 iff the relative model error is below 1e-8. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <starlops.h>

#include "common.h"

typedef struct block {
    size_t rows, cols;
    double *g; /* row-major */
} block;

/* out = G in (or G^T in): the rank's local block, called inside a task */
static void apply_block(const void *in, void *out, int adjoint, void *user)
{
    const block *b = user;
    const double *x = in;
    double *y = out;
    size_t nout = adjoint ? b->cols : b->rows, nin = adjoint ? b->rows : b->cols;
    for (size_t i = 0; i < nout; i++) {
        double s = 0;
        for (size_t j = 0; j < nin; j++)
            s += (adjoint ? b->g[j * b->cols + i] : b->g[i * b->cols + j]) * x[j];
        y[i] = s;
    }
}

int main(int argc, char **argv)
{
    sl_context *ctx = NULL;
    int rank, size;
    if (example_start(&argc, &argv, &ctx, &rank, &size))
        return 1;
    size_t cols = argc > 1 ? strtoull(argv[1], NULL, 10) : 60;
    /* uneven blocks: rank r has cols + r model samples and 2 (cols + r) data samples */
    size_t mr[256], dr[256], nm = 0, nd = 0;
    for (int r = 0; r < size && r < 256; r++) {
        mr[r] = cols + (size_t)r;
        dr[r] = 2 * mr[r];
        nm += mr[r];
        nd += dr[r];
    }
    block b = {dr[rank], mr[rank], malloc(dr[rank] * mr[rank] * sizeof(double))};
    for (size_t i = 0; i < b.rows; i++)
        for (size_t j = 0; j < b.cols; j++)
            b.g[i * b.cols + j] = sin(0.1 * (double)(i * 7 + j * 3 + (size_t)rank)) +
                                  (i == j ? 4.0 : 0.0);

    sl_darray *m_true, *d, *m;
    sl_op *op;
    TRY(sl_darray_create(ctx, SL_F64, 1, &nm, SL_SCATTER, 0, mr, NULL, &m_true));
    TRY(sl_darray_create(ctx, SL_F64, 1, &nd, SL_SCATTER, 0, dr, NULL, &d));
    TRY(sl_op_from_callbacks(m_true, d, apply_block, &b, &op));
    TRY(sl_op_create_model(op, &m));
    TRY(sl_darray_random(m_true, 2026));
    TRY(sl_op_matvec(op, m_true, d));

    sl_solve_result res;
    TRY(sl_cgls(op, d, m, &(sl_solver_opts){.niter = 200, .tol = 1e-24, .show = 0}, &res));
    sl_scalar *e, *n;
    double err, norm;
    TRY(sl_darray_sub(m, m_true, m));
    TRY(sl_darray_norm(m, 2, &e));
    TRY(sl_darray_norm(m_true, 2, &n));
    TRY(sl_scalar_get_real(e, &err));
    TRY(sl_scalar_get_real(n, &norm));
    int ok = err / norm < 1e-8;
    if (rank == 0)
        printf("blockdiag_cgls: %zu model / %zu data samples on %d ranks: %d CGLS iterations "
               "(istop %d), r1norm %.3e, relative model error %.3e %s\n",
               nm, nd, size, res.iterations, res.istop, res.r1norm, err / norm,
               ok ? "(ok)" : "(TOO LARGE)");
    sl_scalar_destroy(e);
    sl_scalar_destroy(n);
    sl_op_destroy(op);
    sl_darray_destroy(m);
    sl_darray_destroy(d);
    sl_darray_destroy(m_true);
    free(b.g);
    sl_finalize(ctx);
    return ok ? 0 : 1;
}
