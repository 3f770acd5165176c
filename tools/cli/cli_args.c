/* Command-line parsing for `starlops apply|solve`. Flags are named after PyLops parameters. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_usage(void)
{
    fprintf(stderr,
            "usage:\n"
            "  starlops apply --op matrixmult --matrix A.npy --in x.npy --out y.npy [--adjoint]\n"
            "                 [--kind row|summa] [--nrhs M]\n"
            "  (summa: 2D block-cyclic SUMMA, grid from STARLOPS_GRID or the traffic model;\n"
            "   --nrhs M: the vector file holds M right-hand sides, as (rows, M) or flat)\n"
            "  starlops solve --op matrixmult --matrix A.npy --data y.npy --solver cg|cgls|lsqr\n"
            "                 --niter N [--damp D] [--tol T] [--atol A --btol B --conlim C]\n"
            "                 [--show] --out x.npy\n"
            "  (--tol: CG/CGLS stopping threshold; --atol/--btol/--conlim: LSQR's tests)\n"
            "Stencil operators (arrays of --dims, split along --split-axis):\n"
            "  --op firstderivative|secondderivative --dims 64,64,64 [--axis -1]\n"
            "       [--kind centered|forward|backward] [--order 3|5] [--edge] [--sampling 0.5]\n"
            "  --op laplacian --dims ... [--axes -2,-1] [--weights 1,1] [--sampling 1,1] [--edge]\n"
            "  --op gradient --dims ... [--sampling s0,s1,...] [--edge] (data: ndim stacked)\n"
            "  --op convolve --dims ... --wavelet h.npy [--axis -1] [--offset len(h)/2]\n"
            "  --op poststack --dims nt,nx,ny --wavelet w.npy [--axis 0 (time)]\n"
            "Run under mpirun -np P; every rank reads the input files. Prints one JSON line.\n");
}

/* "a,b,c" into up to SL_MAX_NDIM doubles; returns the count, 0 on a malformed list. */
static int number_list(const char *s, double *out)
{
    int n = 0;
    const char *p = s;
    while (*p && n < SL_MAX_NDIM) {
        char *end;
        out[n++] = strtod(p, &end);
        if (end == p || (*end != ',' && *end != '\0'))
            return 0;
        p = *end == ',' ? end + 1 : end;
        if (*end == ',' && !*p)
            return 0;
    }
    return *p ? 0 : n;
}

static int number(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end != s && *end == '\0';
}

/* A list of integers (positive ones when positive is set). */
static int int_list(const char *s, int positive, double *list, int *count)
{
    int n = number_list(s, list);
    for (int k = 0; k < n; k++)
        if (list[k] != (long)list[k] || (positive && list[k] < 1) || fabs(list[k]) > 1e12)
            return 0;
    *count = n;
    return n > 0;
}

int cli_parse(int argc, char **argv, cli_args *a, char *msg, size_t len)
{
    memset(a, 0, sizeof *a);
    a->niter = -1;
    a->axis = a->split_axis = CLI_DEFAULT_AXIS;
    a->order = 3;
    a->offset = -1;
    a->nrhs = -1;
    if (argc < 2 || (strcmp(argv[1], "apply") && strcmp(argv[1], "solve"))) {
        snprintf(msg, len, "the first argument must be 'apply' or 'solve'");
        return 0;
    }
    a->command = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d, list[SL_MAX_NDIM];
        if (!strcmp(f, "--adjoint")) { a->adjoint = 1; continue; }
        if (!strcmp(f, "--show")) { a->show = 1; continue; }
        if (!strcmp(f, "--edge")) { a->edge = 1; continue; }
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
        else if (!strcmp(f, "--kind")) a->kind = v;
        else if (!strcmp(f, "--wavelet")) a->wavelet = v;
        else if (!strcmp(f, "--order") && number(v, &d) && d == (int)d) a->order = (int)d;
        else if (!strcmp(f, "--axis") && number(v, &d) && d == (int)d && fabs(d) < 64) a->axis = (int)d;
        else if (!strcmp(f, "--split-axis") && number(v, &d) && d == (int)d && fabs(d) < 64)
            a->split_axis = (int)d;
        else if (!strcmp(f, "--nrhs") && number(v, &d) && d >= 0 && d == (long)d) a->nrhs = (long)d;
        else if (!strcmp(f, "--offset") && number(v, &d) && d >= 0 && d == (long)d) a->offset = (long)d;
        else if (!strcmp(f, "--sampling") && (a->nsampling = number_list(v, a->sampling)) > 0) {}
        else if (!strcmp(f, "--weights") && (a->nweights = number_list(v, a->weights)) > 0) {}
        else if (!strcmp(f, "--dims") && int_list(v, 1, list, &a->ndims)) {
            for (int k = 0; k < a->ndims; k++) a->dims[k] = (size_t)list[k];
        } else if (!strcmp(f, "--axes") && int_list(v, 0, list, &a->naxes)) {
            for (int k = 0; k < a->naxes; k++) a->axes[k] = (int)list[k];
        }
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
