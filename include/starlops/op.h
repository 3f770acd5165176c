/* Distributed linear operators (PyLops-MPI's MPILinearOperator family).
 *
 * An operator maps model arrays (its model layout) to data arrays (its data layout). matvec and
 * rmatvec (the adjoint, conjugate transpose) only submit tasks. Operators made by the algebra
 * functions borrow their operands: destroy them after the result. */
#ifndef STARLOPS_OP_H
#define STARLOPS_OP_H

#include <starlops/darray.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_op sl_op;

/* y = A x and x = A^H y. Arrays must have the operator's data / model layout: a stacked model
 * or data (made by the stacked operators below) is a stack of arrays (sl_darray_stack) with
 * the parts' layouts; a plain one is a plain array (or a stack of that one array). */
sl_status sl_op_matvec(const sl_op *op, const sl_darray *x, sl_darray *y);
sl_status sl_op_rmatvec(const sl_op *op, const sl_darray *y, sl_darray *x);
/* New zero arrays with the operator's model / data layout (collective); stacks owning their
 * parts when that side is stacked. */
sl_status sl_op_create_model(const sl_op *op, sl_darray **x);
sl_status sl_op_create_data(const sl_op *op, sl_darray **y);
/* What an operator is (local, never blocks). */
typedef struct sl_op_info {
    size_t n_data, n_model; /* global sizes: the operator is n_data x n_model */
    sl_dtype dtype;         /* of its (first) model array */
    int model_parts;        /* 0: a plain model; else the parts of its stacked model */
    int data_parts;         /* the same for the data */
} sl_op_info;
sl_status sl_op_get_info(const sl_op *op, sl_op_info *info);
sl_status sl_op_destroy(sl_op *op);

/* Stacked operators over distributed operators (borrowed; count >= 1):
 * StackedBlockDiag: model and data are the stacks of the operators' models and data;
 *   y_i = A_i x_i.
 * StackedVStack: every operator has the same model; data is the stack of their data;
 *   y_i = A_i x, adjoint x = sum_i A_i^H y_i (PyLops-MPI MPIStackedVStack).
 * StackedHStack: every operator has the same data; model is the stack of their models;
 *   y = sum_i A_i x_i (the adjoint arrangement of StackedVStack).
 * An operand that is itself stacked contributes all its components (stacks flatten). The
 * sums need one scratch vector, created with the operator (collective). */
sl_status sl_op_stacked_blockdiag(int count, const sl_op *const *ops, sl_op **out);
sl_status sl_op_stacked_vstack(int count, const sl_op *const *ops, sl_op **out);
sl_status sl_op_stacked_hstack(int count, const sl_op *const *ops, sl_op **out);

/* Identity on arrays laid out like `like`. */
sl_status sl_op_identity(const sl_darray *like, sl_op **out);
/* Diagonal: y = d * x elementwise, adjoint conj(d) * y. Borrows d. */
sl_status sl_op_diagonal(const sl_darray *d, sl_op **out);

/* MatrixMult, 1D block-row split: A is N x K, this rank passes its block of rows (row-major,
 * local_rows x K; local_rows: NULL for the balanced split, else one count per rank). The model
 * X (K, or K x nrhs) is replicated on every rank (SL_BROADCAST), the data Y (N, or N x nrhs)
 * is scattered by rows. The adjoint sums the ranks' partial A^H Y with an allreduce task.
 * nrhs = 0 means vectors (1-d model and data). A is copied. */
sl_status sl_op_matrixmult(sl_context *ctx, sl_dtype dtype, size_t n, size_t k, size_t nrhs,
                           const void *a_local, const size_t *local_rows, sl_op **out);

/* User-defined operator from a per-rank callback on local blocks (C order, the arrays' dtype):
 * fn(in, out, adjoint, user) maps this rank's block of the model (adjoint: data) to its block
 * of the data (adjoint: model). It runs inside a task (keep it thread-safe, never call MPI or
 * starlops from it); in/out may be NULL on a rank holding no elements. Layouts are taken from
 * model_like and data_like. When the output is replicated and the input scattered, the ranks'
 * outputs are summed: a scattered data with a replicated model is PyLops-MPI's VStack (each
 * rank's block of rows, adjoint = sum of the local adjoints), the reverse is HStack, both
 * scattered is BlockDiag. user is borrowed. */
typedef void (*sl_local_apply_fn)(const void *in, void *out, int adjoint, void *user);
sl_status sl_op_from_callbacks(const sl_darray *model_like, const sl_darray *data_like,
                               sl_local_apply_fn fn, void *user, sl_op **out);

/* User-defined operator from a pair of StarPU codelets applied tile by tile (scheduled like the
 * built-in operators, on any worker kind the codelets implement). Each codelet has nbuffers = 2:
 * buffer 0 the output tile (STARPU_W), buffer 1 the input tile (STARPU_R), both StarPU matrix
 * interfaces (nx contiguous elements per row, ny rows, ld). Its cl_arg packs two values, to be
 * read with starpu_codelet_unpack_args(cl_arg, &info, &your_arg): an sl_tile_info, then the
 * arg_size bytes of `arg` (copied). The operator must be tile-local, so model_like and
 * data_like must be tiled alike on every rank (checked, collectively). The codelets are
 * borrowed and must outlive the operator. */
typedef struct sl_tile_info {
    size_t global_row0; /* first row of the tile along the distributed axis, global index */
    size_t nrows;       /* rows of the tile along that axis */
    size_t outer, inner; /* products of the dimensions before / after the axis */
    size_t tile;        /* index of the tile on this rank */
} sl_tile_info;
struct starpu_codelet;
sl_status sl_op_from_codelets(const sl_darray *model_like, const sl_darray *data_like,
                              struct starpu_codelet *forward, struct starpu_codelet *adjoint,
                              const void *arg, size_t arg_size, sl_op **out);

/* A local (per-rank, non-distributed) linear operator of rows x cols on host blocks in the
 * stack's dtype: apply(in, out, adjoint, user) computes out = A in (adjoint: A^H in). Called
 * inside a task; keep it thread-safe and free of MPI/starlops calls. */
typedef struct sl_local_op {
    size_t rows, cols;
    sl_local_apply_fn apply;
    void *user;
} sl_local_op;

/* Collective. Each rank passes its own list of local operators (a rank may pass none).
 * BlockDiag: model and data scattered, each rank's operators along the diagonal.
 * VStack: model (length = the operators' column count, the same on every rank) replicated,
 *   data scattered (each rank's operators' rows); the adjoint sums over ranks.
 * HStack: the transpose arrangement (model scattered, data replicated).
 * Inconsistent counts (within a rank or across ranks) fail on every rank. The list is copied;
 * the user pointers are borrowed. */
sl_status sl_op_blockdiag(sl_context *ctx, sl_dtype dtype, int nops, const sl_local_op *ops,
                          sl_op **out);
sl_status sl_op_vstack(sl_context *ctx, sl_dtype dtype, int nops, const sl_local_op *ops,
                       sl_op **out);
sl_status sl_op_hstack(sl_context *ctx, sl_dtype dtype, int nops, const sl_local_op *ops,
                       sl_op **out);

/* Algebra (each result borrows its operands). */
sl_status sl_op_adjoint(const sl_op *a, sl_op **out);                 /* A^H */
sl_status sl_op_scale(const sl_op *a, double _Complex alpha, sl_op **out); /* alpha A */
sl_status sl_op_sum(const sl_op *a, const sl_op *b, sl_op **out);     /* A + B */
sl_status sl_op_product(const sl_op *a, const sl_op *b, sl_op **out); /* A B */
sl_status sl_op_conj(const sl_op *a, sl_op **out);                    /* conj(A) */
sl_status sl_op_transpose(const sl_op *a, sl_op **out);               /* A^T */
sl_status sl_op_power(const sl_op *a, int p, sl_op **out);            /* A^p, square A, p >= 0 */

/* PyLops' dottest: |<A x, y> - <x, A^H y>| <= rtol * max(|<A x, y>|, |<x, A^H y>|) with
 * random x and y (seeded, same on every rank). When the model and data mix real and complex
 * arrays (an FFT of a real model: the operator is only R-linear), the real parts are compared,
 * as PyLops does for such operators. Collective, blocking. *passed is 0 or 1; err (may be
 * NULL) receives the relative error. */
sl_status sl_dottest(const sl_op *op, double rtol, int *passed, double *err);

#ifdef __cplusplus
}
#endif
#endif
