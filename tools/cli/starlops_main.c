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

/* Gathers an array to rank 0 and writes it there; the write's status reaches every rank. */
static sl_status write_result(sl_context *ctx, const sl_darray *x, const char *path)
{
    int rank, ndim;
    sl_context_rank(ctx, &rank);
    sl_darray_ndim(x, &ndim);
    size_t shape[SL_MAX_NDIM], n = 1;
    sl_darray_shape(x, shape);
    for (int d = 0; d < ndim; d++) n *= shape[d];
    sl_dtype dt;
    sl_darray_dtype(x, &dt);
    void *buf = rank == 0 ? malloc(n * sl_dtype_size(dt)) : NULL;
    sl_status st = rank == 0 && !buf ? SL_ERR_NOMEM : SL_OK;
    st = cli_agree(ctx, st);
    if (st == SL_OK)
        st = sl_darray_gather(x, 0, buf);
    if (st == SL_OK && rank == 0)
        st = sl_npy_write(ctx, path, dt, ndim, shape, buf);
    free(buf);
    return cli_agree(ctx, st);
}

static sl_status run_apply(sl_context *ctx, const cli_args *a, cli_problem *p, char *json,
                           size_t len)
{
    sl_darray *in = a->adjoint ? p->data : p->model, *out = a->adjoint ? p->model : p->data;
    double t0 = MPI_Wtime();
    sl_status st = a->adjoint ? sl_op_rmatvec(p->op, in, out) : sl_op_matvec(p->op, in, out);
    if (st == SL_OK) st = sl_wait(ctx);
    double sec = MPI_Wtime() - t0;
    if (st == SL_OK) st = write_result(ctx, out, a->out);
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
        st = sl_cgls(p->op, p->data, p->model, &o, &r);
    else if (!strcmp(a->solver, "cg"))
        st = sl_cg(p->op, p->data, p->model, &o, &r);
    else if (!strcmp(a->solver, "lsqr"))
        st = sl_lsqr(p->op, p->data, p->model, &o, &r);
    else
        st = cli_fail(SL_ERR_ARG, "unknown solver '%s' (cg, cgls, lsqr)", a->solver);
    double sec = MPI_Wtime() - t0;
    if (st == SL_OK) st = write_result(ctx, p->model, a->out);
    snprintf(json, len, "{\"command\": \"solve\", \"op\": \"%s\", \"solver\": \"%s\", "
             "\"iterations\": %d, \"istop\": %d, \"r1norm\": %.17g, \"r2norm\": %.17g, "
             "\"seconds\": %.6f", a->op, a->solver, r.iterations, r.istop, r.r1norm, r.r2norm,
             sec);
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
