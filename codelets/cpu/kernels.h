/* Plain CPU kernels on one tile, with no StarPU inside: a tile is `ny` rows of `nx` contiguous
 * elements, rows `ld` elements apart (a strided slab of a C-order block). The element type is a
 * parameter; the loops are written once per operation and instantiated per type by macros. */
#ifndef STARLOPS_KERNELS_H
#define STARLOPS_KERNELS_H

#include <stddef.h>
#include <starlops/dtype.h>

typedef enum sl_ew_op {
    SL_EW_FILL,    /* out = alpha */
    SL_EW_COPY,    /* out = a */
    SL_EW_SCALE,   /* out = alpha * a */
    SL_EW_AXPBY,   /* out = alpha * a + beta * out */
    SL_EW_AXPY,    /* out = alpha * a + out */
    SL_EW_ADD,     /* out = a + b */
    SL_EW_SUB,     /* out = a - b */
    SL_EW_MUL,     /* out = a * b */
    SL_EW_CONJ,    /* out = conj(a) */
    SL_EW_CMUL,    /* out = conj(a) * b */
    SL_EW_OP_COUNT
} sl_ew_op;

typedef struct sl_tile_shape {
    size_t nx, ny, ld;
} sl_tile_shape;

/* alpha/beta as (re, im); for real dtypes only re is used. out may equal a or b. */
void sl_kernel_elementwise(sl_ew_op op, sl_dtype dtype, sl_tile_shape s, void *out,
                           const void *a, const void *b, const double alpha[2],
                           const double beta[2]);

typedef enum sl_reduce_kind {
    SL_RED_DOT,      /* sum a*b               -> acc (re, im) */
    SL_RED_VDOT,     /* sum conj(a)*b         -> acc (re, im) */
    SL_RED_SUM_ABS2, /* sum |a|^2             -> acc[0] */
    SL_RED_SUM_ABS,  /* sum |a|               -> acc[0] */
    SL_RED_SUM_ABSP, /* sum |a|^p             -> acc[0] */
    SL_RED_COUNT_NZ, /* number of a != 0      -> acc[0] */
    SL_RED_MAX_ABS,  /* max |a|               -> acc[0] */
    SL_RED_MIN_ABS,  /* min |a|               -> acc[0] */
    SL_RED_KIND_COUNT
} sl_reduce_kind;

/* Combines the tile's contribution into acc (sums add to it, max/min fold into it).
 * Partial sums are accumulated in double precision for every dtype. */
void sl_kernel_reduce(sl_reduce_kind kind, sl_dtype dtype, sl_tile_shape s, const void *a,
                      const void *b, double p, double acc[2]);

/* Where an element of a tile lands in a reduction along one axis. The rank's block is C order
 * and seen as (pre, len, post) around the reduced axis; the tile starts at flat element
 * `tile_offset` of the block, and its rows are `ld` elements apart. Element (pre, k, post)
 * lands at index pre * post_count + post of the accumulator. */
typedef struct sl_axis_geometry {
    size_t tile_offset;
    size_t len, post;
} sl_axis_geometry;

/* kind: SL_RED_SUM_ABS2, SUM_ABS, SUM_ABSP, COUNT_NZ, MAX_ABS or MIN_ABS. */
void sl_kernel_reduce_axis(sl_reduce_kind kind, sl_dtype dtype, sl_tile_shape s, const void *a,
                           double p, const sl_axis_geometry *g, double *acc);

/* C (m x n, row-major, ldc) = op(A) B + (beta_one ? C : 0), op(A) = A (m x k) or, with
 * adjoint_a, A^H where A is k x m. B is k x n (ldb). n == 1 runs a matrix-vector product. */
void sl_kernel_gemm(sl_dtype dtype, int adjoint_a, size_t m, size_t n, size_t k, const void *a,
                    size_t lda, const void *b, size_t ldb, int beta_one, void *c, size_t ldc);
/* Makes OpenBLAS single-threaded (StarPU workers provide the parallelism). */
void sl_blas_single_threaded(void);

#endif
