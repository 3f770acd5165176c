/* Building the CLI's problem: the operator registry and the `matrixmult` operator (A from
 * --matrix, a 2-D .npy, with a 1D block-row split or, --kind summa, 2D block-cyclic). Later operator families add a builder and
 * a registry entry. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* What the lowest failing rank found, broadcast so that the ranks where nothing failed can say
 * why they stop too (they would otherwise print an empty reason). */
typedef struct cli_failure {
    int status;
    char message[400];
} cli_failure;

sl_status cli_agree(sl_context *ctx, sl_status local)
{
    sl_context_info info;
    sl_context_get_info(ctx, &info);
    MPI_Comm comm = info.comm;
    int rank = info.rank, mine, first;
    mine = local != SL_OK ? rank : INT_MAX;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
    if (first == INT_MAX)
        return SL_OK;
    cli_failure f = {.status = (int)local};
    if (rank == first)
        snprintf(f.message, sizeof f.message, "%s", cli_error(ctx));
    MPI_Bcast(&f, (int)sizeof f, MPI_BYTE, first, comm);
    /* a rank that failed itself keeps its own sentence (ranks may fail differently when their
     * files differ); the others report the first failing rank's */
    if (local != SL_OK && cli_error(ctx)[0])
        return local;
    return cli_fail((sl_status)f.status, "rank %d: %s", first, f.message);
}

/* Rows of this rank under the balanced split. */
static void my_rows(sl_context *ctx, size_t n, size_t *row0, size_t *rows)
{
    sl_context_info info;
    sl_context_get_info(ctx, &info);
    size_t base = n / (size_t)info.size, extra = n % (size_t)info.size, r = (size_t)info.rank;
    *rows = base + (r < extra);
    *row0 = r * base + (r < extra ? r : extra);
}

static sl_status check_matrix(const sl_npy_array *a)
{
    if (a->ndim != 2)
        return cli_fail(SL_ERR_SHAPE, "--matrix must be 2-D, got %d dimensions", a->ndim);
    return SL_OK;
}

/* SUMMA tiles of A filled from the matrix every rank read. */
typedef struct npy_fill {
    const sl_npy_array *a;
} npy_fill;

static void fill_from_npy(size_t row0, size_t col0, size_t rows, size_t cols, void *block,
                          void *user)
{
    const sl_npy_array *a = ((const npy_fill *)user)->a;
    size_t es = sl_dtype_size(a->dtype), k = a->shape[1];
    for (size_t r = 0; r < rows; r++)
        memcpy((char *)block + r * cols * es, (const char *)a->data + ((row0 + r) * k + col0) * es,
               cols * es);
}

/* Vectors of rows x nrhs elements must be addressable: checked before anything multiplies
 * them, as a wrapped product could match the file's count and reach an allocation. */
static int too_large(size_t rows, size_t nrhs, size_t es)
{
    return rows && nrhs > SIZE_MAX / es / rows;
}

/* The number of right-hand sides: --nrhs (the file then holds rows x nrhs values, 1-d or 2-d),
 * else the file's second dimension (none: vectors). `longest` is the larger side of A: both
 * the model (K x nrhs) and the data (N x nrhs) must fit in memory. */
static sl_status vector_columns(const cli_args *args, const sl_npy_array *v, size_t rows,
                                size_t longest, const char *path, size_t *nrhs)
{
    size_t count = 1, es = sl_dtype_size(v->dtype);
    for (int d = 0; d < v->ndim; d++) count *= v->shape[d];
    size_t m = args->nrhs >= 1 ? (size_t)args->nrhs : v->ndim == 2 ? v->shape[1] : 1;
    if (too_large(longest, m, es))
        return cli_fail(SL_ERR_SHAPE, "%zu right-hand sides are too large: %zu x %zu %s "
                        "elements overflow the address space", m, longest, m,
                        sl_dtype_name(v->dtype));
    if (args->nrhs >= 1) {
        if (v->ndim > 2 || count != rows * m || (v->ndim == 2 && v->shape[1] != m))
            return cli_fail(SL_ERR_SHAPE, "%s holds %zu values, %zu x %ld expected (--nrhs)",
                            path, count, rows, args->nrhs);
        *nrhs = m;
        return SL_OK;
    }
    if (v->ndim > 2 || v->shape[0] != rows)
        return cli_fail(SL_ERR_SHAPE, "%s has %zu rows, %zu expected", path, v->shape[0], rows);
    *nrhs = v->ndim == 2 ? v->shape[1] : 0;
    return SL_OK;
}

static sl_status make_matrixmult(sl_context *ctx, const cli_args *args, const sl_npy_array *a,
                                 size_t nrhs, sl_op **op)
{
    size_t n = a->shape[0], k = a->shape[1], row0, rows, es = sl_dtype_size(a->dtype);
    if (args->kind && !strcmp(args->kind, "summa")) {
        npy_fill f = {a};
        return sl_op_matrixmult_summa(ctx, a->dtype, n, k, nrhs, fill_from_npy, &f, NULL, op);
    }
    my_rows(ctx, n, &row0, &rows);
    return sl_op_matrixmult(ctx, a->dtype, n, k, nrhs, (char *)a->data + row0 * k * es, NULL, op);
}

sl_status cli_build_matrixmult(sl_context *ctx, const cli_args *args, cli_problem *p)
{
    memset(p, 0, sizeof *p);
    if (!args->matrix)
        return cli_agree(ctx, cli_fail(SL_ERR_ARG, "matrixmult needs --matrix A.npy"));
    if (args->kind && strcmp(args->kind, "row") && strcmp(args->kind, "summa"))
        return cli_agree(ctx, cli_fail(SL_ERR_ARG, "matrixmult --kind must be row or summa, "
                                       "not '%s'", args->kind));
    /* the vector file fixes the number of right-hand sides */
    const char *vec_path = !strcmp(args->command, "solve") ? args->data : args->in;
    int vec_is_data = !strcmp(args->command, "solve") || args->adjoint;
    /* zeroed before any exit: both are freed at the end whichever step failed */
    sl_npy_array a, v;
    memset(&a, 0, sizeof a);
    memset(&v, 0, sizeof v);
    sl_status st = sl_npy_read(ctx, args->matrix, &a);
    if (st == SL_OK)
        st = check_matrix(&a);
    if (st == SL_OK)
        st = sl_npy_read(ctx, vec_path, &v);
    size_t n = a.shape[0], k = a.shape[1], nrhs = 0;
    if (st == SL_OK && v.dtype != a.dtype)
        st = cli_fail(SL_ERR_DTYPE, "%s is %s but the matrix is %s", vec_path,
                         sl_dtype_name(v.dtype), sl_dtype_name(a.dtype));
    if (st == SL_OK)
        st = vector_columns(args, &v, vec_is_data ? n : k, n > k ? n : k, vec_path, &nrhs);
    st = cli_agree(ctx, st);
    if (st == SL_OK)
        st = make_matrixmult(ctx, args, &a, nrhs, &p->op);
    if (st == SL_OK) {
        p->matrixmult = 1;
        p->n = n;
        p->k = k;
        p->nrhs = nrhs;
        st = cli_make_vectors(ctx, args, p, &v, vec_path);
    }
    sl_npy_free(&a);
    sl_npy_free(&v);
    if (st != SL_OK)
        cli_free_problem(p);
    return st;
}

int cli_part_count(const sl_darray *x)
{
    sl_darray_info info;
    sl_darray_get_info(x, &info);
    return info.nparts ? info.nparts : 1;
}

sl_status cli_make_vectors(sl_context *ctx, const cli_args *args, cli_problem *p,
                           const sl_npy_array *v, const char *path)
{
    int reads_data = !strcmp(args->command, "solve") || args->adjoint;
    sl_status st = sl_op_create_model(p->op, &p->model);
    if (st == SL_OK) st = sl_op_create_data(p->op, &p->data);
    if (st != SL_OK)
        return st;
    sl_darray *target = reads_data ? p->data : p->model, *first = NULL;
    sl_darray_info info;
    sl_darray_get_info(target, &info);
    sl_darray_stack_part(target, 0, &first);
    sl_darray_info first_info;
    sl_darray_get_info(first, &first_info);
    sl_dtype dt = first_info.dtype;
    size_t want = info.global_size, have = 1;
    for (int d = 0; d < v->ndim; d++) have *= v->shape[d];
    /* agreed before the collective copies below: ranks that read different files (no shared
     * file system, different working directories) must not leave one rank behind */
    if (v->dtype != dt)
        st = cli_fail(SL_ERR_DTYPE, "%s is %s, the operator works on %s", path,
                      sl_dtype_name(v->dtype), sl_dtype_name(dt));
    else if (have != want)
        st = cli_fail(SL_ERR_SHAPE, "%s holds %zu values, the operator's %s has %zu", path,
                      have, reads_data ? "data" : "model", want);
    if ((st = cli_agree(ctx, st)) != SL_OK)
        return st;
    if (p->matrixmult) {
        return sl_matrixmult_scatter(p->op, reads_data ? SL_SIDE_DATA : SL_SIDE_MODEL, v->data,
                                     first);
    }
    int n = cli_part_count(target);
    const char *src = v->data;
    for (int c = 0; c < n && st == SL_OK; c++) {
        sl_darray *a = NULL;
        sl_darray_info part;
        sl_darray_stack_part(target, c, &a);
        sl_darray_get_info(a, &part);
        st = sl_darray_from_global(a, src);
        src += part.global_size * sl_dtype_size(dt);
    }
    return st;
}

/* The operators the CLI knows. */
static const struct {
    const char *name;
    sl_status (*build)(sl_context *ctx, const cli_args *args, cli_problem *p);
} registry[] = {
    {"matrixmult", cli_build_matrixmult},
    {"firstderivative", cli_build_firstderivative},
    {"secondderivative", cli_build_secondderivative},
    {"laplacian", cli_build_laplacian},
    {"gradient", cli_build_gradient},
    {"convolve", cli_build_convolve},
    {"poststack", cli_build_poststack},
    {"nonstatconvolve1d", cli_build_nonstationary},
    {"fft", cli_build_fft},
    {"fft2d", cli_build_fft2d},
    {"fftnd", cli_build_fftnd},
    {"fredholm1", cli_build_fredholm1},
    {"mdc", cli_build_mdc},
};

sl_status cli_build_problem(sl_context *ctx, const cli_args *args, cli_problem *p)
{
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (!strcmp(args->op, registry[i].name))
            return registry[i].build(ctx, args, p);
    return cli_agree(ctx, cli_fail(SL_ERR_ARG, "unknown operator '%s' (known: matrixmult, "
                                   "firstderivative, secondderivative, laplacian, gradient, "
                                   "convolve, poststack, nonstatconvolve1d, fft, fft2d, fftnd, "
                                   "fredholm1, mdc)", args->op));
}

void cli_free_problem(cli_problem *p)
{
    sl_darray_destroy(p->model);
    sl_darray_destroy(p->data);
    sl_op_destroy(p->op);
    memset(p, 0, sizeof *p);
}
