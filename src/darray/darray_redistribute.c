/* Redistribution of a distributed array along another axis (or with other local sizes): an
 * all-to-all of the boxes where the old and new blocks intersect. Blocking and collective. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "darray/darray_internal.h"

/* An axis-aligned box of a global array: start and extent per dimension. */
typedef struct box {
    size_t start[SL_MAX_NDIM], extent[SL_MAX_NDIM];
} box;

static box block_of(const sl_darray *x, int rank)
{
    box b;
    for (int d = 0; d < x->layout.ndim; d++) {
        b.start[d] = 0;
        b.extent[d] = x->layout.shape[d];
    }
    if (x->layout.partition == SL_SCATTER) {
        b.start[x->layout.axis] = x->row_offset_of[rank];
        b.extent[x->layout.axis] = x->layout.local_sizes[rank];
    }
    return b;
}

/* Intersection of two boxes; returns its element count (0 when empty). */
static size_t intersect(int ndim, const box *a, const box *b, box *out)
{
    size_t count = 1;
    for (int d = 0; d < ndim; d++) {
        size_t lo = a->start[d] > b->start[d] ? a->start[d] : b->start[d];
        size_t hi_a = a->start[d] + a->extent[d], hi_b = b->start[d] + b->extent[d];
        size_t hi = hi_a < hi_b ? hi_a : hi_b;
        out->start[d] = lo;
        out->extent[d] = hi > lo ? hi - lo : 0;
        count *= out->extent[d];
    }
    return count;
}

/* Copies `part` (global coordinates) between a block `blk` stored in C order and a packed
 * buffer holding `part` alone. to_packed selects the direction. */
static void copy_part(int ndim, size_t esize, char *block, const box *blk, char *packed,
                      const box *part, int to_packed)
{
    size_t idx[SL_MAX_NDIM] = {0}, run = part->extent[ndim - 1] * esize, rows = 1;
    for (int d = 0; d < ndim - 1; d++)
        rows *= part->extent[d];
    for (size_t r = 0; r < rows && run > 0; r++) {
        size_t off = 0; /* element offset of this run in the block */
        for (int d = 0; d < ndim; d++) {
            size_t i = d < ndim - 1 ? idx[d] : 0;
            off = off * blk->extent[d] + (part->start[d] - blk->start[d] + i);
        }
        char *b = block + off * esize, *p = packed + r * run;
        memcpy(to_packed ? p : b, to_packed ? b : p, run);
        for (int d = ndim - 2; d >= 0; d--) { /* odometer over the leading dimensions */
            if (++idx[d] < part->extent[d])
                break;
            idx[d] = 0;
        }
    }
}

typedef struct plan {
    int *send_counts, *send_displs, *recv_counts, *recv_displs;
    size_t send_total, recv_total;
} plan;

static sl_status make_plan(const sl_darray *x, const sl_darray *y, plan *p)
{
    int size = x->ctx->size, me = x->ctx->rank;
    p->send_counts = calloc((size_t)size, sizeof(int));
    p->send_displs = calloc((size_t)size, sizeof(int));
    p->recv_counts = calloc((size_t)size, sizeof(int));
    p->recv_displs = calloc((size_t)size, sizeof(int));
    if (!p->send_counts || !p->send_displs || !p->recv_counts || !p->recv_displs)
        return SL_ERR_NOMEM;
    box mine_old = block_of(x, me), mine_new = block_of(y, me), part;
    for (int r = 0; r < size; r++) {
        box theirs_new = block_of(y, r), theirs_old = block_of(x, r);
        size_t s = intersect(x->layout.ndim, &mine_old, &theirs_new, &part);
        size_t q = intersect(x->layout.ndim, &theirs_old, &mine_new, &part);
        if (s > INT_MAX || q > INT_MAX || p->send_total + s > INT_MAX ||
            p->recv_total + q > INT_MAX)
            return SL_ERR_UNSUPPORTED;
        p->send_displs[r] = (int)p->send_total;
        p->recv_displs[r] = (int)p->recv_total;
        p->send_counts[r] = (int)s;
        p->recv_counts[r] = (int)q;
        p->send_total += s;
        p->recv_total += q;
    }
    return SL_OK;
}

static void free_plan(plan *p)
{
    free(p->send_counts);
    free(p->send_displs);
    free(p->recv_counts);
    free(p->recv_displs);
}

static sl_status exchange(const sl_darray *x, sl_darray *y, const plan *p)
{
    sl_context *ctx = x->ctx;
    int size = ctx->size, me = ctx->rank, nd = x->layout.ndim;
    size_t es = x->elem_size;
    char *sendbuf = malloc(p->send_total * es + 1), *recvbuf = malloc(p->recv_total * es + 1);
    if (!sendbuf || !recvbuf) {
        free(sendbuf);
        free(recvbuf);
        return SL_ERR_NOMEM;
    }
    box mine_old = block_of(x, me), mine_new = block_of(y, me), part;
    sl_darray_acquire_tiles(x, STARPU_R);
    for (int r = 0; r < size; r++) {
        box theirs_new = block_of(y, r);
        if (intersect(nd, &mine_old, &theirs_new, &part))
            copy_part(nd, es, x->data, &mine_old, sendbuf + (size_t)p->send_displs[r] * es,
                      &part, 1);
    }
    sl_darray_release_tiles(x);
    MPI_Datatype elem;
    MPI_Type_contiguous((int)es, MPI_BYTE, &elem);
    MPI_Type_commit(&elem);
    int rc = MPI_Alltoallv(sendbuf, p->send_counts, p->send_displs, elem, recvbuf,
                           p->recv_counts, p->recv_displs, elem, ctx->host_comm);
    MPI_Type_free(&elem);
    sl_darray_acquire_tiles(y, STARPU_W);
    for (int r = 0; r < size && rc == MPI_SUCCESS; r++) {
        box theirs_old = block_of(x, r);
        if (intersect(nd, &theirs_old, &mine_new, &part))
            copy_part(nd, es, y->data, &mine_new, recvbuf + (size_t)p->recv_displs[r] * es,
                      &part, 0);
    }
    sl_darray_release_tiles(y);
    free(sendbuf);
    free(recvbuf);
    return rc == MPI_SUCCESS ? SL_OK : SL_ERR_MPI;
}

sl_status sl_darray_redistribute(const sl_darray *x, int axis, const size_t *local_sizes,
                                 sl_darray **out)
{
    if (!x || !out)
        return sl_null_error(__func__);
    if (sl_darray_is_stack(x))
        return sl_darray_need_plain(x, __func__);
    *out = NULL;
    sl_context *ctx = x->ctx;
    if (x->layout.partition != SL_SCATTER)
        return sl_fail(ctx, SL_ERR_PARTITION, "sl_darray_redistribute: the array is replicated; "
                       "only scattered arrays are redistributed");
    sl_darray *y = NULL;
    const sl_layout *l = &x->layout;
    sl_status st = sl_darray_create(ctx, l->dtype, l->ndim, l->shape, SL_SCATTER, axis,
                                    local_sizes, l->mask, &y);
    if (st != SL_OK)
        return st;
    plan p;
    memset(&p, 0, sizeof p);
    sl_status local = make_plan(x, y, &p);
    /* every rank learns about a local failure before the all-to-all */
    sl_status agreed = sl_agree(ctx, NULL, 0, local == SL_OK, "sl_darray_redistribute");
    if (local == SL_OK && agreed == SL_OK)
        st = exchange(x, y, &p);
    else
        st = local != SL_OK ? sl_fail(ctx, local, "sl_darray_redistribute: %s (counts above "
                                      "MPI's int range or out of memory)", sl_strerror(local))
                            : agreed;
    free_plan(&p);
    if (st != SL_OK) {
        sl_darray_destroy(y);
        return st == SL_ERR_NOMEM ? sl_fail(ctx, st, "sl_darray_redistribute: out of memory")
                                  : st;
    }
    *out = y;
    return SL_OK;
}
