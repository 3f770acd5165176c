/* MPI backend of the communication layer: each operation is a post task that calls
 * non-blocking MPI (MPI_Iallreduce, MPI_Ibcast, MPI_Isend/Irecv) on the group's communicator
 * and a completion task that the request poller releases when the requests finish (comm.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "comm/comm.h"
#include "comm/comm_buffer.h"
#include "comm/comm_pair.h"
#include "comm/request_poller.h"

typedef enum comm_kind {
    KIND_ALLREDUCE, KIND_BROADCAST, KIND_NEIGHBOURS, KIND_SEND, KIND_RECV
} comm_kind;

/* Tags of the two directions of a neighbour exchange. Matching stays unambiguous because the
 * token orders the posting of exchanges and MPI never reorders messages from one sender on
 * one (communicator, tag). Point-to-point tags are booked by the callers (>= 1000). */
enum { TAG_TOWARD_NEXT = 11, TAG_TOWARD_PREV = 12, TAG_P2P_FIRST = 1000 };

typedef struct mpi_backend {
    sl_request_poller *poller;
    unsigned long post_failures; /* updated atomically by tasks */
    starpu_data_handle_t token;  /* orders the posting of collectives and exchanges */
    char token_storage;
    int tag_ub;                  /* MPI_TAG_UB */
    sl_comm *owner;              /* for sl_comm_poisoned */
} mpi_backend;

/* One operation in flight: made at submission, filled by its post task, watched from its
 * completion task, freed when its requests have completed. */
typedef struct comm_op {
    comm_kind kind;
    sl_comm_elem elem;
    sl_comm_op op;
    int root, peer, mpi_tag;
    int prev, next;
    /* which optional neighbour buffers follow, in this order */
    int has_send_prev, has_send_next, has_recv_prev, has_recv_next;
    int nbuf;        /* allreduce: vectors reduced together (1: in place, else packed) */
    MPI_Comm comm;
    mpi_backend *be;
    MPI_Request reqs[SL_POLLER_MAX_REQS];
    int nreq;
    char *packed;    /* allreduce of several vectors: their values side by side */
    void *reduced;   /* allreduce: what MPI reduces in place (the vector, or packed) */
    size_t reduced_bytes;
    size_t packed_bytes;
    void **targets;  /* where the packed values go back (captured by the completion task) */
} comm_op;

static MPI_Datatype elem_type(sl_comm_elem e)
{
    switch (e) {
    case SL_COMM_DOUBLE: return MPI_DOUBLE;
    case SL_COMM_FLOAT: return MPI_FLOAT;
    default: return MPI_BYTE;
    }
}

static size_t elem_bytes(sl_comm_elem e)
{
    return e == SL_COMM_DOUBLE ? sizeof(double) : e == SL_COMM_FLOAT ? sizeof(float) : 1;
}

static MPI_Op reduce_op(sl_comm_op op)
{
    return op == SL_COMM_MAX ? MPI_MAX : op == SL_COMM_MIN ? MPI_MIN : MPI_SUM;
}

/* A buffer of the running task as MPI sees it: start, and a count of `type` (a vector, or a
 * matrix tile, strided when its leading dimension exceeds its width: then a derived type the
 * caller frees after posting). */
typedef struct msg_view {
    void *ptr;
    int count;
    MPI_Datatype type;
    int derived;
} msg_view;

static int view_of(void *iface, msg_view *v)
{
    memset(v, 0, sizeof *v);
    v->type = MPI_BYTE;
    sl_comm_buffer b = sl_comm_buffer_of(iface);
    v->ptr = b.ptr;
    if (b.rows * b.row_bytes > INT_MAX || b.ld_bytes > INT_MAX)
        return MPI_ERR_COUNT; /* counted as a failed post: sl_wait reports it */
    if (!sl_comm_buffer_strided(b)) {
        v->count = (int)(b.rows * b.row_bytes);
        return MPI_SUCCESS;
    }
    v->count = 1;
    v->derived = 1;
    int rc = MPI_Type_vector((int)b.rows, (int)b.row_bytes, (int)b.ld_bytes, MPI_BYTE, &v->type);
    return rc == MPI_SUCCESS ? MPI_Type_commit(&v->type) : rc;
}

/* Keeps a request only when the call that made it succeeded (r is read after the call: an
 * argument evaluated before it would be MPI_REQUEST_NULL). */
static int keep(comm_op *op, int rc, const MPI_Request *r)
{
    if (rc == MPI_SUCCESS)
        op->reqs[op->nreq++] = *r;
    return rc;
}

static void view_done(msg_view *v)
{
    if (v->derived)
        MPI_Type_free(&v->type);
}

static int post_p2p(void *buffers[], comm_op *op, int send)
{
    msg_view v;
    MPI_Request r = MPI_REQUEST_NULL;
    int rc = view_of(buffers[0], &v);
    if (rc == MPI_SUCCESS)
        rc = keep(op, send ? MPI_Isend(v.ptr, v.count, v.type, op->peer, op->mpi_tag, op->comm, &r)
                           : MPI_Irecv(v.ptr, v.count, v.type, op->peer, op->mpi_tag, op->comm, &r),
                  &r);
    view_done(&v);
    return rc;
}

/* buffers[first..]: the neighbour buffers present, in the order of comm_op's flags. */
static int post_neighbours(void *buffers[], int first, comm_op *op)
{
    int b = first, rc = MPI_SUCCESS;
    int idx[4] = {-1, -1, -1, -1}; /* send_prev, send_next, recv_prev, recv_next */
    if (op->has_send_prev) idx[0] = b++;
    if (op->has_send_next) idx[1] = b++;
    if (op->has_recv_prev) idx[2] = b++;
    if (op->has_recv_next) idx[3] = b++;
    /* receives first, so the sends find them posted */
    const int order[4] = {2, 3, 1, 0};
    for (int k = 0; k < 4 && rc == MPI_SUCCESS; k++) {
        int which = order[k];
        if (idx[which] < 0)
            continue;
        msg_view v;
        MPI_Request r = MPI_REQUEST_NULL;
        rc = view_of(buffers[idx[which]], &v);
        int peer = which == 0 || which == 2 ? op->prev : op->next;
        int tag = which == 1 || which == 2 ? TAG_TOWARD_NEXT : TAG_TOWARD_PREV;
        if (rc == MPI_SUCCESS)
            rc = keep(op, which >= 2 ? MPI_Irecv(v.ptr, v.count, v.type, peer, tag, op->comm, &r)
                                     : MPI_Isend(v.ptr, v.count, v.type, peer, tag, op->comm, &r),
                      &r);
        view_done(&v);
    }
    return rc;
}

/* Several vectors reduce as one message: packed here, unpacked when it completes. */
static int post_allreduce(void *buffers[], comm_op *op)
{
    if (op->nbuf == 1) {
        void *v = buffers[1];
        op->reduced = (void *)STARPU_VECTOR_GET_PTR(v);
        op->reduced_bytes = STARPU_VECTOR_GET_NX(v) * STARPU_VECTOR_GET_ELEMSIZE(v);
    } else {
        size_t at = 0;
        for (int i = 0; i < op->nbuf; i++) {
            void *v = buffers[1 + i];
            size_t bytes = STARPU_VECTOR_GET_NX(v) * STARPU_VECTOR_GET_ELEMSIZE(v);
            memcpy(op->packed + at, (void *)STARPU_VECTOR_GET_PTR(v), bytes);
            at += bytes;
        }
        op->reduced = op->packed;
        op->reduced_bytes = op->packed_bytes;
    }
    if (sl_comm_poisoned(op->be->owner))
        sl_comm_poison(op->reduced, op->reduced_bytes, op->elem);
    MPI_Request r = MPI_REQUEST_NULL;
    return keep(op, MPI_Iallreduce(MPI_IN_PLACE, op->reduced,
                                   (int)(op->reduced_bytes / elem_bytes(op->elem)),
                                   elem_type(op->elem), reduce_op(op->op), op->comm, &r), &r);
}

/* The post task: buffers[0] is the token for collectives and exchanges. */
static void post_cpu(void *buffers[], void *cl_arg)
{
    comm_op *op;
    starpu_codelet_unpack_args(cl_arg, &op);
    int rc = MPI_SUCCESS;
    switch (op->kind) {
    case KIND_ALLREDUCE:
        rc = post_allreduce(buffers, op);
        break;
    case KIND_BROADCAST: {
        msg_view v;
        MPI_Request r = MPI_REQUEST_NULL;
        rc = view_of(buffers[1], &v);
        if (rc == MPI_SUCCESS)
            rc = keep(op, MPI_Ibcast(v.ptr, v.count, v.type, op->root, op->comm, &r), &r);
        view_done(&v);
        break;
    }
    case KIND_NEIGHBOURS:
        rc = post_neighbours(buffers, 1, op);
        break;
    case KIND_SEND:
    case KIND_RECV:
        rc = post_p2p(buffers, op, op->kind == KIND_SEND);
        break;
    }
    /* A failed post is counted (sl_wait reports it); requests already posted are still
     * watched, so the operation completes either way and nothing waits forever on it. */
    if (rc != MPI_SUCCESS)
        __atomic_add_fetch(&op->be->post_failures, 1, __ATOMIC_RELAXED);
}

static void op_free(comm_op *op)
{
    free(op->packed);
    free(op->targets);
    free(op);
}

/* Runs in the poller when every request of the operation is done. */
static void op_done(void *arg, int failed)
{
    comm_op *op = arg;
    if (op->kind == KIND_ALLREDUCE && failed && op->reduced) /* not a reduction's result */
        sl_comm_poison(op->reduced, op->reduced_bytes, op->elem);
    if (op->packed) {
        size_t at = 0, bytes = op->packed_bytes / (size_t)op->nbuf;
        for (int i = 0; i < op->nbuf; i++, at += bytes)
            memcpy(op->targets[i], op->packed + at, bytes);
    }
    op_free(op);
}

/* The completion task: holds the operation's buffers until its requests complete. */
static void complete_cpu(void *buffers[], void *cl_arg)
{
    comm_op *op;
    starpu_codelet_unpack_args(cl_arg, &op);
    for (int i = 0; op->targets && i < op->nbuf; i++)
        op->targets[i] = (void *)STARPU_VECTOR_GET_PTR(buffers[i]);
    if (op->nreq == 0) { /* nothing was posted (a failure already counted) */
        op_done(op, 1);
        return;
    }
    if (sl_request_poller_watch(op->be->poller, starpu_task_get_current(), op->reqs, op->nreq,
                                op_done, op) != SL_OK) {
        __atomic_add_fetch(&op->be->post_failures, 1, __ATOMIC_RELAXED);
        MPI_Waitall(op->nreq, op->reqs, MPI_STATUSES_IGNORE); /* no memory to defer: wait */
        op_done(op, 0);
    }
}

/* No performance models here: post tasks only post requests and completion tasks end when
 * the poller releases them, so a measured duration would say nothing about the transfer. */
#define COMM_CODELET(var, fn, nm) \
    static struct starpu_codelet var = {                                                    \
        .cpu_funcs = {fn}, .nbuffers = STARPU_VARIABLE_NBUFFERS, .name = nm}
COMM_CODELET(allreduce_cl, post_cpu, "allreduce");
COMM_CODELET(broadcast_cl, post_cpu, "broadcast");
COMM_CODELET(neighbours_cl, post_cpu, "halo_exchange");
COMM_CODELET(send_cl, post_cpu, "p2p_send");
COMM_CODELET(recv_cl, post_cpu, "p2p_recv");
COMM_CODELET(complete_cl, complete_cpu, "comm_complete");

static int group_size(sl_comm_group g)
{
    int n = 1;
    MPI_Comm_size(g.mpi, &n);
    return n;
}

static comm_op *op_new(sl_comm *comm, MPI_Comm mpi, comm_kind kind, sl_comm_elem e)
{
    comm_op *op = calloc(1, sizeof *op);
    if (!op)
        return NULL;
    op->kind = kind;
    op->elem = e;
    op->comm = mpi;
    op->be = comm->backend;
    op->prev = op->next = -1;
    op->nbuf = 1;
    return op;
}

static void op_free_any(void *op)
{
    op_free(op);
}

static sl_status submit_pair(comm_op *op, struct starpu_codelet *post, int ordered,
                             const struct starpu_data_descr *d, int n)
{
    sl_comm_pair pair = {post, &complete_cl, op, ordered ? op->be->token : NULL, op_free_any,
                         &op->be->post_failures};
    return sl_comm_submit_pair(&pair, d, n);
}

static sl_status mpi_allreduce(sl_comm *comm, sl_comm_group g, const starpu_data_handle_t *bufs,
                               int n, sl_comm_elem e, sl_comm_op how)
{
    if (group_size(g) == 1 || n <= 0)
        return SL_OK; /* nothing to combine */
    comm_op *op = op_new(comm, g.mpi, KIND_ALLREDUCE, e);
    struct starpu_data_descr *d = malloc((size_t)n * sizeof *d);
    if (!op || !d) {
        free(op), free(d);
        return SL_ERR_NOMEM;
    }
    op->op = how;
    op->nbuf = n;
    size_t bytes = 0;
    for (int i = 0; i < n; i++) {
        bytes += starpu_data_get_size(bufs[i]);
        d[i] = (struct starpu_data_descr){bufs[i], STARPU_RW}; /* the completion writes them */
    }
    if (n > 1) {
        op->packed_bytes = bytes;
        op->packed = malloc(bytes);
        op->targets = calloc((size_t)n, sizeof *op->targets);
        if (!op->packed || !op->targets) {
            op_free(op), free(d);
            return SL_ERR_NOMEM;
        }
    }
    sl_comm_count(comm, bytes, bytes);
    sl_status st = submit_pair(op, &allreduce_cl, 1, d, n);
    free(d);
    return st;
}

static sl_status mpi_broadcast(sl_comm *comm, sl_comm_group g, starpu_data_handle_t buf,
                               sl_comm_elem e, int root)
{
    if (group_size(g) == 1)
        return SL_OK;
    comm_op *op = op_new(comm, g.mpi, KIND_BROADCAST, e);
    if (!op)
        return SL_ERR_NOMEM;
    op->root = root;
    int me = 0;
    MPI_Comm_rank(g.mpi, &me);
    size_t bytes = starpu_data_get_size(buf);
    sl_comm_count(comm, me == root ? bytes * (size_t)(group_size(g) - 1) : 0,
                  me == root ? 0 : bytes);
    /* the root only sends: its readers need not wait for the broadcast */
    struct starpu_data_descr d[1] = {{buf, me == root ? STARPU_R : STARPU_RW}};
    return submit_pair(op, &broadcast_cl, 1, d, 1);
}

static sl_status mpi_neighbours(sl_comm *comm, sl_comm_group g, const sl_comm_neighbours *nb,
                                sl_comm_elem e)
{
    comm_op *op = op_new(comm, g.mpi, KIND_NEIGHBOURS, e);
    if (!op)
        return SL_ERR_NOMEM;
    op->prev = nb->prev;
    op->next = nb->next;
    struct starpu_data_descr d[4];
    int n = 0;
    if ((op->has_send_prev = nb->send_prev && nb->prev >= 0))
        d[n++] = (struct starpu_data_descr){nb->send_prev, STARPU_R};
    if ((op->has_send_next = nb->send_next && nb->next >= 0))
        d[n++] = (struct starpu_data_descr){nb->send_next, STARPU_R};
    if ((op->has_recv_prev = nb->recv_prev && nb->prev >= 0))
        d[n++] = (struct starpu_data_descr){nb->recv_prev, STARPU_W};
    if ((op->has_recv_next = nb->recv_next && nb->next >= 0))
        d[n++] = (struct starpu_data_descr){nb->recv_next, STARPU_W};
    if (n == 0) { /* no neighbour on either side */
        op_free(op);
        return SL_OK;
    }
    for (int i = 0; i < n; i++)
        sl_comm_count(comm, d[i].mode == STARPU_R ? starpu_data_get_size(d[i].handle) : 0,
                      d[i].mode == STARPU_W ? starpu_data_get_size(d[i].handle) : 0);
    return submit_pair(op, &neighbours_cl, 1, d, n);
}

/* Booked tags grow for the life of a context: folded into [TAG_P2P_FIRST, MPI_TAG_UB]. Two
 * messages in flight between the same ranks are never that many bookings apart. */
static int p2p_tag(const mpi_backend *be, int64_t tag)
{
    int64_t span = (int64_t)be->tag_ub - TAG_P2P_FIRST + 1;
    int64_t t = tag < TAG_P2P_FIRST ? tag : TAG_P2P_FIRST + (tag - TAG_P2P_FIRST) % span;
    return (int)t;
}

static sl_status mpi_p2p(sl_comm *comm, starpu_data_handle_t h, int peer, int64_t tag,
                         MPI_Comm mpi, int send)
{
    comm_op *op = op_new(comm, mpi, send ? KIND_SEND : KIND_RECV, SL_COMM_BYTE);
    if (!op)
        return SL_ERR_NOMEM;
    op->peer = peer;
    op->mpi_tag = p2p_tag(comm->backend, tag);
    size_t bytes = starpu_data_get_size(h);
    sl_comm_count(comm, send ? bytes : 0, send ? 0 : bytes);
    struct starpu_data_descr d[1] = {{h, send ? STARPU_R : STARPU_W}};
    return submit_pair(op, send ? &send_cl : &recv_cl, 0, d, 1);
}

static sl_status mpi_send(sl_comm *comm, starpu_data_handle_t h, int dest, int64_t tag,
                          MPI_Comm mpi)
{
    return mpi_p2p(comm, h, dest, tag, mpi, 1);
}

static sl_status mpi_recv(sl_comm *comm, starpu_data_handle_t h, int src, int64_t tag,
                          MPI_Comm mpi)
{
    return mpi_p2p(comm, h, src, tag, mpi, 0);
}

static unsigned long mpi_failures(const sl_comm *comm)
{
    const mpi_backend *be = comm->backend;
    return __atomic_load_n(&be->post_failures, __ATOMIC_RELAXED) +
           sl_request_poller_failures(be->poller);
}

static void mpi_shutdown(sl_comm *comm)
{
    mpi_backend *be = comm->backend;
    starpu_data_unregister(be->token);
    sl_request_poller_stop(be->poller);
}

static void mpi_destroy(sl_comm *comm)
{
    mpi_backend *be = comm->backend;
    sl_request_poller_destroy(be->poller);
    free(be);
    free(comm);
}

static const sl_comm_ops mpi_ops = {
    .name = "mpi",
    .allreduce = mpi_allreduce,
    .broadcast = mpi_broadcast,
    .neighbour_exchange = mpi_neighbours,
    .send = mpi_send,
    .recv = mpi_recv,
    .exchange = sl_comm_exchange_p2p,
    .failures = mpi_failures,
    .shutdown = mpi_shutdown,
    .destroy = mpi_destroy,
};

sl_status sl_comm_mpi_create(unsigned progress_us, sl_comm **out)
{
    sl_comm *comm = calloc(1, sizeof *comm);
    mpi_backend *be = calloc(1, sizeof *be);
    if (!comm || !be) {
        free(comm);
        free(be);
        return SL_ERR_NOMEM;
    }
    sl_status st = sl_request_poller_create(&be->poller);
    if (st == SL_OK && (st = sl_request_poller_start_thread(be->poller, progress_us)) != SL_OK) {
        sl_request_poller_stop(be->poller);
        sl_request_poller_destroy(be->poller);
    }
    if (st != SL_OK) {
        free(comm);
        free(be);
        return st;
    }
    int *ub = NULL, flag = 0;
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &ub, &flag);
    be->tag_ub = flag && ub ? *ub : 32767; /* the standard's minimum */
    starpu_variable_data_register(&be->token, STARPU_MAIN_RAM, (uintptr_t)&be->token_storage,
                                  sizeof be->token_storage);
    comm->ops = &mpi_ops;
    comm->backend = be;
    be->owner = comm;
    *out = comm;
    return SL_OK;
}

