/* The Fredholm1 codelet's slice walk (codelets/fredholm_walk.h), which both its CPU and its CUDA
 * function follow, on its own: for random cuts of a rank's slices into input tiles and random
 * output tiles, the runs cover the output tile's slices once, in order, each run reads the
 * input tile that holds its slices at the right place, and no run crosses an input tile's end.
 * The CPU Fredholm tests cannot see that last point: in main memory the next tile follows, so
 * reading past a tile's end gives the right numbers there, while on a device (separate
 * allocations) it would not. Plain C, no MPI, no StarPU. */
#include <stdint.h>
#include <stdio.h>

#include "fredholm_walk.h"
#include "unit_harness.h"

/* A fake buffer: a one-row tile of nx elements (what STARPU_MATRIX_GET_NX reads). */
typedef struct fake {
    size_t nx;
} fake;

static size_t fake_slices(void *buffer, size_t slice)
{
    return ((fake *)buffer)->nx / slice;
}

enum { MAX_TILES = 64 };

/* One case: nsl slices cut into input tiles; the output tile holds [row0, row0 + nrows). */
static void one_case(size_t nsl, size_t in_slice)
{
    fake tiles[MAX_TILES];
    void *in[MAX_TILES];
    size_t first[MAX_TILES + 1]; /* each tile's first slice */
    int ntiles = 0;
    first[0] = 0;
    while (first[ntiles] < nsl && ntiles < MAX_TILES) {
        size_t len = 1 + rnd(5);
        if (ntiles == MAX_TILES - 1 || len > nsl - first[ntiles])
            len = nsl - first[ntiles];
        tiles[ntiles].nx = len * in_slice;
        in[ntiles] = &tiles[ntiles];
        first[ntiles + 1] = first[ntiles] + len;
        ntiles++;
    }
    size_t row0 = rnd(nsl), nrows = 1 + rnd(nsl - row0);
    /* the tiles the operator hands over (op_fredholm.c's overlap) */
    int j0 = 0;
    while (first[j0 + 1] <= row0)
        j0++;
    int j1 = j0;
    while (j1 < ntiles && first[j1] < row0 + nrows)
        j1++;
    sl_fred_walk w = sl_fred_walk_start(in + j0, j1 - j0, fake_slices, in_slice, nrows,
                                        row0 - first[j0]);
    sl_fred_run r;
    size_t next = 0;
    int runs = 0;
    while (sl_fred_walk_next(&w, &r) && runs++ < 1000) {
        int t = j0 + r.tile;
        size_t global = row0 + r.out0;
        CHECK(r.out0 == next && r.count > 0, "run %d starts at %zu (want %zu), %zu slices",
              runs, r.out0, next, r.count);
        CHECK(t < j1 && first[t] <= global && global < first[t + 1],
              "slice %zu read from tile %d [%zu, %zu)", global, t, first[t], first[t + 1]);
        CHECK(r.pos == global - first[t], "slice %zu at %zu of its tile (want %zu)", global,
              r.pos, global - first[t]);
        CHECK(first[t] + r.pos + r.count <= first[t + 1], "run of %zu from slice %zu crosses "
              "the end of tile %d at %zu", r.count, global, t, first[t + 1]);
        next = r.out0 + r.count;
    }
    CHECK(next == nrows, "the runs covered %zu of %zu slices", next, nrows);
}

int main(void)
{
    int cases = 0;
    for (size_t nsl = 1; nsl <= 40; nsl++)
        for (int rep = 0; rep < 50; rep++, cases++)
            one_case(nsl, 1 + rnd(7));
    /* one tile holding everything: one run */
    fake one = {12};
    void *in[1] = {&one};
    sl_fred_walk w = sl_fred_walk_start(in, 1, fake_slices, 3, 3, 1);
    sl_fred_run r;
    CHECK(sl_fred_walk_next(&w, &r) && r.pos == 1 && r.count == 3, "single tile: one run");
    CHECK(!sl_fred_walk_next(&w, &r), "single tile: nothing after the run");
    char what[64];
    snprintf(what, sizeof what, "%d cases", cases + 1);
    return unit_end("test_fredholm_walk", what);
}
