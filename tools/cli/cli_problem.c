/* Building the CLI's problem: the operator registry and the `matrixmult` operator (A from
 * --matrix, a 2-D .npy, with a 1D block-row split). Later operator families add a builder and
 * a registry entry. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

sl_status cli_agree(sl_context *ctx, sl_status local)
{
    MPI_Comm comm;
    sl_context_comm(ctx, &comm);
    int mine = (int)local, worst = 0;
    MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, comm);
    return (sl_status)worst;
}

/* Rows of this rank under the balanced split. */
static void my_rows(sl_context *ctx, size_t n, size_t *row0, size_t *rows)
{
    int rank, size;
    sl_context_rank(ctx, &rank);
    sl_context_size(ctx, &size);
    size_t base = n / (size_t)size, extra = n % (size_t)size, r = (size_t)rank;
    *rows = base + (r < extra);
    *row0 = r * base + (r < extra ? r : extra);
}

static sl_status check_matrix(const sl_npy_array *a)
{
    if (a->ndim != 2)
        return cli_fail(SL_ERR_SHAPE, "--matrix must be 2-D, got %d dimensions", a->ndim);
    return SL_OK;
}

sl_status cli_build_matrixmult(sl_context *ctx, const cli_args *args, cli_problem *p)
{
    memset(p, 0, sizeof *p);
    if (!args->matrix)
        return cli_agree(ctx, cli_fail(SL_ERR_ARG, "matrixmult needs --matrix A.npy"));
    /* the vector file fixes the number of right-hand sides */
    const char *vec_path = !strcmp(args->command, "solve") ? args->data : args->in;
    int vec_is_data = !strcmp(args->command, "solve") || args->adjoint;
    sl_npy_array a, v;
    memset(&v, 0, sizeof v);
    sl_status st = sl_npy_read(ctx, args->matrix, &a);
    if (st == SL_OK)
        st = check_matrix(&a);
    if (st == SL_OK)
        st = sl_npy_read(ctx, vec_path, &v);
    size_t n = a.shape[0], k = a.shape[1], rows_expected = vec_is_data ? n : k;
    if (st == SL_OK && v.dtype != a.dtype)
        st = cli_fail(SL_ERR_DTYPE, "%s is %s but the matrix is %s", vec_path,
                         sl_dtype_name(v.dtype), sl_dtype_name(a.dtype));
    if (st == SL_OK && (v.ndim > 2 || v.shape[0] != rows_expected))
        st = cli_fail(SL_ERR_SHAPE, "%s has %zu rows, %zu expected (matrix %zu x %zu)",
                         vec_path, v.shape[0], rows_expected, n, k);
    st = cli_agree(ctx, st);
    size_t nrhs = st == SL_OK && v.ndim == 2 ? v.shape[1] : 0, row0, rows;
    if (st == SL_OK) {
        my_rows(ctx, n, &row0, &rows);
        size_t es = sl_dtype_size(a.dtype);
        st = sl_op_matrixmult(ctx, a.dtype, n, k, nrhs, (char *)a.data + row0 * k * es, NULL,
                              &p->op);
    }
    if (st == SL_OK) st = sl_op_create_model(p->op, &p->model);
    if (st == SL_OK) st = sl_op_create_data(p->op, &p->data);
    if (st == SL_OK)
        st = sl_darray_from_global(vec_is_data ? p->data : p->model, v.data);
    sl_npy_free(&a);
    sl_npy_free(&v);
    if (st != SL_OK)
        cli_free_problem(p);
    return st;
}

/* The operators the CLI knows; each later operator family adds its entry here. */
static const struct {
    const char *name;
    sl_status (*build)(sl_context *ctx, const cli_args *args, cli_problem *p);
} registry[] = {
    {"matrixmult", cli_build_matrixmult},
};

sl_status cli_build_problem(sl_context *ctx, const cli_args *args, cli_problem *p)
{
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (!strcmp(args->op, registry[i].name))
            return registry[i].build(ctx, args, p);
    return cli_agree(ctx, cli_fail(SL_ERR_ARG, "unknown operator '%s' (known: matrixmult)",
                                   args->op));
}

void cli_free_problem(cli_problem *p)
{
    sl_darray_destroy(p->model);
    sl_darray_destroy(p->data);
    sl_op_destroy(p->op);
    memset(p, 0, sizeof *p);
}
