/* The task graph of the SUMMA MatrixMult (R. van de Geijn and J. Watts, "SUMMA: Scalable
 * Universal Matrix Multiplication Algorithm", 1997), submitted panel by panel: every transfer
 * is a communication-layer operation (a post task and a completion task, comm.h) ordered by
 * data dependencies, so a receive into a ring slot only waits for the products that read the
 * panel received there `depth` remote panels earlier, and transfers overlap products. (They
 * were StarPU-MPI detached requests, progressed by StarPU-MPI's polling thread: on a node
 * whose cores the workers use it waited for time slices, ~16 ms between panels.)
 * Messages are told apart by tags booked per application (the same on every rank).
 *
 * Ordered transfers (s->ordered: under nccl, or STARLOPS_ORDERED_TRANSFERS=1; comm.h): NCCL
 * cannot run lone sends and receives from separate tasks without risking a deadlock, so there
 * a tile travels along its process row or column as a broadcast over the line's communicator,
 * or, when only part of the line needs it, as one exchange (share_tile_ordered), and the
 * adjoint's partial sums travel in one exchange per process row (combine_ordered). Such an
 * operation is issued in submission order on each rank (the backend's token) and completes only
 * when every member has issued it, so the graph must submit them in an order that is the same
 * global sequence restricted to each rank; see sl_summa_forward and combine_ordered. */
#include <stdlib.h>

#include "codelets.h"
#include "ops/summa_state.h"

static size_t min_sz(size_t a, size_t b)
{
    return a < b ? a : b;
}

static size_t elems(starpu_data_handle_t h)
{
    return (size_t)starpu_matrix_get_nx(h) * starpu_matrix_get_ny(h);
}

static sl_status insert_fail(const sl_summa_state *s, const char *what)
{
    return sl_fail(s->ctx, SL_ERR_STARPU, "SUMMA MatrixMult: submitting %s failed", what);
}

static sl_status gemm(const sl_summa_state *s, starpu_data_handle_t c, starpu_data_handle_t a,
                      starpu_data_handle_t b, int adjoint_a, int beta_one)
{
    sl_summa_gemm_args args = {s->dtype, adjoint_a, beta_one};
    if (sl_task_summa_gemm(args, c, a, b) != 0)
        return insert_fail(s, "a gemm task");
    return SL_OK;
}

static sl_status send(const sl_summa_state *s, starpu_data_handle_t h, int dest, int64_t tag)
{
    sl_status st = sl_comm_send(s->ctx->comm, h, dest, tag, s->ctx->task_comm);
    return st == SL_OK ? SL_OK : insert_fail(s, "a tile send");
}

static sl_status recv(const sl_summa_state *s, starpu_data_handle_t h, int src, int64_t tag)
{
    sl_status st = sl_comm_recv(s->ctx->comm, h, src, tag, s->ctx->task_comm);
    return st == SL_OK ? SL_OK : insert_fail(s, "a tile receive");
}

/* One copy task: dst (covering [dst0, dst0 + n) of the packed block) from the consecutive
 * pieces src[0..count) starting at src0. */
static sl_status copy(const sl_summa_state *s, starpu_data_handle_t dst,
                      const starpu_data_handle_t *src, int count, size_t dst0, size_t src0)
{
    int ret = sl_task_summa_copy(dst0, src0, dst, src, count);
    if (ret == -ENOMEM)
        return sl_fail(s->ctx, SL_ERR_NOMEM, "SUMMA MatrixMult: out of memory");
    if (ret != 0)
        return insert_fail(s, "a copy task");
    return SL_OK;
}

/* The operator's tiles of `t` from the distributed array v (its tiles cut the same packed
 * block elsewhere): one task per operator tile, reading the array tiles it overlaps. */
static sl_status pack(const sl_summa_state *s, const sl_tile_set *t, const sl_darray *v)
{
    starpu_data_handle_t *src = malloc((v->ntiles + 1) * sizeof *src);
    if (!src)
        return sl_fail(s->ctx, SL_ERR_NOMEM, "SUMMA MatrixMult: out of memory");
    sl_status st = SL_OK;
    size_t first = 0;
    for (size_t o = 0; o < t->nowned && st == SL_OK; o++) {
        size_t idx = t->owned[o], lo = t->offset[idx];
        size_t hi = lo + elems(t->h[idx]);
        while (v->tiles[first].row0 + v->tiles[first].nrows <= lo)
            first++;
        int n = 0;
        for (size_t k = first; k < v->ntiles && v->tiles[k].row0 < hi; k++)
            src[n++] = v->tiles[k].handle;
        st = copy(s, t->h[idx], src, n, lo, v->tiles[first].row0);
    }
    free(src);
    return st;
}

/* The distributed array v from the operator's tiles of `t`: one task per array tile. */
static sl_status unpack(const sl_summa_state *s, const sl_tile_set *t, sl_darray *v)
{
    starpu_data_handle_t *src = malloc((t->nowned + 1) * sizeof *src);
    if (!src)
        return sl_fail(s->ctx, SL_ERR_NOMEM, "SUMMA MatrixMult: out of memory");
    sl_status st = SL_OK;
    size_t first = 0;
    for (size_t k = 0; k < v->ntiles && st == SL_OK; k++) {
        size_t lo = v->tiles[k].row0, hi = lo + v->tiles[k].nrows;
        while (t->offset[t->owned[first]] + elems(t->h[t->owned[first]]) <= lo)
            first++;
        int n = 0;
        for (size_t o = first; o < t->nowned && t->offset[t->owned[o]] < hi; o++)
            src[n++] = t->h[t->owned[o]];
        st = copy(s, v->tiles[k].handle, src, n, lo, t->offset[t->owned[first]]);
    }
    free(src);
    return st;
}

/* The rank at position p of this rank's process row (along_row) or column. */
static int line_rank(const sl_summa_state *s, int along_row, size_t p)
{
    return along_row ? sl_summa_rank(&s->plan, (size_t)s->pr, p)
                     : sl_summa_rank(&s->plan, p, (size_t)s->pc);
}

/* share_tile with ordered transfers. When the whole line needs the tile (peers == its length),
 * a broadcast over the line's communicator from the owner's position: NCCL pipelines it, where
 * the owner's separate sends would share its links. Otherwise (fewer tiles than processes on
 * that side) the owner's sends to the ranks that need it form one exchange, and each of those
 * ranks receives in its own; the other ranks of the line take no part. Every member of the
 * broadcast or exchange submits it at the same point of the caller's loops (whose order
 * depends only on the line, see sl_summa_forward). */
static sl_status share_tile_ordered(const sl_summa_state *s, int along_row, size_t peers,
                                    int owner, starpu_data_handle_t own,
                                    starpu_data_handle_t into, int64_t tag)
{
    const sl_summa_plan *pl = &s->plan;
    size_t me = along_row ? (size_t)s->pc : (size_t)s->pr;
    size_t line = (size_t)(along_row ? pl->q : pl->p);
    size_t root = along_row ? (size_t)(owner - pl->base) % line
                            : (size_t)(owner - pl->base) / (size_t)pl->q;
    int mine = owner == s->ctx->rank;
    sl_comm *c = s->ctx->comm;
    sl_status st;
    if (peers == line) {
        st = sl_comm_broadcast(c, (sl_comm_group){along_row ? s->row : s->col}, mine ? own : into,
                               SL_COMM_BYTE, (int)root);
        return st == SL_OK ? SL_OK : insert_fail(s, "a tile broadcast");
    }
    if (!mine && me >= peers)
        return SL_OK;
    sl_comm_message *m = malloc((peers + 1) * sizeof *m);
    if (!m)
        return sl_fail(s->ctx, SL_ERR_NOMEM, "SUMMA MatrixMult: out of memory");
    int n = 0;
    if (!mine)
        m[n++] = (sl_comm_message){into, owner, 0, tag + (int64_t)me};
    for (size_t p = 0; mine && p < peers; p++)
        if (p != me)
            m[n++] = (sl_comm_message){own, line_rank(s, along_row, p), 1, tag + (int64_t)p};
    st = sl_comm_exchange(c, (sl_comm_group){s->ctx->task_comm}, m, n);
    free(m);
    return st == SL_OK ? SL_OK : insert_fail(s, "a tile exchange");
}

/* One tile shared along this rank's process row (along_row) or column: its owner sends `own`
 * to the first `peers` ranks of that line other than itself (message tag + peer index);
 * another rank among them receives it into `into`. */
static sl_status share_tile(const sl_summa_state *s, int along_row, size_t peers, int owner,
                            starpu_data_handle_t own, starpu_data_handle_t into, int64_t tag)
{
    if (s->ordered)
        return share_tile_ordered(s, along_row, peers, owner, own, into, tag);
    size_t pr = (size_t)s->pr, pc = (size_t)s->pc;
    size_t me = along_row ? pc : pr;
    if (owner != s->ctx->rank)
        return me < peers ? recv(s, into, owner, tag + (int64_t)me) : SL_OK;
    sl_status st = SL_OK;
    for (size_t p = 0; p < peers && st == SL_OK; p++)
        if (p != me)
            st = send(s, own, line_rank(s, along_row, p), tag + (int64_t)p);
    return st;
}

/* Panel l of the forward product: A(i, l) along this process row, X(l, j) along this process
 * column, then Y(i, j) (+)= A(i, l) X(l, j) for this rank's tiles of Y. */
static sl_status forward_panel(const sl_summa_state *s, size_t step, size_t remote, size_t l,
                               int64_t tag_a, int64_t tag_x)
{
    const sl_summa_plan *pl = &s->plan;
    size_t mt = pl->y.rt, nt = pl->y.ct, kt = pl->a.ct;
    size_t P = (size_t)pl->p, Q = (size_t)pl->q, pr = (size_t)s->pr, pc = (size_t)s->pc;
    size_t slot = sl_summa_slot(s, remote, l == kt - 1);
    sl_status st = SL_OK;
    /* A(i, l) to the process columns holding Y tiles, X(l, j) to the rows holding Y tiles */
    for (size_t i = pr; i < mt && st == SL_OK; i += P)
        st = share_tile(s, 1, min_sz(Q, nt), sl_summa_owner(pl, i, l), s->a.h[i * kt + l],
                        s->ring_a[slot * mt + i], tag_a + (int64_t)((i * kt + l) * Q));
    for (size_t j = pc; j < nt && st == SL_OK; j += Q)
        st = share_tile(s, 0, min_sz(P, mt), sl_summa_owner(pl, l, j), s->x.h[l * nt + j],
                        s->ring_x[slot * nt + j], tag_x + (int64_t)((l * nt + j) * P));
    for (size_t i = pr; i < mt && st == SL_OK; i += P) {
        starpu_data_handle_t a = s->a.h[i * kt + l] ? s->a.h[i * kt + l]
                                                     : s->ring_a[slot * mt + i];
        for (size_t j = pc; j < nt && st == SL_OK; j += Q) {
            starpu_data_handle_t x = s->x.h[l * nt + j] ? s->x.h[l * nt + j]
                                                         : s->ring_x[slot * nt + j];
            st = gemm(s, s->y.h[i * nt + j], a, x, 0, step > 0);
        }
    }
    return st;
}

/* How much of panel l is already here: 2 if its A tiles are (the larger ones), + 1 if its X
 * tiles are. */
static int panel_locality(const sl_summa_state *s, size_t l)
{
    return 2 * (l % (size_t)s->plan.q == (size_t)s->pc) + (l % (size_t)s->plan.p == (size_t)s->pr);
}

sl_status sl_summa_forward(const sl_summa_state *s, const sl_darray *x, sl_darray *y)
{
    const sl_summa_plan *pl = &s->plan;
    size_t mt = pl->y.rt, nt = pl->y.ct, kt = pl->a.ct;
    sl_status st = pack(s, &s->x, x);
    int64_t tag_a = sl_tags_book(s->ctx, (int64_t)(mt * kt * (size_t)pl->q));
    int64_t tag_x = sl_tags_book(s->ctx, (int64_t)(kt * nt * (size_t)pl->p));
    /* Ordered transfers: the panels in index order on every rank, and within a panel A's tiles
     * (row broadcasts, by tile row) before X's (column broadcasts, by tile column). Each rank's
     * operations are then the global sequence "for l: A(0..mt, l), X(l, 0..nt)" restricted to
     * the ones it takes part in (the members of a row's broadcasts loop over the same tile rows,
     * a column's over the same tile columns), so the first unfinished operation always has all
     * its members at it. The locality-first order below would not do: it differs per rank, and
     * two ranks of a row would each wait in a different panel's broadcast for the other. The
     * lookahead is the same: `depth` panels travel while earlier ones multiply. */
    if (s->ordered) {
        for (size_t l = 0; l < kt && st == SL_OK; l++)
            st = forward_panel(s, l, l, l, tag_a, tag_x);
        return st == SL_OK ? unpack(s, &s->y, y) : st;
    }
    /* Each rank sums the panels it holds first, then the others in order: its first products
     * run at once while the remote panels travel (measured: on a 2x1 grid, alternating local
     * and remote panels left the worker idle waiting for each transfer). The r-th remote panel
     * goes to receive slot r % depth, so `depth` of them are in flight. The order of the sum
     * depends on the rank, never on timing. */
    size_t step = 0, remote = 0;
    for (int want = 3; want >= 0 && st == SL_OK; want--)
        for (size_t l = 0; l < kt && st == SL_OK; l++) {
            if (panel_locality(s, l) != want)
                continue;
            st = forward_panel(s, step++, want == 3 ? 0 : remote, l, tag_a, tag_x);
            remote += want != 3;
        }
    return st == SL_OK ? unpack(s, &s->y, y) : st;
}

/* Row panel i of the adjoint: Y(i, j) along this process row, then acc(l, j) (+)= A(i, l)^H
 * Y(i, j) for this rank's tiles A(i, l). (Ordered transfers: a row's members loop over the
 * same i and j, in the same order, so their broadcasts line up; see sl_summa_forward.) */
static sl_status adjoint_panel(const sl_summa_state *s, size_t i, int64_t tag_y)
{
    const sl_summa_plan *pl = &s->plan;
    size_t mt = pl->y.rt, nt = pl->y.ct, kt = pl->a.ct;
    size_t P = (size_t)pl->p, Q = (size_t)pl->q, pr = (size_t)s->pr, pc = (size_t)s->pc;
    size_t slot = sl_summa_slot(s, i / P, i == mt - 1);
    sl_status st = SL_OK;
    /* Y(i, j) to the process columns holding tiles of A */
    for (size_t j = 0; j < nt && st == SL_OK; j++)
        st = share_tile(s, 1, min_sz(Q, kt), sl_summa_owner(pl, i, j), s->y.h[i * nt + j],
                        s->ring_y[slot * nt + j], tag_y + (int64_t)((i * nt + j) * Q));
    for (size_t l = pc; l < kt && st == SL_OK; l += Q)
        for (size_t j = 0; j < nt && st == SL_OK; j++) {
            starpu_data_handle_t y = s->y.h[i * nt + j] ? s->y.h[i * nt + j]
                                                         : s->ring_y[slot * nt + j];
            st = gemm(s, s->acc[l * nt + j], s->a.h[i * kt + l], y, 1, i != pr);
        }
    return st;
}

/* X's tiles start from this rank's own partial sum (or zero); the others add to them. */
static sl_status start_sums(const sl_summa_state *s)
{
    size_t nt = s->plan.y.ct, Q = (size_t)s->plan.q, pc = (size_t)s->pc;
    sl_status st = SL_OK;
    for (size_t o = 0; o < s->x.nowned && st == SL_OK; o++) {
        size_t idx = s->x.owned[o], l = idx / nt;
        if (l % Q == pc && (size_t)s->pr < s->plan.y.rt)
            st = copy(s, s->x.h[idx], &s->acc[idx], 1, 0, 0);
        else if (sl_task_tile_zero(s->x.h[idx]) != 0)
            st = insert_fail(s, "a zero task");
    }
    return st;
}

/* The rank holding the partial sum of X's tile idx computed in process row r. */
static int partial_source(const sl_summa_state *s, size_t idx, size_t r)
{
    return sl_summa_rank(&s->plan, r, (idx / s->plan.y.ct) % (size_t)s->plan.q);
}

/* X(l, j) = sum over process rows r of acc(l, j) on rank (r, l % Q): the owner starts from its
 * own partial sum (or zero) and adds the others as they arrive, in row order. */
static sl_status combine_partials(const sl_summa_state *s, int64_t tag_c)
{
    const sl_summa_plan *pl = &s->plan;
    size_t mt = pl->y.rt, nt = pl->y.ct, kt = pl->a.ct;
    size_t P = (size_t)pl->p, Q = (size_t)pl->q, pr = (size_t)s->pr, pc = (size_t)s->pc;
    int rank = s->ctx->rank;
    sl_status st = SL_OK;
    for (size_t l = pc; l < kt && pr < mt && st == SL_OK; l += Q)
        for (size_t j = 0; j < nt && st == SL_OK; j++) {
            int owner = sl_summa_owner(pl, l, j);
            if (owner != rank)
                st = send(s, s->acc[l * nt + j], owner, tag_c + (int64_t)((l * nt + j) * P + pr));
        }
    if (st == SL_OK)
        st = start_sums(s);
    for (size_t o = 0; o < s->x.nowned && st == SL_OK; o++) {
        size_t idx = s->x.owned[o];
        for (size_t r = 0; r < min_sz(P, mt) && st == SL_OK; r++) {
            int src = partial_source(s, idx, r);
            if (src == rank)
                continue;
            st = recv(s, s->xin[idx], src, tag_c + (int64_t)(idx * P + r));
            if (st == SL_OK && sl_task_tile_add(s->dtype, s->x.h[idx], s->xin[idx]) != 0)
                st = insert_fail(s, "an add task");
        }
    }
    return st;
}

/* Round r of combine_ordered: this rank's messages into m (the partial sums it holds, if it is
 * in process row r; those of row r for the X tiles it owns); returns their count. */
static int round_messages(const sl_summa_state *s, size_t r, int64_t tag_c, sl_comm_message *m)
{
    const sl_summa_plan *pl = &s->plan;
    size_t nt = pl->y.ct, kt = pl->a.ct, P = (size_t)pl->p, Q = (size_t)pl->q;
    size_t pc = (size_t)s->pc;
    int rank = s->ctx->rank, n = 0;
    for (size_t l = pc; (size_t)s->pr == r && l < kt; l += Q)
        for (size_t j = 0; j < nt; j++) {
            int owner = sl_summa_owner(pl, l, j);
            if (owner != rank)
                m[n++] = (sl_comm_message){s->acc[l * nt + j], owner, 1,
                                           tag_c + (int64_t)((l * nt + j) * P + r)};
        }
    for (size_t o = 0; o < s->x.nowned; o++) {
        size_t idx = s->x.owned[o];
        int src = partial_source(s, idx, r);
        if (src != rank)
            m[n++] = (sl_comm_message){s->xin[idx], src, 0, tag_c + (int64_t)(idx * P + r)};
    }
    return n;
}

/* combine_partials with ordered transfers: round r = 0, 1, ... moves the partial sums of
 * process row r to the owners of X as one exchange per rank taking part, then each owner adds
 * what it received (the next round's receive into xin waits for that add). Every rank runs the
 * rounds in the same order, so its exchanges are the sequence "round 0, round 1, ..." restricted
 * to the rounds it has messages in. The sums are added in row order, as combine_partials does:
 * both forms give the same bits. */
static sl_status combine_ordered(const sl_summa_state *s, int64_t tag_c)
{
    const sl_summa_plan *pl = &s->plan;
    size_t nt = pl->y.ct, kt = pl->a.ct, rows = min_sz((size_t)pl->p, pl->y.rt);
    sl_comm_message *m = malloc((kt * nt + s->x.nowned + 1) * sizeof *m);
    if (!m)
        return sl_fail(s->ctx, SL_ERR_NOMEM, "SUMMA MatrixMult: out of memory");
    sl_status st = start_sums(s);
    for (size_t r = 0; r < rows && st == SL_OK; r++) {
        int n = round_messages(s, r, tag_c, m);
        if (sl_comm_exchange(s->ctx->comm, (sl_comm_group){s->ctx->task_comm}, m, n) != SL_OK)
            st = insert_fail(s, "a partial-sum exchange");
        for (size_t o = 0; o < s->x.nowned && st == SL_OK; o++) {
            size_t idx = s->x.owned[o];
            if (partial_source(s, idx, r) != s->ctx->rank &&
                sl_task_tile_add(s->dtype, s->x.h[idx], s->xin[idx]) != 0)
                st = insert_fail(s, "an add task");
        }
    }
    free(m);
    return st;
}

sl_status sl_summa_adjoint(const sl_summa_state *s, const sl_darray *y, sl_darray *x)
{
    const sl_summa_plan *pl = &s->plan;
    size_t mt = pl->y.rt, nt = pl->y.ct, kt = pl->a.ct;
    sl_status st = pack(s, &s->y, y);
    int64_t tag_y = sl_tags_book(s->ctx, (int64_t)(mt * nt * (size_t)pl->q));
    int64_t tag_c = sl_tags_book(s->ctx, (int64_t)(kt * nt * (size_t)pl->p));
    for (size_t i = (size_t)s->pr; i < mt && st == SL_OK; i += (size_t)pl->p)
        st = adjoint_panel(s, i, tag_y);
    if (st == SL_OK)
        st = s->ordered ? combine_ordered(s, tag_c) : combine_partials(s, tag_c);
    return st == SL_OK ? unpack(s, &s->x, x) : st;
}
