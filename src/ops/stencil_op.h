/* The stencil operator behind FirstDerivative, SecondDerivative, Laplacian and Convolve1D: a
 * sum of one-dimensional stencils, each along one axis (codelets/cpu/stencil_kernels.h), on
 * arrays laid out like a given array. Along the distributed axis the tiles read their
 * neighbours' rows directly, and the rows of neighbouring ranks arrive as ghost slabs through
 * the communication layer's neighbour exchange, all as tasks: interior tiles compute while the
 * boundary slabs travel. */
#ifndef STARLOPS_STENCIL_OP_H
#define STARLOPS_STENCIL_OP_H

#include "ops/op_internal.h"
#include "codelets.h"

typedef struct sl_stencil_term {
    int axis; /* in [0, ndim) */
    sl_stencil stencil;
} sl_stencil_term;

/* What the operator is called (its name in messages and logs). */
typedef enum sl_stencil_kind {
    SL_STENCIL_FIRST_DERIVATIVE, SL_STENCIL_SECOND_DERIVATIVE, SL_STENCIL_LAPLACIAN,
    SL_STENCIL_CONVOLVE1D, SL_STENCIL_KIND_COUNT
} sl_stencil_kind;

/* Collective. Checks the terms against the layout (axis range, axis lengths against the
 * boundary rows, ranks and tiles thick enough for the halo) with the same verdict on every
 * rank; `what` prefixes the messages. */
sl_status sl_op_stencil(const char *what, sl_stencil_kind kind, const sl_darray *like,
                        int nterms, const sl_stencil_term *terms, sl_op **out);

/* A constructor whose own argument check failed on this rank (local != SL_OK) still takes
 * part in the agreement sl_op_stencil makes on the other ranks, so every rank fails instead of
 * waiting; returns the local status, or the agreed one. */
sl_status sl_stencil_refuse(const sl_darray *like, sl_status local, const char *what);

/* The arguments, piece handles and stencil table of the task computing output tile t of `op`
 * (a stencil operator) from `in`: what stencil_apply submits, also for tests that evaluate a
 * task's buffers another way (tests/test_stencil_point.c). No side effect. */
void sl_stencil_tile_args(const sl_op *op, int adjoint, const sl_darray *in, size_t t,
                          sl_stencil_task_args *a, starpu_data_handle_t *pieces,
                          starpu_data_handle_t *table);

/* What ranks compare to agree they build the same operator (the stencils must have been
 * zero-initialised before being filled, so unused coefficients hash alike). */
int64_t sl_stencil_terms_hash(int nterms, const sl_stencil_term *terms);

#endif
