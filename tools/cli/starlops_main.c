/* starlops: apply an operator to a .npy file or solve an inverse problem, under mpirun.
 * Prints one JSON line on rank 0 at the end; errors go to stderr on every rank that fails. */
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static char cli_message[512];

sl_status cli_fail(sl_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cli_message, sizeof cli_message, fmt, ap);
    va_end(ap);
    return st;
}

const char *cli_error(sl_context *ctx)
{
    return cli_message[0] ? cli_message : sl_last_error(ctx);
}

/* Elements of one array. */
static size_t count_of(const sl_darray *x, int *ndim, size_t *shape)
{
    size_t n = 1;
    sl_darray_ndim(x, ndim);
    sl_darray_shape(x, shape);
    for (int d = 0; d < *ndim; d++) n *= shape[d];
    return n;
}

/* The file's shape: a plain vector keeps its shape; a stack of equal components gets a leading
 * axis over them (e.g. a 3-d gradient is (3, nz, ny, nx)); other stacks are written flat. */
static int file_shape(const sl_stacked *x, size_t *shape)
{
    int n = 0, nd0 = 0, same = 1;
    size_t shape0[SL_MAX_NDIM], total = 0;
    sl_stacked_count(x, &n);
    for (int c = 0; c < n; c++) {
        sl_darray *a = NULL;
        int nd = 0;
        size_t sh[SL_MAX_NDIM];
        sl_stacked_get(x, c, &a);
        total += count_of(a, &nd, sh);
        if (c == 0) {
            nd0 = nd;
            memcpy(shape0, sh, sizeof sh);
        }
        same = same && nd == nd0 && !memcmp(sh, shape0, (size_t)nd * sizeof(size_t));
    }
    if (n == 1) {
        memcpy(shape, shape0, sizeof shape0);
        return nd0;
    }
    if (same && nd0 < SL_MAX_NDIM) {
        shape[0] = (size_t)n;
        memcpy(shape + 1, shape0, (size_t)nd0 * sizeof(size_t));
        return nd0 + 1;
    }
    shape[0] = total;
    return 1;
}

/* A MatrixMult's model or data as the natural (rows, nrhs) matrix, written by rank 0. */
static sl_status write_matrixmult(sl_context *ctx, const cli_problem *p, const sl_stacked *x,
                                  const char *path)
{
    int rank;
    sl_context_rank(ctx, &rank);
    int model = x == p->model;
    size_t shape[2] = {model ? p->k : p->n, p->nrhs}, m = p->nrhs ? p->nrhs : 1;
    sl_darray *a = NULL;
    sl_dtype dt;
    sl_stacked_get(x, 0, &a);
    sl_darray_dtype(a, &dt);
    char *buf = rank == 0 ? malloc(shape[0] * m * sl_dtype_size(dt) + 1) : NULL;
    sl_status st = cli_agree(ctx, rank == 0 && !buf ? SL_ERR_NOMEM : SL_OK);
    if (st == SL_OK)
        st = sl_matrixmult_gather(p->op, model ? SL_SIDE_MODEL : SL_SIDE_DATA, a, 0, buf);
    if (st == SL_OK && rank == 0)
        st = sl_npy_write(ctx, path, dt, p->nrhs ? 2 : 1, shape, buf);
    free(buf);
    return cli_agree(ctx, st);
}

/* Gathers a vector to rank 0 and writes it there; the write's status reaches every rank. */
static sl_status write_result(sl_context *ctx, const cli_problem *p, const sl_stacked *x,
                              const char *path)
{
    if (p->matrixmult)
        return write_matrixmult(ctx, p, x, path);
    int rank, n = 0, nd;
    sl_context_rank(ctx, &rank);
    sl_stacked_count(x, &n);
    size_t shape[SL_MAX_NDIM], total = 1;
    int fnd = file_shape(x, shape);
    for (int d = 0; d < fnd; d++) total *= shape[d];
    sl_darray *first = NULL;
    sl_stacked_get(x, 0, &first);
    sl_dtype dt;
    sl_darray_dtype(first, &dt);
    char *buf = rank == 0 ? malloc(total * sl_dtype_size(dt) + 1) : NULL;
    sl_status st = cli_agree(ctx, rank == 0 && !buf ? SL_ERR_NOMEM : SL_OK);
    size_t offset = 0;
    for (int c = 0; c < n && st == SL_OK; c++) {
        sl_darray *a = NULL;
        size_t sh[SL_MAX_NDIM];
        sl_stacked_get(x, c, &a);
        size_t k = count_of(a, &nd, sh);
        st = sl_darray_gather(a, 0, buf ? buf + offset * sl_dtype_size(dt) : NULL);
        offset += k;
    }
    if (st == SL_OK && rank == 0)
        st = sl_npy_write(ctx, path, dt, fnd, shape, buf);
    free(buf);
    return cli_agree(ctx, st);
}

static sl_status run_apply(sl_context *ctx, const cli_args *a, cli_problem *p, char *json,
                           size_t len)
{
    sl_stacked *in = a->adjoint ? p->data : p->model, *out = a->adjoint ? p->model : p->data;
    double t0 = MPI_Wtime();
    sl_status st = a->adjoint ? sl_op_rmatvec_stacked(p->op, in, out)
                              : sl_op_matvec_stacked(p->op, in, out);
    if (st == SL_OK) st = sl_wait(ctx);
    double sec = MPI_Wtime() - t0;
    if (st == SL_OK) st = write_result(ctx, p, out, a->out);
    snprintf(json, len, "{\"command\": \"apply\", \"op\": \"%s\", \"adjoint\": %s, "
             "\"seconds\": %.6f", a->op, a->adjoint ? "true" : "false", sec);
    return st;
}

static sl_status run_solve(sl_context *ctx, const cli_args *a, cli_problem *p, char *json,
                           size_t len)
{
    sl_solver_opts o = {.niter = a->niter, .tol = a->tol, .damp = a->damp, .show = a->show,
                        .atol = a->atol, .btol = a->btol, .conlim = a->conlim};
    sl_solve_result r;
    memset(&r, 0, sizeof r);
    double t0 = MPI_Wtime();
    sl_status st;
    if (!strcmp(a->solver, "cgls"))
        st = sl_cgls_stacked(p->op, p->data, p->model, &o, &r);
    else if (!strcmp(a->solver, "cg"))
        st = sl_cg_stacked(p->op, p->data, p->model, &o, &r);
    else if (!strcmp(a->solver, "lsqr"))
        st = sl_lsqr_stacked(p->op, p->data, p->model, &o, &r);
    else
        st = cli_fail(SL_ERR_ARG, "unknown solver '%s' (cg, cgls, lsqr)", a->solver);
    double sec = MPI_Wtime() - t0;
    if (st == SL_OK) st = write_result(ctx, p, p->model, a->out);
    snprintf(json, len, "{\"command\": \"solve\", \"op\": \"%s\", \"solver\": \"%s\", "
             "\"iterations\": %d, \"istop\": %d, \"r1norm\": %.17g, \"r2norm\": %.17g, "
             "\"seconds\": %.6f", a->op, a->solver, r.iterations, r.istop, r.r1norm, r.r2norm,
             sec);
    sl_solve_result_free(&r);
    return st;
}

int main(int argc, char **argv)
{
    cli_args a;
    char msg[512];
    if (!cli_parse(argc, argv, &a, msg, sizeof msg)) {
        fprintf(stderr, "starlops: %s\n", msg);
        cli_usage();
        return 2;
    }
    sl_context *ctx;
    if (sl_init(&argc, &argv, &ctx) != SL_OK) {
        fprintf(stderr, "starlops: cannot start: %s\n", sl_init_error());
        return 1;
    }
    int rank, size;
    sl_context_rank(ctx, &rank);
    sl_context_size(ctx, &size);
    cli_problem p;
    char json[1024] = "";
    sl_status st = cli_build_problem(ctx, &a, &p);
    if (st == SL_OK)
        st = !strcmp(a.command, "apply") ? run_apply(ctx, &a, &p, json, sizeof json)
                                         : run_solve(ctx, &a, &p, json, sizeof json);
    if (st != SL_OK)
        fprintf(stderr, "starlops: rank %d: %s: %s\n", rank, sl_strerror(st), cli_error(ctx));
    else if (rank == 0)
        printf("%s, \"ranks\": %d}\n", json, size);
    cli_free_problem(&p);
    sl_finalize(ctx);
    return st == SL_OK ? 0 : 1;
}
