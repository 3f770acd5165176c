/* The one-sided transport (src/comm/rma_engine.c) on its own, without StarPU: every rank sends
 * every other rank messages of many sizes (empty, tiny, several times the ring: they stream
 * through it and wrap), with receives posted in the reverse order of the sends (so most arrive
 * "early"); then mismatches (size, kind) fail the receive and count a failure without breaking
 * the stream; a bad peer is refused. Progress is driven by this thread; a stuck transfer fails
 * after a time limit instead of hanging. */
#include "harness.h"

#include "comm/rma_engine.h"

enum { RING = 4096, NSIZES = 8 };
static const size_t sizes[NSIZES] = {0, 1, 100, 4064, 4065, 3 * RING + 17, 64, 40000};

static unsigned char pattern(int from, int to, int msg, size_t k)
{
    return (unsigned char)(k * 31 + (size_t)msg * 7 + (size_t)from * 3 + (size_t)to);
}

/* Drives progress until the completion reaches zero or 60 s pass. */
static int drive(sl_rma_engine *e, sl_rma_completion *c)
{
    double t0 = MPI_Wtime();
    while (__atomic_load_n(&c->remaining, __ATOMIC_ACQUIRE) > 0) {
        sl_rma_progress(e);
        if (MPI_Wtime() - t0 > 60)
            return 0;
    }
    return 1;
}

static void test_all_pairs(sl_rma_engine *e, int me, int n)
{
    unsigned char *out[64][NSIZES], *in[64][NSIZES];
    sl_rma_completion c = {2 * (n - 1) * NSIZES, 0};
    for (int p = 0; p < n; p++)
        for (int i = 0; i < NSIZES && p != me; i++) {
            out[p][i] = malloc(sizes[i] + 1);
            in[p][i] = calloc(1, sizes[i] + 1);
            for (size_t k = 0; k < sizes[i]; k++)
                out[p][i][k] = pattern(me, p, i, k);
        }
    for (int p = 0; p < n; p++)
        for (int i = 0; i < NSIZES && p != me; i++)
            CHECK(sl_rma_send(e, p, (sl_rma_match){1, 7, (uint64_t)i}, out[p][i], sizes[i], &c)
                      == SL_OK, "send %d to %d", i, p);
    for (int p = n - 1; p >= 0; p--)
        for (int i = NSIZES - 1; i >= 0 && p != me; i--)
            CHECK(sl_rma_recv(e, p, (sl_rma_match){1, 7, (uint64_t)i}, in[p][i], sizes[i], &c)
                      == SL_OK, "recv %d from %d", i, p);
    CHECK(drive(e, &c), "all-pairs transfers finish (remaining %d)", c.remaining);
    CHECK(!c.failed, "no transfer failed");
    for (int p = 0; p < n; p++)
        for (int i = 0; i < NSIZES && p != me; i++) {
            size_t bad = 0;
            for (size_t k = 0; k < sizes[i]; k++)
                bad += in[p][i][k] != pattern(p, me, i, k);
            CHECK(bad == 0, "message %d (%zu B) from %d: %zu bytes wrong", i, sizes[i], p, bad);
            free(out[p][i]);
            free(in[p][i]);
        }
}

/* Rank 0 sends rank 1 a 10-byte message that rank 1 expects as 12 bytes, then one of another
 * kind, then a good one: the first two fail, the third arrives. */
static void test_mismatch(sl_rma_engine *e, int me, int n)
{
    if (me > 1 || n < 2)
        return;
    char out[3][16] = {"0123456789", "abcdefghij", "good"}, in[3][16] = {{0}};
    unsigned long before = sl_rma_failures(e);
    sl_rma_completion bad_size = {1, 0}, bad_kind = {1, 0}, good = {1, 0};
    if (me == 0) {
        sl_rma_completion c = {3, 0};
        sl_rma_send(e, 1, (sl_rma_match){1, 9, 100}, out[0], 10, &c);
        sl_rma_send(e, 1, (sl_rma_match){2, 9, 101}, out[1], 10, &c);
        sl_rma_send(e, 1, (sl_rma_match){1, 9, 102}, out[2], 5, &c);
        CHECK(drive(e, &c) && !c.failed, "the sends of mismatched messages leave");
        return;
    }
    sl_rma_recv(e, 0, (sl_rma_match){1, 9, 100}, in[0], 12, &bad_size);
    sl_rma_recv(e, 0, (sl_rma_match){1, 9, 101}, in[1], 10, &bad_kind);
    sl_rma_recv(e, 0, (sl_rma_match){1, 9, 102}, in[2], 5, &good);
    CHECK(drive(e, &bad_size) && bad_size.failed, "a size mismatch fails the receive");
    CHECK(drive(e, &bad_kind) && bad_kind.failed, "a kind mismatch fails the receive");
    CHECK(drive(e, &good) && !good.failed && strcmp(in[2], "good") == 0,
          "the stream goes on after mismatches (got '%s')", in[2]);
    CHECK(sl_rma_failures(e) == before + 2, "two failures counted (%lu)",
          sl_rma_failures(e) - before);
}

static void test_bad_peer(sl_rma_engine *e, int me, int n)
{
    char b[4] = {0};
    sl_rma_completion c = {3, 0};
    CHECK(sl_rma_send(e, me, (sl_rma_match){1, 1, 1}, b, 4, &c) == SL_ERR_ARG, "self refused");
    CHECK(sl_rma_recv(e, -1, (sl_rma_match){1, 1, 1}, b, 4, &c) == SL_ERR_ARG, "-1 refused");
    CHECK(sl_rma_send(e, n, (sl_rma_match){1, 1, 1}, b, 4, &c) == SL_ERR_ARG, "n refused");
    CHECK(c.remaining == 0 && c.failed, "refused messages count down as failed");
}

int main(int argc, char **argv)
{
    int provided = 0, n = 1;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &th_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    sl_rma_engine *e = NULL;
    sl_rma_engine *none = NULL;
    CHECK(sl_rma_engine_create(MPI_COMM_WORLD, 100, &none) == SL_ERR_ARG && !none,
          "a ring under 4096 bytes is refused");
    CHECK(sl_rma_engine_create(MPI_COMM_WORLD, RING, &e) == SL_OK, "window created");
    if (e && n <= 64) {
        test_all_pairs(e, th_rank, n);
        test_mismatch(e, th_rank, n);
        test_bad_peer(e, th_rank, n);
        MPI_Barrier(MPI_COMM_WORLD);
        sl_rma_engine_destroy(e);
        sl_rma_engine_free(e);
    }
    int rc = th_finish(MPI_COMM_WORLD, "test_rma_engine");
    MPI_Finalize();
    return rc;
}
