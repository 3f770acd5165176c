/* Redistribution to another axis (and re-splitting along the same axis) keeps every value in
 * place: the new blocks are compared with the serial global array, every dtype, 1-d to 4-d. */
#include "harness.h"

static void run(sl_context *ctx, sl_dtype dt, int ndim, const size_t *shape, int from, int to,
                int uneven)
{
    int size;
    size = th_ctx(ctx).size;
    size_t n = th_prod(shape, ndim), sizes[64];
    /* uneven target split: everything on the last rank but one row per other rank */
    for (int r = 0; r < size; r++)
        sizes[r] = r < size - 1 ? (shape[to] > (size_t)(size - 1) ? 1 : 0) : 0;
    size_t used = 0;
    for (int r = 0; r < size - 1; r++) used += sizes[r];
    sizes[size - 1] = shape[to] - used;
    cplx *g = malloc(n * sizeof(cplx)), *got = malloc(n * sizeof(cplx) + 1);
    th_random(g, n, sl_dtype_is_complex(dt), 77 + (uint64_t)(from * 4 + to));
    th_round(dt, g, n);
    void *raw = malloc(n * sl_dtype_size(dt));
    th_to_dtype(dt, g, raw, n);
    sl_darray *x = NULL, *y = NULL;
    CHECK_OK(sl_darray_create(ctx, dt, ndim, shape, SL_SCATTER, from, NULL, NULL, &x), ctx);
    CHECK_OK(sl_darray_from_global(x, raw), ctx);
    CHECK_OK(sl_darray_redistribute(x, to, uneven ? sizes : NULL, &y), ctx);
    if (y) {
        size_t ls[4], row0, cnt;
        memcpy(ls, th_info(y).local_shape, (size_t)th_info(y).ndim * sizeof(size_t));
        row0 = th_info(y).local_offset;
        cnt = th_info(y).local_size;
        int axis;
        axis = th_info(y).axis;
        CHECK(axis == to, "new axis %d, wanted %d", axis, to);
        CHECK(!uneven || ls[to] == sizes[th_rank], "local rows %zu, wanted %zu", ls[to],
              sizes[th_rank]);
        cplx *want = malloc(cnt * sizeof(cplx) + 1);
        void *loc = malloc(cnt * sl_dtype_size(dt) + 1);
        CHECK_OK(sl_darray_to_local(y, loc), ctx);
        th_from_dtype(dt, loc, got, cnt);
        th_block(g, ndim, shape, to, row0, ls[to], want);
        CHECK(th_rel_err(got, want, cnt) == 0, "redistribute %s ndim=%d %d->%d %s",
              sl_dtype_name(dt), ndim, from, to, uneven ? "uneven" : "balanced");
        free(want);
        free(loc);
    }
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    free(g);
    free(got);
    free(raw);
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    const size_t s1[1] = {11}, s2[2] = {5, 7}, s3[3] = {3, 5, 4}, s4[4] = {2, 3, 5, 3};
    const size_t *shapes[4] = {s1, s2, s3, s4};
    for (int d = 0; d < 4; d++)
        for (int nd = 1; nd <= 4; nd++)
            for (int from = 0; from < nd; from++)
                for (int to = 0; to < nd; to++)
                    for (int uneven = 0; uneven < 2; uneven++)
                        run(ctx, th_dtypes[d], nd, shapes[nd - 1], from, to, uneven);
    /* errors: replicated arrays, bad axis (on every rank) */
    size_t shape[1] = {6};
    sl_darray *b = NULL, *out = NULL;
    CHECK_OK(sl_darray_create(ctx, SL_F64, 1, shape, SL_BROADCAST, 0, NULL, NULL, &b), ctx);
    CHECK_STATUS(sl_darray_redistribute(b, 0, NULL, &out), SL_ERR_PARTITION, ctx);
    sl_darray_destroy(b);
    CHECK_OK(sl_darray_create(ctx, SL_F64, 1, shape, SL_SCATTER, 0, NULL, NULL, &b), ctx);
    CHECK_STATUS(sl_darray_redistribute(b, 1, NULL, &out), SL_ERR_SHAPE, ctx);
    CHECK_STATUS(sl_darray_redistribute(b, 0, NULL, NULL), SL_ERR_NULL, ctx);
    sl_darray_destroy(b);
    return th_end(ctx, "test_darray_redistribute");
}
