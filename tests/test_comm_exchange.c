/* The communication layer's exchange (comm.h): several messages per pair of ranks, listed in a
 * different order by each rank, vectors and strided matrix tiles, through the backend the
 * environment selects (the mpi and rma forms: one send or receive per message); and the issue
 * order an ordered backend (nccl) uses to pair a group's messages, checked here as what NCCL
 * would pair: the k-th send from A to B against the k-th receive B lists from A. */
#include "harness.h"
#include "runtime/context_internal.h"

enum { PER_PAIR = 3, ROWS = 4, COLS = 5, LD = 7 };

/* A message's payload value at element e: names the sender, the receiver, the tag and e. */
static double value(int from, int to, int64_t tag, size_t e)
{
    return from * 1e6 + to * 1e4 + (double)tag * 1e2 + (double)e;
}

/* A rank-dependent permutation of 0..n-1 (the callers list their messages in any order). */
static void shuffle(int *idx, int n, uint64_t seed)
{
    for (int i = 0; i < n; i++)
        idx[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)((th_rand(&seed) + 1) / 2 * (i + 1)) % (i + 1); /* th_rand: [-1, 1) */
        int t = idx[i];
        idx[i] = idx[j], idx[j] = t;
    }
}

/* What NCCL would do with two ranks' issue orders: pairs the k-th send of `a` to peer b with
 * the k-th receive of `b` from peer a. Every pair must carry one tag. */
static void check_pairing(const sl_comm_message *a, int na, int ra, const sl_comm_message *b,
                          int nb, int rb)
{
    int oa[16], ob[16];
    CHECK(sl_comm_exchange_order(a, na, oa) == SL_OK, "order of a");
    CHECK(sl_comm_exchange_order(b, nb, ob) == SL_OK, "order of b");
    int64_t sent[16], got[16];
    int ns = 0, ng = 0;
    for (int i = 0; i < na; i++)
        if (a[oa[i]].send && a[oa[i]].peer == rb)
            sent[ns++] = a[oa[i]].tag;
    for (int i = 0; i < nb; i++)
        if (!b[ob[i]].send && b[ob[i]].peer == ra)
            got[ng++] = b[ob[i]].tag;
    CHECK(ns == ng, "%d sends, %d receives", ns, ng);
    for (int k = 0; k < ns && k < ng; k++)
        CHECK(sent[k] == got[k], "message %d from %d to %d: sent tag %lld, received as %lld", k,
              ra, rb, (long long)sent[k], (long long)got[k]);
}

/* The issue order alone (no communication): rank 0 and rank 1 list their messages to each
 * other in opposite orders, with one more peer each; then a clash of tags. */
static void test_order(void)
{
    sl_comm_message a[6] = {
        {NULL, 1, 1, 40}, {NULL, 1, 1, 7}, {NULL, 2, 0, 101}, {NULL, 1, 1, 19},
        {NULL, 1, 0, 100}, {NULL, 1, 0, 102}}; /* rank 0 */
    sl_comm_message b[6] = {
        {NULL, 0, 1, 102}, {NULL, 0, 0, 19}, {NULL, 2, 1, 5}, {NULL, 0, 0, 7},
        {NULL, 0, 0, 40}, {NULL, 0, 1, 100}}; /* rank 1 */
    check_pairing(a, 6, 0, b, 6, 1);
    check_pairing(b, 6, 1, a, 6, 0);
    int order[6];
    CHECK(sl_comm_exchange_order(a, 6, order) == SL_OK, "distinct tags");
    for (int i = 1; i < 6; i++) {
        const sl_comm_message *p = &a[order[i - 1]], *q = &a[order[i]];
        CHECK(p->peer < q->peer || (p->peer == q->peer && (p->send < q->send ||
              (p->send == q->send && p->tag < q->tag))), "issue order at %d", i);
    }
    a[1].tag = a[0].tag;
    CHECK(sl_comm_exchange_order(a, 6, order) == SL_ERR_ARG, "two sends with one tag");
    a[1].send = 0; /* a receive may share a send's tag: they go opposite ways */
    CHECK(sl_comm_exchange_order(a, 6, order) == SL_OK, "a send and a receive with one tag");
}

typedef struct buffers {
    double *mem;
    starpu_data_handle_t *h;
    int n;
} buffers;

/* Per peer and k < PER_PAIR: a vector (k even, 3 + k elements) or a 4 x 5 tile with ld 7 (k
 * odd: rows apart in memory, as a tile of a larger block is). */
static void make(buffers *b, int size)
{
    b->n = size * PER_PAIR;
    b->mem = calloc((size_t)b->n * ROWS * LD, sizeof(double));
    b->h = calloc((size_t)b->n, sizeof *b->h);
    for (int i = 0; i < b->n; i++) {
        double *m = b->mem + (size_t)i * ROWS * LD;
        if ((i % PER_PAIR) % 2 == 0)
            starpu_vector_data_register(&b->h[i], STARPU_MAIN_RAM, (uintptr_t)m,
                                        (uint32_t)(3 + i % PER_PAIR), sizeof(double));
        else
            starpu_matrix_data_register(&b->h[i], STARPU_MAIN_RAM, (uintptr_t)m, LD, COLS, ROWS,
                                        sizeof(double));
    }
}

static void drop(buffers *b)
{
    for (int i = 0; i < b->n; i++)
        starpu_data_unregister(b->h[i]);
    free(b->h);
    free(b->mem);
}

/* Element e of buffer i (vector: e; tile: row e / COLS, column e % COLS). */
static double *at(buffers *b, int i, size_t e)
{
    double *m = b->mem + (size_t)i * ROWS * LD;
    return (i % PER_PAIR) % 2 == 0 ? m + e : m + (e / COLS) * LD + e % COLS;
}

static size_t count_of(int i)
{
    return (i % PER_PAIR) % 2 == 0 ? (size_t)(3 + i % PER_PAIR) : ROWS * COLS;
}

/* Every rank sends PER_PAIR messages to every other one and receives as many, all in one
 * exchange listed in a rank-dependent order; twice, so tags of a second exchange follow. */
static void test_exchange(sl_context *ctx)
{
    int me = ctx->rank, size = ctx->size;
    for (int round = 0; round < 2; round++) {
        int64_t tag = sl_tags_book(ctx, PER_PAIR);
        buffers out, in;
        make(&out, size);
        make(&in, size);
        int n = 0, cap = 2 * size * PER_PAIR;
        sl_comm_message *m = calloc((size_t)cap, sizeof *m);
        int *idx = calloc((size_t)cap, sizeof *idx);
        for (int r = 0; r < size; r++)
            for (int k = 0; r != me && k < PER_PAIR; k++) {
                int i = r * PER_PAIR + k;
                for (size_t e = 0; e < count_of(i); e++)
                    *at(&out, i, e) = value(me, r, tag + k, e);
                m[n++] = (sl_comm_message){out.h[i], r, 1, tag + k};
                m[n++] = (sl_comm_message){in.h[i], r, 0, tag + k};
            }
        shuffle(idx, n, 99 + (uint64_t)me * 7 + (uint64_t)round);
        sl_comm_message *listed = calloc((size_t)cap + 1, sizeof *listed);
        for (int i = 0; i < n; i++)
            listed[i] = m[idx[i]];
        CHECK_OK(sl_comm_exchange(ctx->comm, (sl_comm_group){ctx->task_comm}, listed, n), ctx);
        CHECK_OK(sl_wait(ctx), ctx);
        int bad = 0;
        for (int r = 0; r < size; r++)
            for (int k = 0; r != me && k < PER_PAIR; k++) {
                int i = r * PER_PAIR + k;
                for (size_t e = 0; e < count_of(i); e++)
                    bad += *at(&in, i, e) != value(r, me, tag + k, e);
            }
        CHECK(bad == 0, "round %d: %d elements received wrong", round, bad);
        drop(&out);
        drop(&in);
        free(m);
        free(idx);
        free(listed);
    }
    CHECK_OK(sl_comm_exchange(ctx->comm, (sl_comm_group){ctx->task_comm}, NULL, 0), ctx);
}

/* The CPU backends post point-to-point messages independently; STARLOPS_ORDERED_TRANSFERS only
 * changes the graphs the operators build. */
static void test_flags(sl_context *ctx)
{
    const char *env = getenv("STARLOPS_ORDERED_TRANSFERS");
    int forced = env && strcmp(env, "1") == 0;
    CHECK(!sl_comm_ordered(ctx->comm), "the %s backend says it needs ordered transfers",
          ctx->comm->ops->name);
    CHECK(sl_ordered_transfers(ctx) == forced, "ordered transfers %d, environment %d",
          sl_ordered_transfers(ctx), forced);
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    test_order();
    test_exchange(ctx);
    test_flags(ctx);
    return th_end(ctx, "test_comm_exchange");
}
