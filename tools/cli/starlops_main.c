/* starlops: apply an operator to a .npy file or solve an inverse problem, under mpirun.
 * Prints one JSON line on rank 0 at the end; errors go to stderr on every rank that fails. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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

/* Rank and size of the context. */
static sl_context_info context_info(sl_context *ctx)
{
    sl_context_info info;
    sl_context_get_info(ctx, &info);
    return info;
}

/* Part c of x (plain arrays have one part, themselves) and its description. */
static sl_darray *part_of(const sl_darray *x, int c, sl_darray_info *info)
{
    sl_darray *a = NULL;
    sl_darray_stack_part(x, c, &a);
    sl_darray_get_info(a, info);
    return a;
}

/* The file's shape: a plain vector keeps its shape; a stack of equal components gets a leading
 * axis over them (e.g. a 3-d gradient is (3, nz, ny, nx)); other stacks are written flat. */
static int file_shape(const sl_darray *x, size_t *shape)
{
    int n = cli_part_count(x), nd0 = 0, same = 1;
    size_t shape0[SL_MAX_NDIM], total = 0;
    for (int c = 0; c < n; c++) {
        sl_darray_info part;
        part_of(x, c, &part);
        total += part.global_size;
        if (c == 0) {
            nd0 = part.ndim;
            memcpy(shape0, part.shape, sizeof shape0);
        }
        same = same && part.ndim == nd0 &&
               !memcmp(part.shape, shape0, (size_t)nd0 * sizeof(size_t));
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
static sl_status write_matrixmult(sl_context *ctx, const cli_problem *p, const sl_darray *x,
                                  const char *path)
{
    int rank = context_info(ctx).rank;
    int model = x == p->model;
    size_t shape[2] = {model ? p->k : p->n, p->nrhs}, m = p->nrhs ? p->nrhs : 1;
    sl_darray_info info;
    sl_darray *a = part_of(x, 0, &info);
    sl_dtype dt = info.dtype;
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
static sl_status write_result(sl_context *ctx, const cli_problem *p, const sl_darray *x,
                              const char *path)
{
    if (p->matrixmult)
        return write_matrixmult(ctx, p, x, path);
    int rank = context_info(ctx).rank, n = cli_part_count(x);
    size_t shape[SL_MAX_NDIM], total = 1;
    int fnd = file_shape(x, shape);
    for (int d = 0; d < fnd; d++) total *= shape[d];
    sl_darray_info first;
    part_of(x, 0, &first);
    sl_dtype dt = first.dtype;
    char *buf = rank == 0 ? malloc(total * sl_dtype_size(dt) + 1) : NULL;
    sl_status st = cli_agree(ctx, rank == 0 && !buf ? SL_ERR_NOMEM : SL_OK);
    size_t offset = 0;
    for (int c = 0; c < n && st == SL_OK; c++) {
        sl_darray_info part;
        sl_darray *a = part_of(x, c, &part);
        st = sl_darray_gather(a, 0, buf ? buf + offset * sl_dtype_size(dt) : NULL);
        offset += part.global_size;
    }
    if (st == SL_OK && rank == 0)
        st = sl_npy_write(ctx, path, dt, fnd, shape, buf);
    free(buf);
    return cli_agree(ctx, st);
}

/* A JSON number, or null: JSON has no NaN or infinity (a solve that met one reports it). */
static const char *json_real(char *buf, size_t len, double v)
{
    if (isfinite(v))
        snprintf(buf, len, "%.17g", v);
    else
        snprintf(buf, len, "null");
    return buf;
}

static sl_status run_apply(sl_context *ctx, const cli_args *a, cli_problem *p, char *json,
                           size_t len)
{
    sl_darray *in = a->adjoint ? p->data : p->model, *out = a->adjoint ? p->model : p->data;
    double t0 = MPI_Wtime();
    sl_status st = a->adjoint ? sl_op_rmatvec(p->op, in, out) : sl_op_matvec(p->op, in, out);
    if (st == SL_OK) st = sl_wait(ctx);
    double sec = MPI_Wtime() - t0;
    if (st == SL_OK) st = write_result(ctx, p, out, a->out);
    if (st == SL_OK)
        snprintf(json, len, "{\"command\": \"apply\", \"status\": \"ok\", \"op\": \"%s\", "
                 "\"adjoint\": %s, \"seconds\": %.6f", a->op, a->adjoint ? "true" : "false",
                 sec);
    return st;
}

static sl_status solve(const cli_args *a, cli_problem *p, sl_solve_result *r)
{
    sl_solver_opts o = {.niter = a->niter, .tol = a->tol, .damp = a->damp, .show = a->show,
                        .atol = a->atol, .btol = a->btol, .conlim = a->conlim};
    if (!strcmp(a->solver, "cgls"))
        return sl_cgls(p->op, p->data, p->model, &o, r);
    if (!strcmp(a->solver, "cg"))
        return sl_cg(p->op, p->data, p->model, &o, r);
    return sl_lsqr(p->op, p->data, p->model, &o, r); /* cli_parse checked the name */
}

/* A solve that met a NaN or an infinity still reports its result (status "nonfinite"), but
 * writes nothing: x is not a solution. */
static sl_status run_solve(sl_context *ctx, const cli_args *a, cli_problem *p, char *json,
                           size_t len)
{
    sl_solve_result r;
    memset(&r, 0, sizeof r);
    double t0 = MPI_Wtime();
    sl_status st = solve(a, p, &r);
    double sec = MPI_Wtime() - t0;
    if (st == SL_OK) st = write_result(ctx, p, p->model, a->out);
    char r1[32], r2[32];
    if (st == SL_OK || st == SL_ERR_NONFINITE)
        snprintf(json, len, "{\"command\": \"solve\", \"status\": \"%s\", \"op\": \"%s\", "
                 "\"solver\": \"%s\", \"iterations\": %d, \"istop\": %d, \"reason\": \"%s\", "
                 "\"r1norm\": %s, \"r2norm\": %s, \"seconds\": %.6f",
                 st == SL_OK ? "ok" : "nonfinite", a->op, a->solver, r.iterations, r.istop,
                 sl_stop_reason_name(r.reason), json_real(r1, sizeof r1, r.r1norm),
                 json_real(r2, sizeof r2, r.r2norm), sec);
    sl_solve_result_free(&r);
    return st;
}

/* FNV-1a over argv[1..] (NUL-separated). Ranks launched with different command lines would
 * build different operators or run different solvers and wait for each other forever. */
static uint64_t command_hash(int argc, char **argv)
{
    uint64_t h = 14695981039346656037ull;
    for (int i = 1; i < argc; i++)
        for (const char *c = argv[i];; c++) {
            h = (h ^ (unsigned char)*c) * 1099511628211ull;
            if (!*c)
                break;
        }
    return h;
}

/* Every rank's hash is the same iff min(h) == max(h); max(h) is ~min(~h), so one MIN
 * reduction of (h, ~h) gives both. File contents are not compared: they are read later. */
static sl_status agree_command(sl_context *ctx, uint64_t h)
{
    uint64_t mine[2] = {h, ~h}, all[2];
    MPI_Allreduce(mine, all, 2, MPI_UINT64_T, MPI_MIN, context_info(ctx).comm);
    if (all[0] == ~all[1])
        return SL_OK;
    return cli_fail(SL_ERR_RANK_MISMATCH, "ranks were given different command lines (every "
                    "rank must run the same starlops command)");
}

/* The directory part of path ("." when none). */
static void dir_of(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, len, ".");
    else if (slash == path)
        snprintf(dir, len, "/");
    else
        snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

/* --out is replaced by a rename (npy.c writes atomically), which ignores the old file's
 * permissions, and root passes every access() test: refuse a target its owner may not write,
 * or that is not a regular file, or a missing directory, before any work (npy.c refuses the
 * first two again at write time). Rank 0 writes, so rank 0 checks; the verdict is agreed. */
static sl_status output_problem(const char *path)
{
    struct stat s;
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    if (stat(path, &s) == 0 && !S_ISREG(s.st_mode))
        return cli_fail(SL_ERR_ARG, "--out %s exists and is not a regular file", path);
    if (stat(path, &s) == 0 && !(s.st_mode & S_IWUSR))
        return cli_fail(SL_ERR_ARG, "--out %s is read-only (its owner has no write "
                        "permission): not replaced", path);
    if (stat(dir, &s) != 0 || !S_ISDIR(s.st_mode))
        return cli_fail(SL_ERR_ARG, "--out %s: the directory %s does not exist", path, dir);
    return SL_OK;
}

static sl_status check_output(sl_context *ctx, const char *path)
{
    return cli_agree(ctx, context_info(ctx).rank == 0 ? output_problem(path) : SL_OK);
}

/* Rank 0 prints the JSON line (also for a non-finite solve, whose line says so); every rank
 * that fails says why on stderr. */
static int report(sl_context *ctx, sl_status st, const char *json)
{
    sl_context_info info = context_info(ctx);
    int rank = info.rank, size = info.size;
    if (rank == 0 && json[0])
        printf("%s, \"ranks\": %d}\n", json, size);
    fflush(stdout);
    if (st != SL_OK)
        fprintf(stderr, "starlops: rank %d: %s: %s\n", rank, sl_strerror(st), cli_error(ctx));
    return st == SL_OK ? 0 : 1;
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
    uint64_t hash = command_hash(argc, argv); /* before sl_init, which may edit argv */
    sl_context *ctx;
    if (sl_init(&argc, &argv, &ctx) != SL_OK) {
        fprintf(stderr, "starlops: cannot start: %s\n", sl_init_error());
        return 1;
    }
    cli_problem p;
    memset(&p, 0, sizeof p);
    char json[1024] = "";
    sl_status st = agree_command(ctx, hash);
    if (st == SL_OK)
        st = check_output(ctx, a.out);
    if (st == SL_OK)
        st = cli_build_problem(ctx, &a, &p);
    if (st == SL_OK)
        st = !strcmp(a.command, "apply") ? run_apply(ctx, &a, &p, json, sizeof json)
                                         : run_solve(ctx, &a, &p, json, sizeof json);
    int rc = report(ctx, st, json);
    cli_free_problem(&p);
    sl_finalize(ctx);
    return rc;
}
