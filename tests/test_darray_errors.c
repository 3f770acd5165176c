/* Bad input to distributed arrays: every case returns a status naming the problem, never
 * crashes, and collective calls with disagreeing ranks fail on every rank instead of hanging. */
#include "harness.h"

static int size;

static void test_create_errors(sl_context *ctx)
{
    size_t shape[2] = {10, 3}, zero[2] = {0, 3}, sizes[64];
    sl_darray *x = NULL;
    CHECK_STATUS(sl_darray_create(NULL, SL_F64, 2, shape, SL_SCATTER, 0, NULL, NULL, &x),
                 SL_ERR_NULL, ctx);
    CHECK_STATUS(sl_darray_create(ctx, SL_F64, 2, shape, SL_SCATTER, 0, NULL, NULL, NULL),
                 SL_ERR_NULL, ctx);
    CHECK_STATUS(sl_darray_create(ctx, SL_F64, 2, NULL, SL_SCATTER, 0, NULL, NULL, &x),
                 SL_ERR_NULL, ctx);
    CHECK_STATUS(sl_darray_create(ctx, (sl_dtype)9, 2, shape, SL_SCATTER, 0, NULL, NULL, &x),
                 SL_ERR_DTYPE, ctx);
    CHECK(strstr(sl_last_error(ctx), "dtype 9") != NULL, "message: %s", sl_last_error(ctx));
    CHECK_STATUS(sl_darray_create(ctx, SL_F64, 0, shape, SL_SCATTER, 0, NULL, NULL, &x),
                 SL_ERR_SHAPE, ctx);
    CHECK_STATUS(sl_darray_create(ctx, SL_F64, 9, shape, SL_SCATTER, 0, NULL, NULL, &x),
                 SL_ERR_SHAPE, ctx);
    CHECK_STATUS(sl_darray_create(ctx, SL_F64, 2, zero, SL_SCATTER, 0, NULL, NULL, &x),
                 SL_ERR_SHAPE, ctx);
    CHECK_STATUS(sl_darray_create(ctx, SL_F64, 2, shape, SL_SCATTER, 2, NULL, NULL, &x),
                 SL_ERR_SHAPE, ctx);
    CHECK(strstr(sl_last_error(ctx), "axis=2") != NULL, "message: %s", sl_last_error(ctx));
    CHECK_STATUS(sl_darray_create(ctx, SL_F64, 2, shape, SL_SCATTER, -3, NULL, NULL, &x),
                 SL_ERR_SHAPE, ctx);
    CHECK_STATUS(sl_darray_create(ctx, SL_F64, 2, shape, (sl_partition)5, 0, NULL, NULL, &x),
                 SL_ERR_PARTITION, ctx);
    for (int r = 0; r < size; r++) sizes[r] = 1;
    CHECK_STATUS(sl_darray_create(ctx, SL_F64, 2, shape, SL_SCATTER, 0, sizes, NULL, &x),
                 SL_ERR_SHAPE, ctx);
    CHECK(strstr(sl_last_error(ctx), "sum to") != NULL, "message: %s", sl_last_error(ctx));
    CHECK_STATUS(sl_darray_create(ctx, SL_F64, 2, shape, SL_BROADCAST, 0, sizes, NULL, &x),
                 SL_ERR_SHAPE, ctx);
    if (size >= 2) { /* sizes whose sum wraps around to shape[0] (once: a crash in cleanup) */
        for (int r = 0; r < size; r++) sizes[r] = 0;
        sizes[0] = (size_t)1 << 63;
        sizes[1] = ((size_t)1 << 63) + 10;
        CHECK_STATUS(sl_darray_create(ctx, SL_F64, 2, shape, SL_SCATTER, 0, sizes, NULL, &x),
                     SL_ERR_SHAPE, ctx);
    }
    int mask[64];
    for (int r = 0; r < size; r++) mask[r] = -1;
    CHECK_STATUS(sl_darray_create(ctx, SL_F64, 2, shape, SL_SCATTER, 0, NULL, mask, &x),
                 SL_ERR_MASK, ctx);
    CHECK(x == NULL, "failed create returned an array");
    /* negative axis counts from the end */
    CHECK_OK(sl_darray_create(ctx, SL_F64, 2, shape, SL_SCATTER, -1, NULL, NULL, &x), ctx);
    int axis = -1;
    axis = th_info(x).axis;
    CHECK(axis == 1, "axis -1 became %d", axis);
    sl_darray_destroy(x);
}

/* Ranks that disagree get an error everywhere (a hang would trip the test timeout). */
static void test_rank_disagreement(sl_context *ctx)
{
    if (size == 1)
        return;
    sl_darray *x = NULL;
    size_t shape[1] = {th_rank == 0 ? 10u : 11u};
    CHECK_STATUS(sl_darray_create(ctx, SL_F64, 1, shape, SL_SCATTER, 0, NULL, NULL, &x),
                 SL_ERR_RANK_MISMATCH, ctx);
    shape[0] = 10;
    sl_dtype dt = th_rank == size - 1 ? SL_F32 : SL_F64;
    CHECK_STATUS(sl_darray_create(ctx, dt, 1, shape, SL_SCATTER, 0, NULL, NULL, &x),
                 SL_ERR_RANK_MISMATCH, ctx);
    /* one rank's invalid argument: that rank gets the precise status, the others an error */
    sl_dtype bad = th_rank == 0 ? (sl_dtype)42 : SL_F64;
    sl_status st = sl_darray_create(ctx, bad, 1, shape, SL_SCATTER, 0, NULL, NULL, &x);
    CHECK(th_rank == 0 ? st == SL_ERR_DTYPE : st == SL_ERR_ARG, "got %s", sl_strerror(st));
    /* gather with roots that differ between ranks */
    CHECK_OK(sl_darray_create(ctx, SL_F64, 1, shape, SL_SCATTER, 0, NULL, NULL, &x), ctx);
    double buf[10];
    CHECK_STATUS(sl_darray_gather(x, th_rank == 0 ? 0 : SL_ALL_RANKS, buf),
                 SL_ERR_RANK_MISMATCH, ctx);
    sl_darray_destroy(x);
}

static void test_operation_errors(sl_context *ctx)
{
    size_t shape[2] = {6, 4}, other[2] = {6, 5}, sizes[64];
    int mask[64];
    for (int r = 0; r < size; r++) mask[r] = r % 2;
    for (int r = 0; r < size; r++) sizes[r] = r == size - 1 ? 6 - (size_t)(size - 1) : 1;
    sl_darray *x, *f32, *wide, *bcast, *masked, *axis1, *uneven, *c;
    CHECK_OK(sl_darray_create(ctx, SL_F64, 2, shape, SL_SCATTER, 0, NULL, NULL, &x), ctx);
    CHECK_OK(sl_darray_create(ctx, SL_F32, 2, shape, SL_SCATTER, 0, NULL, NULL, &f32), ctx);
    CHECK_OK(sl_darray_create(ctx, SL_F64, 2, other, SL_SCATTER, 0, NULL, NULL, &wide), ctx);
    CHECK_OK(sl_darray_create(ctx, SL_F64, 2, shape, SL_BROADCAST, 0, NULL, NULL, &bcast), ctx);
    CHECK_OK(sl_darray_create(ctx, SL_F64, 2, shape, SL_SCATTER, 0, NULL, mask, &masked), ctx);
    CHECK_OK(sl_darray_create(ctx, SL_F64, 2, shape, SL_SCATTER, 1, NULL, NULL, &axis1), ctx);
    CHECK_OK(sl_darray_create(ctx, SL_F64, 2, shape, SL_SCATTER, 0, sizes, NULL, &uneven), ctx);
    CHECK_OK(sl_darray_create(ctx, SL_C128, 2, shape, SL_SCATTER, 0, NULL, NULL, &c), ctx);

    CHECK_STATUS(sl_darray_add(x, f32, x), SL_ERR_DTYPE, ctx);
    CHECK(strstr(sl_last_error(ctx), "float32") != NULL, "message: %s", sl_last_error(ctx));
    CHECK_STATUS(sl_darray_add(x, wide, x), SL_ERR_SHAPE, ctx);
    CHECK_STATUS(sl_darray_axpy(1.0, bcast, x), SL_ERR_PARTITION, ctx);
    CHECK_STATUS(sl_darray_copy(masked, x), SL_ERR_MASK, ctx);
    CHECK_STATUS(sl_darray_sub(x, axis1, x), SL_ERR_SHAPE, ctx);
    if (size > 1)
        CHECK_STATUS(sl_darray_multiply(x, uneven, x), SL_ERR_SHAPE, ctx);
    sl_scalar *s = NULL;
    CHECK_STATUS(sl_darray_dot(x, c, &s), SL_ERR_DTYPE, ctx);
    CHECK(s == NULL, "failed dot returned a scalar");
    CHECK_STATUS(sl_darray_scale(x, CMPLX(1.0, 2.0)), SL_ERR_DTYPE, ctx);
    CHECK_STATUS(sl_darray_fill(f32, CMPLX(0.0, 1.0)), SL_ERR_DTYPE, ctx);
    CHECK_OK(sl_darray_scale(c, CMPLX(1.0, 2.0)), ctx);
    CHECK_STATUS(sl_darray_norm(x, NAN, &s), SL_ERR_ARG, ctx);
    CHECK_STATUS(sl_darray_norm(x, -2.0, &s), SL_ERR_ARG, ctx);

    /* NULL everywhere */
    CHECK_STATUS(sl_darray_fill(NULL, 0), SL_ERR_NULL, ctx);
    CHECK_STATUS(sl_darray_copy(NULL, x), SL_ERR_NULL, ctx);
    CHECK_STATUS(sl_darray_axpby(1, x, 1, NULL), SL_ERR_NULL, ctx);
    CHECK_STATUS(sl_darray_add(x, NULL, x), SL_ERR_NULL, ctx);
    CHECK_STATUS(sl_darray_conj(NULL, x), SL_ERR_NULL, ctx);
    CHECK_STATUS(sl_darray_dot(x, x, NULL), SL_ERR_NULL, ctx);
    CHECK_STATUS(sl_darray_norm(NULL, 2, &s), SL_ERR_NULL, ctx);
    CHECK_STATUS(sl_darray_axpby_scalars(NULL, 1, NULL, NULL, 1, x), SL_ERR_NULL, ctx);
    CHECK_STATUS(sl_darray_from_global(x, NULL), SL_ERR_NULL, ctx);
    CHECK_STATUS(sl_darray_get_info(x, NULL), SL_ERR_NULL, ctx);
    CHECK_STATUS(sl_scalar_get(NULL, NULL), SL_ERR_NULL, ctx);
    CHECK_STATUS(sl_darray_destroy(NULL), SL_OK, ctx);
    CHECK_STATUS(sl_scalar_destroy(NULL), SL_OK, ctx);

    /* collective argument errors: the same verdict on every rank */
    double buf[24];
    CHECK_STATUS(sl_darray_gather(x, size, buf), SL_ERR_ARG, ctx);
    CHECK_STATUS(sl_darray_gather(x, -7, buf), SL_ERR_ARG, ctx);
    sl_status st = sl_darray_gather(x, 0, th_rank == 0 ? NULL : buf);
    CHECK(th_rank == 0 ? st == SL_ERR_NULL : st == SL_ERR_ARG, "gather NULL: %s",
          sl_strerror(st));
    CHECK_STATUS(sl_darray_add_ghost_cells(bcast, 1, 1, buf, 24), SL_ERR_PARTITION, ctx);
    CHECK_STATUS(sl_darray_add_ghost_cells(x, 0, 0, buf, 1), SL_ERR_ARG, ctx);
    sl_darray_destroy(x);
    sl_darray_destroy(f32);
    sl_darray_destroy(wide);
    sl_darray_destroy(bcast);
    sl_darray_destroy(masked);
    sl_darray_destroy(axis1);
    sl_darray_destroy(uneven);
    sl_darray_destroy(c);
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    size = th_ctx(ctx).size;
    test_create_errors(ctx);
    test_rank_disagreement(ctx);
    test_operation_errors(ctx);
    return th_end(ctx, "test_darray_errors");
}
