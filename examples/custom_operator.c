/* A user-defined operator from a per-rank callback (flavour (a) of issue 3: like subclassing
 * PyLops-MPI's MPILinearOperator): a block-wise causal integration y_i = sum_{j<=i} x_j within
 * each rank's block (scattered model and data), with its exact adjoint (the anti-causal sum).
 * The example checks it with the dot test and inverts it with CGLS.
 * (Flavour (b), per-tile StarPU codelets scheduled like built-in operators, is not available
 * yet.)
 *
 *   mpirun -np 2 custom_operator [n]        exit status 0 iff both checks pass */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <starlops.h>

typedef struct local_info {
    size_t n; /* elements of this rank's block */
} local_info;

/* Called inside a task with this rank's whole blocks (C order, float64 here). */
static void causal_integration(const void *in, void *out, int adjoint, void *user)
{
    const local_info *info = user;
    const double *x = in;
    double *y = out, acc = 0;
    if (!adjoint)
        for (size_t i = 0; i < info->n; i++) y[i] = acc += x[i];
    else
        for (size_t i = info->n; i-- > 0;) y[i] = acc += x[i];
}

int main(int argc, char **argv)
{
    sl_context *ctx;
    if (sl_init(&argc, &argv, &ctx) != SL_OK) {
        fprintf(stderr, "sl_init: %s\n", sl_init_error());
        return 1;
    }
    int rank;
    sl_context_rank(ctx, &rank);
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1001, local;
    sl_darray *x, *y, *x_true;
    sl_op *op;
    int ok = sl_darray_create(ctx, SL_F64, 1, &n, SL_SCATTER, 0, NULL, NULL, &x) == SL_OK;
    sl_darray_local_size(x, &local);
    local_info info = {local};
    ok = ok && sl_op_from_callbacks(x, x, causal_integration, &info, &op) == SL_OK;
    int passed = 0;
    double err = 1;
    ok = ok && sl_dottest(op, 1e-12, &passed, &err) == SL_OK && passed;
    if (rank == 0)
        printf("custom_operator: dot test relative error %.2e %s\n", err, passed ? "ok" : "FAILED");

    sl_op_create_model(op, &x_true);
    sl_op_create_data(op, &y);
    sl_darray_random(x_true, 11);
    sl_op_matvec(op, x_true, y);
    sl_solve_result res;
    ok = ok && sl_cgls(op, y, x, &(sl_solver_opts){.niter = 2000, .tol = 1e-26}, &res) == SL_OK;
    sl_scalar *e, *nrm;
    double ve = 1, vn = 1;
    sl_darray_sub(x, x_true, x);
    sl_darray_norm(x, 2, &e);
    sl_darray_norm(x_true, 2, &nrm);
    sl_scalar_get_real(e, &ve);
    sl_scalar_get_real(nrm, &vn);
    ok = ok && ve / vn < 1e-8;
    if (rank == 0)
        printf("custom_operator: CGLS inverted it in %d iterations, relative error %.2e %s\n",
               res.iterations, ve / vn, ve / vn < 1e-8 ? "ok" : "TOO LARGE");
    sl_scalar_destroy(e);
    sl_scalar_destroy(nrm);
    sl_op_destroy(op);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    sl_darray_destroy(x_true);
    sl_finalize(ctx);
    return ok ? 0 : 1;
}
