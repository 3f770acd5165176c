/* The two ways to write your own operator.
 * (a) A per-rank callback on local blocks (like subclassing PyLops-MPI's MPILinearOperator):
 *     a block-wise causal integration y_i = sum_{j<=i} x_j within each rank's block, with its
 *     exact adjoint (the anti-causal sum). Checked with the dot test and inverted with CGLS.
 * (b) A pair of StarPU codelets applied tile by tile, scheduled like the built-in operators
 *     (add .cuda_funcs to run on GPUs): a weighting y_g = (1 + scale * (g % 3)) x_g by global
 *     index g, checked against its closed form and with the dot test.
 *
 *   mpirun -np 2 custom_operator [n]        exit status 0 iff both checks pass */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <starpu.h> /* only for flavour (b): writing codelets */
#include <starlops.h>

#include "common.h"

/* (b): one tile; cl_arg holds the tile's sl_tile_info, then our double `scale`. */
static void weight_tile_cpu(void *buffers[], void *cl_arg)
{
    sl_tile_info info;
    double scale;
    starpu_codelet_unpack_args(cl_arg, &info, &scale);
    double *y = (double *)STARPU_MATRIX_GET_PTR(buffers[0]);
    const double *x = (const double *)STARPU_MATRIX_GET_PTR(buffers[1]);
    size_t n = STARPU_MATRIX_GET_NX(buffers[0]); /* a 1-d array: one row of nrows elements */
    for (size_t i = 0; i < n; i++)
        y[i] = (1.0 + scale * (double)((info.global_row0 + i) % 3)) * x[i];
}

/* The weighting is real and diagonal: its own adjoint, same codelet both ways. */
static struct starpu_codelet weight_cl = {
    .cpu_funcs = {weight_tile_cpu}, .nbuffers = 2, .modes = {STARPU_W, STARPU_R},
    .name = "user_weight"};

static int check_codelet_operator(sl_context *ctx, sl_darray *x, sl_darray *y, size_t n, int rank)
{
    double scale = 0.5;
    sl_op *op;
    if (sl_op_from_codelets(x, y, &weight_cl, &weight_cl, &scale, sizeof scale, &op) != SL_OK) {
        fprintf(stderr, "sl_op_from_codelets: %s\n", sl_last_error(ctx));
        return 0;
    }
    double *ones = malloc(n * sizeof *ones), *w = malloc(n * sizeof *w), err = 0;
    for (size_t i = 0; i < n; i++) ones[i] = 1;
    sl_darray_from_global(x, ones);
    sl_op_matvec(op, x, y);
    sl_darray_gather(y, SL_ALL_RANKS, w);
    for (size_t g = 0; g < n; g++)
        err = fmax(err, fabs(w[g] - (1.0 + scale * (double)(g % 3))));
    int passed = 0;
    double derr = 1;
    sl_dottest(op, 1e-12, &passed, &derr);
    if (rank == 0)
        printf("custom_operator (codelets): max error %.1e, dot test %.1e %s\n", err, derr,
               err == 0 && passed ? "ok" : "FAILED");
    free(ones);
    free(w);
    sl_op_destroy(op);
    return err == 0 && passed;
}

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
    sl_context *ctx = NULL;
    int rank;
    if (example_start(&argc, &argv, &ctx, &rank, NULL))
        return 1;
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1001;
    sl_darray *x, *y, *x_true;
    sl_op *op;
    int ok = sl_darray_create(ctx, SL_F64, 1, &n, SL_SCATTER, 0, NULL, NULL, &x) == SL_OK;
    sl_darray_info xi = {0};
    ok = ok && sl_darray_get_info(x, &xi) == SL_OK;
    local_info info = {xi.local_size};
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
    ok = check_codelet_operator(ctx, x, y, n, rank) && ok;
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
