/* Private layout of sl_darray and sl_scalar. */
#ifndef STARLOPS_DARRAY_INTERNAL_H
#define STARLOPS_DARRAY_INTERNAL_H

#include <starlops/darray.h>
#include "runtime/context_internal.h"

/* One tile: rows [row0, row0 + nrows) of this rank's block along the axis, seen as a StarPU
 * matrix of `outer` rows of nrows*inner contiguous elements, `local_rows*inner` apart. */
typedef struct sl_tile {
    starpu_data_handle_t handle;
    size_t row0, nrows;
} sl_tile;

/* One layout descriptor (issue 14): everything an array of this layout needs, agreed by the
 * ranks once (sl_layout_agree); arrays are made from it (sl_darray_from_layout) and operators
 * describe their spaces with it, without making arrays (src/darray/layout.c). */
typedef struct sl_layout {
    sl_dtype dtype;
    int ndim;
    size_t shape[SL_MAX_NDIM];
    sl_partition partition;
    int axis;
    size_t *local_sizes; /* per rank along the axis (owned) */
    int *mask;           /* owned, or NULL */
} sl_layout;

struct sl_darray {
    sl_context *ctx;
    /* A stack (sl_darray_stack) has nparts > 0 plain arrays in parts and no other field set;
     * owns_parts when starlops made it (an operator's space, create_like). */
    int nparts;
    struct sl_darray **parts;
    int owns_parts;
    sl_layout layout;      /* what the ranks agreed on (owned: local_sizes, mask) */
    size_t elem_size;
    size_t *row_offset_of; /* per rank: first global row along the axis */
    MPI_Comm reduce_comm;  /* the colour group reductions combine over */
    size_t outer, inner;   /* products of the dimensions before / after the axis */
    size_t local_rows;     /* this rank's rows along the axis */
    void *data;            /* this rank's block, C order: outer x local_rows x inner */
    void *allocation;      /* what data points into (data is staggered, see darray.c) */
    size_t ntiles;
    sl_tile *tiles;
};


struct sl_scalar {
    sl_context *ctx;
    starpu_data_handle_t handle; /* vector of 2 doubles (re, im), StarPU-allocated */
};

/* Validates a layout (each rank checks its arguments, then the ranks agree: every rank gets the
 * same verdict, SL_ERR_RANK_MISMATCH if they passed different values) and describes it:
 * local_sizes NULL splits a scattered axis evenly. `who` names the caller in messages. Collective
 * on the context. */
sl_status sl_layout_agree(sl_context *ctx, const char *who, sl_dtype dtype, int ndim,
                          const size_t *shape, sl_partition partition, int axis,
                          const size_t *local_sizes, const int *mask, sl_layout *out);
/* An array of an agreed layout (allocates, tiles and registers; collective: every rank books
 * the same StarPU-MPI tags). */
sl_status sl_darray_from_layout(sl_context *ctx, const sl_layout *l, sl_darray **out);
/* A deep copy of src (nranks entries per table); free with sl_layout_free. */
sl_status sl_layout_clone(const sl_layout *src, int nranks, sl_layout *dst);
/* The layout of an existing array (a copy). */
sl_status sl_layout_from_darray(const sl_darray *x, sl_layout *l);
/* A 1-d scattered layout with rows[r] elements on rank r (the same on every rank, already
 * agreed), made without an agreement: what an operator computes of a space it defines. */
sl_status sl_layout_rows(const sl_context *ctx, sl_dtype dtype, const size_t *rows, sl_layout *l);
void sl_layout_free(sl_layout *l);
/* x's layout, pointing into x (nothing to free; valid while x is): x->layout itself. */
sl_layout sl_layout_view(const sl_darray *x);
/* The one layout comparison: SL_OK, or the status and a message naming the first difference
 * of `got` from `want`, prefixed by what. */
sl_status sl_layout_compare(sl_context *ctx, const sl_layout *want, const sl_layout *got,
                            const char *what);
/* SL_OK if x has layout l (else a message naming the difference, prefixed by what). */
sl_status sl_layout_check(sl_context *ctx, const sl_layout *l, const sl_darray *x,
                          const char *what);
size_t sl_layout_count(const sl_layout *l);
/* Elements rank `rank` holds of an array of this layout. */
size_t sl_layout_local_count(const sl_layout *l, int rank);
int sl_layout_equal(const sl_layout *a, const sl_layout *b, int nranks);

/* Row split of `n` over `nranks` (PyLops-MPI rule: the first n % P ranks get one more). */
void sl_split_balanced(size_t n, int nranks, size_t *sizes);
/* Block i of n items cut into `parts` balanced blocks (the split every layout uses). */
void sl_split_block(size_t n, size_t parts, size_t i, size_t *offset, size_t *size);

/* Tile rows of a block of `rows` rows whose rows hold `row_elems` elements each. */
size_t sl_tile_count(size_t rows, size_t row_elems, size_t tile_elems);
void sl_tile_range(size_t rows, size_t ntiles, size_t t, size_t *row0, size_t *nrows);

/* Copies `rows` rows of a C-order (outer x src_rows x inner) array starting at src_row0 into
 * an (outer x dst_rows x inner) array at dst_row0. */
void sl_copy_rows(void *dst, size_t dst_rows, size_t dst_row0, const void *src, size_t src_rows,
                  size_t src_row0, size_t rows, size_t outer, size_t inner, size_t esize);

/* Host access to a rank's whole block: acquire waits only for the tasks using its tiles. */
sl_status sl_darray_acquire_tiles(const sl_darray *x, enum starpu_data_access_mode mode);
void sl_darray_release_tiles(const sl_darray *x);

/* Layout equality for binary operations (sets the context's error and returns a status). */
sl_status sl_darray_check_compatible(const sl_darray *x, const sl_darray *y, const char *what);

/* Creates a scalar whose accumulator combines with `combine`, initialised to `init`. */
sl_status sl_scalar_create(sl_context *ctx, int combine, const double init[2], sl_scalar **out);
/* sl_scalar_get without the asynchronous-status report: for the solvers, whose ranks must take
 * the same decisions (they agree on failures themselves, solver_common.h). */
sl_status sl_scalar_read(const sl_scalar *s, double _Complex *value);
sl_status sl_scalar_read_real(const sl_scalar *s, double *value);

/* Reductions needed at the same point, whose cross-rank steps travel together: one allreduce
 * per (communicator, operation) for all of them when the batch is flushed (PETSc's
 * VecDotBegin/End idea). The scalars are futures as usual; a flush frees the batch. */
typedef struct sl_reduce_batch sl_reduce_batch;
sl_status sl_reduce_batch_create(sl_context *ctx, sl_reduce_batch **out);
sl_status sl_reduce_batch_flush(sl_reduce_batch *batch);
/* sl_darray_dot / vdot (conjugate) / norm whose allreduce joins `batch` (NULL: submitted now). */
sl_status sl_darray_dot_batched(const sl_darray *x, const sl_darray *y, int conjugate,
                                sl_reduce_batch *batch, sl_scalar **out);
sl_status sl_darray_norm_batched(const sl_darray *x, double ord, sl_reduce_batch *batch,
                                 sl_scalar **out);

/* A solver's guard for sl_scalar_ratio: the handle of its (code, iterations) vector and the
 * number of iterations the iterate holds if this ratio trips it (codelets.h, SL_GUARD_*). */
typedef struct sl_ratio_guard {
    starpu_data_handle_t handle;
    int completed;
} sl_ratio_guard;

/* out = num / (den1 + w * den2) as a task (den2 may be NULL); with a guard, a zero or
 * non-finite step yields 0 and is recorded there (and so do all later guarded ratios). */
sl_status sl_scalar_ratio(sl_context *ctx, const sl_scalar *num, const sl_scalar *den1,
                          const sl_scalar *den2, double w, const sl_ratio_guard *guard,
                          sl_scalar **out);

static inline int sl_darray_is_stack(const sl_darray *x)
{
    return x && x->nparts > 0;
}

/* SL_OK for a plain array; an error naming `who` for a stack (functions on one array's layout
 * or host memory). NULL passes: the caller's own check reports it. */
sl_status sl_darray_need_plain(const sl_darray *x, const char *who);

/* The former public forms kept for the solvers: y = sign * alpha * x + y and
 * x = (factor * alpha) * x, with alpha a scalar future (plain arrays). */
sl_status sl_darray_axpy_scalar(const sl_scalar *alpha, double sign, const sl_darray *x,
                                sl_darray *y);
sl_status sl_darray_scale_scalar(sl_darray *x, const sl_scalar *alpha, double _Complex factor);

static inline int sl_darray_is_replicated(const sl_darray *x)
{
    return x->layout.partition != SL_SCATTER;
}

#endif
