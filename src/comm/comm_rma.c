/* MPI one-sided backend of the communication layer (STARLOPS_COMM=rma): every operation is a
 * set of messages over the context's window (rma_engine.h: MPI_Put into the target's ring,
 * MPI_Win_flush, an atomic notice the target tests without waiting), posted by one task whose
 * end the request poller releases when every message has moved.
 *
 * Messages are matched by (group key, id), not by arrival order, and ids are given when the
 * operation is *submitted* (the host's program order, the same on every rank): a collective's
 * message from s to d is the k-th message s sends d within that group, and d expects it as the
 * k-th it receives from s. So posting needs no order and no token: post tasks run in whatever
 * order the scheduler likes, any number at once. Point-to-point messages use the caller's tag.
 *
 * Algorithms (small groups; the reductions of this library carry a few scalars or one
 * accumulator vector): allreduce = every member sends its contribution to every other member,
 * and each one folds the contributions in group-rank order, so every rank gets the same bits;
 * broadcast = the root sends to each member. Strided matrix tiles are packed into a private
 * buffer before a send and unpacked after a receive. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "comm/comm.h"
#include "comm/comm_buffer.h"
#include "comm/request_poller.h"
#include "comm/rma_engine.h"

typedef enum rma_kind { RK_ALLREDUCE = 1, RK_BROADCAST, RK_NEIGHBOURS, RK_P2P } rma_kind;

#define COLLECTIVE_ID (UINT64_C(1) << 63) /* point-to-point tags stay below */
enum { TOWARD_NEXT = 0, TOWARD_PREV = 1 };

/* A communicator as the engine sees it: its ranks in the engine's communicator, and a key
 * that names its membership the same way on every member. */
typedef struct group_info {
    MPI_Comm comm;
    uint32_t key;
    int size, me;
    int *engine_rank;
    struct group_info *next;
} group_info;

/* Messages counted per group key and engine rank, in both directions: the ids. */
typedef struct key_seq {
    uint32_t key;
    uint64_t *to, *from;
    struct key_seq *next;
} key_seq;

typedef struct rma_backend {
    sl_request_poller *poller;
    sl_rma_engine *engine;
    MPI_Comm comm; /* the engine's: a duplicate of the context's task communicator */
    int me, n;
    pthread_mutex_t lock; /* the group cache and the counters (submitting threads) */
    group_info *groups;
    key_seq *seqs;
    unsigned long post_failures;
    sl_comm *owner; /* for sl_comm_poisoned */
} rma_backend;

/* One message of an operation. buf >= 0: the operation's buffer of that index; -1: the
 * allreduce's contribution slot `slot`. */
typedef struct rma_message {
    int send, peer, buf, slot;
    sl_rma_match match;
} rma_message;

typedef struct rma_op {
    rma_kind kind;
    sl_comm_elem elem;
    sl_comm_op how;
    rma_backend *be;
    sl_rma_completion done;
    int nmsg;
    rma_message *msg;
    int nbuf;
    int *receives_into; /* per buffer: a message writes it (unpack a staged copy after) */
    char **stage;       /* per buffer: packed copy of a strided tile, or NULL */
    void **iface;       /* per buffer: its interface, captured by the completion task */
    /* allreduce: group size contributions of `bytes`, this rank's at slot gme */
    int gsize, gme;
    size_t bytes;
    char *slots;
} rma_op;

/* ---- buffers ------------------------------------------------------------------------------ */

static void copy_rows(sl_comm_buffer v, char *packed, int pack)
{
    for (size_t r = 0; r < v.rows; r++) {
        char *row = v.ptr + r * v.ld_bytes;
        if (pack)
            memcpy(packed + r * v.row_bytes, row, v.row_bytes);
        else
            memcpy(row, packed + r * v.row_bytes, v.row_bytes);
    }
}

/* ---- groups and ids ----------------------------------------------------------------------- */

static group_info *group_new(rma_backend *be, MPI_Comm comm)
{
    group_info *g = calloc(1, sizeof *g);
    MPI_Group mine = MPI_GROUP_NULL, engine = MPI_GROUP_NULL;
    int *ranks = NULL;
    if (!g)
        return NULL;
    MPI_Comm_size(comm, &g->size);
    MPI_Comm_rank(comm, &g->me);
    g->comm = comm;
    g->engine_rank = malloc((size_t)g->size * sizeof *g->engine_rank);
    ranks = malloc((size_t)g->size * sizeof *ranks);
    int ok = g->engine_rank && ranks && MPI_Comm_group(comm, &mine) == MPI_SUCCESS &&
             MPI_Comm_group(be->comm, &engine) == MPI_SUCCESS;
    for (int i = 0; ok && i < g->size; i++)
        ranks[i] = i;
    ok = ok && MPI_Group_translate_ranks(mine, g->size, ranks, engine, g->engine_rank) ==
                   MPI_SUCCESS;
    for (int i = 0; ok && i < g->size; i++)
        ok = g->engine_rank[i] != MPI_UNDEFINED;
    if (mine != MPI_GROUP_NULL) MPI_Group_free(&mine);
    if (engine != MPI_GROUP_NULL) MPI_Group_free(&engine);
    free(ranks);
    if (!ok) {
        free(g->engine_rank);
        free(g);
        return NULL;
    }
    uint32_t h = 2166136261u; /* FNV-1a over the members' engine ranks */
    for (int i = 0; i < g->size; i++)
        for (int b = 0; b < 4; b++)
            h = (h ^ (uint32_t)((g->engine_rank[i] >> (8 * b)) & 0xff)) * 16777619u;
    g->key = h;
    return g;
}

/* Under be->lock. */
static group_info *group_of(rma_backend *be, MPI_Comm comm)
{
    for (group_info *g = be->groups; g; g = g->next)
        if (g->comm == comm)
            return g;
    group_info *g = group_new(be, comm);
    if (g) {
        g->next = be->groups;
        be->groups = g;
    }
    return g;
}

/* Under be->lock. */
static key_seq *seq_of(rma_backend *be, uint32_t key)
{
    for (key_seq *s = be->seqs; s; s = s->next)
        if (s->key == key)
            return s;
    key_seq *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->to = calloc((size_t)be->n, sizeof *s->to);
    s->from = calloc((size_t)be->n, sizeof *s->from);
    if (!s->to || !s->from) {
        free(s->to), free(s->from), free(s);
        return NULL;
    }
    s->key = key;
    s->next = be->seqs;
    be->seqs = s;
    return s;
}

static sl_rma_match collective_id(uint32_t kind, uint32_t key, uint64_t seq, int dir)
{
    return (sl_rma_match){kind, key, COLLECTIVE_ID | seq << 1 | (uint64_t)dir};
}

/* ---- operations --------------------------------------------------------------------------- */

static void op_free(rma_op *op)
{
    if (!op)
        return;
    for (int i = 0; op->stage && i < op->nbuf; i++)
        free(op->stage[i]);
    free(op->stage);
    free(op->iface);
    free(op->receives_into);
    free(op->msg);
    free(op->slots);
    free(op);
}

static void op_free_any(void *op)
{
    op_free(op);
}

static rma_op *op_new(rma_backend *be, rma_kind kind, sl_comm_elem e, int nbuf, int nmsg)
{
    rma_op *op = calloc(1, sizeof *op);
    if (!op)
        return NULL;
    op->kind = kind;
    op->elem = e;
    op->be = be;
    op->nbuf = nbuf;
    op->nmsg = nmsg;
    op->done.remaining = nmsg;
    op->msg = calloc((size_t)(nmsg > 0 ? nmsg : 1), sizeof *op->msg);
    op->stage = calloc((size_t)nbuf, sizeof *op->stage);
    op->iface = calloc((size_t)nbuf, sizeof *op->iface);
    op->receives_into = calloc((size_t)nbuf, sizeof *op->receives_into);
    if (!op->msg || !op->stage || !op->iface || !op->receives_into) {
        op_free(op);
        return NULL;
    }
    return op;
}

static void count_down_failed(rma_op *op)
{
    __atomic_add_fetch(&op->be->post_failures, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&op->done.failed, 1, __ATOMIC_RELAXED);
    __atomic_sub_fetch(&op->done.remaining, 1, __ATOMIC_RELEASE);
}

/* Where message m's bytes are (send) or go (receive), and how many. */
static char *message_bytes(rma_op *op, void *buffers[], const rma_message *m, size_t *bytes)
{
    if (m->buf < 0) {
        *bytes = op->bytes;
        return op->slots + (size_t)m->slot * op->bytes;
    }
    sl_comm_buffer v = sl_comm_buffer_of(buffers[m->buf]);
    *bytes = v.rows * v.row_bytes;
    return op->stage[m->buf] ? op->stage[m->buf] : v.ptr;
}

/* Strided tiles get a packed copy (filled now when the operation sends from it). */
static int stage_buffers(rma_op *op, void *buffers[])
{
    for (int i = 0; i < op->nbuf; i++) {
        sl_comm_buffer v = sl_comm_buffer_of(buffers[i]);
        if (!sl_comm_buffer_strided(v))
            continue;
        if (!(op->stage[i] = malloc(v.rows * v.row_bytes)))
            return 0;
        if (!op->receives_into[i])
            copy_rows(v, op->stage[i], 1);
    }
    return 1;
}

/* This rank's contribution, the operation's vectors side by side. */
static void pack_contribution(rma_op *op, void *buffers[])
{
    char *mine = op->slots + (size_t)op->gme * op->bytes;
    for (int i = 0; i < op->nbuf; i++) {
        size_t b = STARPU_VECTOR_GET_NX(buffers[i]) * STARPU_VECTOR_GET_ELEMSIZE(buffers[i]);
        memcpy(mine, (void *)STARPU_VECTOR_GET_PTR(buffers[i]), b);
        mine += b;
    }
    if (sl_comm_poisoned(op->be->owner))
        sl_comm_poison(op->slots + (size_t)op->gme * op->bytes, op->bytes, op->elem);
}

static void post_cpu(void *buffers[], void *cl_arg)
{
    rma_op *op;
    starpu_codelet_unpack_args(cl_arg, &op);
    if (op->kind == RK_ALLREDUCE)
        pack_contribution(op, buffers);
    if (!stage_buffers(op, buffers)) {
        for (int i = 0; i < op->nmsg; i++)
            count_down_failed(op); /* no memory: every message fails, nothing waits */
        return;
    }
    for (int i = 0; i < op->nmsg; i++) {
        const rma_message *m = &op->msg[i];
        size_t bytes;
        char *p = message_bytes(op, buffers, m, &bytes);
        /* an error is counted by the engine and counts the message down as failed */
        if (m->send)
            sl_rma_send(op->be->engine, m->peer, m->match, p, bytes, &op->done);
        else
            sl_rma_recv(op->be->engine, m->peer, m->match, p, bytes, &op->done);
    }
}

/* Folds the contributions in group-rank order (the same bits on every rank). */
static void fold(rma_op *op)
{
    size_t es = op->elem == SL_COMM_FLOAT ? sizeof(float) : sizeof(double);
    size_t count = op->bytes / es;
    for (int j = 1; j < op->gsize; j++) {
        const char *src = op->slots + (size_t)j * op->bytes;
        for (size_t k = 0; k < count; k++) {
            if (op->elem == SL_COMM_FLOAT) {
                float *a = (float *)op->slots + k, b = ((const float *)src)[k];
                *a = op->how == SL_COMM_MAX ? (b > *a ? b : *a)
                   : op->how == SL_COMM_MIN ? (b < *a ? b : *a) : *a + b;
            } else {
                double *a = (double *)op->slots + k, b = ((const double *)src)[k];
                *a = op->how == SL_COMM_MAX ? (b > *a ? b : *a)
                   : op->how == SL_COMM_MIN ? (b < *a ? b : *a) : *a + b;
            }
        }
    }
    const char *from = op->slots;
    for (int i = 0; i < op->nbuf; i++) {
        size_t b = STARPU_VECTOR_GET_NX(op->iface[i]) * STARPU_VECTOR_GET_ELEMSIZE(op->iface[i]);
        memcpy((void *)STARPU_VECTOR_GET_PTR(op->iface[i]), from, b);
        from += b;
    }
}

/* Runs once every message of the operation is over, before its completion task ends. */
static void op_done(void *arg, int failed)
{
    rma_op *op = arg;
    failed |= __atomic_load_n(&op->done.failed, __ATOMIC_RELAXED);
    if (failed && op->kind == RK_ALLREDUCE) { /* its result is not a reduction */
        sl_comm_poison(op->slots, op->bytes, op->elem);
        op->gsize = 1; /* fold copies the poisoned slot out */
    }
    if (op->kind == RK_ALLREDUCE)
        fold(op);
    for (int i = 0; !failed && i < op->nbuf; i++)
        if (op->stage[i] && op->receives_into[i])
            copy_rows(sl_comm_buffer_of(op->iface[i]), op->stage[i], 0);
    op_free(op);
}

static int op_test(void *arg)
{
    rma_op *op = arg;
    if (__atomic_load_n(&op->done.remaining, __ATOMIC_ACQUIRE) > 0)
        return 0;
    return __atomic_load_n(&op->done.failed, __ATOMIC_RELAXED) ? -1 : 1;
}

static void complete_cpu(void *buffers[], void *cl_arg)
{
    rma_op *op;
    starpu_codelet_unpack_args(cl_arg, &op);
    for (int i = 0; i < op->nbuf; i++)
        op->iface[i] = buffers[i];
    if (op_test(op) != 0) { /* everything has moved already */
        op_done(op, 0);
        return;
    }
    if (sl_request_poller_watch_test(op->be->poller, starpu_task_get_current(), op_test, op,
                                     op_done, op) != SL_OK) {
        __atomic_add_fetch(&op->be->post_failures, 1, __ATOMIC_RELAXED);
        while (op_test(op) == 0) /* no memory to defer: move the messages from here */
            sl_rma_progress(op->be->engine);
        op_done(op, 0);
    }
}

/* One task per operation: it posts the messages and, unless they have all moved already,
 * defers its own end until they have (the buffers stay held till then). The mpi backend needs a
 * second task because its post holds the token; nothing orders the posting here. */
static void post_and_wait_cpu(void *buffers[], void *cl_arg)
{
    post_cpu(buffers, cl_arg);
    complete_cpu(buffers, cl_arg);
}

#define RMA_CODELET(var, nm) \
    static struct starpu_codelet var = {                                                    \
        .cpu_funcs = {post_and_wait_cpu}, .nbuffers = STARPU_VARIABLE_NBUFFERS, .name = nm}
RMA_CODELET(allreduce_cl, "allreduce");
RMA_CODELET(broadcast_cl, "broadcast");
RMA_CODELET(neighbours_cl, "halo_exchange");
RMA_CODELET(send_cl, "p2p_send");
RMA_CODELET(recv_cl, "p2p_recv");

static sl_status submit(rma_op *op, struct starpu_codelet *cl, const struct starpu_data_descr *d,
                        int n)
{
    if (starpu_task_insert(cl, STARPU_VALUE, &op, sizeof op, STARPU_DATA_MODE_ARRAY, d, n,
                           STARPU_PRIORITY, STARPU_MAX_PRIO, STARPU_NAME, cl->name, 0) != 0) {
        op_free(op);
        return SL_ERR_STARPU;
    }
    return SL_OK;
}

/* The group and the id counters of a communicator (NULL when out of memory / not a subgroup
 * of the context's communicator). */
static sl_status lookup(rma_backend *be, MPI_Comm comm, group_info **g, key_seq **s)
{
    pthread_mutex_lock(&be->lock);
    *g = group_of(be, comm);
    *s = *g ? seq_of(be, (*g)->key) : NULL;
    pthread_mutex_unlock(&be->lock);
    return *s ? SL_OK : SL_ERR_NOMEM;
}

static sl_status rma_allreduce(sl_comm *comm, sl_comm_group grp, const starpu_data_handle_t *bufs,
                               int n, sl_comm_elem e, sl_comm_op how)
{
    rma_backend *be = comm->backend;
    group_info *g;
    key_seq *s;
    sl_status st = lookup(be, grp.mpi, &g, &s);
    if (st != SL_OK || g->size == 1 || n <= 0)
        return st;
    if (e == SL_COMM_BYTE)
        return SL_ERR_ARG; /* sums of bytes are not a thing this library asks for */
    rma_op *op = op_new(be, RK_ALLREDUCE, e, n, 2 * (g->size - 1));
    struct starpu_data_descr *d = malloc((size_t)n * sizeof *d);
    if (!op || !d) {
        op_free(op), free(d);
        return SL_ERR_NOMEM;
    }
    op->how = how;
    op->gsize = g->size;
    op->gme = g->me;
    for (int i = 0; i < n; i++) {
        op->bytes += starpu_data_get_size(bufs[i]);
        d[i] = (struct starpu_data_descr){bufs[i], STARPU_RW};
    }
    if (!(op->slots = malloc((size_t)g->size * op->bytes))) {
        op_free(op), free(d);
        return SL_ERR_NOMEM;
    }
    pthread_mutex_lock(&be->lock);
    for (int j = 0, k = 0; j < g->size; j++) {
        if (j == g->me)
            continue;
        int peer = g->engine_rank[j];
        op->msg[k++] = (rma_message){1, peer, -1, g->me,
                                     collective_id(RK_ALLREDUCE, g->key, s->to[peer]++, 0)};
        op->msg[k++] = (rma_message){0, peer, -1, j,
                                     collective_id(RK_ALLREDUCE, g->key, s->from[peer]++, 0)};
    }
    pthread_mutex_unlock(&be->lock);
    sl_comm_count(comm, op->bytes, op->bytes);
    st = submit(op, &allreduce_cl, d, n);
    free(d);
    return st;
}

static sl_status rma_broadcast(sl_comm *comm, sl_comm_group grp, starpu_data_handle_t buf,
                               sl_comm_elem e, int root)
{
    rma_backend *be = comm->backend;
    group_info *g;
    key_seq *s;
    sl_status st = lookup(be, grp.mpi, &g, &s);
    if (st != SL_OK || g->size == 1)
        return st;
    if (root < 0 || root >= g->size)
        return SL_ERR_ARG;
    int am_root = g->me == root;
    rma_op *op = op_new(be, RK_BROADCAST, e, 1, am_root ? g->size - 1 : 1);
    if (!op)
        return SL_ERR_NOMEM;
    op->receives_into[0] = !am_root;
    pthread_mutex_lock(&be->lock);
    if (am_root) {
        for (int j = 0, k = 0; j < g->size; j++)
            if (j != root) {
                int peer = g->engine_rank[j];
                op->msg[k++] = (rma_message){1, peer, 0, 0,
                                             collective_id(RK_BROADCAST, g->key, s->to[peer]++, 0)};
            }
    } else {
        int peer = g->engine_rank[root];
        op->msg[0] = (rma_message){0, peer, 0, 0,
                                   collective_id(RK_BROADCAST, g->key, s->from[peer]++, 0)};
    }
    pthread_mutex_unlock(&be->lock);
    size_t bytes = starpu_data_get_size(buf);
    sl_comm_count(comm, am_root ? bytes * (size_t)(g->size - 1) : 0, am_root ? 0 : bytes);
    /* the root only sends: its readers need not wait for the broadcast */
    struct starpu_data_descr d[1] = {{buf, am_root ? STARPU_R : STARPU_RW}};
    return submit(op, &broadcast_cl, d, 1);
}

/* Ids of an exchange with one neighbour: one number per operation and peer and direction of
 * travel, the direction in the id's lowest bit (prev and next may be the same rank). */
typedef struct exchange_ids {
    uint64_t to, from;
    int have_to, have_from;
} exchange_ids;

static sl_status rma_neighbours(sl_comm *comm, sl_comm_group grp, const sl_comm_neighbours *nb,
                                sl_comm_elem e)
{
    rma_backend *be = comm->backend;
    group_info *g;
    key_seq *s;
    sl_status st = lookup(be, grp.mpi, &g, &s);
    if (st != SL_OK)
        return st;
    if (nb->prev >= g->size || nb->next >= g->size || nb->prev == g->me || nb->next == g->me)
        return SL_ERR_ARG;
    starpu_data_handle_t h[4] = {nb->prev >= 0 ? nb->send_prev : NULL,
                                 nb->next >= 0 ? nb->send_next : NULL,
                                 nb->prev >= 0 ? nb->recv_prev : NULL,
                                 nb->next >= 0 ? nb->recv_next : NULL};
    const int send[4] = {1, 1, 0, 0}, dir[4] = {TOWARD_PREV, TOWARD_NEXT, TOWARD_NEXT,
                                                TOWARD_PREV};
    int n = 0;
    for (int i = 0; i < 4; i++)
        n += h[i] != NULL;
    if (n == 0)
        return SL_OK;
    rma_op *op = op_new(be, RK_NEIGHBOURS, e, n, n);
    if (!op)
        return SL_ERR_NOMEM;
    struct starpu_data_descr d[4];
    exchange_ids ids[2] = {{0}}; /* [0]: prev, [1]: next; shared when prev == next */
    pthread_mutex_lock(&be->lock);
    for (int i = 0, k = 0; i < 4; i++) {
        if (!h[i])
            continue;
        int side = i == 0 || i == 2 ? nb->prev : nb->next;
        int peer = g->engine_rank[side];
        exchange_ids *x = &ids[nb->prev == nb->next || i == 0 || i == 2 ? 0 : 1];
        if (send[i] && !x->have_to)
            x->to = s->to[peer]++, x->have_to = 1;
        if (!send[i] && !x->have_from)
            x->from = s->from[peer]++, x->have_from = 1;
        op->msg[k] = (rma_message){send[i], peer, k, 0,
                                   collective_id(RK_NEIGHBOURS, g->key,
                                                 send[i] ? x->to : x->from, dir[i])};
        op->receives_into[k] = !send[i];
        d[k] = (struct starpu_data_descr){h[i], send[i] ? STARPU_R : STARPU_W};
        size_t bytes = starpu_data_get_size(h[i]);
        sl_comm_count(comm, send[i] ? bytes : 0, send[i] ? 0 : bytes);
        k++;
    }
    pthread_mutex_unlock(&be->lock);
    return submit(op, &neighbours_cl, d, n);
}

static sl_status rma_p2p(sl_comm *comm, starpu_data_handle_t h, int peer, int64_t tag,
                         MPI_Comm mpi, int send)
{
    rma_backend *be = comm->backend;
    group_info *g;
    key_seq *s;
    sl_status st = lookup(be, mpi, &g, &s);
    if (st != SL_OK)
        return st;
    if (tag < 0 || peer < 0 || peer >= g->size || peer == g->me)
        return SL_ERR_ARG;
    rma_op *op = op_new(be, RK_P2P, SL_COMM_BYTE, 1, 1);
    if (!op)
        return SL_ERR_NOMEM;
    op->receives_into[0] = !send;
    op->msg[0] = (rma_message){send, g->engine_rank[peer], 0, 0,
                               (sl_rma_match){RK_P2P, g->key, (uint64_t)tag}};
    size_t bytes = starpu_data_get_size(h);
    sl_comm_count(comm, send ? bytes : 0, send ? 0 : bytes);
    struct starpu_data_descr d[1] = {{h, send ? STARPU_R : STARPU_W}};
    return submit(op, send ? &send_cl : &recv_cl, d, 1);
}

static sl_status rma_send(sl_comm *comm, starpu_data_handle_t h, int dest, int64_t tag,
                          MPI_Comm mpi)
{
    return rma_p2p(comm, h, dest, tag, mpi, 1);
}

static sl_status rma_recv(sl_comm *comm, starpu_data_handle_t h, int src, int64_t tag,
                          MPI_Comm mpi)
{
    return rma_p2p(comm, h, src, tag, mpi, 0);
}

static unsigned long rma_failures(const sl_comm *comm)
{
    const rma_backend *be = comm->backend;
    return __atomic_load_n(&be->post_failures, __ATOMIC_RELAXED) +
           sl_request_poller_failures(be->poller) + sl_rma_failures(be->engine);
}

static int progress(void *arg)
{
    return sl_rma_progress(arg);
}

static void rma_shutdown(sl_comm *comm)
{
    rma_backend *be = comm->backend;
    sl_request_poller_stop(be->poller);
    sl_rma_engine_destroy(be->engine); /* collective: every rank is in sl_finalize */
    MPI_Comm_free(&be->comm);
}

static void free_backend(rma_backend *be)
{
    while (be->groups) {
        group_info *g = be->groups;
        be->groups = g->next;
        free(g->engine_rank);
        free(g);
    }
    while (be->seqs) {
        key_seq *s = be->seqs;
        be->seqs = s->next;
        free(s->to), free(s->from), free(s);
    }
    sl_request_poller_destroy(be->poller);
    sl_rma_engine_free(be->engine);
    pthread_mutex_destroy(&be->lock);
    free(be);
}

static void rma_destroy(sl_comm *comm)
{
    free_backend(comm->backend);
    free(comm);
}

static const sl_comm_ops rma_ops = {
    .name = "rma",
    .allreduce = rma_allreduce,
    .broadcast = rma_broadcast,
    .neighbour_exchange = rma_neighbours,
    .send = rma_send,
    .recv = rma_recv,
    .exchange = sl_comm_exchange_p2p,
    .failures = rma_failures,
    .shutdown = rma_shutdown,
    .destroy = rma_destroy,
};

sl_status sl_comm_rma_create(MPI_Comm comm, size_t ring_bytes, unsigned progress_us,
                             sl_comm **out)
{
    *out = NULL;
    sl_comm *c = calloc(1, sizeof *c);
    rma_backend *be = calloc(1, sizeof *be);
    sl_status st = c && be ? sl_request_poller_create(&be->poller) : SL_ERR_NOMEM;
    /* collective from here: every rank learns whether the others could start */
    int ok = st == SL_OK, all = 0;
    if (MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS || !all) {
        if (be)
            sl_request_poller_stop(be->poller), sl_request_poller_destroy(be->poller);
        free(be), free(c);
        return st == SL_OK ? SL_ERR_MPI : st;
    }
    pthread_mutex_init(&be->lock, NULL);
    MPI_Comm_dup(comm, &be->comm);
    MPI_Comm_rank(be->comm, &be->me);
    MPI_Comm_size(be->comm, &be->n);
    st = sl_rma_engine_create(be->comm, ring_bytes, &be->engine);
    if (st != SL_OK) {
        sl_request_poller_stop(be->poller);
        MPI_Comm_free(&be->comm);
        free_backend(be);
        free(c);
        return st;
    }
    sl_request_poller_set_progress(be->poller, progress, be->engine);
    st = sl_request_poller_start_thread(be->poller, progress_us);
    ok = st == SL_OK;
    if (MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, be->comm) != MPI_SUCCESS || !all) {
        rma_shutdown(&(sl_comm){.backend = be}); /* collective, like the window's creation */
        free_backend(be);
        free(c);
        return st == SL_OK ? SL_ERR_MPI : st;
    }
    c->ops = &rma_ops;
    c->backend = be;
    be->owner = c;
    *out = c;
    return SL_OK;
}
