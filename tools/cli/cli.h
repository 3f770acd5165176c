/* The starlops command-line tool: shared declarations. */
#ifndef STARLOPS_CLI_H
#define STARLOPS_CLI_H

#include <starlops.h>

typedef struct cli_args {
    const char *command;           /* apply | solve */
    const char *op;                /* operator name */
    const char *matrix, *in, *out, *data;
    const char *solver;            /* cg | cgls | lsqr */
    int adjoint, niter, show;
    double damp, tol, atol, btol, conlim;
} cli_args;

/* Parses argv; on error writes a sentence to msg and returns 0. */
int cli_parse(int argc, char **argv, cli_args *a, char *msg, size_t len);
void cli_usage(void);

/* An operator built from the command line, with its model and data arrays. */
typedef struct cli_problem {
    sl_op *op;
    sl_darray *model, *data;
} cli_problem;

/* Builds the operator named by a->op (collective); every rank reads the files it needs. */
sl_status cli_build_problem(sl_context *ctx, const cli_args *a, cli_problem *p);
void cli_free_problem(cli_problem *p);
/* Operator builders registered in cli_build_problem's table. */
sl_status cli_build_matrixmult(sl_context *ctx, const cli_args *args, cli_problem *p);

/* Records a CLI-level error sentence (shown instead of the library's last error). */
sl_status cli_fail(sl_status st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *cli_error(sl_context *ctx);

/* Collective: SL_OK on every rank, or the first failing rank's status everywhere. */
sl_status cli_agree(sl_context *ctx, sl_status local);

#endif
