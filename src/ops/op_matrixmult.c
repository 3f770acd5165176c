/* MatrixMult with a 1D block-row split (PyLops-MPI MPIMatrixMult's "row" kind, done as tasks):
 * each rank holds its rows of A, cut into the same row tiles as the data. Forward: one product
 * task per data tile, reading every tile of the replicated model. Adjoint: per-tile A_t^H Y_t
 * summed in STARPU_REDUX mode into a per-rank K x nrhs accumulator, one allreduce task, then
 * copies into the replicated model tiles. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "codelets.h"
#include "ops/op_internal.h"

typedef struct mm_state {
    sl_dtype dtype;
    size_t k, nrhs;
    void *a;                      /* this rank's rows, row-major local_rows x k */
    size_t ntiles;
    starpu_data_handle_t *a_tiles; /* row tiles matching the data tiles */
    void *acc_mem;
    starpu_data_handle_t acc;     /* k x nrhs partial adjoint */
} mm_state;

/* The status of a task helper's result `ret` for codelet `name`. */
static sl_status task_status(int ret, const char *name, sl_context *ctx)
{
    if (ret == -ENOMEM)
        return sl_fail(ctx, SL_ERR_NOMEM, "MatrixMult: out of memory");
    if (ret != 0)
        return sl_fail(ctx, SL_ERR_STARPU, "starpu_task_insert failed for %s", name);
    return SL_OK;
}

static sl_status mm_forward(const sl_op *op, const sl_darray *x, sl_darray *y)
{
    mm_state *s = op->state;
    sl_mm_args args = {s->dtype, s->k, s->nrhs};
    starpu_data_handle_t *xh = malloc((x->ntiles + 1) * sizeof *xh); /* never a 0-byte malloc */
    if (!xh)
        return sl_fail(op->ctx, SL_ERR_NOMEM, "MatrixMult: out of memory");
    for (size_t j = 0; j < x->ntiles; j++)
        xh[j] = x->tiles[j].handle;
    sl_status st = SL_OK;
    for (size_t t = 0; t < s->ntiles && st == SL_OK; t++)
        st = task_status(sl_task_mm_forward(&args, y->tiles[t].handle, s->a_tiles[t], xh,
                                            (int)x->ntiles),
                         "matrixmult_fwd", op->ctx);
    free(xh);
    return st;
}

static sl_status mm_adjoint(const sl_op *op, const sl_darray *y, sl_darray *x)
{
    mm_state *s = op->state;
    sl_context *ctx = op->ctx;
    sl_mm_args args = {s->dtype, s->k, s->nrhs};
    if (sl_task_vec_zero(s->acc) != 0)
        return sl_fail(ctx, SL_ERR_STARPU, "starpu_task_insert failed for vec_zero");
    sl_status st = SL_OK;
    for (size_t t = 0; t < s->ntiles && st == SL_OK; t++)
        st = task_status(sl_task_mm_adjoint(&args, s->acc, s->a_tiles[t], y->tiles[t].handle),
                         "matrixmult_adj", ctx);
    if (st == SL_OK)
        st = sl_comm_allreduce(ctx->comm, (sl_comm_group){ctx->task_comm}, s->acc,
                               sl_comm_elem_of(s->dtype), SL_COMM_SUM);
    for (size_t j = 0; j < x->ntiles && st == SL_OK; j++) {
        size_t offset = x->tiles[j].row0 * s->nrhs;
        if (sl_task_slice_copy(offset, x->tiles[j].handle, s->acc) != 0)
            st = sl_fail(ctx, SL_ERR_STARPU, "starpu_task_insert failed for slice_copy");
    }
    return st;
}

static sl_status mm_apply(const sl_op *op, int adjoint, const sl_darray *in, sl_darray *out)
{
    return adjoint ? mm_adjoint(op, in, out) : mm_forward(op, in, out);
}

static void mm_free(mm_state *s)
{
    for (size_t t = 0; t < s->ntiles; t++)
        if (s->a_tiles[t])
            starpu_data_unregister(s->a_tiles[t]);
    if (s->acc)
        starpu_data_unregister(s->acc);
    free(s->a_tiles);
    free(s->a);
    free(s->acc_mem);
    free(s);
}

static void mm_destroy(sl_op *op)
{
    mm_free(op->state);
}

static const sl_op_vtable mm_vt = {.name = "MatrixMult", .apply = mm_apply, .destroy = mm_destroy};

int sl_op_is_matrixmult_row(const sl_op *op)
{
    return op && op->vt == &mm_vt;
}

/* Copies this rank's rows and registers them in the row tiles of the data layout's arrays (the
 * tiling an array of that layout gets, darray.c). */
static sl_status mm_state_create(sl_context *ctx, const sl_layout *data, sl_dtype dtype,
                                 size_t k, size_t nrhs, const void *a_local, mm_state **out)
{
    mm_state *s = calloc(1, sizeof *s);
    if (!s)
        return SL_ERR_NOMEM;
    size_t es = sl_dtype_size(dtype), rows = data->local_sizes[ctx->rank];
    size_t row_elems = data->ndim == 2 ? data->shape[1] : 1;
    s->dtype = dtype;
    s->k = k;
    s->nrhs = nrhs;
    s->ntiles = sl_tile_count(rows, row_elems, ctx->config.tile_elements);
    s->a_tiles = calloc(s->ntiles + 1, sizeof *s->a_tiles);
    s->a = malloc(rows * k * es + 1);
    s->acc_mem = malloc(k * nrhs * es);
    if (!s->a_tiles || !s->a || !s->acc_mem) {
        mm_free(s);
        return SL_ERR_NOMEM;
    }
    if (rows > 0)
        memcpy(s->a, a_local, rows * k * es);
    for (size_t t = 0; t < s->ntiles; t++) {
        size_t row0, nrows;
        sl_tile_range(rows, s->ntiles, t, &row0, &nrows);
        starpu_matrix_data_register(&s->a_tiles[t], STARPU_MAIN_RAM,
                                    (uintptr_t)((char *)s->a + row0 * k * es), (uint32_t)k,
                                    (uint32_t)k, (uint32_t)nrows, es);
        starpu_data_set_coordinates(s->a_tiles[t], 2, ctx->rank, (int)t);
    }
    starpu_vector_data_register(&s->acc, STARPU_MAIN_RAM, (uintptr_t)s->acc_mem,
                                (uint32_t)(k * nrhs), es);
    sl_vec_set_sum_reduction(s->acc, dtype);
    *out = s;
    return SL_OK;
}

sl_status sl_op_matrixmult(sl_context *ctx, sl_dtype dtype, size_t n, size_t k, size_t nrhs,
                           const void *a_local, const size_t *local_rows, sl_op **out)
{
    if (!ctx || !out)
        return sl_null_error(__func__);
    *out = NULL;
    size_t m = nrhs ? nrhs : 1, es = sl_dtype_size(dtype), bytes;
    sl_status local = SL_OK;
    /* BLAS takes int dimensions and leading dimensions (k x nrhs is one, n bounds the rows) */
    if (k > INT_MAX / m || n > INT_MAX)
        local = sl_fail(ctx, SL_ERR_SHAPE, "sl_op_matrixmult: n=%zu, k x nrhs = %zu x %zu: "
                        "too large for BLAS's int dimensions", n, k, m);
    /* this rank's rows of A are copied: n * k * element size bytes at most */
    else if (__builtin_mul_overflow(n, k, &bytes) || __builtin_mul_overflow(bytes, es, &bytes) ||
             __builtin_mul_overflow(n, m, &bytes) || __builtin_mul_overflow(bytes, es, &bytes))
        local = sl_fail(ctx, SL_ERR_SHAPE, "sl_op_matrixmult: A %zu x %zu with %zu right-hand "
                        "side(s) is too large (the byte counts overflow)", n, k, m);
    /* a verdict reached on one rank only would leave the others in the collectives below */
    int64_t sizes[4] = {(int64_t)dtype, (int64_t)n, (int64_t)k, (int64_t)nrhs};
    sl_status agreed = sl_agree(ctx, sizes, 4, local == SL_OK, "sl_op_matrixmult");
    if (local != SL_OK || agreed != SL_OK)
        return local != SL_OK ? local : agreed;
    /* The layouts (validated and agreed once); no array is made. */
    size_t dshape[2] = {n, nrhs}, mshape[2] = {k, nrhs};
    int ndim = nrhs ? 2 : 1;
    sl_layout dl = {0}, ml = {0};
    sl_status st = sl_layout_agree(ctx, "sl_op_matrixmult", dtype, ndim, dshape, SL_SCATTER, 0,
                                   local_rows, NULL, &dl);
    if (st == SL_OK)
        st = sl_layout_agree(ctx, "sl_op_matrixmult", dtype, ndim, mshape, SL_BROADCAST, 0,
                             NULL, NULL, &ml);
    size_t my_rows = st == SL_OK ? dl.local_sizes[ctx->rank] : 0;
    int ok = st != SL_OK || !(my_rows > 0 && !a_local);
    if (!ok)
        sl_fail(ctx, SL_ERR_NULL, "sl_op_matrixmult: a_local is NULL on rank %d, which holds "
                "%zu rows", ctx->rank, my_rows);
    if (st == SL_OK) {
        sl_status agreed = sl_agree(ctx, NULL, 0, ok, "sl_op_matrixmult");
        st = ok ? agreed : SL_ERR_NULL;
    }
    mm_state *s = NULL;
    if (st == SL_OK && (st = mm_state_create(ctx, &dl, dtype, k, m, a_local, &s)) != SL_OK)
        sl_fail(ctx, st, "sl_op_matrixmult: out of memory");
    if (st == SL_OK)
        st = sl_op_new(ctx, &mm_vt, &ml, &dl, s, out);
    if (st != SL_OK && s)
        mm_free(s);
    sl_layout_free(&ml);
    sl_layout_free(&dl);
    return st;
}
