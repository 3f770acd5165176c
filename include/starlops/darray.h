/* Distributed arrays (PyLops-MPI's DistributedArray), cut into StarPU tiles.
 *
 * A global N-d array (C order) is split along `axis` into one contiguous block per rank
 * (balanced by default: ranks r < n % P get n / P + 1 rows, the others n / P), or replicated on
 * every rank (SL_BROADCAST, SL_UNSAFE_BROADCAST). Each rank's block is cut into tiles along the
 * axis, one StarPU handle per tile. Every operation below only *submits* tasks and returns at
 * once, except where it says "blocking". Creation is collective: ranks that disagree on any
 * argument all get SL_ERR_RANK_MISMATCH. */
#ifndef STARLOPS_DARRAY_H
#define STARLOPS_DARRAY_H

#include <complex.h>
#include <stddef.h>
#include <stdint.h>
#include <starlops/context.h>
#include <starlops/dtype.h>
#include <starlops/scalar.h>
#include <starlops/status.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SL_MAX_NDIM 8
/* root argument of sl_darray_gather meaning "every rank receives the array" */
#define SL_ALL_RANKS (-1)

typedef enum sl_partition {
    SL_SCATTER = 0,          /* one block per rank along the axis */
    SL_BROADCAST = 1,        /* full copy on every rank, filled from rank 0's data */
    SL_UNSAFE_BROADCAST = 2  /* full copy on every rank, each rank's data taken as given */
} sl_partition;

typedef struct sl_darray sl_darray;

/* Collective. shape[ndim]; axis in [0, ndim) (negative counts from the end); local_sizes: NULL
 * for the balanced split, else one length along the axis per rank (sum == shape[axis]; for the
 * broadcast partitions every entry must equal shape[axis]); mask: NULL, else one colour per rank:
 * reductions (dot, norm) combine only ranks of the same colour. The content starts at zero. */
sl_status sl_darray_create(sl_context *ctx, sl_dtype dtype, int ndim, const size_t *shape,
                           sl_partition partition, int axis, const size_t *local_sizes,
                           const int *mask, sl_darray **out);
/* Collective: a new zero array with x's layout (shape, axis, local sizes, partition, mask); for
 * a stack, a stack (owning its parts) of new arrays like its parts. */
sl_status sl_darray_create_like(const sl_darray *x, sl_darray **out);
/* Waits for the tasks using x, then frees it (NULL accepted); a stack frees its parts only if
 * it owns them. */
sl_status sl_darray_destroy(sl_darray *x);

/* A stack (PyLops-MPI's StackedDistributedArray, as PETSc's VecNest is a Vec): `count` arrays
 * treated as one vector. Every function below that takes arrays takes stacks too, except where
 * it says "plain array": math applies part by part (stacks in one operation need the same
 * number of parts, pairwise compatible), dot/vdot/norm combine the parts' futures in one more
 * task (nothing waits), norms as PyLops-MPI ((sum ||part||_p^p)^(1/p), max, min, count).
 * Parts may differ in shape, axis, partition and dtype. A part that is itself a stack
 * contributes its parts (stacks nest and are stored flattened: a nested stack behaves exactly
 * as the flat stack of its plain arrays). Not collective; borrows the parts (destroy them after
 * the stack). Stacks made by starlops (an operator's model or data, sl_darray_create_like of a
 * stack) own their parts and destroy them with themselves. count < 1 is SL_ERR_ARG (with no
 * context to hold a message). */
sl_status sl_darray_stack(int count, sl_darray *const *parts, sl_darray **out);
/* The plain array at `index` of a stack (index 0 of a plain array is the array itself). */
sl_status sl_darray_stack_part(const sl_darray *x, int index, sl_darray **part);

/* What an array is (local, never blocks). */
typedef struct sl_darray_info {
    int nparts;          /* 0: a plain array; a stack: its number of plain arrays, and the
                            fields below describe it as a flat vector: ndim 1, shape[0] and
                            local_shape[0] the total counts, axis 0, dtype the widest
                            (complex if any part is, double if any part is) */
    sl_dtype dtype;
    int ndim;
    size_t shape[SL_MAX_NDIM];
    size_t local_shape[SL_MAX_NDIM]; /* this rank's block */
    int axis;                        /* the distributed axis */
    size_t local_offset;             /* first global index of this rank's block on the axis */
    sl_partition partition;
    size_t ntiles;                   /* this rank's StarPU tiles */
    size_t local_size;               /* elements of this rank's block */
    size_t global_size;              /* elements of the global array */
} sl_darray_info;
sl_status sl_darray_get_info(const sl_darray *x, sl_darray_info *info);

/* Blocking data movement to/from host memory (C order, x's dtype); plain arrays. */
/* Every rank passes the full global array; each keeps its own block (to_dist in PyLops-MPI).
 * SL_BROADCAST arrays take rank 0's copy. */
sl_status sl_darray_from_global(sl_darray *x, const void *global);
/* Every rank passes its own block (local shape). SL_BROADCAST arrays take rank 0's copy. */
sl_status sl_darray_from_local(sl_darray *x, const void *local);
/* Uniform values in [-1, 1) (real and imaginary parts) that depend only on the seed and each
 * element's global index: the same array for any number of ranks. A stack's part i uses the
 * seed advanced by i (a stack is not a repeated pattern). */
sl_status sl_darray_random(sl_darray *x, uint64_t seed);
/* Copies this rank's block out. */
sl_status sl_darray_to_local(const sl_darray *x, void *local);
/* Collective: the global array into `global` on `root`, or on every rank with SL_ALL_RANKS
 * (other ranks may pass NULL). */
sl_status sl_darray_gather(const sl_darray *x, int root, void *global);
/* Collective: this rank's block extended along the axis by `front` rows of the previous rank's
 * block and `back` rows of the next rank's block (PyLops-MPI add_ghost_cells). `out` holds
 * local_shape with the axis length + front + back. The first rank gets no front rows and the
 * last no back rows (their axis length is shorter accordingly). Ranks must agree on front/back;
 * a neighbour block thinner than the request is an error on every rank. */
sl_status sl_darray_add_ghost_cells(const sl_darray *x, size_t front, size_t back, void *out,
                                    size_t out_capacity_elements);

/* Collective, blocking: a new scattered array with x's values distributed along `axis`
 * (local_sizes: NULL for the balanced split, or one length per rank), exchanged with one
 * all-to-all (PyLops-MPI's redistribution; also re-splits along the same axis). */
sl_status sl_darray_redistribute(const sl_darray *x, int axis, const size_t *local_sizes,
                                 sl_darray **out);

/* Asynchronous math. Binary operations need the same layout (shape, axis, local sizes,
 * partition, dtype); outputs may alias inputs. */
sl_status sl_darray_fill(sl_darray *x, double _Complex value);
sl_status sl_darray_zeros(sl_darray *x);
sl_status sl_darray_copy(const sl_darray *src, sl_darray *dst);
sl_status sl_darray_scale(sl_darray *x, double _Complex alpha);
/* y = alpha * x + y */
sl_status sl_darray_axpy(double _Complex alpha, const sl_darray *x, sl_darray *y);
/* y = alpha * x + beta * y */
sl_status sl_darray_axpby(double _Complex alpha, const sl_darray *x, double _Complex beta,
                          sl_darray *y);
/* y = (alpha_factor * alpha) * x + (beta_factor * beta) * y, where alpha and beta are scalar
 * futures (NULL: 1) read by the tasks: the building block of solvers that never wait.
 * With alpha_factor = 0, x == y and a beta, it scales y by beta_factor * beta (one read). */
sl_status sl_darray_axpby_scalars(const sl_scalar *alpha, double _Complex alpha_factor,
                                  const sl_darray *x, const sl_scalar *beta,
                                  double _Complex beta_factor, sl_darray *y);
/* z = x + y, x - y, x * y (elementwise), conj(x) */
sl_status sl_darray_add(const sl_darray *x, const sl_darray *y, sl_darray *z);
sl_status sl_darray_sub(const sl_darray *x, const sl_darray *y, sl_darray *z);
sl_status sl_darray_multiply(const sl_darray *x, const sl_darray *y, sl_darray *z);
sl_status sl_darray_conj(const sl_darray *x, sl_darray *z);
/* z = conj(x) * y (elementwise) */
sl_status sl_darray_conj_multiply(const sl_darray *x, const sl_darray *y, sl_darray *z);

/* Reductions over the flattened array (within the mask colour group). The result is a future.
 * dot = sum x*y (no conjugation, as numpy.dot), vdot = sum conj(x)*y.
 * norm: ord = 2, 1, 0 (count of non-zeros), INFINITY (max |x|), -INFINITY (min |x|), or any
 * other p > 0: (sum |x|^p)^(1/p). Replicated (broadcast) arrays reduce their local copy. */
sl_status sl_darray_dot(const sl_darray *x, const sl_darray *y, sl_scalar **out);
sl_status sl_darray_vdot(const sl_darray *x, const sl_darray *y, sl_scalar **out);
sl_status sl_darray_norm(const sl_darray *x, double ord, sl_scalar **out);
/* Blocking, plain arrays: norms along `axis` (same ord values), computed by tasks into `out`
 * (doubles). Along the distributed axis the result has the global shape without that axis and is the same
 * on every rank (combined within the mask group); along another axis it has this rank's local
 * shape without that axis (no communication; a rank without rows gets nothing). */
sl_status sl_darray_norm_axis(const sl_darray *x, double ord, int axis, double *out,
                              size_t capacity);

#ifdef __cplusplus
}
#endif
#endif
