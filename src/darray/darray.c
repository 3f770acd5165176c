/* Creation, validation, tiling and destruction of distributed arrays. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "darray/stacked_internal.h"

/* Ranks compare fingerprints of per-rank tables instead of whole tables. */
static int64_t fingerprint(const void *data, size_t bytes)
{
    return sl_fnv1a_value(sl_fnv1a(SL_FNV1A_SEED, data, bytes));
}

typedef struct create_args {
    sl_dtype dtype;
    int ndim;
    const size_t *shape;
    sl_partition partition;
    int axis;
    const size_t *local_sizes;
    const int *mask;
    const char *who; /* the public function, for messages */
} create_args;

/* StarPU 1.3's matrix interface stores nx, ny and ld as 32-bit integers. The check uses the
 * largest block of any rank, so every rank reaches the same verdict. */
static int fits_starpu_matrix(const sl_context *ctx, const create_args *a)
{
    size_t n = a->shape[a->axis], rows = n, outer = 1, inner = 1;
    if (a->partition == SL_SCATTER) {
        rows = (n + (size_t)ctx->size - 1) / (size_t)ctx->size;
        for (int r = 0; a->local_sizes && r < ctx->size; r++)
            rows = r == 0 || a->local_sizes[r] > rows ? a->local_sizes[r] : rows;
    }
    for (int d = 0; d < a->axis; d++)
        outer *= a->shape[d];
    for (int d = a->axis + 1; d < a->ndim; d++)
        inner *= a->shape[d];
    size_t block;
    return outer <= UINT32_MAX && !__builtin_mul_overflow(rows, inner, &block) &&
           block <= UINT32_MAX;
}

/* Local checks, each with a sentence naming the offending value. */
static sl_status validate_locally(sl_context *ctx, create_args *a, void *out)
{
    if (!out || !a->shape)
        return sl_fail(ctx, SL_ERR_NULL, "%s: %s is NULL", a->who, out ? "shape" : "out");
    if (sl_dtype_size(a->dtype) == 0)
        return sl_fail(ctx, SL_ERR_DTYPE, "%s: dtype %d is not a valid sl_dtype", a->who,
                       (int)a->dtype);
    if (a->ndim < 1 || a->ndim > SL_MAX_NDIM)
        return sl_fail(ctx, SL_ERR_SHAPE, "%s: ndim=%d is outside [1, %d]", a->who,
                       a->ndim, SL_MAX_NDIM);
    size_t total = 1;
    for (int d = 0; d < a->ndim; d++) {
        if (a->shape[d] == 0)
            return sl_fail(ctx, SL_ERR_SHAPE, "%s: shape[%d] is 0", a->who, d);
        if (total > SIZE_MAX / 16 / a->shape[d])
            return sl_fail(ctx, SL_ERR_SHAPE, "%s: shape too large to address", a->who);
        total *= a->shape[d];
    }
    if (a->axis < -a->ndim || a->axis >= a->ndim)
        return sl_fail(ctx, SL_ERR_SHAPE, "%s: axis=%d is invalid for ndim=%d", a->who,
                       a->axis, a->ndim);
    if (a->axis < 0)
        a->axis += a->ndim;
    if (a->partition < SL_SCATTER || a->partition > SL_UNSAFE_BROADCAST)
        return sl_fail(ctx, SL_ERR_PARTITION, "%s: partition %d is invalid", a->who,
                       (int)a->partition);
    if (a->local_sizes) {
        size_t sum = 0, n = a->shape[a->axis];
        for (int r = 0; r < ctx->size; r++) {
            if (a->partition == SL_SCATTER && a->local_sizes[r] > n - sum)
                return sl_fail(ctx, SL_ERR_SHAPE, "%s: local_sizes[0..%d] sum "
                               "to more than shape[%d]=%zu", a->who, r, a->axis, n);
            sum += a->local_sizes[r];
            if (a->partition != SL_SCATTER && a->local_sizes[r] != n)
                return sl_fail(ctx, SL_ERR_SHAPE, "%s: broadcast array needs "
                               "local_sizes[%d]=%zu equal to shape[%d]=%zu", a->who, r,
                               a->local_sizes[r], a->axis, n);
        }
        if (a->partition == SL_SCATTER && sum != n)
            return sl_fail(ctx, SL_ERR_SHAPE, "%s: local_sizes sum to %zu but "
                           "shape[%d]=%zu", a->who, sum, a->axis, n);
    }
    if (!fits_starpu_matrix(ctx, a))
        return sl_fail(ctx, SL_ERR_SHAPE, "%s: a rank's block would need a tile "
                       "row stride or row count above 2^32-1 elements, StarPU 1.3's limit; "
                       "distribute along another axis or use more ranks", a->who);
    if (a->mask)
        for (int r = 0; r < ctx->size; r++)
            if (a->mask[r] < 0)
                return sl_fail(ctx, SL_ERR_MASK, "%s: mask[%d]=%d is negative", a->who,
                               r, a->mask[r]);
    return SL_OK;
}

static sl_status agree_across_ranks(sl_context *ctx, const create_args *a, int local_ok)
{
    int64_t v[8 + SL_MAX_NDIM];
    int n = 0;
    v[n++] = a->dtype;
    v[n++] = a->ndim;
    v[n++] = a->partition;
    v[n++] = a->axis;
    v[n++] = local_ok && a->local_sizes
                 ? fingerprint(a->local_sizes, (size_t)ctx->size * sizeof(size_t)) : 0;
    v[n++] = local_ok && a->mask ? fingerprint(a->mask, (size_t)ctx->size * sizeof(int)) : 0;
    for (int d = 0; d < SL_MAX_NDIM; d++)
        v[n++] = local_ok && d < a->ndim ? (int64_t)a->shape[d] : 0;
    return sl_agree(ctx, v, n, local_ok, a->who);
}

/* The agreed description: each rank's rows along the axis (given, split evenly, or all of
 * them for a broadcast array) and the mask. */
static sl_status describe(sl_context *ctx, const create_args *a, sl_layout *l)
{
    size_t nranks = (size_t)ctx->size, n = a->shape[a->axis];
    memset(l, 0, sizeof *l);
    l->dtype = a->dtype;
    l->ndim = a->ndim;
    memcpy(l->shape, a->shape, (size_t)a->ndim * sizeof(size_t));
    l->partition = a->partition;
    l->axis = a->axis;
    l->local_sizes = malloc(nranks * sizeof(size_t));
    if (!l->local_sizes)
        return SL_ERR_NOMEM;
    if (a->partition != SL_SCATTER)
        for (size_t r = 0; r < nranks; r++)
            l->local_sizes[r] = n;
    else if (a->local_sizes)
        memcpy(l->local_sizes, a->local_sizes, nranks * sizeof(size_t));
    else
        sl_split_balanced(n, ctx->size, l->local_sizes);
    if (a->mask) {
        if (!(l->mask = malloc(nranks * sizeof(int))))
            return SL_ERR_NOMEM;
        memcpy(l->mask, a->mask, nranks * sizeof(int));
    }
    return SL_OK;
}

/* Local checks (`out`: the caller's output pointer, checked too), agreement, description. */
static sl_status agree_layout(sl_context *ctx, create_args *a, const void *out, sl_layout *l)
{
    sl_status local = validate_locally(ctx, a, (void *)out);
    sl_status agreed = agree_across_ranks(ctx, a, local == SL_OK);
    if (local != SL_OK)
        return local;
    if (agreed != SL_OK)
        return agreed;
    if (describe(ctx, a, l) != SL_OK) {
        sl_layout_free(l);
        return sl_fail(ctx, SL_ERR_NOMEM, "%s: out of memory", a->who);
    }
    return SL_OK;
}

sl_status sl_layout_agree(sl_context *ctx, const char *who, sl_dtype dtype, int ndim,
                          const size_t *shape, sl_partition partition, int axis,
                          const size_t *local_sizes, const int *mask, sl_layout *out)
{
    create_args a = {dtype, ndim, shape, partition, axis, local_sizes, mask, who};
    return agree_layout(ctx, &a, out, out);
}

static sl_status fill_layout(sl_darray *x, const sl_layout *l)
{
    sl_context *ctx = x->ctx;
    size_t nranks = (size_t)ctx->size;
    if (sl_layout_clone(l, ctx->size, &x->layout) != SL_OK)
        return SL_ERR_NOMEM;
    x->elem_size = sl_dtype_size(l->dtype);
    x->row_offset_of = calloc(nranks, sizeof(size_t));
    if (!x->row_offset_of)
        return SL_ERR_NOMEM;
    for (size_t r = 1; r < nranks && l->partition == SL_SCATTER; r++)
        x->row_offset_of[r] = x->row_offset_of[r - 1] + x->layout.local_sizes[r - 1];
    x->outer = x->inner = 1;
    for (int d = 0; d < l->axis; d++)
        x->outer *= l->shape[d];
    for (int d = l->axis + 1; d < l->ndim; d++)
        x->inner *= l->shape[d];
    x->local_rows = x->layout.local_sizes[ctx->rank];
    return sl_mask_comm(ctx, l->mask, &x->reduce_comm);
}

/* Allocates the block, cuts it into tiles and registers each tile with StarPU (and, for
 * scattered arrays, with StarPU-MPI under a tag booked identically on every rank). */
static sl_status register_tiles(sl_darray *x)
{
    sl_context *ctx = x->ctx;
    size_t row_elems = x->outer * x->inner, tile = ctx->config.tile_elements;
    size_t bytes = x->local_rows * row_elems * x->elem_size;
    if (bytes > 0) {
        /* Arrays start at different offsets modulo 4 KiB (multiples of 192 B, so still
         * cache-line aligned): otherwise x[i] and y[i] of two big arrays share their low 12
         * address bits, and a kernel storing y[i] while loading x[i +- 1] stalls on 4K
         * aliasing (measured: a stencil along the last axis ran at half speed). */
        size_t stagger = (ctx->arrays_made++ % 21) * 192;
        if (posix_memalign(&x->allocation, 64, bytes + stagger) != 0)
            return sl_fail(ctx, SL_ERR_NOMEM, "sl_darray_create: cannot allocate %zu bytes",
                           bytes);
        x->data = (char *)x->allocation + stagger;
        memset(x->data, 0, bytes);
    }
    int64_t first_tile = 0, total_tiles = 0;
    for (int r = 0; r < ctx->size; r++) {
        size_t nt = sl_tile_count(x->layout.local_sizes[r], row_elems, tile);
        if (r < ctx->rank)
            first_tile += (int64_t)nt;
        total_tiles += (int64_t)nt;
    }
    int64_t tag0 = x->layout.partition == SL_SCATTER ? sl_tags_book(ctx, total_tiles) : -1;
    size_t ntiles = sl_tile_count(x->local_rows, row_elems, tile);
    x->tiles = ntiles ? calloc(ntiles, sizeof *x->tiles) : NULL;
    if (ntiles && !x->tiles)
        return SL_ERR_NOMEM;
    x->ntiles = ntiles; /* only now: free_darray walks x->tiles[0 .. ntiles) */
    size_t ld = x->local_rows * x->inner;
    for (size_t t = 0; t < x->ntiles; t++) {
        sl_tile *tl = &x->tiles[t];
        sl_tile_range(x->local_rows, x->ntiles, t, &tl->row0, &tl->nrows);
        char *ptr = (char *)x->data + tl->row0 * x->inner * x->elem_size;
        starpu_matrix_data_register(&tl->handle, STARPU_MAIN_RAM, (uintptr_t)ptr, (uint32_t)ld,
                                    (uint32_t)(tl->nrows * x->inner), (uint32_t)x->outer,
                                    x->elem_size);
        starpu_data_set_coordinates(tl->handle, 2, ctx->rank, (int)t);
        if (tag0 >= 0)
            starpu_mpi_data_register(tl->handle, tag0 + first_tile + (int64_t)t, ctx->rank);
    }
    return SL_OK;
}

static void free_darray(sl_darray *x)
{
    for (size_t t = 0; t < x->ntiles; t++)
        if (x->tiles[t].handle)
            starpu_data_unregister(x->tiles[t].handle);
    free(x->tiles);
    free(x->allocation);
    sl_layout_free(&x->layout);
    free(x->row_offset_of);
    free(x);
}

sl_status sl_darray_from_layout(sl_context *ctx, const sl_layout *l, sl_darray **out)
{
    sl_darray *x = calloc(1, sizeof *x);
    if (!x)
        return sl_fail(ctx, SL_ERR_NOMEM, "sl_darray_create: out of memory");
    x->ctx = ctx;
    sl_status st = fill_layout(x, l);
    if (st == SL_OK)
        st = register_tiles(x);
    if (st != SL_OK) {
        free_darray(x);
        return st == SL_ERR_NOMEM ? sl_fail(ctx, st, "sl_darray_create: out of memory") : st;
    }
    *out = x;
    return SL_OK;
}

sl_status sl_darray_create(sl_context *ctx, sl_dtype dtype, int ndim, const size_t *shape,
                           sl_partition partition, int axis, const size_t *local_sizes,
                           const int *mask, sl_darray **out)
{
    if (!ctx)
        return sl_null_error(__func__);
    if (out)
        *out = NULL;
    create_args a = {dtype, ndim, shape, partition, axis, local_sizes, mask, __func__};
    sl_layout l = {0};
    sl_status st = agree_layout(ctx, &a, out, &l);
    if (st == SL_OK)
        st = sl_darray_from_layout(ctx, &l, out);
    sl_layout_free(&l);
    return st;
}

/* A stack of new arrays like x's parts, owned by the stack. */
static sl_status create_stack_like(const sl_darray *x, sl_darray **out)
{
    sl_darray **parts = calloc((size_t)x->nparts, sizeof *parts);
    if (!parts)
        return sl_fail(x->ctx, SL_ERR_NOMEM, "sl_darray_create_like: out of memory");
    sl_status st = SL_OK;
    for (int i = 0; i < x->nparts && st == SL_OK; i++)
        st = sl_darray_create_like(x->parts[i], &parts[i]);
    sl_stacked *s = NULL;
    if (st == SL_OK)
        st = sl_stacked_adopt(x->nparts, parts, &s);
    if (st == SL_OK)
        st = sl_stacked_publish(s, out);
    else
        for (int i = 0; i < x->nparts; i++)
            sl_darray_destroy(parts[i]);
    free(parts);
    return st;
}

sl_status sl_darray_create_like(const sl_darray *x, sl_darray **out)
{
    if (!x || !out)
        return sl_null_error(__func__);
    *out = NULL;
    if (sl_darray_is_stack(x))
        return create_stack_like(x, out);
    return sl_darray_from_layout(x->ctx, &x->layout, out); /* agreed when x was made */
}

sl_status sl_darray_destroy(sl_darray *x)
{
    if (sl_darray_is_stack(x)) {
        for (int i = 0; x->owns_parts && i < x->nparts; i++)
            sl_darray_destroy(x->parts[i]);
        free(x->parts);
        free(x);
    } else if (x) {
        free_darray(x);
    }
    return SL_OK;
}

sl_status sl_darray_check_compatible(const sl_darray *x, const sl_darray *y, const char *what)
{
    if (x->ctx != y->ctx)
        return sl_fail(x->ctx, SL_ERR_ARG, "%s: arrays belong to different contexts", what);
    sl_layout want = sl_layout_view(x), got = sl_layout_view(y);
    return sl_layout_compare(x->ctx, &want, &got, what);
}

sl_status sl_darray_need_plain(const sl_darray *x, const char *who)
{
    if (!sl_darray_is_stack(x))
        return SL_OK;
    return sl_fail(x->ctx, SL_ERR_ARG, "%s: a stack of %d arrays where a plain array is needed "
                   "(sl_darray_stack_part gives its parts)", who, x->nparts);
}

/* A stack's parts seen as one flat vector: sizes add up, the dtype is the widest. */
static void stack_info(const sl_darray *x, sl_darray_info *info)
{
    int complex_part = 0, double_part = 0;
    for (int i = 0; i < x->nparts; i++) {
        sl_darray_info part;
        sl_darray_get_info(x->parts[i], &part);
        info->shape[0] += part.global_size;
        info->local_shape[0] += part.local_size;
        info->ntiles += part.ntiles;
        complex_part |= sl_dtype_is_complex(part.dtype);
        double_part |= part.dtype == SL_F64 || part.dtype == SL_C128;
    }
    info->nparts = x->nparts;
    info->ndim = 1;
    info->local_size = info->local_shape[0];
    info->global_size = info->shape[0];
    info->dtype = complex_part ? (double_part ? SL_C128 : SL_C64) : (double_part ? SL_F64 : SL_F32);
}

sl_status sl_darray_get_info(const sl_darray *x, sl_darray_info *info)
{
    if (!x || !info)
        return sl_null_error(__func__);
    memset(info, 0, sizeof *info);
    if (sl_darray_is_stack(x)) {
        stack_info(x, info);
        return SL_OK;
    }
    info->dtype = x->layout.dtype;
    info->ndim = x->layout.ndim;
    memcpy(info->shape, x->layout.shape, sizeof info->shape);
    memcpy(info->local_shape, x->layout.shape, sizeof info->local_shape);
    info->local_shape[x->layout.axis] = x->local_rows;
    info->axis = x->layout.axis;
    info->local_offset = x->row_offset_of[x->ctx->rank];
    info->partition = x->layout.partition;
    info->ntiles = x->ntiles;
    info->local_size = x->outer * x->local_rows * x->inner;
    info->global_size = x->outer * x->layout.shape[x->layout.axis] * x->inner;
    return SL_OK;
}
