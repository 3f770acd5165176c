/* Command-line parsing for `starlops apply|solve`. Flags are named after PyLops parameters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_usage(void)
{
    fprintf(stderr,
            "usage:\n"
            "  starlops apply --op matrixmult --matrix A.npy --in x.npy --out y.npy [--adjoint]\n"
            "  starlops solve --op matrixmult --matrix A.npy --data y.npy --solver cg|cgls|lsqr\n"
            "                 --niter N [--damp D] [--tol T] [--atol A --btol B --conlim C]\n"
            "                 [--show] --out x.npy\n"
            "  (--tol: CG/CGLS stopping threshold; --atol/--btol/--conlim: LSQR's tests)\n"
            "Run under mpirun -np P; every rank reads the input files. Prints one JSON line.\n");
}

static int number(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end != s && *end == '\0';
}

int cli_parse(int argc, char **argv, cli_args *a, char *msg, size_t len)
{
    memset(a, 0, sizeof *a);
    a->niter = -1;
    if (argc < 2 || (strcmp(argv[1], "apply") && strcmp(argv[1], "solve"))) {
        snprintf(msg, len, "the first argument must be 'apply' or 'solve'");
        return 0;
    }
    a->command = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
        if (!strcmp(f, "--adjoint")) { a->adjoint = 1; continue; }
        if (!strcmp(f, "--show")) { a->show = 1; continue; }
        if (!v) { snprintf(msg, len, "%s needs a value", f); return 0; }
        i++;
        if (!strcmp(f, "--op")) a->op = v;
        else if (!strcmp(f, "--matrix")) a->matrix = v;
        else if (!strcmp(f, "--in")) a->in = v;
        else if (!strcmp(f, "--out")) a->out = v;
        else if (!strcmp(f, "--data")) a->data = v;
        else if (!strcmp(f, "--solver")) a->solver = v;
        else if (!strcmp(f, "--niter") && number(v, &d) && d >= 0 && d == (int)d) a->niter = (int)d;
        else if (!strcmp(f, "--damp") && number(v, &d)) a->damp = d;
        else if (!strcmp(f, "--tol") && number(v, &d) && d >= 0) a->tol = d;
        else if (!strcmp(f, "--atol") && number(v, &d) && d >= 0) a->atol = d;
        else if (!strcmp(f, "--btol") && number(v, &d) && d >= 0) a->btol = d;
        else if (!strcmp(f, "--conlim") && number(v, &d) && d >= 0) a->conlim = d;
        else { snprintf(msg, len, "unknown flag or bad value: %s %s", f, v); return 0; }
    }
    const char *missing = !a->op ? "--op" : !a->out ? "--out" : NULL;
    if (!missing && !strcmp(a->command, "apply") && !a->in) missing = "--in";
    if (!missing && !strcmp(a->command, "solve"))
        missing = !a->data ? "--data" : !a->solver ? "--solver" : a->niter < 0 ? "--niter" : NULL;
    if (missing) {
        snprintf(msg, len, "%s %s: missing %s", argv[0], a->command, missing);
        return 0;
    }
    return 1;
}
