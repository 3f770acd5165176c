/* Fredholm1 (PyLops Fredholm1 / PyLops-MPI MPIFredholm1) with model and data scattered along
 * the slice axis by the same split: each rank multiplies its own slices, so an application is
 * one task per output tile and no communication (include/starlops/fredholm.h says why this
 * layout rather than PyLops-MPI's replicated one). */
#include <complex.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <starlops/fredholm.h>

#include "codelets.h"
#include "ops/op_internal.h"

/* One direction: the output tiles' slice ranges and the kernel slices each task reads. */
typedef struct fred_plan {
    size_t ntiles;
    starpu_data_handle_t *g; /* per output tile: its slices of G (or G^H), one row each */
} fred_plan;

typedef struct fred_state {
    sl_dtype dtype;
    size_t nx, ny, nz;
    int saveGt;
    size_t nsl;        /* this rank's slices */
    void *g, *gt;      /* (nsl, nx, ny) and, with saveGt, (nsl, ny, nx) = G^H per slice */
    fred_plan fwd, adj; /* output tiles: data tiles, model tiles */
} fred_state;

static void plan_free(fred_plan *p)
{
    for (size_t t = 0; t < p->ntiles && p->g; t++)
        if (p->g[t])
            starpu_data_unregister(p->g[t]);
    free(p->g);
}

/* Registers, per output tile of `row_elems` elements per slice (the tiling an array of that
 * layout gets, darray.c), the rows of `kernel` (one m*k slice each) of the tile's slices. The
 * forward and the adjoint without saveGt register overlapping ranges of the same G: StarPU
 * never writes them, so their copies never diverge. */
static sl_status plan_create(const sl_context *ctx, const fred_state *s, const void *kernel,
                             size_t row_elems, fred_plan *p)
{
    size_t es = sl_dtype_size(s->dtype), slice = s->nx * s->ny;
    p->ntiles = sl_tile_count(s->nsl, row_elems, ctx->config.tile_elements);
    p->g = calloc(p->ntiles + 1, sizeof *p->g);
    if (!p->g)
        return SL_ERR_NOMEM;
    for (size_t t = 0; t < p->ntiles; t++) {
        size_t row0, nrows;
        sl_tile_range(s->nsl, p->ntiles, t, &row0, &nrows);
        starpu_matrix_data_register(&p->g[t], STARPU_MAIN_RAM,
                                    (uintptr_t)((const char *)kernel + row0 * slice * es),
                                    (uint32_t)slice, (uint32_t)slice, (uint32_t)nrows, es);
    }
    return SL_OK;
}

static void fred_free(fred_state *s)
{
    plan_free(&s->fwd);
    plan_free(&s->adj);
    free(s->g);
    free(s->gt);
    free(s);
}

/* dst (ny x nx) = src (nx x ny)^H per slice, for one element type (conj: identity for the
 * real types). */
#define CONJ_TRANSPOSE(T, CONJ)                                                        \
    do {                                                                               \
        const T *src = g;                                                              \
        T *dst = gt;                                                                   \
        for (size_t sl = 0; sl < nsl; sl++, src += nx * ny, dst += nx * ny)           \
            for (size_t i = 0; i < nx; i++)                                            \
                for (size_t j = 0; j < ny; j++)                                        \
                    dst[j * nx + i] = CONJ(src[i * ny + j]);                           \
    } while (0)
#define SAME(v) (v)

/* gt[s] = G[s]^H for every slice: what saveGt stores (PyLops' Gt). */
static void conj_transpose(sl_dtype dtype, size_t nsl, size_t nx, size_t ny, const void *g,
                           void *gt)
{
    switch (dtype) {
    case SL_F32: CONJ_TRANSPOSE(float, SAME); break;
    case SL_F64: CONJ_TRANSPOSE(double, SAME); break;
    case SL_C64: CONJ_TRANSPOSE(float _Complex, conjf); break;
    case SL_C128: CONJ_TRANSPOSE(double _Complex, conj); break;
    }
}

static sl_status state_create(sl_context *ctx, sl_dtype dtype, const size_t dims[3],
                              size_t my_nsl, int saveGt, const void *g_local, fred_state **out)
{
    fred_state *s = calloc(1, sizeof *s);
    if (!s)
        return SL_ERR_NOMEM;
    size_t es = sl_dtype_size(dtype), bytes = my_nsl * dims[0] * dims[1] * es;
    *s = (fred_state){dtype, dims[0], dims[1], dims[2], saveGt, my_nsl, NULL, NULL, {0}, {0}};
    s->g = malloc(bytes + 1);
    s->gt = saveGt ? malloc(bytes + 1) : NULL;
    if (!s->g || (saveGt && !s->gt)) {
        fred_free(s);
        return SL_ERR_NOMEM;
    }
    if (bytes > 0)
        memcpy(s->g, g_local, bytes);
    if (saveGt)
        conj_transpose(dtype, my_nsl, s->nx, s->ny, s->g, s->gt);
    sl_status st = plan_create(ctx, s, s->g, s->nx * s->nz, &s->fwd);
    if (st == SL_OK)
        st = plan_create(ctx, s, saveGt ? s->gt : s->g, s->ny * s->nz, &s->adj);
    if (st != SL_OK) {
        fred_free(s);
        return st;
    }
    *out = s;
    return SL_OK;
}

/* The input tiles holding slices [row0, row0 + nrows): *first and *count, and *skip, the
 * slices of the first one before row0. */
static void overlap(const sl_darray *in, size_t row0, size_t nrows, size_t *first,
                    size_t *count, size_t *skip)
{
    size_t j = 0;
    while (in->tiles[j].row0 + in->tiles[j].nrows <= row0)
        j++;
    *first = j;
    *skip = row0 - in->tiles[j].row0;
    size_t end = j;
    while (end < in->ntiles && in->tiles[end].row0 < row0 + nrows)
        end++;
    *count = end - j;
}

static sl_status fred_apply(const sl_op *op, int adjoint, const sl_darray *in, sl_darray *out)
{
    const fred_state *s = op->state;
    const fred_plan *p = adjoint ? &s->adj : &s->fwd;
    if (out->ntiles != p->ntiles)
        return sl_fail(op->ctx, SL_ERR_SHAPE, "Fredholm1: the output has %zu tiles on rank "
                       "%d, the operator was planned for %zu", out->ntiles, op->ctx->rank,
                       p->ntiles);
    sl_fredholm_args args = {s->dtype, adjoint && !s->saveGt, adjoint ? s->ny : s->nx,
                             adjoint ? s->nx : s->ny, s->nz, 0};
    starpu_data_handle_t *h = malloc((in->ntiles + 1) * sizeof *h); /* never a 0-byte malloc */
    if (!h)
        return sl_fail(op->ctx, SL_ERR_NOMEM, "Fredholm1: out of memory");
    for (size_t j = 0; j < in->ntiles; j++)
        h[j] = in->tiles[j].handle;
    sl_status st = SL_OK;
    for (size_t t = 0; t < p->ntiles && st == SL_OK; t++) {
        size_t first, count;
        overlap(in, out->tiles[t].row0, out->tiles[t].nrows, &first, &count, &args.skip);
        int ret = sl_task_fredholm(&args, out->tiles[t].handle, p->g[t], h + first,
                                   (int)count);
        if (ret == -ENOMEM)
            st = sl_fail(op->ctx, SL_ERR_NOMEM, "Fredholm1: out of memory");
        else if (ret != 0)
            st = sl_fail(op->ctx, SL_ERR_STARPU, "starpu_task_insert failed for fredholm");
    }
    free(h);
    return st;
}

static void fred_destroy(sl_op *op)
{
    fred_free(op->state);
}

static const sl_op_vtable fred_vt = {.name = "Fredholm1", .apply = fred_apply,
                                     .destroy = fred_destroy};

/* What one rank can tell alone: sizes BLAS (int) and StarPU (32-bit tile rows: one slice of G
 * is one row of its handles) can take, and byte counts that do not overflow. */
static sl_status check_sizes(sl_context *ctx, sl_dtype dtype, size_t nsl, const size_t d[3])
{
    size_t es = sl_dtype_size(dtype), bytes;
    if (d[0] > INT_MAX || d[1] > INT_MAX || d[2] > INT_MAX)
        return sl_fail(ctx, SL_ERR_SHAPE, "sl_op_fredholm1: nx=%zu, ny=%zu, nz=%zu: too "
                       "large for BLAS's int dimensions", d[0], d[1], d[2]);
    if (__builtin_mul_overflow(d[0], d[1], &bytes) || bytes > UINT32_MAX)
        return sl_fail(ctx, SL_ERR_SHAPE, "sl_op_fredholm1: a slice of G (nx x ny = %zu x "
                       "%zu) has 2^32 elements or more, StarPU 1.3's limit", d[0], d[1]);
    if (__builtin_mul_overflow(bytes, nsl, &bytes) || __builtin_mul_overflow(bytes, es, &bytes))
        return sl_fail(ctx, SL_ERR_SHAPE, "sl_op_fredholm1: G of %zu x %zu x %zu is too "
                       "large (the byte count overflows)", nsl, d[0], d[1]);
    return SL_OK;
}

/* The model (nsl, ny, nz) and data (nsl, nx, nz) layouts, split alike (collective). */
static sl_status agree_layouts(sl_context *ctx, sl_dtype dtype, size_t nsl, const size_t d[3],
                               const size_t *local_nsl, sl_layout *ml, sl_layout *dl)
{
    const char *who = "sl_op_fredholm1";
    size_t dshape[3] = {nsl, d[0], d[2]}, mshape[3] = {nsl, d[1], d[2]};
    sl_status st = sl_layout_agree(ctx, who, dtype, 3, dshape, SL_SCATTER, 0, local_nsl, NULL,
                                   dl);
    if (st == SL_OK)
        st = sl_layout_agree(ctx, who, dtype, 3, mshape, SL_SCATTER, 0, local_nsl, NULL, ml);
    return st;
}

/* Every rank holding slices passed its G (a verdict shared by all ranks). */
static sl_status agree_g(sl_context *ctx, const void *g_local, size_t my_nsl)
{
    int ok = !(my_nsl > 0 && !g_local);
    if (!ok)
        sl_fail(ctx, SL_ERR_NULL, "sl_op_fredholm1: G is NULL on rank %d, which holds %zu "
                "slice(s)", ctx->rank, my_nsl);
    sl_status agreed = sl_agree(ctx, NULL, 0, ok, "sl_op_fredholm1");
    return ok ? agreed : SL_ERR_NULL;
}

sl_status sl_op_fredholm1(sl_context *ctx, sl_dtype dtype, size_t nsl, size_t nx, size_t ny,
                          size_t nz, const void *g_local, const size_t *local_nsl, int saveGt,
                          sl_op **out)
{
    if (!ctx || !out)
        return sl_null_error(__func__);
    *out = NULL;
    const size_t dims[3] = {nx, ny, nz};
    sl_status local = check_sizes(ctx, dtype, nsl, dims);
    /* a verdict reached on one rank only would leave the others in the collectives below */
    int64_t v[6] = {(int64_t)dtype, (int64_t)nsl, (int64_t)nx, (int64_t)ny, (int64_t)nz,
                    saveGt != 0};
    sl_status agreed = sl_agree(ctx, v, 6, local == SL_OK, "sl_op_fredholm1");
    if (local != SL_OK || agreed != SL_OK)
        return local != SL_OK ? local : agreed;
    sl_layout ml = {0}, dl = {0};
    sl_status st = agree_layouts(ctx, dtype, nsl, dims, local_nsl, &ml, &dl);
    size_t my_nsl = st == SL_OK ? dl.local_sizes[ctx->rank] : 0;
    if (st == SL_OK)
        st = agree_g(ctx, g_local, my_nsl);
    fred_state *s = NULL;
    if (st == SL_OK) {
        /* agreed too, so that no rank keeps an operator its peers could not make */
        sl_status made = state_create(ctx, dtype, dims, my_nsl, saveGt != 0, g_local, &s);
        if (made != SL_OK)
            sl_fail(ctx, made, "sl_op_fredholm1: out of memory for G on rank %d (%zu "
                    "slice(s) of %zu x %zu)", ctx->rank, my_nsl, nx, ny);
        sl_status all = sl_agree(ctx, NULL, 0, made == SL_OK, "sl_op_fredholm1");
        st = made != SL_OK ? made : all;
    }
    if (st == SL_OK)
        st = sl_op_new(ctx, &fred_vt, &ml, &dl, s, out);
    if (st != SL_OK && s)
        fred_free(s);
    sl_layout_free(&ml);
    sl_layout_free(&dl);
    return st;
}
