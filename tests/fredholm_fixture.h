/* What the Fredholm1 tests (slice split and 2D-blocked) share: the shape of a case, the serial
 * references (batched products, per-slice least squares), the tolerance, the check that a
 * refused construction is an error on every rank, and the callback that hands the 2D-blocked
 * operator the blocks of a global G. */
#ifndef STARLOPS_TEST_FREDHOLM_FIXTURE_H
#define STARLOPS_TEST_FREDHOLM_FIXTURE_H

#include <lapacke.h>

#include "harness.h"

typedef struct shape {
    size_t nsl, nx, ny, nz;
} shape;

/* y[s] = G[s] x[s] (or G[s]^H x[s]) for every slice: the serial reference. */
static inline void batched_matmul(const shape *s, const cplx *g, const cplx *x, cplx *y,
                                  int adjoint)
{
    size_t in_rows = adjoint ? s->nx : s->ny, out_rows = adjoint ? s->ny : s->nx;
    for (size_t sl = 0; sl < s->nsl; sl++)
        th_matmul(g + sl * s->nx * s->ny, s->nx, s->ny, s->nz, x + sl * in_rows * s->nz,
                  y + sl * out_rows * s->nz, adjoint);
}

static inline double tol_of(sl_dtype dt)
{
    return (dt == SL_F32 || dt == SL_C64) ? 1e-5 : 1e-13;
}

/* A construction that must fail on every rank, leaving *out NULL. */
static inline void expect_error(sl_context *ctx, sl_status st, const sl_op *op, const char *what)
{
    CHECK(st != SL_OK && op == NULL, "%s: got %s, op %p (%s)", what, sl_strerror(st),
          (void *)op, sl_last_error(ctx));
    int failed = st != SL_OK, all = 0;
    MPI_Allreduce(&failed, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    CHECK(all == 1, "%s: not an error on every rank", what);
}

/* Per-slice least squares: x[s] = argmin ||G[s] x - y[s]|| (nx >= ny, full rank). */
static inline void lstsq_slices(const shape *s, const cplx *g, const cplx *y, cplx *x)
{
    size_t nx = s->nx, ny = s->ny, nz = s->nz;
    lapack_complex_double *a = malloc(nx * ny * sizeof *a), *b = malloc(nx * nz * sizeof *b);
    for (size_t sl = 0; sl < s->nsl; sl++) {
        memcpy(a, g + sl * nx * ny, nx * ny * sizeof *a);
        memcpy(b, y + sl * nx * nz, nx * nz * sizeof *b);
        LAPACKE_zgels(LAPACK_ROW_MAJOR, 'N', (int)nx, (int)ny, (int)nz, a, (int)ny, b, (int)nz);
        memcpy(x + sl * ny * nz, b, ny * nz * sizeof *b);
    }
    free(a);
    free(b);
}

/* G of the current case, global (every rank holds it; fill copies the requested blocks). */
typedef struct kernel {
    const shape *s;
    const cplx *g;
    sl_dtype dt;
} kernel;

static inline void fill(size_t slice, size_t row0, size_t col0, size_t rows, size_t cols,
                        void *block, void *user)
{
    const kernel *k = user;
    size_t es = sl_dtype_size(k->dt);
    for (size_t r = 0; r < rows; r++)
        th_to_dtype(k->dt, k->g + (slice * k->s->nx + row0 + r) * k->s->ny + col0,
                    (char *)block + r * cols * es, cols);
}

#endif
