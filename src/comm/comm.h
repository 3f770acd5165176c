/* Communication layer: collectives, neighbour exchanges and point-to-point transfers
 * submitted as StarPU tasks.
 *
 * Every operation is two tasks. The *post* task posts non-blocking MPI calls and returns at
 * once; collectives and exchanges also take the backend's token handle in RW mode there, so
 * they are *posted* in submission order on every rank (MPI requires the same order of
 * collectives everywhere). The *completion* task holds the operation's buffers and defers its
 * own end until the request poller sees the requests complete (DESIGN.md 4.5); the tasks that
 * use the result depend on it, not on the token. So the token is held only while posting, any
 * number of operations are in flight at once, and no worker ever blocks in MPI. Backends: mpi
 * (two-sided and non-blocking collectives, comm_mpi.c), rma (one-sided, comm_rma.c) and nccl
 * (NCCL collectives queued by CUDA tasks, comm_nccl.c; built with CUDA and NCCL).
 *
 * Ordered transfers. Under nccl every operation, point-to-point ones included, is one CUDA task
 * whose NCCL calls wait on the stream until the peers have issued theirs, and the token makes
 * each rank issue its operations in submission order. That is deadlock-free when the ranks'
 * submissions are all drawn, in order, from one global sequence (the first unfinished operation
 * of that sequence then has every member at it), which SPMD code gives for collectives and for
 * `exchange`. A lone send or receive does not fit: two ranks sending to each other from separate
 * tasks each wait behind their own send for the other's receive. Such backends set
 * `ordered_transfers` and refuse send/recv; callers use broadcasts and exchanges instead
 * (sl_comm_ordered; SUMMA and the FFT redistribution do). */
#ifndef STARLOPS_COMM_H
#define STARLOPS_COMM_H

#include <mpi.h>
#include <stdint.h>
#include <starpu.h>
#include <starlops/dtype.h>
#include <starlops/status.h>

typedef enum sl_comm_elem { SL_COMM_DOUBLE, SL_COMM_FLOAT, SL_COMM_BYTE } sl_comm_elem;
typedef enum sl_comm_op { SL_COMM_SUM, SL_COMM_MAX, SL_COMM_MIN } sl_comm_op;

/* The real element type carrying a dtype's values (complex values travel as pairs of reals,
 * which is all a sum needs). */
static inline sl_comm_elem sl_comm_elem_of(sl_dtype dtype)
{
    return dtype == SL_F32 || dtype == SL_C64 ? SL_COMM_FLOAT : SL_COMM_DOUBLE;
}

typedef struct sl_comm sl_comm;

/* A group of ranks a collective runs over. For the MPI backend: a communicator. */
typedef struct sl_comm_group {
    MPI_Comm mpi;
} sl_comm_group;

/* Neighbour exchange along a line of ranks. Handles may be NULL where there is no neighbour.
 * send_prev goes to rank-1 and arrives there in recv_next; send_next goes to rank+1 and arrives
 * there in recv_prev. Each handle is a vector; the element type is given by elem. */
typedef struct sl_comm_neighbours {
    int prev, next; /* ranks in the group, or -1 */
    starpu_data_handle_t send_prev, send_next, recv_prev, recv_next;
} sl_comm_neighbours;

/* One message of an exchange: the whole handle `h` (a vector or a matrix tile) to (send) or
 * from (receive) `peer`, a rank of the group. Tags as for send/recv: unique among the messages
 * in flight between the two ranks in one direction; within an exchange, the messages between
 * two ranks pair up by tag (ordered backends issue them in tag order: sl_comm_exchange_order). */
typedef struct sl_comm_message {
    starpu_data_handle_t h;
    int peer, send;
    int64_t tag;
} sl_comm_message;

typedef struct sl_comm_ops {
    const char *name;
    /* 1: send/recv are refused and every transfer must be a collective or an exchange posted in
     * the same order on all ranks concerned (see "Ordered transfers" above; nccl). */
    int ordered_transfers;
    /* In-place allreduce of n vectors at once (one message: the vectors are packed together;
     * what reductions needed at the same point use to travel together). */
    sl_status (*allreduce)(sl_comm *comm, sl_comm_group group, const starpu_data_handle_t *bufs,
                           int n, sl_comm_elem elem, sl_comm_op op);
    /* Broadcast of `buf` (a vector, or a matrix tile) from `root` (rank in the group): the
     * root only reads it (so its own readers run alongside), the others receive into it. */
    sl_status (*broadcast)(sl_comm *comm, sl_comm_group group, starpu_data_handle_t buf,
                           sl_comm_elem elem, int root);
    sl_status (*neighbour_exchange)(sl_comm *comm, sl_comm_group group,
                                    const sl_comm_neighbours *nb, sl_comm_elem elem);
    /* Point-to-point transfer of a whole handle (a vector, or a matrix tile) to / from a rank
     * of `comm`; tags must be unique among messages in flight between the two ranks. The
     * send reads the handle until the message has left; the receive writes it. Ordered
     * backends refuse both (SL_ERR_UNSUPPORTED, nothing submitted): use exchange. */
    sl_status (*send)(sl_comm *comm, starpu_data_handle_t h, int dest, int64_t tag,
                      MPI_Comm mpi);
    sl_status (*recv)(sl_comm *comm, starpu_data_handle_t h, int src, int64_t tag,
                      MPI_Comm mpi);
    /* The messages msgs[0..n) of this rank with several peers as one operation. Under ordered
     * backends it is one task (nccl: one NCCL group, hence deadlock-free whatever the pattern)
     * ordered like a collective, so every rank concerned must submit its exchanges in the same
     * order; the others post each message as a send or receive (sl_comm_exchange_p2p). */
    sl_status (*exchange)(sl_comm *comm, sl_comm_group group, const sl_comm_message *msgs,
                          int n);
    /* Optional (NULL: nothing to do): sets up what the backend needs to run operations over
     * `group` (nccl: its NCCL communicator), from the host thread of every member at the same
     * point, ahead of the first operation (operators call it at construction). */
    sl_status (*prepare)(sl_comm *comm, sl_comm_group group);
    /* Communication operations that failed so far (posting or completing). */
    unsigned long (*failures)(const sl_comm *comm);
    /* Before StarPU shuts down: release StarPU resources (token, progression hook). */
    void (*shutdown)(sl_comm *comm);
    /* After StarPU has shut down (no worker can still be running the hook): free memory. */
    void (*destroy)(sl_comm *comm);
} sl_comm_ops;

struct sl_comm {
    const sl_comm_ops *ops;
    void *backend; /* backend state */
    /* Bytes this rank asked to send / receive so far, counted when operations are submitted
     * (the benchmarks compare them with models). Collectives count their nominal payload:
     * an allreduce of b bytes counts b sent and b received, whatever MPI's algorithm. */
    uint64_t bytes_sent, bytes_received;
    /* Failures raised by sl_comm_inject_failure (tests), counted with the backend's own. */
    unsigned long injected_failures;
};

static inline void sl_comm_count(sl_comm *c, uint64_t sent, uint64_t received)
{
    __atomic_add_fetch(&c->bytes_sent, sent, __ATOMIC_RELAXED); /* any submitting thread */
    __atomic_add_fetch(&c->bytes_received, received, __ATOMIC_RELAXED);
}

/* The MPI backend: non-blocking MPI collectives posted from tasks. progress_us: interval of
 * the progress thread (request_poller.h), 0 for none. */
sl_status sl_comm_mpi_create(unsigned progress_us, sl_comm **out);
/* The MPI one-sided backend (comm_rma.c), over a window on `comm` (collective; each source's
 * ring of ring_bytes). */
sl_status sl_comm_rma_create(MPI_Comm comm, size_t ring_bytes, unsigned progress_us,
                             sl_comm **out);

/* The NCCL backend (comm_nccl.c, STARLOPS_HAVE_NCCL builds): collective over comm; needs a CUDA
 * worker and its own GPU on every rank, else every rank gets the error and msg says why. */
sl_status sl_comm_nccl_create(MPI_Comm comm, sl_comm **out, char *msg, size_t len);

static inline sl_status sl_comm_allreduce(sl_comm *c, sl_comm_group g, starpu_data_handle_t buf,
                                          sl_comm_elem e, sl_comm_op op)
{
    return c->ops->allreduce(c, g, &buf, 1, e, op);
}
static inline sl_status sl_comm_allreduce_many(sl_comm *c, sl_comm_group g,
                                               const starpu_data_handle_t *bufs, int n,
                                               sl_comm_elem e, sl_comm_op op)
{
    return c->ops->allreduce(c, g, bufs, n, e, op);
}
static inline sl_status sl_comm_send(sl_comm *c, starpu_data_handle_t h, int dest, int64_t tag,
                                     MPI_Comm mpi)
{
    return c->ops->send(c, h, dest, tag, mpi);
}
static inline sl_status sl_comm_recv(sl_comm *c, starpu_data_handle_t h, int src, int64_t tag,
                                     MPI_Comm mpi)
{
    return c->ops->recv(c, h, src, tag, mpi);
}
static inline sl_status sl_comm_broadcast(sl_comm *c, sl_comm_group g, starpu_data_handle_t buf,
                                          sl_comm_elem e, int root)
{
    return c->ops->broadcast(c, g, buf, e, root);
}
static inline sl_status sl_comm_neighbour_exchange(sl_comm *c, sl_comm_group g,
                                                   const sl_comm_neighbours *nb, sl_comm_elem e)
{
    return c->ops->neighbour_exchange(c, g, nb, e);
}
static inline sl_status sl_comm_exchange(sl_comm *c, sl_comm_group g,
                                         const sl_comm_message *msgs, int n)
{
    return n > 0 ? c->ops->exchange(c, g, msgs, n) : SL_OK;
}
static inline sl_status sl_comm_prepare(sl_comm *c, sl_comm_group g)
{
    return c->ops->prepare ? c->ops->prepare(c, g) : SL_OK;
}
/* Whether the backend needs ordered transfers (no send/recv; see above). */
static inline int sl_comm_ordered(const sl_comm *c)
{
    return c->ops->ordered_transfers;
}

/* The exchange of the backends that post point-to-point messages independently (mpi, rma): one
 * send or receive per message (comm_exchange.c). */
sl_status sl_comm_exchange_p2p(sl_comm *comm, sl_comm_group group, const sl_comm_message *msgs,
                               int n);
/* The order in which an ordered backend issues an exchange's messages: order[0..n) receives a
 * permutation of 0..n-1 sorting the messages by peer, then direction, then tag, so the k-th
 * message A sends B is the k-th one B receives from A whatever order the callers listed them
 * in (NCCL pairs a group's sends and receives between two ranks by issue order). SL_ERR_ARG
 * when two messages share peer, direction and tag (they could pair the wrong way). */
sl_status sl_comm_exchange_order(const sl_comm_message *msgs, int n, int *order);

static inline unsigned long sl_comm_failures(const sl_comm *c)
{
    return c->ops->failures(c) + __atomic_load_n(&c->injected_failures, __ATOMIC_RELAXED);
}
/* Test hook: counts one failure on this rank, as a failed operation would. */
static inline void sl_comm_inject_failure(sl_comm *c)
{
    __atomic_add_fetch(&c->injected_failures, 1, __ATOMIC_RELAXED);
}

/* After a communication failure on a rank, the values it holds are suspect, and the other
 * ranks do not know. So from then on its contributions to every allreduce are NaN: each
 * reduction's result is NaN on every rank, which every solver's non-finite guard turns into
 * the same stop at the same iteration on all ranks (no rank leaves a collective the others
 * still wait in), and the end of the solve reports the failure everywhere (solver_common.c).
 * A failed allreduce leaves NaN in its result on the rank where it failed. The backends call
 * this on each contribution when they post it, and on a failed result. */
static inline void sl_comm_poison(void *p, size_t bytes, sl_comm_elem e)
{
    if (e == SL_COMM_FLOAT)
        for (size_t i = 0; i < bytes / sizeof(float); i++)
            ((float *)p)[i] = __builtin_nanf("");
    else if (e == SL_COMM_DOUBLE)
        for (size_t i = 0; i < bytes / sizeof(double); i++)
            ((double *)p)[i] = __builtin_nan("");
}
static inline int sl_comm_poisoned(const sl_comm *c)
{
    return sl_comm_failures(c) != 0;
}
static inline void sl_comm_shutdown(sl_comm *c)
{
    if (c) c->ops->shutdown(c);
}
static inline void sl_comm_destroy(sl_comm *c)
{
    if (c) c->ops->destroy(c);
}

#endif
