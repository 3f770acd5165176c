/* Exchanges (comm.h): the point-to-point form of the backends that post messages
 * independently, and the issue order of the backends that pair messages by order. */
#include <stdlib.h>

#include "comm/comm.h"

sl_status sl_comm_exchange_p2p(sl_comm *comm, sl_comm_group group, const sl_comm_message *msgs,
                               int n)
{
    /* Messages are matched by tag, so they may be posted in any order; sends first, so that
     * a peer's receive finds its data coming as soon as it is posted. */
    sl_status st = SL_OK;
    for (int pass = 1; pass >= 0 && st == SL_OK; pass--)
        for (int i = 0; i < n && st == SL_OK; i++) {
            const sl_comm_message *m = &msgs[i];
            if (m->send != pass)
                continue;
            st = m->send ? comm->ops->send(comm, m->h, m->peer, m->tag, group.mpi)
                         : comm->ops->recv(comm, m->h, m->peer, m->tag, group.mpi);
        }
    return st;
}

/* qsort has no context argument: the messages travel with each index. */
typedef struct keyed {
    const sl_comm_message *m;
    int index;
} keyed;

static int compare(const void *pa, const void *pb)
{
    const sl_comm_message *a = ((const keyed *)pa)->m, *b = ((const keyed *)pb)->m;
    if (a->peer != b->peer)
        return a->peer < b->peer ? -1 : 1;
    if (a->send != b->send)
        return a->send < b->send ? -1 : 1;
    return a->tag < b->tag ? -1 : a->tag > b->tag;
}

sl_status sl_comm_exchange_order(const sl_comm_message *msgs, int n, int *order)
{
    keyed *k = malloc((size_t)(n > 0 ? n : 1) * sizeof *k);
    if (!k)
        return SL_ERR_NOMEM;
    for (int i = 0; i < n; i++)
        k[i] = (keyed){&msgs[i], i};
    qsort(k, (size_t)n, sizeof *k, compare);
    int clash = 0;
    for (int i = 0; i < n; i++) {
        order[i] = k[i].index;
        clash |= i > 0 && compare(&k[i - 1], &k[i]) == 0;
    }
    free(k);
    return clash ? SL_ERR_ARG : SL_OK;
}
