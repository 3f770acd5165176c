/* The halo box kernel's element logic (codelets/box_point.h, what cuda/box.cu runs per thread)
 * run on the host against the CPU kernel (cpu/box_kernels.c's sl_kernel_box). The CPU kernel
 * works on contiguous blocks; here each block is also cut into tiles of random sizes, each a
 * separately allocated copy as a device holds it (packed: one row, or rows with ld == nx) or as
 * main memory does (rows with ld > nx, whose gaps must stay untouched), or one side is a single
 * vector of bytes (the halo's slabs and scratch: sizes in bytes), and sl_box_run addresses
 * every element through the tile holding it. N-d shapes 1 to 4, boxes spanning many tiles (more
 * than one launch window per side), copy and add, zero_dst and zero_src, float, double and the
 * two complex element sizes. The results must be bit-identical: each element is one copy or one
 * sum of the same two values. Plain C, no MPI, no StarPU. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "box_point.h"
#include "unit_harness.h"

/* Random values of the element type (finite: sums are compared bit for bit). */
static void fill_random(char *p, size_t n, size_t esize, int single)
{
    for (size_t i = 0; i < n * esize / (single ? 4 : 8); i++) {
        double v = (double)rnd(2001) / 100.0 - 10.0;
        if (single)
            ((float *)p)[i] = (float)v;
        else
            ((double *)p)[i] = v;
    }
}

#define PAD_BYTE 0xA5

/* A block of n elements cut into separately allocated tiles. */
typedef struct tiled {
    int ntiles;
    sl_box_tile t[2000];
} tiled;

/* Tiles of 0 to max_len elements (empty ones included); half of the non-empty ones hold 2
 * rows, half of those with a gap (ld > nx, filled with PAD_BYTE). */
static void cut(tiled *b, const char *block, size_t n, size_t esize, size_t max_len,
                int byte_vector)
{
    b->ntiles = 0;
    if (byte_vector) { /* one StarPU vector of bytes, as the halo's slabs and scratch are */
        b->ntiles = 1;
        b->t[0] = sl_box_tile_of(malloc(n * esize + 1), n * esize, 1, n * esize, 1, esize);
        memcpy(b->t[0].ptr, block, n * esize);
        return;
    }
    for (size_t at = 0; at < n || b->ntiles == 0;) {
        size_t len = rnd(max_len + 1);
        len = len > n - at || b->ntiles == 1999 ? n - at : len; /* the last one takes the rest */
        size_t ny = len % 2 == 0 && len > 0 && rnd(2) ? 2 : 1, nx = len / ny;
        size_t ld = nx + (ny > 1 && rnd(2) ? 1 + rnd(3) : 0);
        sl_box_tile *t = &b->t[b->ntiles++];
        size_t bytes = (ny ? (ny - 1) * ld + nx : 0) * esize;
        *t = (sl_box_tile){malloc(bytes + 1), nx, ny, ld};
        memset(t->ptr, PAD_BYTE, bytes + 1);
        for (size_t r = 0; r < ny; r++)
            memcpy(t->ptr + r * ld * esize, block + (at + r * nx) * esize, nx * esize);
        at += len;
    }
}

/* Copies the tiles back into a block; checks that the gaps kept PAD_BYTE. */
static void join(const tiled *b, char *block, size_t esize)
{
    size_t at = 0;
    for (int i = 0; i < b->ntiles; i++) {
        const sl_box_tile *t = &b->t[i];
        for (size_t r = 0; r < t->ny; r++) {
            memcpy(block + at * esize, t->ptr + r * t->ld * esize, t->nx * esize);
            at += t->nx;
            for (size_t g = t->nx * esize; r + 1 < t->ny && g < t->ld * esize; g++)
                CHECK((unsigned char)t->ptr[r * t->ld * esize + g] == PAD_BYTE,
                      "tile %d: the gap after row %zu was written", i, r);
        }
    }
}

static void release(tiled *b)
{
    for (int i = 0; i < b->ntiles; i++)
        free(b->t[i].ptr);
}

/* The host executor: every element of a launch, and a whole tile zeroed row by row. */
static int launches;
static int host_launch(const sl_box_launch *p, void *ctx)
{
    (void)ctx;
    launches++;
    for (size_t i = 0; i < p->total; i++)
        sl_box_point(p, i);
    return 0;
}

static int host_zero_tile(const sl_box_tile *t, size_t esize, void *ctx)
{
    (void)ctx;
    for (size_t r = 0; r < t->ny; r++)
        memset(t->ptr + r * t->ld * esize, 0, t->nx * esize);
    return 0;
}

/* A random box of `count` inside a random array shape per dim. */
static size_t random_box(sl_box *b, int ndim, const size_t *count)
{
    b->ndim = ndim;
    size_t n = 1;
    for (int d = 0; d < ndim; d++) {
        b->shape[d] = count[d] + rnd(4);
        b->start[d] = rnd(b->shape[d] - count[d] + 1);
        n *= b->shape[d];
    }
    return n;
}

typedef struct dtype_case {
    const char *name;
    size_t esize;
    int single;
} dtype_case;

/* One case: dst/src blocks, the reference on contiguous blocks, the tiled run, compared. */
static void one_case(const dtype_case *dt, int ndim, const size_t *count, int add, int zero_dst,
                     int zero_src, size_t max_tile, int vectors)
{
    sl_box db, sb;
    size_t nd = random_box(&db, ndim, count), ns = random_box(&sb, ndim, count);
    size_t es = dt->esize;
    char *dref = malloc(nd * es + 1), *sref = malloc(ns * es + 1);
    char *dgot = malloc(nd * es + 1), *sgot = malloc(ns * es + 1);
    fill_random(dref, nd, es, dt->single);
    fill_random(sref, ns, es, dt->single);
    tiled dt_tiles, st_tiles;
    cut(&dt_tiles, dref, nd, es, max_tile, vectors == 1);
    cut(&st_tiles, sref, ns, es, max_tile, vectors == 2);
    /* the reference: box_cpu's steps on contiguous blocks */
    if (zero_dst)
        memset(dref, 0, nd * es);
    sl_kernel_box(dref, &db, sref, &sb, count, es, add, dt->single);
    if (zero_src)
        sl_kernel_box_zero(sref, &sb, count, es);
    const sl_box_exec ex = {host_launch, host_zero_tile, NULL};
    int rc = sl_box_run(dt_tiles.t, dt_tiles.ntiles, st_tiles.t, st_tiles.ntiles, &db, &sb,
                        count, es, add, dt->single, zero_dst, zero_src, &ex);
    CHECK(rc == 0, "sl_box_run returned %d", rc);
    join(&dt_tiles, dgot, es);
    join(&st_tiles, sgot, es);
    CHECK(memcmp(dgot, dref, nd * es) == 0, "%s %dd %s%s%s, %d/%d tiles: dst differs",
          dt->name, ndim, add ? "add" : "copy", zero_dst ? " zero_dst" : "",
          zero_src ? " zero_src" : "", dt_tiles.ntiles, st_tiles.ntiles);
    CHECK(memcmp(sgot, sref, ns * es) == 0, "%s %dd %s%s%s: src differs", dt->name, ndim,
          add ? "add" : "copy", zero_dst ? " zero_dst" : "", zero_src ? " zero_src" : "");
    release(&dt_tiles);
    release(&st_tiles);
    free(dref), free(sref), free(dgot), free(sgot);
}

/* The element offset and the window lookup alone, on a hand-made case. */
static void check_lookup(void)
{
    sl_box b = {2, {5, 7}, {1, 2}};
    size_t count[2] = {3, 4};
    CHECK(sl_box_point_offset(&b, count, 0) == 1 * 7 + 2, "offset of the first element");
    CHECK(sl_box_point_offset(&b, count, 5) == 2 * 7 + 3, "offset of element 5");
    char t0[64], t1[64];
    sl_box_tile t[3] = {{t0, 3, 2, 5}, {t1, 0, 1, 0}, {t1, 4, 1, 4}};
    sl_box_window w;
    int next = 0;
    size_t flat = 0;
    sl_box_window_fill(&w, t, 3, &next, &flat);
    CHECK(w.n == 2 && flat == 10 && next == 3, "window of 2 non-empty tiles");
    CHECK(sl_box_window_address(&w, 4, 1) == t0 + 6, "row 1 of tile 0 starts at ld");
    CHECK(sl_box_window_address(&w, 6, 1) == t1, "the empty tile is skipped");
    CHECK(sl_box_window_address(&w, 10, 1) == NULL, "past the window");
}

int main(void)
{
    static const dtype_case dts[4] = {
        {"float32", 4, 1}, {"float64", 8, 0}, {"complex64", 8, 1}, {"complex128", 16, 0}};
    static const size_t shapes[6][4] = {{37}, {5, 9}, {3, 4, 6}, {2, 3, 2, 5}, {11, 13}, {1, 1}};
    static const int ndims[6] = {1, 2, 3, 4, 2, 2};
    check_lookup();
    int cases = 0;
    for (int d = 0; d < 4; d++)
        for (int s = 0; s < 6; s++)
            for (int mode = 0; mode < 48; mode++) {
                /* tiles of up to 3 elements give hundreds of tiles: several launch windows */
                size_t max_tile = mode % 2 ? 3 : 40;
                one_case(&dts[d], ndims[s], shapes[s], mode & 2, mode & 4, mode & 8,
                         max_tile, mode / 16);
                cases++;
            }
    int before = launches;
    size_t big[2] = {30, 20};
    one_case(&dts[1], 2, big, 1, 0, 0, 2, 0); /* ~600 tiles per side at most: many windows */
    CHECK(launches - before > 1, "the many-tile case took %d launch(es)", launches - before);
    char what[64];
    snprintf(what, sizeof what, "%d cases, %d launches", cases + 1, launches);
    return unit_end("test_box_point", what);
}
