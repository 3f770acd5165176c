/* NCCL backend of the communication layer (STARLOPS_COMM=nccl): collectives, neighbour
 * exchanges and exchanges run as NCCL calls queued by CUDA tasks on the worker's stream, on data
 * StarPU has placed on the rank's GPU (never staged through the host). One GPU per rank.
 *
 * Order: NCCL matches collectives by the order they are issued on a communicator, so every
 * operation's task takes the backend's token in RW mode: tasks issue in submission order, the
 * same on every rank (as the mpi backend posts). One task per operation: with
 * STARPU_CUDA_ASYNC the task ends when the stream has run the NCCL kernels, and the tasks
 * using the result depend on it.
 *
 * Point-to-point messages exist only inside one operation's NCCL group (a neighbour exchange:
 * both directions; an exchange: all of a rank's messages with its peers), ordered by the token
 * like the collectives: NCCL progresses a group's sends and receives together, so they cannot
 * wait for each other. Lone send / recv are refused (ordered_transfers, comm.h): NCCL's send
 * and receive block the stream until the peer's matching call runs, so two ranks sending to
 * each other from separate tasks would wait for each other forever. (They used to go through
 * an embedded mpi backend, staged through the host; SUMMA now broadcasts its panels and the
 * FFT redistribution is an exchange, so nothing host-stages under nccl.)
 *
 * Communicators: one NCCL communicator per MPI communicator a collective runs over, made on
 * first use by the submitting (host) thread of every member rank (the same SPMD point), with
 * rank 0's unique id broadcast over MPI, and cached on the MPI communicator as an attribute
 * (MPI's own idiom: freed with it, never confused with a later communicator reusing the
 * handle value). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_runtime_api.h>
#include <nccl.h>
#include <starpu_cuda.h>

#include "comm/comm.h"
#include "comm/comm_buffer.h"

typedef enum nccl_kind {
    KIND_ALLREDUCE, KIND_BROADCAST, KIND_NEIGHBOURS, KIND_EXCHANGE
} nccl_kind;

typedef struct nccl_backend {
    starpu_data_handle_t token;  /* issue order of the NCCL calls */
    char token_storage;
    unsigned long failures;      /* updated atomically by tasks */
    int keyval;                  /* MPI attribute: the NCCL communicator of an MPI one */
    int device;                  /* this rank's GPU (its first CUDA worker's) */
    sl_comm *owner;              /* for sl_comm_poisoned */
} nccl_backend;

/* An operation, copied into its task's argument (no allocation to free). */
typedef struct nccl_op {
    nccl_kind kind;
    sl_comm_elem elem;
    sl_comm_op op;
    int root, prev, next;
    int nbuf; /* allreduce: vectors reduced in one group */
    int has_send_prev, has_send_next, has_recv_prev, has_recv_next;
    int *peers; /* exchange: per buffer after the token, peer * 2 + (1 if sent); the task frees */
    ncclComm_t comm;
    nccl_backend *be;
} nccl_op;

static ncclDataType_t nccl_type(sl_comm_elem e)
{
    return e == SL_COMM_DOUBLE ? ncclFloat64 : e == SL_COMM_FLOAT ? ncclFloat32 : ncclUint8;
}

static size_t elem_bytes(sl_comm_elem e)
{
    return e == SL_COMM_DOUBLE ? sizeof(double) : e == SL_COMM_FLOAT ? sizeof(float) : 1;
}

static ncclRedOp_t nccl_red(sl_comm_op op)
{
    return op == SL_COMM_MAX ? ncclMax : op == SL_COMM_MIN ? ncclMin : ncclSum;
}

/* A device buffer as one contiguous run of bytes (StarPU allocates device copies packed). */
static int contiguous(void *iface, void **ptr, size_t *bytes)
{
    sl_comm_buffer b = sl_comm_buffer_of(iface);
    *ptr = b.ptr;
    *bytes = b.rows * b.row_bytes;
    return !sl_comm_buffer_strided(b);
}

/* All bytes 0xFF: a NaN as float and as double, so a poisoned contribution or a failed result
 * is NaN whatever the element type (comm.h's rule), written on the stream. */
static void poison_async(void *ptr, size_t bytes, cudaStream_t stream)
{
    cudaMemsetAsync(ptr, 0xFF, bytes, stream);
}

static ncclResult_t issue_allreduce(void *buffers[], const nccl_op *op, cudaStream_t s)
{
    int poisoned = sl_comm_poisoned(op->be->owner);
    ncclResult_t rc = ncclGroupStart();
    for (int i = 0; i < op->nbuf && rc == ncclSuccess; i++) {
        void *p;
        size_t bytes;
        if (!contiguous(buffers[1 + i], &p, &bytes))
            rc = ncclInvalidUsage;
        else {
            if (poisoned)
                poison_async(p, bytes, s);
            rc = ncclAllReduce(p, p, bytes / elem_bytes(op->elem), nccl_type(op->elem),
                               nccl_red(op->op), op->comm, s);
        }
    }
    ncclResult_t end = ncclGroupEnd();
    return rc != ncclSuccess ? rc : end;
}

static ncclResult_t issue_broadcast(void *buffers[], const nccl_op *op, cudaStream_t s)
{
    void *p;
    size_t bytes;
    if (!contiguous(buffers[1], &p, &bytes))
        return ncclInvalidUsage;
    return ncclBroadcast(p, p, bytes, ncclUint8, op->root, op->comm, s);
}

/* buffers[1..]: the neighbour buffers present, in nccl_op's flag order; one group, so the
 * sends and receives of both directions progress together. */
static ncclResult_t issue_neighbours(void *buffers[], const nccl_op *op, cudaStream_t s)
{
    const int present[4] = {op->has_send_prev, op->has_send_next, op->has_recv_prev,
                            op->has_recv_next};
    ncclResult_t rc = ncclGroupStart();
    for (int which = 0, b = 1; which < 4 && rc == ncclSuccess; which++) {
        if (!present[which])
            continue;
        void *p;
        size_t bytes;
        int peer = which == 0 || which == 2 ? op->prev : op->next;
        if (!contiguous(buffers[b++], &p, &bytes))
            rc = ncclInvalidUsage;
        else
            rc = which < 2 ? ncclSend(p, bytes, ncclUint8, peer, op->comm, s)
                           : ncclRecv(p, bytes, ncclUint8, peer, op->comm, s);
    }
    ncclResult_t end = ncclGroupEnd();
    return rc != ncclSuccess ? rc : end;
}

/* buffers[1..nbuf]: the exchange's messages in issue order (sl_comm_exchange_order: every
 * pair of ranks lists its messages alike); one group, like a neighbour exchange. */
static ncclResult_t issue_exchange(void *buffers[], const nccl_op *op, cudaStream_t s)
{
    ncclResult_t rc = ncclGroupStart();
    for (int i = 0; i < op->nbuf && rc == ncclSuccess; i++) {
        void *p;
        size_t bytes;
        int peer = op->peers[i] / 2, send = op->peers[i] % 2;
        if (!contiguous(buffers[1 + i], &p, &bytes))
            rc = ncclInvalidUsage;
        else
            rc = send ? ncclSend(p, bytes, ncclUint8, peer, op->comm, s)
                      : ncclRecv(p, bytes, ncclUint8, peer, op->comm, s);
    }
    ncclResult_t end = ncclGroupEnd();
    return rc != ncclSuccess ? rc : end;
}

static ncclResult_t issue(void *buffers[], const nccl_op *op, cudaStream_t s)
{
    switch (op->kind) {
    case KIND_ALLREDUCE: return issue_allreduce(buffers, op, s);
    case KIND_BROADCAST: return issue_broadcast(buffers, op, s);
    case KIND_NEIGHBOURS: return issue_neighbours(buffers, op, s);
    default: return issue_exchange(buffers, op, s);
    }
}

/* The task: buffers[0] is the token. A failure is counted (sl_wait reports it) and leaves a
 * reduction's result NaN on this rank. */
static void issue_cuda(void *buffers[], void *cl_arg)
{
    nccl_op op;
    starpu_codelet_unpack_args(cl_arg, &op);
    cudaStream_t s = starpu_cuda_get_local_stream();
    ncclResult_t rc = issue(buffers, &op, s);
    free(op.peers);
    if (rc == ncclSuccess)
        return;
    __atomic_add_fetch(&op.be->failures, 1, __ATOMIC_RELAXED);
    for (int i = 0; op.kind == KIND_ALLREDUCE && i < op.nbuf; i++) {
        void *p;
        size_t bytes;
        if (contiguous(buffers[1 + i], &p, &bytes))
            poison_async(p, bytes, s);
    }
}

/* No performance model: the duration is the peers' arrival as much as the transfer. */
static struct starpu_codelet issue_cl = {
    .where = STARPU_CUDA,
    .cuda_funcs = {issue_cuda},
    .cuda_flags = {STARPU_CUDA_ASYNC},
    .nbuffers = STARPU_VARIABLE_NBUFFERS,
    .name = "nccl",
};

/* MPI attribute destructor: the NCCL communicator goes with its MPI communicator. */
static int free_attached(MPI_Comm comm, int keyval, void *value, void *extra)
{
    (void)comm, (void)keyval, (void)extra;
    ncclComm_t *nc = value;
    ncclCommDestroy(*nc);
    free(nc);
    return MPI_SUCCESS;
}

/* The NCCL communicator over `mpi`: collective over it on first use (host thread). Setting one
 * up may synchronise the device, which would never return while a NCCL kernel of an earlier
 * task waits on the stream for a peer that is itself in this set-up: so the rank first lets
 * every task it submitted end (they can: each rank's operations so far are a prefix of the
 * same global order, comm.h). Operators prepare their communicators at construction, so this
 * wait is paid there rather than in the middle of a graph. */
static sl_status nccl_comm_of(nccl_backend *be, MPI_Comm mpi, ncclComm_t *out)
{
    ncclComm_t *found = NULL;
    int flag = 0;
    MPI_Comm_get_attr(mpi, be->keyval, &found, &flag);
    if (flag && found) {
        *out = *found;
        return SL_OK;
    }
    starpu_task_wait_for_all();
    int rank = 0, size = 1;
    MPI_Comm_rank(mpi, &rank);
    MPI_Comm_size(mpi, &size);
    ncclUniqueId id;
    memset(&id, 0, sizeof id);
    int made = rank != 0 || ncclGetUniqueId(&id) == ncclSuccess, all = 0;
    /* the id's broadcast carries rank 0's verdict too: a zero id means it failed */
    MPI_Bcast(&id, (int)sizeof id, MPI_BYTE, 0, mpi);
    MPI_Allreduce(&made, &all, 1, MPI_INT, MPI_MIN, mpi);
    ncclComm_t *nc = malloc(sizeof *nc);
    int ok = all && nc && cudaSetDevice(be->device) == cudaSuccess &&
             ncclCommInitRank(nc, size, id, rank) == ncclSuccess;
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, mpi);
    if (!ok) {
        free(nc);
        return SL_ERR_MPI;
    }
    MPI_Comm_set_attr(mpi, be->keyval, nc);
    *out = *nc;
    return SL_OK;
}

static int group_size(sl_comm_group g)
{
    int n = 1;
    MPI_Comm_size(g.mpi, &n);
    return n;
}

/* Inserts the operation's task: the token, then d[0..n). On failure op->peers is freed. */
static sl_status submit(nccl_backend *be, nccl_op *op, MPI_Comm mpi,
                        const struct starpu_data_descr *d, int n)
{
    sl_status st = nccl_comm_of(be, mpi, &op->comm);
    struct starpu_data_descr *all = NULL;
    if (st != SL_OK)
        __atomic_add_fetch(&be->failures, 1, __ATOMIC_RELAXED);
    else if (!(all = malloc((size_t)(n + 1) * sizeof *all)))
        st = SL_ERR_NOMEM;
    if (st != SL_OK) {
        free(op->peers);
        return st;
    }
    all[0] = (struct starpu_data_descr){be->token, STARPU_RW};
    memcpy(all + 1, d, (size_t)n * sizeof *d);
    int ret = starpu_task_insert(&issue_cl, STARPU_DATA_MODE_ARRAY, all, n + 1, STARPU_VALUE, op,
                                 sizeof *op, STARPU_NAME, issue_cl.name, 0);
    free(all);
    if (ret != 0)
        free(op->peers); /* the task will not run */
    return ret == 0 ? SL_OK : ret == -ENOMEM ? SL_ERR_NOMEM : SL_ERR_STARPU;
}

static nccl_op new_op(sl_comm *comm, nccl_kind kind, sl_comm_elem e)
{
    return (nccl_op){.kind = kind, .elem = e, .prev = -1, .next = -1, .nbuf = 1,
                     .be = comm->backend};
}

static sl_status nccl_allreduce(sl_comm *comm, sl_comm_group g, const starpu_data_handle_t *bufs,
                                int n, sl_comm_elem e, sl_comm_op how)
{
    if (group_size(g) == 1 || n <= 0)
        return SL_OK;
    nccl_op op = new_op(comm, KIND_ALLREDUCE, e);
    op.op = how;
    op.nbuf = n;
    struct starpu_data_descr *d = malloc((size_t)n * sizeof *d);
    if (!d)
        return SL_ERR_NOMEM;
    size_t bytes = 0;
    for (int i = 0; i < n; i++) {
        bytes += starpu_data_get_size(bufs[i]);
        d[i] = (struct starpu_data_descr){bufs[i], STARPU_RW};
    }
    sl_comm_count(comm, bytes, bytes);
    sl_status st = submit(comm->backend, &op, g.mpi, d, n);
    free(d);
    return st;
}

static sl_status nccl_broadcast(sl_comm *comm, sl_comm_group g, starpu_data_handle_t buf,
                                sl_comm_elem e, int root)
{
    int n = group_size(g), me = 0;
    if (n == 1)
        return SL_OK;
    MPI_Comm_rank(g.mpi, &me);
    nccl_op op = new_op(comm, KIND_BROADCAST, e);
    op.root = root;
    size_t bytes = starpu_data_get_size(buf);
    sl_comm_count(comm, me == root ? bytes * (size_t)(n - 1) : 0, me == root ? 0 : bytes);
    /* the root only sends: its readers need not wait for the broadcast */
    struct starpu_data_descr d[1] = {{buf, me == root ? STARPU_R : STARPU_RW}};
    return submit(comm->backend, &op, g.mpi, d, 1);
}

static sl_status nccl_neighbours(sl_comm *comm, sl_comm_group g, const sl_comm_neighbours *nb,
                                 sl_comm_elem e)
{
    nccl_op op = new_op(comm, KIND_NEIGHBOURS, e);
    op.prev = nb->prev;
    op.next = nb->next;
    struct starpu_data_descr d[4];
    int n = 0;
    if ((op.has_send_prev = nb->send_prev && nb->prev >= 0))
        d[n++] = (struct starpu_data_descr){nb->send_prev, STARPU_R};
    if ((op.has_send_next = nb->send_next && nb->next >= 0))
        d[n++] = (struct starpu_data_descr){nb->send_next, STARPU_R};
    if ((op.has_recv_prev = nb->recv_prev && nb->prev >= 0))
        d[n++] = (struct starpu_data_descr){nb->recv_prev, STARPU_W};
    if ((op.has_recv_next = nb->recv_next && nb->next >= 0))
        d[n++] = (struct starpu_data_descr){nb->recv_next, STARPU_W};
    if (n == 0)
        return SL_OK;
    for (int i = 0; i < n; i++)
        sl_comm_count(comm, d[i].mode == STARPU_R ? starpu_data_get_size(d[i].handle) : 0,
                      d[i].mode == STARPU_W ? starpu_data_get_size(d[i].handle) : 0);
    return submit(comm->backend, &op, g.mpi, d, n);
}

/* All of this rank's messages in one task and one NCCL group, issued in the order both ends
 * of every pair agree on (sl_comm_exchange_order). */
static sl_status nccl_exchange(sl_comm *comm, sl_comm_group g, const sl_comm_message *msgs,
                               int n)
{
    nccl_op op = new_op(comm, KIND_EXCHANGE, SL_COMM_BYTE);
    struct starpu_data_descr *d = malloc((size_t)n * sizeof *d);
    int *order = malloc((size_t)n * sizeof *order);
    op.peers = malloc((size_t)n * sizeof *op.peers);
    sl_status st = d && order && op.peers ? sl_comm_exchange_order(msgs, n, order) : SL_ERR_NOMEM;
    for (int i = 0; i < n && st == SL_OK; i++) {
        const sl_comm_message *m = &msgs[order[i]];
        size_t bytes = starpu_data_get_size(m->h);
        op.peers[i] = m->peer * 2 + (m->send != 0);
        d[i] = (struct starpu_data_descr){m->h, m->send ? STARPU_R : STARPU_W};
        sl_comm_count(comm, m->send ? bytes : 0, m->send ? 0 : bytes);
    }
    op.nbuf = n;
    if (st == SL_OK)
        st = submit(comm->backend, &op, g.mpi, d, n); /* frees op.peers on failure */
    else
        free(op.peers);
    free(d);
    free(order);
    return st;
}

/* Refused: see the file's comment (ordered_transfers). */
static sl_status nccl_send(sl_comm *comm, starpu_data_handle_t h, int dest, int64_t tag,
                           MPI_Comm mpi)
{
    (void)comm, (void)h, (void)dest, (void)tag, (void)mpi;
    return SL_ERR_UNSUPPORTED;
}

static sl_status nccl_recv(sl_comm *comm, starpu_data_handle_t h, int src, int64_t tag,
                           MPI_Comm mpi)
{
    (void)comm, (void)h, (void)src, (void)tag, (void)mpi;
    return SL_ERR_UNSUPPORTED;
}

static sl_status nccl_prepare(sl_comm *comm, sl_comm_group g)
{
    ncclComm_t unused;
    if (group_size(g) == 1)
        return SL_OK; /* no operation over it ever issues a NCCL call */
    return nccl_comm_of(comm->backend, g.mpi, &unused);
}

static unsigned long nccl_failures(const sl_comm *comm)
{
    const nccl_backend *be = comm->backend;
    return __atomic_load_n(&be->failures, __ATOMIC_RELAXED);
}

static void nccl_shutdown(sl_comm *comm)
{
    nccl_backend *be = comm->backend;
    starpu_data_unregister(be->token);
}

static void nccl_destroy(sl_comm *comm)
{
    nccl_backend *be = comm->backend;
    /* the communicators cached on MPI communicators go with them (free_attached); the
     * keyval itself is released here */
    MPI_Comm_free_keyval(&be->keyval);
    free(be);
    free(comm);
}

static const sl_comm_ops nccl_ops = {
    .name = "nccl",
    .ordered_transfers = 1,
    .allreduce = nccl_allreduce,
    .broadcast = nccl_broadcast,
    .neighbour_exchange = nccl_neighbours,
    .send = nccl_send,
    .recv = nccl_recv,
    .exchange = nccl_exchange,
    .prepare = nccl_prepare,
    .failures = nccl_failures,
    .shutdown = nccl_shutdown,
    .destroy = nccl_destroy,
};

/* This rank's GPU: the device of its first CUDA worker; a message when there is none. */
static sl_status find_device(int *device, char *msg, size_t len)
{
    int workers[STARPU_NMAXWORKERS];
    int n = starpu_worker_get_ids_by_type(STARPU_CUDA_WORKER, workers, STARPU_NMAXWORKERS);
    if (n <= 0) {
        snprintf(msg, len, "STARLOPS_COMM=nccl needs a GPU and a CUDA worker on every rank "
                           "(STARPU_NCUDA >= 1); this rank has no CUDA worker");
        return SL_ERR_UNSUPPORTED;
    }
    *device = starpu_worker_get_devid(workers[0]);
    return SL_OK;
}

/* NCCL refuses two ranks on one GPU: say which ranks share one, before NCCL fails obscurely.
 * A GPU is named by its host and PCI bus id. */
static sl_status check_one_gpu_per_rank(MPI_Comm comm, int device, char *msg, size_t len)
{
    char mine[MPI_MAX_PROCESSOR_NAME + 32] = "";
    int host_len = 0, size = 1, rank = 0;
    MPI_Get_processor_name(mine, &host_len);
    char bus[32] = "?";
    cudaDeviceGetPCIBusId(bus, (int)sizeof bus, device);
    snprintf(mine + host_len, sizeof mine - (size_t)host_len, "/%s", bus);
    MPI_Comm_size(comm, &size);
    MPI_Comm_rank(comm, &rank);
    char *all = calloc((size_t)size, sizeof mine);
    if (!all) {
        snprintf(msg, len, "STARLOPS_COMM=nccl: out of memory");
        return SL_ERR_NOMEM;
    }
    MPI_Allgather(mine, (int)sizeof mine, MPI_CHAR, all, (int)sizeof mine, MPI_CHAR, comm);
    sl_status st = SL_OK;
    for (int r = 0; r < size && st == SL_OK; r++)
        if (r != rank && strcmp(all + (size_t)r * sizeof mine, mine) == 0) {
            snprintf(msg, len, "STARLOPS_COMM=nccl: ranks %d and %d share the GPU %s (NCCL "
                     "needs one GPU per rank; use STARLOPS_COMM=mpi with CUDA workers)",
                     rank < r ? rank : r, rank < r ? r : rank, mine);
            st = SL_ERR_UNSUPPORTED;
        }
    free(all);
    return st;
}

/* Collective over comm: every rank gets the same verdict (the worst status). */
static sl_status agree(MPI_Comm comm, sl_status local, char *msg, size_t len)
{
    int mine = (int)local, worst = (int)local;
    MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, comm);
    if (local == SL_OK && worst != SL_OK)
        snprintf(msg, len, "STARLOPS_COMM=nccl: the set-up failed on another rank");
    return (sl_status)worst;
}

static nccl_backend *backend_new(void)
{
    nccl_backend *be = calloc(1, sizeof *be);
    if (be)
        be->keyval = MPI_KEYVAL_INVALID;
    return be;
}

sl_status sl_comm_nccl_create(MPI_Comm comm, sl_comm **out, char *msg, size_t len)
{
    nccl_backend *be = backend_new();
    sl_comm *c = calloc(1, sizeof *c);
    sl_status st = be && c ? find_device(&be->device, msg, len) : SL_ERR_NOMEM;
    if (st == SL_ERR_NOMEM)
        snprintf(msg, len, "STARLOPS_COMM=nccl: out of memory");
    /* collective from here on: every rank takes each step */
    st = agree(comm, st, msg, len);
    if (st == SL_OK)
        st = agree(comm, check_one_gpu_per_rank(comm, be->device, msg, len), msg, len);
    if (st == SL_OK &&
        MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, free_attached, &be->keyval, NULL) !=
            MPI_SUCCESS) {
        snprintf(msg, len, "STARLOPS_COMM=nccl: MPI_Comm_create_keyval failed");
        st = SL_ERR_MPI;
    }
    ncclComm_t world;
    if (st == SL_OK && agree(comm, nccl_comm_of(be, comm, &world), msg, len) != SL_OK) {
        if (!msg[0])
            snprintf(msg, len, "STARLOPS_COMM=nccl: ncclCommInitRank failed");
        st = SL_ERR_MPI;
    }
    if (st != SL_OK) {
        if (be && be->keyval != MPI_KEYVAL_INVALID) {
            MPI_Comm_delete_attr(comm, be->keyval);
            MPI_Comm_free_keyval(&be->keyval);
        }
        free(be);
        free(c);
        return st;
    }
    starpu_variable_data_register(&be->token, STARPU_MAIN_RAM, (uintptr_t)&be->token_storage,
                                  sizeof be->token_storage);
    c->ops = &nccl_ops;
    c->backend = be;
    be->owner = c;
    *out = c;
    return SL_OK;
}
