/* See rma_engine.h for the protocol. Counters only grow (bytes written / bytes read since the
 * window was made), so a stale read is harmless: it only means "less than there is". */
#include "comm/rma_engine.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum {
    HEADER_MAGIC = 0x4d524c53, /* "SLRM" */
    COUNTER_STRIDE = 64,       /* one cache line per counter */
    STAGGER = 64,
    PAGE = 4096,
    MAX_RING = 1 << 30         /* one MPI_Put per piece: counts stay in int */
};

typedef struct msg_header {
    uint32_t magic, kind, key, spare;
    uint64_t id, bytes;
} msg_header;

/* A posted send or receive. */
typedef struct rma_msg {
    msg_header h;  /* a send's header: must outlive its MPI_Put until the flush */
    char *buf;
    size_t bytes;
    size_t moved;  /* payload bytes written into the ring (send) or copied out (receive) */
    int header_out;
    sl_rma_completion *c;
    struct rma_msg *next;
} rma_msg;

/* A message that arrived before its receive was posted. */
typedef struct early_msg {
    msg_header h;
    char *data; /* NULL: there was no memory for it (its receive fails) */
    size_t have;
    int complete;
    struct early_msg *next;
} early_msg;

/* The message being read from a source's ring: its bytes go to a posted receive, to an early
 * message's buffer, or nowhere (a mismatch, already reported). */
typedef struct inbound {
    int active;
    msg_header h;
    size_t have;
    rma_msg *recv;
    early_msg *early;
} inbound;

typedef struct peer_state {
    /* toward the peer: this rank's ring in the peer's window */
    uint64_t head, consumed;
    rma_msg *out_first, *out_last;
    int out_broken; /* an MPI call failed: the stream's content is unknown, later sends fail */
    /* from the peer: its ring in this rank's window */
    uint64_t tail, tail_published;
    rma_msg *posted;
    early_msg *early_first;
    inbound in;
    int in_broken; /* a header was not a header */
} peer_state;

struct sl_rma_engine {
    pthread_mutex_t lock;
    MPI_Comm comm;
    MPI_Win win;
    char *base;
    int me, n, unified, closed;
    size_t ring, ring_stride, ctrl_bytes;
    peer_state *peers;
    unsigned long failures;
};

static size_t round_up(size_t v, size_t to)
{
    return (v + to - 1) / to * to;
}

static size_t ctrl_bytes_for(int n)
{
    return round_up(2 * (size_t)n * COUNTER_STRIDE, PAGE);
}

size_t sl_rma_window_bytes(int nranks, size_t ring_bytes)
{
    return ctrl_bytes_for(nranks) + (size_t)nranks * (round_up(ring_bytes, PAGE) + PAGE);
}

/* In every rank's window: bytes written by `source` into its ring there; and bytes that `peer`
 * has read from this rank's ring in the peer's window. */
static MPI_Aint produced_at(int source)
{
    return (MPI_Aint)source * COUNTER_STRIDE;
}

static MPI_Aint consumed_at(const sl_rma_engine *e, int peer)
{
    return (MPI_Aint)(e->n + peer) * COUNTER_STRIDE;
}

/* Where the ring written by `source` starts in every rank's window (staggered, see .h). */
static size_t ring_at(const sl_rma_engine *e, int source)
{
    return e->ctrl_bytes + (size_t)source * e->ring_stride + STAGGER * (size_t)(1 + source % 32);
}

static void count_failure(sl_rma_engine *e)
{
    __atomic_add_fetch(&e->failures, 1, __ATOMIC_RELAXED);
}

static void complete(sl_rma_completion *c, int failed)
{
    if (failed)
        __atomic_store_n(&c->failed, 1, __ATOMIC_RELAXED);
    __atomic_sub_fetch(&c->remaining, 1, __ATOMIC_RELEASE);
}

/* A counter of this rank's window, written by other ranks. In the unified memory model the
 * window is the memory itself: an atomic load after MPI_Win_sync sees what flushed remote
 * accumulates wrote. Otherwise, MPI's own atomic read. */
static uint64_t read_counter(sl_rma_engine *e, MPI_Aint at)
{
    uint64_t v = 0;
    if (e->unified) {
        MPI_Win_sync(e->win);
        return __atomic_load_n((uint64_t *)(e->base + at), __ATOMIC_ACQUIRE);
    }
    if (MPI_Fetch_and_op(NULL, &v, MPI_UINT64_T, e->me, at, MPI_NO_OP, e->win) != MPI_SUCCESS ||
        MPI_Win_flush_local(e->me, e->win) != MPI_SUCCESS)
        count_failure(e);
    return v;
}

/* Publishes a counter into `peer`'s window (atomic with respect to its reads) and flushes. */
static int write_counter(sl_rma_engine *e, int peer, MPI_Aint at, uint64_t v)
{
    int rc = MPI_Accumulate(&v, 1, MPI_UINT64_T, peer, at, 1, MPI_UINT64_T, MPI_REPLACE, e->win);
    return rc == MPI_SUCCESS ? MPI_Win_flush(peer, e->win) : rc;
}

/* MPI_Put of n bytes at stream position pos of this rank's ring in peer's window (the ring
 * wraps: at most two pieces). */
static int ring_put(sl_rma_engine *e, int peer, uint64_t pos, const void *src, size_t n)
{
    size_t off = (size_t)(pos % e->ring), first = n < e->ring - off ? n : e->ring - off;
    MPI_Aint at = (MPI_Aint)(ring_at(e, e->me) + off);
    int rc = MPI_Put(src, (int)first, MPI_BYTE, peer, at, (int)first, MPI_BYTE, e->win);
    if (rc == MPI_SUCCESS && n > first)
        rc = MPI_Put((const char *)src + first, (int)(n - first), MPI_BYTE, peer,
                     (MPI_Aint)ring_at(e, e->me), (int)(n - first), MPI_BYTE, e->win);
    return rc;
}

/* Copies n bytes at stream position pos of source's ring here into dst (NULL: skip them). */
static void ring_get(const sl_rma_engine *e, int source, uint64_t pos, void *dst, size_t n)
{
    if (!dst)
        return;
    const char *ring = e->base + ring_at(e, source);
    size_t off = (size_t)(pos % e->ring), first = n < e->ring - off ? n : e->ring - off;
    memcpy(dst, ring + off, first);
    if (n > first)
        memcpy((char *)dst + first, ring, n - first);
}

static void fail_queue(rma_msg **first)
{
    while (*first) {
        rma_msg *m = *first;
        *first = m->next;
        complete(m->c, 1);
        free(m);
    }
}

/* ---- toward a peer ---------------------------------------------------------------------- */

/* Writes one message as far as the room allows; returns 1 when all of it is in the ring. */
static int write_message(sl_rma_engine *e, int p, rma_msg *m, uint64_t *room, int *rc)
{
    peer_state *ps = &e->peers[p];
    if (!m->header_out) {
        if (*room < sizeof m->h)
            return 0;
        *rc = ring_put(e, p, ps->head, &m->h, sizeof m->h);
        ps->head += sizeof m->h;
        *room -= sizeof m->h;
        m->header_out = 1;
    }
    while (*rc == MPI_SUCCESS && m->moved < m->bytes && *room > 0) {
        size_t left = m->bytes - m->moved, piece = left < *room ? left : (size_t)*room;
        *rc = ring_put(e, p, ps->head, m->buf + m->moved, piece);
        m->moved += piece;
        ps->head += piece;
        *room -= piece;
    }
    return m->moved == m->bytes;
}

/* Streams queued sends into the peer's window; the sends that are wholly there and flushed
 * are complete. Returns nonzero while sends remain. */
static int push_out(sl_rma_engine *e, int p)
{
    peer_state *ps = &e->peers[p];
    if (!ps->out_first)
        return 0;
    ps->consumed = read_counter(e, consumed_at(e, p));
    uint64_t room = e->ring - (ps->head - ps->consumed), head0 = ps->head;
    int rc = MPI_SUCCESS;
    rma_msg *m = ps->out_first;
    while (m && rc == MPI_SUCCESS && write_message(e, p, m, &room, &rc))
        m = m->next;
    if (ps->head != head0 && rc == MPI_SUCCESS)
        rc = MPI_Win_flush(p, e->win); /* the bytes are there before the notice says so */
    if (ps->head != head0 && rc == MPI_SUCCESS)
        rc = write_counter(e, p, produced_at(e->me), ps->head);
    if (rc != MPI_SUCCESS) {
        count_failure(e);
        ps->out_broken = 1;
        fail_queue(&ps->out_first);
        ps->out_last = NULL;
        return 0;
    }
    while (ps->out_first != m) {
        rma_msg *done = ps->out_first;
        ps->out_first = done->next;
        complete(done->c, 0);
        free(done);
    }
    if (!ps->out_first)
        ps->out_last = NULL;
    return ps->out_first != NULL;
}

/* ---- from a peer -------------------------------------------------------------------------- */

/* The same message: same group key and id (kind and size are checked after matching). */
static int same_message(const msg_header *a, const msg_header *b)
{
    return a->key == b->key && a->id == b->id;
}

/* A receive and the header of its message disagree (ranks called different operations, or
 * the same one with different sizes): the receive fails, the bytes are skipped. */
static int mismatched(const msg_header *h, const rma_msg *r)
{
    return h->kind != r->h.kind || h->bytes != r->bytes;
}

static void begin_inbound(sl_rma_engine *e, peer_state *ps, const msg_header *h)
{
    memset(&ps->in, 0, sizeof ps->in);
    ps->in.active = 1;
    ps->in.h = *h;
    for (rma_msg **r = &ps->posted; *r; r = &(*r)->next)
        if (same_message(h, &(*r)->h)) {
            rma_msg *recv = *r;
            *r = recv->next;
            if (mismatched(h, recv)) {
                count_failure(e);
                complete(recv->c, 1);
                free(recv);
            } else {
                ps->in.recv = recv;
            }
            return;
        }
    early_msg *u = calloc(1, sizeof *u);
    if (u) {
        u->h = *h;
        u->data = malloc(h->bytes ? h->bytes : 1);
    }
    if (!u || !u->data)
        count_failure(e); /* the bytes are skipped; the receive fails when posted */
    if (!u)
        return;
    early_msg **tail = &ps->early_first;
    while (*tail)
        tail = &(*tail)->next;
    *tail = u;
    ps->in.early = u;
}

static void finish_inbound(peer_state *ps)
{
    if (ps->in.recv) {
        complete(ps->in.recv->c, 0);
        free(ps->in.recv);
    }
    if (ps->in.early) {
        ps->in.early->have = ps->in.have;
        ps->in.early->complete = 1;
    }
    memset(&ps->in, 0, sizeof ps->in);
}

static char *inbound_target(const inbound *in)
{
    if (in->recv)
        return in->recv->buf + in->have;
    if (in->early && in->early->data)
        return in->early->data + in->have;
    return NULL;
}

/* Reads what the source has written, hands it to receives, and tells the source how far it
 * got. Returns nonzero while receives from it are posted or a message is half read. */
static int pull_in(sl_rma_engine *e, int s)
{
    peer_state *ps = &e->peers[s];
    uint64_t produced = read_counter(e, produced_at(s));
    if (!e->unified && produced != ps->tail)
        MPI_Win_sync(e->win); /* the bytes behind the notice are visible to loads */
    while (ps->tail < produced && !ps->in_broken) {
        uint64_t avail = produced - ps->tail;
        if (!ps->in.active) {
            msg_header h;
            if (avail < sizeof h)
                break;
            ring_get(e, s, ps->tail, &h, sizeof h);
            ps->tail += sizeof h;
            if (h.magic != HEADER_MAGIC) {
                count_failure(e);
                ps->in_broken = 1;
                fail_queue(&ps->posted);
                break;
            }
            begin_inbound(e, ps, &h);
        } else {
            size_t left = ps->in.h.bytes - ps->in.have, piece = left < avail ? left : avail;
            ring_get(e, s, ps->tail, inbound_target(&ps->in), piece);
            ps->in.have += piece;
            ps->tail += piece;
        }
        if (ps->in.active && ps->in.have == ps->in.h.bytes)
            finish_inbound(ps);
    }
    if (ps->tail != ps->tail_published) {
        if (write_counter(e, s, consumed_at(e, e->me), ps->tail) != MPI_SUCCESS)
            count_failure(e);
        ps->tail_published = ps->tail;
    }
    return ps->posted != NULL || ps->in.active;
}

/* ---- the interface ------------------------------------------------------------------------ */

sl_status sl_rma_engine_create(MPI_Comm comm, size_t ring_bytes, sl_rma_engine **out)
{
    *out = NULL;
    if (ring_bytes < PAGE || ring_bytes > MAX_RING)
        return SL_ERR_ARG;
    sl_rma_engine *e = calloc(1, sizeof *e);
    int ok = e != NULL;
    if (e) {
        MPI_Comm_rank(comm, &e->me);
        MPI_Comm_size(comm, &e->n);
        e->peers = calloc((size_t)e->n, sizeof *e->peers);
        ok = e->peers != NULL;
    }
    /* every rank learns whether all could allocate, before the collective window call */
    int all_ok = 0;
    if (MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS || !all_ok) {
        if (e)
            free(e->peers);
        free(e);
        return ok ? SL_ERR_MPI : SL_ERR_NOMEM;
    }
    e->comm = comm;
    e->ring = ring_bytes;
    e->ring_stride = round_up(ring_bytes, PAGE) + PAGE;
    e->ctrl_bytes = ctrl_bytes_for(e->n);
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "accumulate_ops", "same_op_no_op"); /* only REPLACE and NO_OP here */
    MPI_Info_set(info, "same_size", "true");
    MPI_Info_set(info, "same_disp_unit", "true");
    int rc = MPI_Win_allocate((MPI_Aint)sl_rma_window_bytes(e->n, ring_bytes), 1, info, comm,
                              &e->base, &e->win);
    MPI_Info_free(&info);
    if (rc != MPI_SUCCESS) {
        free(e->peers);
        free(e);
        return SL_ERR_MPI;
    }
    MPI_Win_set_errhandler(e->win, MPI_ERRORS_RETURN);
    int *model = NULL, flag = 0;
    MPI_Win_get_attr(e->win, MPI_WIN_MODEL, &model, &flag);
    e->unified = flag && model && *model == MPI_WIN_UNIFIED;
    /* counters start at 0 before anyone writes them; the rings are touched now too, or the
     * first passes through them pay page faults inside transfers (a 256 KiB halo took ~2x) */
    memset(e->base, 0, sl_rma_window_bytes(e->n, ring_bytes));
    MPI_Win_lock_all(MPI_MODE_NOCHECK, e->win);
    MPI_Win_sync(e->win);
    MPI_Barrier(comm);
    pthread_mutex_init(&e->lock, NULL);
    *out = e;
    return SL_OK;
}

static void free_peer(peer_state *ps)
{
    fail_queue(&ps->out_first);
    fail_queue(&ps->posted);
    if (ps->in.active && ps->in.recv) {
        complete(ps->in.recv->c, 1);
        free(ps->in.recv);
    }
    while (ps->early_first) {
        early_msg *u = ps->early_first;
        ps->early_first = u->next;
        free(u->data);
        free(u);
    }
}

void sl_rma_engine_destroy(sl_rma_engine *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->lock); /* waits for a progress call still running */
    e->closed = 1;
    MPI_Win_unlock_all(e->win);
    MPI_Win_free(&e->win);
    for (int p = 0; p < e->n; p++)
        free_peer(&e->peers[p]);
    pthread_mutex_unlock(&e->lock);
}

void sl_rma_engine_free(sl_rma_engine *e)
{
    if (!e)
        return;
    pthread_mutex_destroy(&e->lock);
    free(e->peers);
    free(e);
}

static rma_msg *new_msg(sl_rma_match m, void *buf, size_t bytes, sl_rma_completion *c)
{
    rma_msg *msg = calloc(1, sizeof *msg);
    if (!msg)
        return NULL;
    msg->h = (msg_header){HEADER_MAGIC, m.kind, m.key, 0, m.id, bytes};
    msg->buf = buf;
    msg->bytes = bytes;
    msg->c = c;
    return msg;
}

static int bad_peer(const sl_rma_engine *e, int peer)
{
    return peer < 0 || peer >= e->n || peer == e->me;
}

/* A message that cannot be posted still counts down its completion. */
static sl_status refuse(sl_rma_engine *e, sl_rma_completion *c, sl_status st)
{
    count_failure(e);
    complete(c, 1);
    return st;
}

/* What posting a send and a receive share: the message, returned with the engine locked; or
 * NULL, the message refused (counted down as failed) and *st saying why. */
static rma_msg *open_post(sl_rma_engine *e, int peer, int outbound, sl_rma_match m, void *buf,
                          size_t bytes, sl_rma_completion *c, sl_status *st)
{
    rma_msg *msg = bad_peer(e, peer) ? NULL : new_msg(m, buf, bytes, c);
    if (!msg) {
        *st = refuse(e, c, bad_peer(e, peer) ? SL_ERR_ARG : SL_ERR_NOMEM);
        return NULL;
    }
    pthread_mutex_lock(&e->lock);
    const peer_state *ps = &e->peers[peer];
    if ((outbound ? ps->out_broken : ps->in_broken) || e->closed) {
        pthread_mutex_unlock(&e->lock);
        free(msg);
        *st = refuse(e, c, SL_ERR_MPI);
        return NULL;
    }
    return msg;
}

sl_status sl_rma_send(sl_rma_engine *e, int peer, sl_rma_match m, const void *buf, size_t bytes,
                      sl_rma_completion *c)
{
    sl_status st;
    rma_msg *msg = open_post(e, peer, 1, m, (void *)buf, bytes, c, &st);
    if (!msg)
        return st;
    peer_state *ps = &e->peers[peer];
    if (ps->out_last)
        ps->out_last->next = msg;
    else
        ps->out_first = msg;
    ps->out_last = msg;
    push_out(e, peer); /* most messages leave right here */
    pthread_mutex_unlock(&e->lock);
    return SL_OK;
}

/* A receive whose message came early: its bytes so far move to the receive's buffer. */
static void claim_early(sl_rma_engine *e, peer_state *ps, early_msg **link, rma_msg *r)
{
    early_msg *u = *link;
    *link = u->next;
    int failed = !u->data || mismatched(&u->h, r);
    size_t have = ps->in.early == u ? ps->in.have : u->have;
    if (failed)
        count_failure(e);
    else
        memcpy(r->buf, u->data, have);
    if (ps->in.early == u) { /* still arriving: the rest goes straight to the receive */
        ps->in.early = NULL;
        if (!failed)
            ps->in.recv = r;
    }
    if (failed || u->complete) {
        complete(r->c, failed);
        free(r);
    }
    free(u->data);
    free(u);
}

sl_status sl_rma_recv(sl_rma_engine *e, int peer, sl_rma_match m, void *buf, size_t bytes,
                      sl_rma_completion *c)
{
    sl_status st;
    rma_msg *r = open_post(e, peer, 0, m, buf, bytes, c, &st);
    if (!r)
        return st;
    peer_state *ps = &e->peers[peer];
    early_msg **link = &ps->early_first;
    while (*link && !same_message(&(*link)->h, &r->h))
        link = &(*link)->next;
    if (*link) {
        claim_early(e, ps, link, r);
    } else {
        r->next = ps->posted;
        ps->posted = r;
    }
    pull_in(e, peer);
    pthread_mutex_unlock(&e->lock);
    return SL_OK;
}

int sl_rma_progress(sl_rma_engine *e)
{
    if (pthread_mutex_trylock(&e->lock) != 0)
        return 1; /* another thread is moving things */
    int busy = 0;
    for (int p = 0; p < e->n && !e->closed; p++) {
        if (p == e->me)
            continue;
        busy |= push_out(e, p);
        busy |= pull_in(e, p);
    }
    pthread_mutex_unlock(&e->lock);
    return busy;
}

unsigned long sl_rma_failures(const sl_rma_engine *e)
{
    return __atomic_load_n(&e->failures, __ATOMIC_RELAXED);
}
