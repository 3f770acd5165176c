/* MPI backend of the communication layer: each operation is one task that posts non-blocking
 * MPI calls (MPI_Iallreduce, MPI_Ibcast, MPI_Isend/Irecv) on the group's communicator and
 * completes when the request poller sees them finish. */
#include <stdlib.h>
#include <string.h>

#include "comm/comm.h"
#include "comm/request_poller.h"

typedef enum comm_kind { KIND_ALLREDUCE, KIND_BROADCAST, KIND_NEIGHBOURS } comm_kind;

/* Tags of the two directions of a neighbour exchange. Matching stays unambiguous because the
 * token serialises exchanges in submission order and MPI never reorders messages from one
 * sender on one (communicator, tag). */
enum { TAG_TOWARD_NEXT = 11, TAG_TOWARD_PREV = 12 };

typedef struct mpi_backend {
    sl_request_poller *poller;
    unsigned long post_failures; /* updated atomically by tasks */
    starpu_data_handle_t token; /* serialises collectives in submission order */
    char token_storage;
} mpi_backend;

typedef struct comm_args {
    comm_kind kind;
    sl_comm_elem elem;
    sl_comm_op op;
    int root;
    int prev, next;
    /* which optional neighbour buffers follow the token, in this order */
    int has_send_prev, has_send_next, has_recv_prev, has_recv_next;
    MPI_Comm comm;
    sl_request_poller *poller;
    unsigned long *post_failures;
} comm_args;

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

static int vector_count(void *buffer, sl_comm_elem e)
{
    size_t bytes = STARPU_VECTOR_GET_NX(buffer) * STARPU_VECTOR_GET_ELEMSIZE(buffer);
    return (int)(bytes / elem_bytes(e));
}

static int post_neighbours(void *buffers[], const comm_args *a, MPI_Request *reqs, int *nreq)
{
    int rc = MPI_SUCCESS;
    int b = 1; /* buffers[0] is the token */
    MPI_Datatype t = elem_type(a->elem);
    void *send_prev = a->has_send_prev ? buffers[b++] : NULL;
    void *send_next = a->has_send_next ? buffers[b++] : NULL;
    void *recv_prev = a->has_recv_prev ? buffers[b++] : NULL;
    void *recv_next = a->has_recv_next ? buffers[b++] : NULL;
    if (recv_prev && rc == MPI_SUCCESS)
        rc = MPI_Irecv((void *)STARPU_VECTOR_GET_PTR(recv_prev), vector_count(recv_prev, a->elem), t,
                  a->prev, TAG_TOWARD_NEXT, a->comm, &reqs[(*nreq)++]);
    if (recv_next && rc == MPI_SUCCESS)
        rc = MPI_Irecv((void *)STARPU_VECTOR_GET_PTR(recv_next), vector_count(recv_next, a->elem), t,
                  a->next, TAG_TOWARD_PREV, a->comm, &reqs[(*nreq)++]);
    if (send_next && rc == MPI_SUCCESS)
        rc = MPI_Isend((void *)STARPU_VECTOR_GET_PTR(send_next), vector_count(send_next, a->elem), t,
                  a->next, TAG_TOWARD_NEXT, a->comm, &reqs[(*nreq)++]);
    if (send_prev && rc == MPI_SUCCESS)
        rc = MPI_Isend((void *)STARPU_VECTOR_GET_PTR(send_prev), vector_count(send_prev, a->elem),
                       t, a->prev, TAG_TOWARD_PREV, a->comm, &reqs[(*nreq)++]);
    return rc;
}

/* The task body: post, hand the requests to the poller, return without waiting. */
static void comm_post_cpu(void *buffers[], void *cl_arg)
{
    comm_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    MPI_Request reqs[SL_POLLER_MAX_REQS];
    int nreq = 0;
    void *buf = buffers[1];
    int rc = MPI_SUCCESS;

    switch (a.kind) {
    case KIND_ALLREDUCE:
        rc = MPI_Iallreduce(MPI_IN_PLACE, (void *)STARPU_VECTOR_GET_PTR(buf), vector_count(buf, a.elem),
                       elem_type(a.elem), reduce_op(a.op), a.comm, &reqs[nreq++]);
        break;
    case KIND_BROADCAST:
        rc = MPI_Ibcast((void *)STARPU_VECTOR_GET_PTR(buf), vector_count(buf, a.elem),
                   elem_type(a.elem), a.root, a.comm, &reqs[nreq++]);
        break;
    case KIND_NEIGHBOURS:
        rc = post_neighbours(buffers, &a, reqs, &nreq);
        break;
    }
    /* A failed post is counted (sl_wait reports it); requests already posted are still
     * watched, so the task completes either way and nothing waits forever on it. */
    if (rc != MPI_SUCCESS)
        __atomic_add_fetch(a.post_failures, 1, __ATOMIC_RELAXED);
    if (nreq > 0 &&
        sl_request_poller_watch(a.poller, starpu_task_get_current(), reqs, nreq) != SL_OK) {
        __atomic_add_fetch(a.post_failures, 1, __ATOMIC_RELAXED);
        MPI_Waitall(nreq, reqs, MPI_STATUSES_IGNORE); /* no memory to defer: wait here */
    }
}

/* No performance models here: these tasks only post requests (their completion is deferred
 * to the poller), so a measured duration would say nothing about the communication. */
static struct starpu_codelet allreduce_cl = {
    .cpu_funcs = {comm_post_cpu}, .nbuffers = 2, .modes = {STARPU_RW, STARPU_RW},
    .name = "allreduce"};
static struct starpu_codelet broadcast_cl = {
    .cpu_funcs = {comm_post_cpu}, .nbuffers = 2, .modes = {STARPU_RW, STARPU_RW},
    .name = "broadcast"};
static struct starpu_codelet neighbours_cl = {
    .cpu_funcs = {comm_post_cpu}, .nbuffers = STARPU_VARIABLE_NBUFFERS,
    .name = "halo_exchange"};

static int group_size(sl_comm_group g)
{
    int n = 1;
    MPI_Comm_size(g.mpi, &n);
    return n;
}

static sl_status submit(struct starpu_codelet *cl, const comm_args *a,
                        struct starpu_data_descr *descr, int ndescr)
{
    int ret = starpu_task_insert(cl, STARPU_VALUE, a, sizeof *a, STARPU_DATA_MODE_ARRAY, descr,
                                 ndescr, STARPU_PRIORITY, STARPU_MAX_PRIO, 0);
    return ret == 0 ? SL_OK : SL_ERR_STARPU;
}

static comm_args base_args(sl_comm *comm, sl_comm_group g, comm_kind kind, sl_comm_elem e)
{
    mpi_backend *be = comm->backend;
    comm_args a;
    memset(&a, 0, sizeof a);
    a.kind = kind;
    a.elem = e;
    a.comm = g.mpi;
    a.poller = be->poller;
    a.post_failures = &be->post_failures;
    a.prev = a.next = -1;
    return a;
}

static sl_status mpi_allreduce(sl_comm *comm, sl_comm_group g, starpu_data_handle_t buf,
                               sl_comm_elem e, sl_comm_op op)
{
    if (group_size(g) == 1)
        return SL_OK; /* nothing to combine */
    mpi_backend *be = comm->backend;
    comm_args a = base_args(comm, g, KIND_ALLREDUCE, e);
    a.op = op;
    sl_comm_count(comm, starpu_data_get_size(buf), starpu_data_get_size(buf));
    struct starpu_data_descr d[2] = {{be->token, STARPU_RW}, {buf, STARPU_RW}};
    return submit(&allreduce_cl, &a, d, 2);
}

static sl_status mpi_broadcast(sl_comm *comm, sl_comm_group g, starpu_data_handle_t buf,
                               sl_comm_elem e, int root)
{
    if (group_size(g) == 1)
        return SL_OK;
    mpi_backend *be = comm->backend;
    comm_args a = base_args(comm, g, KIND_BROADCAST, e);
    a.root = root;
    int me = 0;
    MPI_Comm_rank(g.mpi, &me);
    size_t bytes = starpu_data_get_size(buf);
    sl_comm_count(comm, me == root ? bytes * (size_t)(group_size(g) - 1) : 0,
                  me == root ? 0 : bytes);
    struct starpu_data_descr d[2] = {{be->token, STARPU_RW}, {buf, STARPU_RW}};
    return submit(&broadcast_cl, &a, d, 2);
}

static sl_status mpi_neighbours(sl_comm *comm, sl_comm_group g, const sl_comm_neighbours *nb,
                                sl_comm_elem e)
{
    mpi_backend *be = comm->backend;
    comm_args a = base_args(comm, g, KIND_NEIGHBOURS, e);
    a.prev = nb->prev;
    a.next = nb->next;
    struct starpu_data_descr d[5];
    int n = 0;
    d[n++] = (struct starpu_data_descr){be->token, STARPU_RW};
    if ((a.has_send_prev = nb->send_prev && nb->prev >= 0))
        d[n++] = (struct starpu_data_descr){nb->send_prev, STARPU_R};
    if ((a.has_send_next = nb->send_next && nb->next >= 0))
        d[n++] = (struct starpu_data_descr){nb->send_next, STARPU_R};
    if ((a.has_recv_prev = nb->recv_prev && nb->prev >= 0))
        d[n++] = (struct starpu_data_descr){nb->recv_prev, STARPU_W};
    if ((a.has_recv_next = nb->recv_next && nb->next >= 0))
        d[n++] = (struct starpu_data_descr){nb->recv_next, STARPU_W};
    if (n == 1)
        return SL_OK; /* no neighbour on either side */
    for (int i = 1; i < n; i++)
        sl_comm_count(comm, d[i].mode == STARPU_R ? starpu_data_get_size(d[i].handle) : 0,
                      d[i].mode == STARPU_W ? starpu_data_get_size(d[i].handle) : 0);
    return submit(&neighbours_cl, &a, d, n);
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
    .failures = mpi_failures,
    .shutdown = mpi_shutdown,
    .destroy = mpi_destroy,
};

sl_status sl_comm_mpi_create(sl_comm **out)
{
    sl_comm *comm = calloc(1, sizeof *comm);
    mpi_backend *be = calloc(1, sizeof *be);
    if (!comm || !be) {
        free(comm);
        free(be);
        return SL_ERR_NOMEM;
    }
    sl_status st = sl_request_poller_create(&be->poller);
    if (st != SL_OK) {
        free(comm);
        free(be);
        return st;
    }
    starpu_variable_data_register(&be->token, STARPU_MAIN_RAM, (uintptr_t)&be->token_storage,
                                  sizeof be->token_storage);
    comm->ops = &mpi_ops;
    comm->backend = be;
    *out = comm;
    return SL_OK;
}
