/* Blocking movement between host memory and distributed arrays: each function first acquires
 * the tiles (so it waits only for the tasks that touch this array), then copies. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "darray/stacked_internal.h"

static size_t local_bytes(const sl_darray *x)
{
    return x->outer * x->local_rows * x->inner * x->elem_size;
}

/* Rank 0's block to every rank through the communication layer's broadcast task. The tiles
 * are held (acquired) by the caller, so a temporary vector handle over the whole contiguous
 * block can stand in for them without anything else touching that memory meanwhile. */
static sl_status broadcast_block(sl_darray *x)
{
    sl_context *ctx = x->ctx;
    size_t count = x->outer * x->local_rows * x->inner;
    if (count * x->elem_size > INT_MAX) /* the message is counted in bytes */
        return sl_fail(ctx, SL_ERR_UNSUPPORTED, "broadcast of %zu bytes exceeds MPI's int "
                       "counts", count * x->elem_size);
    starpu_data_handle_t block;
    starpu_vector_data_register(&block, STARPU_MAIN_RAM, (uintptr_t)x->data, (uint32_t)count,
                                x->elem_size);
    unsigned long failures = sl_comm_failures(ctx->comm);
    sl_status st = sl_comm_broadcast(ctx->comm, (sl_comm_group){ctx->task_comm}, block,
                                     sl_comm_elem_of(x->layout.dtype), 0);
    starpu_data_unregister(block); /* waits for the broadcast */
    if (st == SL_OK && sl_comm_failures(ctx->comm) != failures)
        st = sl_fail(ctx, SL_ERR_MPI, "broadcast of a replicated array's block failed");
    return st;
}

/* Broadcast arrays are made consistent from rank 0's data: a collective, so every rank first
 * learns whether all ranks' arguments are usable. */
static sl_status fill_replicated(sl_darray *x, const void *src, const char *what)
{
    sl_context *ctx = x->ctx;
    int ok = ctx->rank != 0 || src != NULL;
    if (!ok)
        sl_fail(ctx, SL_ERR_NULL, "%s: rank 0 passed NULL data for a broadcast array", what);
    sl_status st = sl_agree(ctx, NULL, 0, ok, what);
    if (st != SL_OK)
        return ok ? st : SL_ERR_NULL;
    if ((st = sl_darray_acquire_tiles(x, STARPU_W)) != SL_OK)
        return st;
    if (ctx->rank == 0)
        memcpy(x->data, src, local_bytes(x));
    st = broadcast_block(x);
    sl_darray_release_tiles(x);
    return st;
}

sl_status sl_darray_from_global(sl_darray *x, const void *global)
{
    if (!x)
        return sl_null_error(__func__);
    if (sl_darray_is_stack(x))
        return sl_darray_need_plain(x, __func__);
    if (x->layout.partition == SL_BROADCAST)
        return fill_replicated(x, global, "sl_darray_from_global");
    if (!global)
        return sl_fail(x->ctx, SL_ERR_NULL, "sl_darray_from_global: global is NULL");
    sl_status st = sl_darray_acquire_tiles(x, STARPU_W);
    if (st != SL_OK)
        return st;
    sl_copy_rows(x->data, x->local_rows, 0, global, x->layout.shape[x->layout.axis],
              x->row_offset_of[x->ctx->rank], x->local_rows, x->outer, x->inner, x->elem_size);
    sl_darray_release_tiles(x);
    return SL_OK;
}

sl_status sl_darray_from_local(sl_darray *x, const void *local)
{
    if (!x)
        return sl_null_error(__func__);
    if (sl_darray_is_stack(x))
        return sl_darray_need_plain(x, __func__);
    if (x->layout.partition == SL_BROADCAST)
        return fill_replicated(x, local, "sl_darray_from_local");
    if (!local && local_bytes(x) > 0)
        return sl_fail(x->ctx, SL_ERR_NULL, "sl_darray_from_local: local is NULL");
    sl_status st = sl_darray_acquire_tiles(x, STARPU_W);
    if (st != SL_OK)
        return st;
    if (local_bytes(x) > 0)
        memcpy(x->data, local, local_bytes(x));
    sl_darray_release_tiles(x);
    return SL_OK;
}

sl_status sl_darray_to_local(const sl_darray *x, void *local)
{
    if (!x)
        return sl_null_error(__func__);
    if (sl_darray_is_stack(x))
        return sl_darray_need_plain(x, __func__);
    if (!local && local_bytes(x) > 0)
        return sl_fail(x->ctx, SL_ERR_NULL, "sl_darray_to_local: local is NULL");
    sl_status st = sl_darray_acquire_tiles(x, STARPU_R);
    if (st != SL_OK)
        return st;
    if (local_bytes(x) > 0)
        memcpy(local, x->data, local_bytes(x));
    sl_darray_release_tiles(x);
    return SL_OK;
}

/* Rank blocks arrive one after another (rank order); the global C order interleaves them when
 * the axis is not the first one, hence the unpacking. */
static void unpack_blocks(const sl_darray *x, const char *staging, void *global)
{
    size_t offset = 0, n = x->layout.shape[x->layout.axis];
    for (int r = 0; r < x->ctx->size; r++) {
        size_t rows = x->layout.local_sizes[r];
        sl_copy_rows(global, n, x->row_offset_of[r], staging + offset, rows, 0, rows, x->outer,
                  x->inner, x->elem_size);
        offset += x->outer * rows * x->inner * x->elem_size;
    }
}

static sl_status gather_scattered(const sl_darray *x, int root, void *global)
{
    sl_context *ctx = x->ctx;
    int *counts = malloc((size_t)ctx->size * sizeof(int));
    int *displs = malloc((size_t)ctx->size * sizeof(int));
    int receives = root == SL_ALL_RANKS || root == ctx->rank;
    size_t total = x->outer * x->layout.shape[x->layout.axis] * x->inner;
    char *staging = receives && x->outer > 1 ? malloc(total * x->elem_size) : NULL;
    sl_status st = SL_OK;
    if (!counts || !displs || (receives && x->outer > 1 && !staging))
        st = sl_fail(ctx, SL_ERR_NOMEM, "sl_darray_gather: out of memory");
    MPI_Datatype elem;
    MPI_Type_contiguous((int)x->elem_size, MPI_BYTE, &elem);
    MPI_Type_commit(&elem);
    size_t off = 0;
    for (int r = 0; st == SL_OK && r < ctx->size; r++) {
        counts[r] = (int)(x->outer * x->layout.local_sizes[r] * x->inner);
        displs[r] = (int)off;
        off += (size_t)counts[r];
    }
    /* Every rank reaches the collective even after a local failure, to keep ranks in step. */
    sl_status agreed = sl_agree(ctx, NULL, 0, st == SL_OK, "sl_darray_gather");
    if (st == SL_OK && agreed == SL_OK && (st = sl_darray_acquire_tiles(x, STARPU_R)) == SL_OK) {
        void *recv = staging ? staging : global;
        int mine = counts[ctx->rank], rc;
        if (root == SL_ALL_RANKS)
            rc = MPI_Allgatherv(x->data, mine, elem, recv, counts, displs, elem, ctx->host_comm);
        else
            rc = MPI_Gatherv(x->data, mine, elem, recv, counts, displs, elem, root,
                             ctx->host_comm);
        sl_darray_release_tiles(x);
        if (rc != MPI_SUCCESS)
            st = sl_fail(ctx, SL_ERR_MPI, "sl_darray_gather: MPI gather failed");
        else if (staging)
            unpack_blocks(x, staging, global);
    }
    MPI_Type_free(&elem);
    free(staging);
    free(counts);
    free(displs);
    return st != SL_OK ? st : agreed;
}

sl_status sl_darray_gather(const sl_darray *x, int root, void *global)
{
    if (!x)
        return sl_null_error(__func__);
    if (sl_darray_is_stack(x))
        return sl_darray_need_plain(x, __func__);
    sl_context *ctx = x->ctx;
    int receives = root == SL_ALL_RANKS || root == ctx->rank;
    size_t total = x->outer * x->layout.shape[x->layout.axis] * x->inner;
    sl_status local = SL_OK;
    if (root < SL_ALL_RANKS || root >= ctx->size)
        local = sl_fail(ctx, SL_ERR_ARG, "sl_darray_gather: root=%d is not a rank of %d nor "
                        "SL_ALL_RANKS", root, ctx->size);
    else if (receives && !global)
        local = sl_fail(ctx, SL_ERR_NULL, "sl_darray_gather: global is NULL on a receiving "
                        "rank (%d)", ctx->rank);
    else if (x->layout.partition == SL_SCATTER && total > INT_MAX)
        local = sl_fail(ctx, SL_ERR_UNSUPPORTED, "sl_darray_gather: %zu elements exceed MPI's "
                        "int counts", total);
    int64_t r64 = root;
    sl_status st = sl_agree(ctx, &r64, 1, local == SL_OK, "sl_darray_gather");
    if (local != SL_OK)
        return local;
    if (st != SL_OK)
        return st;
    if (x->layout.partition != SL_SCATTER) {
        /* every rank already holds the whole array */
        if (!receives)
            return SL_OK;
        return sl_darray_to_local(x, global);
    }
    return gather_scattered(x, root, global);
}

/* splitmix64: a value from the global element index alone, so the array is the same whatever
 * the number of ranks and the split. */
static double random_at(uint64_t index, uint64_t seed, int part)
{
    uint64_t z = index * 2 + (uint64_t)part + seed * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) / (double)(1ULL << 53) * 2.0 - 1.0;
}

sl_status sl_darray_random(sl_darray *x, uint64_t seed)
{
    if (!x)
        return sl_null_error(__func__);
    if (sl_darray_is_stack(x)) {
        SL_STACK_VIEW(v, x);
        return sl_stacked_random(&v, seed);
    }
    sl_status st = sl_darray_acquire_tiles(x, STARPU_W);
    if (st != SL_OK)
        return st;
    size_t n = x->layout.shape[x->layout.axis], off = x->row_offset_of[x->ctx->rank], i = 0;
    for (size_t o = 0; o < x->outer; o++)
        for (size_t r = 0; r < x->local_rows; r++)
            for (size_t j = 0; j < x->inner; j++, i++) {
                uint64_t g = ((uint64_t)o * n + off + r) * x->inner + j;
                double re = random_at(g, seed, 0), im = random_at(g, seed, 1);
                switch (x->layout.dtype) {
                case SL_F32: ((float *)x->data)[i] = (float)re; break;
                case SL_F64: ((double *)x->data)[i] = re; break;
                case SL_C64: ((float _Complex *)x->data)[i] = (float)re + (float)im * I; break;
                case SL_C128: ((double _Complex *)x->data)[i] = CMPLX(re, im); break;
                }
            }
    sl_darray_release_tiles(x);
    return SL_OK;
}
