/* Minimal MPI-aware test harness: checks count failures per rank, the final summary combines
 * all ranks so every rank exits with the same verdict. Reference data are kept as double
 * complex; helpers convert to and from each dtype. */
#ifndef STARLOPS_TEST_HARNESS_H
#define STARLOPS_TEST_HARNESS_H

#include <complex.h>
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starlops.h>

typedef double _Complex cplx;

static long th_checks, th_failures;
static int th_rank;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        th_checks++;                                                            \
        if (!(cond)) {                                                          \
            th_failures++;                                                      \
            fprintf(stderr, "[rank %d] %s:%d: CHECK(%s) failed: ", th_rank,     \
                    __FILE__, __LINE__, #cond);                                 \
            fprintf(stderr, __VA_ARGS__);                                       \
            fprintf(stderr, "\n");                                              \
        }                                                                       \
    } while (0)

#define CHECK_OK(expr, ctx)                                                     \
    do {                                                                        \
        sl_status th_st = (expr);                                               \
        CHECK(th_st == SL_OK, "%s -> %s (%s)", #expr, sl_strerror(th_st),       \
              sl_last_error(ctx));                                              \
    } while (0)

#define CHECK_STATUS(expr, want, ctx)                                           \
    do {                                                                        \
        sl_status th_st = (expr);                                               \
        CHECK(th_st == (want), "%s -> %s, expected %s (%s)", #expr,             \
              sl_strerror(th_st), sl_strerror(want), sl_last_error(ctx));       \
    } while (0)

/* Combines all ranks' counts; prints "N passed, N failed" on rank 0; returns the exit code. */
static inline int th_finish(MPI_Comm comm, const char *name)
{
    long local[2] = {th_checks - th_failures, th_failures}, total[2];
    MPI_Allreduce(local, total, 2, MPI_LONG, MPI_SUM, comm);
    int size = 1;
    MPI_Comm_size(comm, &size);
    if (th_rank == 0)
        printf("%s (%d ranks): %ld passed, %ld failed\n", name, size, total[0], total[1]);
    return total[1] == 0 ? 0 : 1;
}

/* What a context / an array is (sl_context_get_info, sl_darray_get_info), as a value. */
static inline sl_context_info th_ctx(const sl_context *ctx)
{
    sl_context_info info = {0};
    sl_context_get_info(ctx, &info);
    return info;
}

static inline sl_darray_info th_info(const sl_darray *x)
{
    sl_darray_info info = {0};
    sl_darray_get_info(x, &info);
    return info;
}

/* Parts of a vector: a stack's count, 1 for a plain array (sl_darray_stack_part's range). */
static inline int th_parts(const sl_darray *x)
{
    int n = th_info(x).nparts;
    return n ? n : 1;
}

/* sl_init for a test: exits (status 1) when the runtime cannot start. */
static inline sl_context *th_init(int *argc, char ***argv)
{
    sl_context *ctx = NULL;
    if (sl_init(argc, argv, &ctx) != SL_OK) {
        fprintf(stderr, "sl_init failed: %s\n", sl_init_error());
        exit(1);
    }
    th_rank = th_ctx(ctx).rank;
    return ctx;
}

/* Summary, then sl_finalize; returns the exit code. */
static inline int th_end(sl_context *ctx, const char *name)
{
    int rc = th_finish(MPI_COMM_WORLD, name);
    sl_finalize(ctx);
    return rc;
}

/* Deterministic pseudo-random numbers (same sequence on every rank). */
static inline double th_rand(uint64_t *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*state >> 11) / (double)(1ULL << 53) * 2.0 - 1.0;
}

static inline void th_random(cplx *v, size_t n, int complex_values, uint64_t seed)
{
    uint64_t s = seed * 2654435761ULL + 12345;
    for (size_t i = 0; i < n; i++) {
        double re = th_rand(&s), im = complex_values ? th_rand(&s) : 0.0;
        v[i] = CMPLX(re, im);
    }
}

/* Rounds reference values to what the dtype can hold (so comparisons test the library, not
 * the conversion). */
static inline void th_round(sl_dtype dt, cplx *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (dt == SL_F32 || dt == SL_C64) {
            /* volatile: gcc 12.2's -O2 loop vectoriser deletes this rounding loop
             * otherwise (seen here: the loop compiles to a bare `ret`). */
            volatile float re = (float)creal(v[i]), im = (float)cimag(v[i]);
            double *parts = (double *)&v[i];
            parts[0] = re;
            parts[1] = im;
        }
        if (!sl_dtype_is_complex(dt))
            v[i] = creal(v[i]);
    }
}

static inline void th_to_dtype(sl_dtype dt, const cplx *src, void *dst, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (dt) {
        case SL_F32: ((float *)dst)[i] = (float)creal(src[i]); break;
        case SL_F64: ((double *)dst)[i] = creal(src[i]); break;
        case SL_C64: ((float _Complex *)dst)[i] = (float _Complex)src[i]; break;
        case SL_C128: ((double _Complex *)dst)[i] = src[i]; break;
        }
    }
}

static inline void th_from_dtype(sl_dtype dt, const void *src, cplx *dst, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (dt) {
        case SL_F32: dst[i] = ((const float *)src)[i]; break;
        case SL_F64: dst[i] = ((const double *)src)[i]; break;
        case SL_C64: dst[i] = ((const float _Complex *)src)[i]; break;
        case SL_C128: dst[i] = ((const double _Complex *)src)[i]; break;
        }
    }
}

/* Relative tolerance of elementwise results per dtype. */
static inline double th_tol(sl_dtype dt)
{
    return (dt == SL_F32 || dt == SL_C64) ? 2e-6 : 1e-14;
}

/* max |a - b| / max(1, max |b|) */
static inline double th_rel_err(const cplx *a, const cplx *b, size_t n)
{
    double err = 0, scale = 1;
    for (size_t i = 0; i < n; i++) {
        err = fmax(err, cabs(a[i] - b[i]));
        scale = fmax(scale, cabs(b[i]));
    }
    return err / scale;
}

/* Rows [row0, row0+rows) along `axis` of a C-order global array of `shape`. */
static inline void th_block(const cplx *global, int ndim, const size_t *shape, int axis,
                            size_t row0, size_t rows, cplx *out)
{
    size_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++)
        outer *= shape[d];
    for (int d = axis + 1; d < ndim; d++)
        inner *= shape[d];
    for (size_t o = 0; o < outer; o++)
        memcpy(out + o * rows * inner, global + (o * shape[axis] + row0) * inner,
               rows * inner * sizeof(cplx));
}

static inline size_t th_prod(const size_t *shape, int ndim)
{
    size_t n = 1;
    for (int d = 0; d < ndim; d++)
        n *= shape[d];
    return n;
}

/* y (rows x m) = A x or A^H x for a dense row-major n x k matrix A and m columns. */
static inline void th_matmul(const cplx *a, size_t n, size_t k, size_t m, const cplx *x,
                             cplx *y, int adjoint)
{
    size_t rows = adjoint ? k : n, inner = adjoint ? n : k;
    for (size_t i = 0; i < rows; i++)
        for (size_t c = 0; c < m; c++) {
            cplx s = 0;
            for (size_t j = 0; j < inner; j++)
                s += (adjoint ? conj(a[j * k + i]) : a[i * k + j]) * x[j * m + c];
            y[i * m + c] = s;
        }
}

static const sl_dtype th_dtypes[4] = {SL_F32, SL_F64, SL_C64, SL_C128};

#endif
