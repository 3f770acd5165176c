/* The walk over a Fredholm1 task's output slices (fredholm.c), shared by its CPU and CUDA
 * functions and tested alone by tests/test_fredholm_walk.c: runs of consecutive output slices
 * that read consecutive slices of one input tile. Within a run the operands advance by fixed
 * strides (an output slice, an input slice, one row of G), so a run is one uniform batch
 * (cuBLAS's strided-batched gemm). A run never crosses an input tile's end: in main memory the
 * next tile happens to follow, on a device it is another allocation. Plain C, no StarPU. */
#ifndef STARLOPS_FREDHOLM_WALK_H
#define STARLOPS_FREDHOLM_WALK_H

#include <stddef.h>

typedef struct sl_fred_walk {
    void *const *in;                          /* the input tiles' buffers, in slice order */
    int nin;
    size_t (*tile_slices)(void *buffer, size_t slice); /* slices a buffer holds */
    size_t in_slice;   /* elements per input slice */
    size_t nslices, s; /* the output tile's slices, the next one */
    int j;             /* input tile of slice s */
    size_t pos;        /* slice s's place in tile j */
} sl_fred_walk;

typedef struct sl_fred_run {
    int tile;    /* index into in */
    size_t pos;  /* first slice read, within that tile */
    size_t out0; /* first output slice */
    size_t count;
} sl_fred_run;

/* A walk over nslices output slices whose first reads slice `skip` of in[0]. */
static inline sl_fred_walk sl_fred_walk_start(void *const *in, int nin,
                                              size_t (*tile_slices)(void *, size_t),
                                              size_t in_slice, size_t nslices, size_t skip)
{
    return (sl_fred_walk){in, nin, tile_slices, in_slice, nslices, 0, 0, skip};
}

/* The next run into *r; 0 when every output slice was covered. The last input tile takes
 * whatever is left (the operator hands over exactly the tiles the output's slices need). */
static inline int sl_fred_walk_next(sl_fred_walk *w, sl_fred_run *r)
{
    if (w->s >= w->nslices)
        return 0;
    while (w->j + 1 < w->nin && w->pos >= w->tile_slices(w->in[w->j], w->in_slice)) {
        w->pos -= w->tile_slices(w->in[w->j], w->in_slice);
        w->j++;
    }
    size_t count = w->nslices - w->s;
    if (w->j + 1 < w->nin) {
        size_t avail = w->tile_slices(w->in[w->j], w->in_slice) - w->pos;
        count = avail < count ? avail : count;
    }
    *r = (sl_fred_run){w->j, w->pos, w->s, count};
    w->s += count;
    w->pos += count;
    return 1;
}

#endif
