/* Command-line parsing for `starlops apply|solve`. Flags are named after PyLops parameters. */
#include <limits.h>
#include <math.h>
#include <stddef.h>
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
            "   --nrhs M >= 1: the vector file holds M right-hand sides, as (rows, M) or flat)\n"
            "  starlops solve --op matrixmult --matrix A.npy --data y.npy --solver cgls|lsqr\n"
            "                 --niter N [--damp D] [--tol T] [--atol A --btol B --conlim C]\n"
            "                 [--show] --out x.npy\n"
            "  (every operator solves with cgls or lsqr; --solver cg needs a square operator\n"
            "   whose model and data layouts match: the stencil operators, never matrixmult)\n"
            "  (--tol: CG/CGLS threshold on the squared residual norm, default 1e-4;\n"
            "   --atol/--btol (default 1e-8) and --conlim (default 1e8): LSQR's tests;\n"
            "   0 or 'none' turns a test off, as a zero tolerance does in PyLops/scipy)\n"
            "Stencil operators (arrays of --dims, split along --split-axis):\n"
            "  --op firstderivative|secondderivative --dims 64,64,64 [--axis -1]\n"
            "       [--kind centered|forward|backward] [--order 3|5] [--edge] [--sampling 0.5]\n"
            "  --op laplacian --dims ... [--axes -2,-1] [--weights 1,1] [--sampling 1,1] [--edge]\n"
            "  --op gradient --dims ... [--sampling s0,s1,...] [--edge] (data: ndim stacked)\n"
            "  --op convolve --dims ... --wavelet h.npy [--axis -1] [--offset len(h)/2]\n"
            "  --op poststack --dims nt,nx,ny --wavelet w.npy [--axis 0 (time)]\n"
            "  --op nonstatconvolve1d --dims ... --hs hs.npy (nfilters x nh) --ih i0,i1,...\n"
            "       (up to 8 regularly spaced positions) [--axis -1]\n"
            "  --op fft --dims ... [--axis -1] [--nfft N] [--real] [--norm ortho|none|1/n]\n"
            "       [--ifftshift-before] [--fftshift-after] (data: complex, dims[axis] -> nfft,\n"
            "       or nfft/2+1 with --real)\n"
            "  --op fft2d|fftnd --dims ... [--axes (last 2 / 3)] [--nfft N (last listed axis)]\n"
            "       [--real] [--norm ...] [--ifftshift-before] [--fftshift-after] (every axis)\n"
            "Fredholm1 (model (nsl, ny, nz) and data (nsl, nx, nz) split along the slices):\n"
            "  --op fredholm1 --G G.npy (shape (nsl, nx, ny)) [--nz 1] [--saveGt]\n"
            "MDC (model (nt, nr, nv), data (nt, ns, nv), real):\n"
            "  --op mdc --G G.npy (complex, (nfmax, ns, nr)) --nt N [--nv 1] [--dt 1] [--dr 1]\n"
            "       [--onesided] [--conj] [--prescaled]\n"
            "--adjoint, --edge, --show, --real, --ifftshift-before, --fftshift-after, --saveGt,\n"
            "--onesided, --conj and --prescaled take no value. Every rank must be given the same\n"
            "command line. --out is written by rank 0 (an existing read-only file is refused).\n"
            "Run under mpirun -np P; every rank reads the input files. Prints one JSON line\n"
            "(\"status\"; for solve the stop \"reason\"; a non-finite norm is null).\n");
}

/* A finite number: no flag means NaN or an infinity, and strtod would accept both. */
static int number(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end != s && *end == '\0' && isfinite(*v);
}

/* d is an integer within [lo, hi]. The range is tested before any cast: converting a double
 * outside the target type's range is undefined behaviour. */
static int integral(double d, double lo, double hi)
{
    return isfinite(d) && d >= lo && d <= hi && d == floor(d);
}

/* Integers travel as doubles (so "1e3" works); beyond 2^53 a double no longer names the
 * integer the user typed, so that is the ceiling of every integer flag. */
#define CLI_INT_MAX 9007199254740992.0

/* "a,b,c" into up to SL_MAX_NDIM finite doubles; returns the count, 0 on a malformed list. */
static int number_list(const char *s, double *out)
{
    int n = 0;
    const char *p = s;
    while (*p && n < SL_MAX_NDIM) {
        char *end;
        double d = strtod(p, &end);
        if (end == p || (*end != ',' && *end != '\0') || !isfinite(d))
            return 0;
        out[n++] = d;
        p = *end == ',' ? end + 1 : end;
        if (*end == ',' && !*p)
            return 0;
    }
    return *p ? 0 : n;
}

/* A list of integers, each within [lo, hi] (checked before the caller casts them). */
static int int_list(const char *s, double lo, double hi, double *list, int *count)
{
    int n = number_list(s, list);
    for (int k = 0; k < n; k++)
        if (!integral(list[k], lo, hi))
            return 0;
    *count = n;
    return n > 0;
}

/* --flag's integer value within [lo, hi]; otherwise a sentence naming the problem. */
static int int_value(const char *f, const char *v, double lo, double hi, long *out, char *msg,
                     size_t len)
{
    double d;
    const char *why = !number(v, &d) || d != floor(d) ? "is not an integer"
                      : d < lo ? "is too small" : d > hi ? "is too large" : NULL;
    if (why) {
        snprintf(msg, len, "%s %s %s (an integer from %.0f to %.0f)", f, v, why, lo, hi);
        return 0;
    }
    *out = (long)d;
    return 1;
}

/* --tol/--atol/--btol/--conlim. A zero tolerance never passes in PyLops/scipy (their tests are
 * `kold > tol`, `test <= rtol`): an explicit 0 or `none` means no such test, SL_TOL_NONE. An
 * absent flag leaves 0, which the library reads as its default (1e-4, 1e-8, 1e-8, 1e8). */
static int tol_value(const char *f, const char *v, double *out, char *msg, size_t len)
{
    double d;
    if (!strcmp(v, "none")) {
        *out = SL_TOL_NONE;
        return 1;
    }
    if (!number(v, &d) || d < 0) {
        snprintf(msg, len, "%s %s: a number >= 0 expected, or 'none' (0 and none turn the "
                 "test off)", f, v);
        return 0;
    }
    *out = d > 0 ? d : SL_TOL_NONE;
    return 1;
}

/* The flags whose value is a word or a path. */
static int string_flag(cli_args *a, const char *f, const char *v)
{
    static const struct {
        const char *name;
        size_t offset;
    } t[] = {
        {"--op", offsetof(cli_args, op)},          {"--matrix", offsetof(cli_args, matrix)},
        {"--in", offsetof(cli_args, in)},          {"--out", offsetof(cli_args, out)},
        {"--data", offsetof(cli_args, data)},      {"--solver", offsetof(cli_args, solver)},
        {"--kind", offsetof(cli_args, kind)},      {"--wavelet", offsetof(cli_args, wavelet)},
        {"--norm", offsetof(cli_args, norm)},
        {"--G", offsetof(cli_args, g)},
        {"--hs", offsetof(cli_args, hs)},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(f, t[i].name)) {
            *(const char **)((char *)a + t[i].offset) = v;
            return 1;
        }
    return 0;
}

/* Integer flags: returns -1 when f is not one, else 1 (parsed) or 0 (msg says why). */
static int int_flag(cli_args *a, const char *f, const char *v, char *msg, size_t len)
{
    long n = 0;
    int ok;
    if (!strcmp(f, "--niter")) {
        if ((ok = int_value(f, v, 0, INT_MAX, &n, msg, len))) a->niter = (int)n;
    } else if (!strcmp(f, "--order")) {
        if ((ok = int_value(f, v, INT_MIN, INT_MAX, &n, msg, len))) a->order = (int)n;
    } else if (!strcmp(f, "--axis")) {
        if ((ok = int_value(f, v, -63, 63, &n, msg, len))) a->axis = (int)n;
    } else if (!strcmp(f, "--split-axis")) {
        if ((ok = int_value(f, v, -63, 63, &n, msg, len))) a->split_axis = (int)n;
    } else if (!strcmp(f, "--nrhs")) {
        if ((ok = int_value(f, v, 1, CLI_INT_MAX, &n, msg, len))) a->nrhs = n;
    } else if (!strcmp(f, "--nt") || !strcmp(f, "--nv")) {
        if ((ok = int_value(f, v, 1, INT_MAX, &n, msg, len)))
            *(!strcmp(f, "--nt") ? &a->nt : &a->nv) = n;
    } else if (!strcmp(f, "--nz")) {
        if ((ok = int_value(f, v, 1, INT_MAX, &n, msg, len))) a->nz = n;
    } else if (!strcmp(f, "--offset")) {
        if ((ok = int_value(f, v, 0, CLI_INT_MAX, &n, msg, len))) a->offset = n;
    } else if (!strcmp(f, "--nfft")) {
        if ((ok = int_value(f, v, 1, INT_MAX, &n, msg, len))) a->nfft = n;
    } else {
        return -1;
    }
    return ok;
}

/* Real-valued flags and lists: -1 when f is not one, else 1 or 0 (with msg). */
static int real_flag(cli_args *a, const char *f, const char *v, char *msg, size_t len)
{
    double list[SL_MAX_NDIM];
    int ok;
    if (!strcmp(f, "--tol")) return tol_value(f, v, &a->tol, msg, len);
    if (!strcmp(f, "--atol")) return tol_value(f, v, &a->atol, msg, len);
    if (!strcmp(f, "--btol")) return tol_value(f, v, &a->btol, msg, len);
    if (!strcmp(f, "--conlim")) return tol_value(f, v, &a->conlim, msg, len);
    if (!strcmp(f, "--damp")) ok = number(v, &a->damp);
    else if (!strcmp(f, "--dt")) ok = number(v, &a->dt);
    else if (!strcmp(f, "--dr")) ok = number(v, &a->dr);
    else if (!strcmp(f, "--sampling")) ok = (a->nsampling = number_list(v, a->sampling)) > 0;
    else if (!strcmp(f, "--weights")) ok = (a->nweights = number_list(v, a->weights)) > 0;
    else if (!strcmp(f, "--dims")) {
        if ((ok = int_list(v, 1, 1e12, list, &a->ndims)))
            for (int k = 0; k < a->ndims; k++) a->dims[k] = (size_t)list[k];
    } else if (!strcmp(f, "--ih")) {
        if ((ok = int_list(v, 0, CLI_INT_MAX, list, &a->nih)))
            for (int k = 0; k < a->nih; k++) a->ih[k] = (size_t)list[k];
    } else if (!strcmp(f, "--axes")) {
        if ((ok = int_list(v, -63, 63, list, &a->naxes)))
            for (int k = 0; k < a->naxes; k++) a->axes[k] = (int)list[k];
    } else {
        return -1;
    }
    if (!ok)
        snprintf(msg, len, "bad value for %s: '%s' (%s)", f, v,
                 !strcmp(f, "--dims") ? "integers >= 1, comma-separated"
                 : !strcmp(f, "--axes") ? "integers from -63 to 63, comma-separated"
                 : !strcmp(f, "--ih") ? "up to 8 integers >= 0, comma-separated"
                 : !strcmp(f, "--damp") ? "a finite number"
                                        : "finite numbers, comma-separated");
    return ok;
}

/* Flags without a value. */
static int switch_flag(cli_args *a, const char *f)
{
    int *target = !strcmp(f, "--adjoint") ? &a->adjoint : !strcmp(f, "--show") ? &a->show
                  : !strcmp(f, "--edge") ? &a->edge : !strcmp(f, "--real") ? &a->real
                  : !strcmp(f, "--ifftshift-before") ? &a->ifftshift_before
                  : !strcmp(f, "--fftshift-after") ? &a->fftshift_after
                  : !strcmp(f, "--saveGt") ? &a->save_gt
                  : !strcmp(f, "--onesided") ? &a->onesided : !strcmp(f, "--conj") ? &a->conj
                  : !strcmp(f, "--prescaled") ? &a->prescaled : NULL;
    if (target)
        *target = 1;
    return target != NULL;
}

/* 1: parsed; 0: bad value; -1: unknown flag (msg says which in both failures). */
static int value_flag(cli_args *a, const char *f, const char *v, char *msg, size_t len)
{
    if (string_flag(a, f, v))
        return 1;
    int ok = int_flag(a, f, v, msg, len);
    if (ok < 0)
        ok = real_flag(a, f, v, msg, len);
    if (ok < 0)
        snprintf(msg, len, "unknown flag %s", f);
    return ok;
}

/* A flag that came without its value: unknown, or known and lacking it. */
static int missing_value(const char *f, char *msg, size_t len)
{
    cli_args scratch;
    memset(&scratch, 0, sizeof scratch);
    if (value_flag(&scratch, f, "1", msg, len) >= 0) /* known: "1" only probes the name */
        snprintf(msg, len, "%s needs a value", f);
    return 0;
}

/* Checks made once every flag is known, so that they fail on every rank before any work. */
static int check_args(const char *prog, cli_args *a, char *msg, size_t len)
{
    const char *missing = !a->op ? "--op" : !a->out ? "--out" : NULL;
    int solve = !strcmp(a->command, "solve");
    if (!missing && !solve && !a->in) missing = "--in";
    if (!missing && solve)
        missing = !a->data ? "--data" : !a->solver ? "--solver" : a->niter < 0 ? "--niter" : NULL;
    if (missing) {
        snprintf(msg, len, "%s %s: missing %s", prog, a->command, missing);
        return 0;
    }
    if (solve && strcmp(a->solver, "cg") && strcmp(a->solver, "cgls") && strcmp(a->solver, "lsqr")) {
        snprintf(msg, len, "unknown solver '%s' (cg, cgls, lsqr)", a->solver);
        return 0;
    }
    /* CG iterates within one vector space: the model and data arrays must have the same
     * layout. MatrixMult's never do (row kind: replicated model, row-split data; summa:
     * X's and Y's tiles), so the library would refuse it after reading A. */
    if (solve && !strcmp(a->solver, "cg") && !strcmp(a->op, "matrixmult")) {
        snprintf(msg, len, "--solver cg needs a square operator whose model and data layouts "
                 "match (the stencil operators); matrixmult's model and data are laid out "
                 "differently: use --solver cgls or lsqr");
        return 0;
    }
    return 1;
}

int cli_parse(int argc, char **argv, cli_args *a, char *msg, size_t len)
{
    memset(a, 0, sizeof *a);
    a->niter = -1;
    a->axis = a->split_axis = CLI_DEFAULT_AXIS;
    a->order = 3;
    a->offset = -1;
    a->nrhs = -1;
    a->nz = 1;
    a->nv = 1;
    if (argc < 2 || (strcmp(argv[1], "apply") && strcmp(argv[1], "solve"))) {
        snprintf(msg, len, "the first argument must be 'apply' or 'solve'");
        return 0;
    }
    a->command = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *f = argv[i];
        if (switch_flag(a, f))
            continue;
        if (strncmp(f, "--", 2)) { /* a value nobody asked for, e.g. `--edge yes` */
            int after_switch = i > 2 && !strncmp(argv[i - 1], "--", 2);
            snprintf(msg, len, "unexpected argument '%s'%s", f, after_switch ?
                     " (--edge, --adjoint, --show, --real, --ifftshift-before, "
                     "--fftshift-after, --saveGt, --onesided, --conj and --prescaled take no "
                     "value)" : "");
            return 0;
        }
        /* a value starting with "--" is the next flag: `--op --in x.npy` lacks the value */
        if (i + 1 >= argc || !strncmp(argv[i + 1], "--", 2))
            return missing_value(f, msg, len);
        if (value_flag(a, f, argv[++i], msg, len) <= 0)
            return 0;
    }
    return check_args(argv[0], a, msg, len);
}
