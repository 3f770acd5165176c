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
    double damp;
    double tol, atol, btol, conlim; /* as sl_solver_opts: 0 absent (library default),
                                       SL_TOL_NONE for an explicit 0 or `none` */
    /* stencil operators (flags named after PyLops' parameters) */
    size_t dims[SL_MAX_NDIM];
    int ndims;                     /* 0: --dims not given */
    int axis;                      /* --axis (default -1, as PyLops) */
    int split_axis;                /* --split-axis: the distributed axis (CLI_DEFAULT_AXIS) */
    const char *kind;              /* centered | forward | backward; matrixmult: row | summa */
    long nrhs;                     /* --nrhs >= 1 (matrixmult; -1: from the file's shape) */
    int order, edge;
    double sampling[SL_MAX_NDIM], weights[SL_MAX_NDIM];
    int nsampling, nweights;
    int axes[SL_MAX_NDIM], naxes;
    size_t ih[SL_MAX_NDIM];        /* --ih (nonstatconvolve1d: filter positions, up to 8) */
    int nih;
    const char *hs;                /* --hs hs.npy (nonstatconvolve1d: (nfilters, nh) float64) */
    const char *wavelet;           /* --wavelet w.npy (poststack, convolve) */
    long offset;                   /* --offset (convolve; default len(h) / 2) */
    /* fft (PyLops FFT's parameters) */
    long nfft;                     /* --nfft (0: dims[axis]) */
    int real, ifftshift_before, fftshift_after;
    const char *norm;              /* --norm ortho|none|1/n (NULL: ortho) */
    const char *g;                 /* --G G.npy (fredholm1: shape (nsl, nx, ny)) */
    long nz;                       /* --nz (fredholm1; default 1, as PyLops) */
    int save_gt;                   /* --saveGt (fredholm1) */
    long nt, nv;                   /* --nt, --nv (mdc: time samples, virtual sources) */
    double dt, dr;                 /* --dt, --dr (mdc sampling; 0: 1) */
    int onesided, conj, prescaled; /* --onesided, --conj, --prescaled (mdc) */
} cli_args;

#define CLI_DEFAULT_AXIS (-1000)

/* Parses argv; on error writes a sentence to msg and returns 0. */
int cli_parse(int argc, char **argv, cli_args *a, char *msg, size_t len);
void cli_usage(void);

/* An operator built from the command line, with its model and data vectors (plain arrays, or
 * stacks owning their parts for a stacked operator). */
typedef struct cli_problem {
    sl_op *op;
    sl_darray *model, *data;
    /* MatrixMult (either kind): files hold natural matrices, converted with
     * sl_matrixmult_scatter / _gather; shapes (K, M) / (N, M), or 1-d when nrhs == 0. */
    int matrixmult;
    size_t n, k, nrhs;
} cli_problem;

/* Builds the operator named by a->op (collective); every rank reads the files it needs. */
sl_status cli_build_problem(sl_context *ctx, const cli_args *a, cli_problem *p);
void cli_free_problem(cli_problem *p);
/* Parts of a vector: a stack's count, 1 for a plain array. */
int cli_part_count(const sl_darray *x);
/* Operator builders registered in cli_build_problem's table (cli_problem.c, cli_stencil.c). */
sl_status cli_build_matrixmult(sl_context *ctx, const cli_args *args, cli_problem *p);
sl_status cli_build_firstderivative(sl_context *ctx, const cli_args *args, cli_problem *p);
sl_status cli_build_secondderivative(sl_context *ctx, const cli_args *args, cli_problem *p);
sl_status cli_build_laplacian(sl_context *ctx, const cli_args *args, cli_problem *p);
sl_status cli_build_gradient(sl_context *ctx, const cli_args *args, cli_problem *p);
sl_status cli_build_convolve(sl_context *ctx, const cli_args *args, cli_problem *p);
sl_status cli_build_poststack(sl_context *ctx, const cli_args *args, cli_problem *p);
sl_status cli_build_nonstationary(sl_context *ctx, const cli_args *args, cli_problem *p);
sl_status cli_build_fft(sl_context *ctx, const cli_args *args, cli_problem *p);
sl_status cli_build_fft2d(sl_context *ctx, const cli_args *args, cli_problem *p);
sl_status cli_build_fftnd(sl_context *ctx, const cli_args *args, cli_problem *p);
sl_status cli_build_fredholm1(sl_context *ctx, const cli_args *args, cli_problem *p);
sl_status cli_build_mdc(sl_context *ctx, const cli_args *args, cli_problem *p);

/* The vectors of p->op, with the input file's values (flat, the stack's components in order,
 * checked against the expected element count) on the side the command reads. Collective: the
 * checks are agreed across ranks before the values are copied. */
sl_status cli_make_vectors(sl_context *ctx, const cli_args *args, cli_problem *p,
                           const sl_npy_array *v, const char *path);

/* Records a CLI-level error sentence (shown instead of the library's last error). */
sl_status cli_fail(sl_status st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *cli_error(sl_context *ctx);

/* Collective: SL_OK on every rank, or a failure on every rank. A rank that failed keeps its
 * status and sentence; the others take the lowest failing rank's, as "rank R: sentence". */
sl_status cli_agree(sl_context *ctx, sl_status local);

#endif
