/* The FFT operator's redistribution as tasks: an all-to-all of the boxes where two layouts'
 * blocks intersect, as pack tasks, one exchange of the communication layer (every message of
 * this rank with its peers; comm.h) and unpack tasks (no host wait; the transform's tasks
 * depend on the unpacks through the tiles). Each peer's packed box has its own persistent
 * buffer. One exchange rather than a send and a receive per peer: under nccl that is one task
 * and one NCCL group, which cannot deadlock (lone NCCL sends and receives from separate tasks
 * can), ordered like a collective, so every rank submits its redistributions in the same
 * order (they are steps of SPMD operator applications); under mpi and rma it is the same
 * sends and receives as before, each waiting only for its own pack. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "box.h"
#include "ops/fft_op.h"
#include "runtime/try.h"

/* Rank r's block of a layout in global coordinates. */
static void block_of(const sl_layout *l, int r, size_t *start, size_t *extent)
{
    for (int d = 0; d < l->ndim; d++)
        start[d] = 0, extent[d] = l->shape[d];
    if (l->partition != SL_SCATTER)
        return;
    for (int q = 0; q < r; q++)
        start[l->axis] += l->local_sizes[q];
    extent[l->axis] = l->local_sizes[r];
}

/* The intersection of `from`'s block of rank a with `to`'s block of rank b: start, count;
 * returns its element count. */
static size_t meet(const sl_fft_exchange *x, int a, int b, size_t *start, size_t *count)
{
    size_t s1[SL_MAX_NDIM], e1[SL_MAX_NDIM], s2[SL_MAX_NDIM], e2[SL_MAX_NDIM], n = 1;
    block_of(&x->from, a, s1, e1);
    block_of(&x->to, b, s2, e2);
    for (int d = 0; d < x->from.ndim; d++) {
        size_t lo = s1[d] > s2[d] ? s1[d] : s2[d];
        size_t hi = s1[d] + e1[d] < s2[d] + e2[d] ? s1[d] + e1[d] : s2[d] + e2[d];
        start[d] = lo;
        count[d] = hi > lo ? hi - lo : 0;
        n *= count[d];
    }
    return n;
}

/* A packed box buffer of `count` elements, registered as a vector (NULL handle if empty). */
static sl_status make_buffer(sl_context *ctx, size_t count, size_t esize, void **buf,
                             starpu_data_handle_t *h)
{
    if (count == 0)
        return SL_OK;
    if (count > UINT32_MAX)
        return sl_fail(ctx, SL_ERR_SHAPE, "sl_op_fft: a redistribution message of %zu "
                       "elements exceeds StarPU 1.3's 32-bit vector size; use more ranks", count);
    if (!(*buf = malloc(count * esize)))
        return sl_fail(ctx, SL_ERR_NOMEM, "sl_op_fft: out of memory");
    starpu_vector_data_register(h, STARPU_MAIN_RAM, (uintptr_t)*buf, (uint32_t)count, esize);
    return SL_OK;
}

sl_status sl_fft_exchange_init(sl_context *ctx, const sl_layout *from, const sl_layout *to,
                               sl_fft_exchange *x)
{
    memset(x, 0, sizeof *x);
    x->ctx = ctx;
    size_t n = (size_t)ctx->size, start[SL_MAX_NDIM], count[SL_MAX_NDIM];
    x->esize = sl_dtype_size(from->dtype);
    x->send = calloc(n, sizeof *x->send);
    x->recv = calloc(n, sizeof *x->recv);
    x->send_h = calloc(n, sizeof *x->send_h);
    x->recv_h = calloc(n, sizeof *x->recv_h);
    x->from = *from, x->to = *to;
    x->from.local_sizes = malloc(n * sizeof(size_t));
    x->to.local_sizes = malloc(n * sizeof(size_t));
    x->from.mask = x->to.mask = NULL;
    if (!x->send || !x->recv || !x->send_h || !x->recv_h || !x->from.local_sizes ||
        !x->to.local_sizes)
        return sl_fail(ctx, SL_ERR_NOMEM, "sl_op_fft: out of memory");
    memcpy(x->from.local_sizes, from->local_sizes, n * sizeof(size_t));
    memcpy(x->to.local_sizes, to->local_sizes, n * sizeof(size_t));
    for (int r = 0; r < ctx->size; r++) {
        if (r == ctx->rank)
            continue;
        SL_TRY(make_buffer(ctx, meet(x, ctx->rank, r, start, count), x->esize, &x->send[r],
                           &x->send_h[r]));
        SL_TRY(make_buffer(ctx, meet(x, r, ctx->rank, start, count), x->esize, &x->recv[r],
                           &x->recv_h[r]));
    }
    return SL_OK;
}

void sl_fft_exchange_free(sl_fft_exchange *x)
{
    for (int r = 0; x->ctx && r < x->ctx->size; r++) {
        if (x->send_h && x->send_h[r])
            starpu_data_unregister(x->send_h[r]); /* waits for the tasks using it */
        if (x->recv_h && x->recv_h[r])
            starpu_data_unregister(x->recv_h[r]);
        if (x->send)
            free(x->send[r]);
        if (x->recv)
            free(x->recv[r]);
    }
    free(x->send), free(x->recv), free(x->send_h), free(x->recv_h);
    free(x->from.local_sizes);
    free(x->to.local_sizes);
    memset(x, 0, sizeof *x);
}

/* A box of x's block (this rank's) at global `start`, or of a packed buffer (start 0). */
static sl_box block_box(const sl_darray *a, const size_t *start)
{
    sl_box b = {.ndim = a->layout.ndim};
    size_t off = a->layout.partition == SL_SCATTER ? a->row_offset_of[a->ctx->rank] : 0;
    for (int d = 0; d < a->layout.ndim; d++) {
        b.shape[d] = d == a->layout.axis ? a->local_rows : a->layout.shape[d];
        b.start[d] = start[d] - (d == a->layout.axis ? off : 0);
    }
    return b;
}

static sl_box packed_box(int ndim, const size_t *count)
{
    sl_box b = {.ndim = ndim};
    memcpy(b.shape, count, (size_t)ndim * sizeof(size_t));
    return b;
}

/* One box task: dst (this rank's block of an array: all its tiles; or a buffer) from src. */
static sl_status box_task(const sl_fft_exchange *x, const sl_darray *dst_a,
                          starpu_data_handle_t dst_buf, const sl_box *db,
                          const sl_darray *src_a, starpu_data_handle_t src_buf,
                          const sl_box *sb, const size_t *count)
{
    sl_box_args args = {0};
    args.ndst = dst_a ? (int)dst_a->ntiles : 1, args.nsrc = src_a ? (int)src_a->ntiles : 1;
    args.dst_vector = !dst_a, args.src_vector = !src_a;
    args.db = *db, args.sb = *sb, args.esize = x->esize;
    memcpy(args.count, count, (size_t)db->ndim * sizeof(size_t));
    starpu_data_handle_t *h = malloc((size_t)(args.ndst + args.nsrc) * sizeof *h);
    if (!h)
        return sl_fail(x->ctx, SL_ERR_NOMEM, "sl_op_fft: out of memory");
    for (int i = 0; i < args.ndst; i++)
        h[i] = dst_a ? dst_a->tiles[i].handle : dst_buf;
    for (int i = 0; i < args.nsrc; i++)
        h[args.ndst + i] = src_a ? src_a->tiles[i].handle : src_buf;
    /* unpacks into an array write parts of its tiles: read-write, so they keep the rest */
    int ret = sl_task_box(&args, h, dst_a ? STARPU_RW : STARPU_W, h + args.ndst, STARPU_R);
    free(h);
    return ret == 0 ? SL_OK
                    : sl_fail(x->ctx, ret == -ENOMEM ? SL_ERR_NOMEM : SL_ERR_STARPU,
                              "sl_op_fft: a redistribution task failed to submit (%d)", ret);
}

/* This rank's messages of the redistribution: a send of each packed box to its peer, a receive
 * of each peer's; returns their count (m has room for 2 * size). */
static int messages(const sl_fft_exchange *x, int64_t tag, sl_comm_message *m)
{
    int me = x->ctx->rank, n = 0;
    for (int r = 0; r < x->ctx->size; r++) /* (a handle exists only for a non-empty box) */
        if (r != me && x->send_h[r])
            m[n++] = (sl_comm_message){x->send_h[r], r, 1, tag};
    for (int r = 0; r < x->ctx->size; r++)
        if (r != me && x->recv_h[r])
            m[n++] = (sl_comm_message){x->recv_h[r], r, 0, tag};
    return n;
}

sl_status sl_fft_exchange_run(const sl_fft_exchange *x, const sl_darray *src, sl_darray *dst,
                              int64_t tag)
{
    sl_context *ctx = x->ctx;
    int me = ctx->rank, nd = src->layout.ndim;
    size_t start[SL_MAX_NDIM], count[SL_MAX_NDIM];
    for (int r = 0; r < ctx->size; r++) /* packs first: the messages can leave at once */
        if (r != me && x->send_h[r] && meet(x, me, r, start, count) > 0) {
            sl_box sb = block_box(src, start), db = packed_box(nd, count);
            SL_TRY(box_task(x, NULL, x->send_h[r], &db, src, NULL, &sb, count));
        }
    sl_comm_message *m = malloc(2 * (size_t)ctx->size * sizeof *m);
    if (!m)
        return sl_fail(ctx, SL_ERR_NOMEM, "sl_op_fft: out of memory");
    sl_status st = sl_comm_exchange(ctx->comm, (sl_comm_group){ctx->task_comm}, m,
                                    messages(x, tag, m));
    free(m);
    if (st != SL_OK)
        return sl_fail(ctx, st, "sl_op_fft: the redistribution's exchange failed to submit "
                       "(%s)", sl_strerror(st));
    if (meet(x, me, me, start, count) > 0) {
        sl_box sb = block_box(src, start), db = block_box(dst, start);
        SL_TRY(box_task(x, dst, NULL, &db, src, NULL, &sb, count));
    }
    for (int r = 0; r < ctx->size; r++)
        if (r != me && x->recv_h[r] && meet(x, r, me, start, count) > 0) {
            sl_box sb = packed_box(nd, count), db = block_box(dst, start);
            SL_TRY(box_task(x, dst, NULL, &db, NULL, x->recv_h[r], &sb, count));
        }
    return SL_OK;
}
