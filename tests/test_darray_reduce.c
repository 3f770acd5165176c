/* Reductions (dot, vdot, norms of every order) against serial references on the global array,
 * masks (colour groups reduce separately), broadcast arrays (local result), scalar futures
 * consumed by later tasks, and ghost cells. */
#include "harness.h"

static double ref_norm(const cplx *v, size_t n, double ord)
{
    if (isinf(ord)) {
        double m = ord > 0 ? 0 : INFINITY;
        for (size_t i = 0; i < n; i++)
            m = ord > 0 ? fmax(m, cabs(v[i])) : fmin(m, cabs(v[i]));
        return m;
    }
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += ord == 0 ? (v[i] != 0) : pow(cabs(v[i]), ord);
    return ord == 0 ? s : pow(s, 1.0 / ord);
}

static double red_tol(sl_dtype dt)
{
    return (dt == SL_F32 || dt == SL_C64) ? 1e-6 : 1e-13;
}

static sl_darray *make(sl_context *ctx, sl_dtype dt, int ndim, const size_t *shape, int axis,
                       const size_t *sizes, const int *mask, const cplx *g)
{
    sl_darray *x = NULL;
    CHECK_OK(sl_darray_create(ctx, dt, ndim, shape, SL_SCATTER, axis, sizes, mask, &x), ctx);
    size_t n = th_prod(shape, ndim);
    void *raw = malloc(n * sl_dtype_size(dt));
    th_to_dtype(dt, g, raw, n);
    if (x)
        CHECK_OK(sl_darray_from_global(x, raw), ctx);
    free(raw);
    return x;
}

static void expect_scalar(sl_context *ctx, sl_scalar *s, cplx want, double tol, const char *what,
                          sl_dtype dt)
{
    cplx got = 0;
    CHECK_OK(sl_scalar_get(s, &got), ctx);
    double err = cabs(got - want) / fmax(1.0, cabs(want));
    CHECK(err <= tol, "%s %s: got %.17g%+.17gi want %.17g%+.17gi", what, sl_dtype_name(dt),
          creal(got), cimag(got), creal(want), cimag(want));
    sl_scalar_destroy(s);
}

static void test_reductions(sl_context *ctx, sl_dtype dt, int ndim, const size_t *shape, int axis)
{
    size_t n = th_prod(shape, ndim);
    cplx *gx = calloc(n, sizeof(cplx)), *gy = calloc(n, sizeof(cplx));
    th_random(gx, n, sl_dtype_is_complex(dt), 3 + (uint64_t)axis);
    th_random(gy, n, sl_dtype_is_complex(dt), 7);
    th_round(dt, gx, n);
    th_round(dt, gy, n);
    gx[n / 2] = 0; /* so that ord 0 counts something */
    sl_darray *x = make(ctx, dt, ndim, shape, axis, NULL, NULL, gx);
    sl_darray *y = make(ctx, dt, ndim, shape, axis, NULL, NULL, gy);
    cplx dot = 0, vdot = 0;
    for (size_t i = 0; i < n; i++) {
        dot += gx[i] * gy[i];
        vdot += conj(gx[i]) * gy[i];
    }
    sl_scalar *s = NULL;
    CHECK_OK(sl_darray_dot(x, y, &s), ctx);
    if (s) expect_scalar(ctx, s, dot, red_tol(dt), "dot", dt);
    CHECK_OK(sl_darray_vdot(x, y, &s), ctx);
    if (s) expect_scalar(ctx, s, vdot, red_tol(dt), "vdot", dt);
    CHECK_OK(sl_darray_vdot(x, x, &s), ctx);
    if (s) expect_scalar(ctx, s, pow(ref_norm(gx, n, 2), 2), red_tol(dt), "vdot(x,x)", dt);
    const double ords[] = {2, 1, 0, 3.5, 0.5, INFINITY, -INFINITY};
    for (size_t k = 0; k < sizeof ords / sizeof ords[0]; k++) {
        CHECK_OK(sl_darray_norm(x, ords[k], &s), ctx);
        char what[64];
        snprintf(what, sizeof what, "norm ord=%g ndim=%d axis=%d", ords[k], ndim, axis);
        if (s) expect_scalar(ctx, s, ref_norm(gx, n, ords[k]), red_tol(dt), what, dt);
    }
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    free(gx);
    free(gy);
}

/* The scalar future of a dot product feeds an axpy task without the host reading it. */
static void test_scalar_future(sl_context *ctx, sl_dtype dt)
{
    size_t shape[1] = {23}, n = 23;
    cplx *gx = malloc(n * sizeof(cplx)), *gy = malloc(n * sizeof(cplx));
    th_random(gx, n, sl_dtype_is_complex(dt), 1);
    th_random(gy, n, sl_dtype_is_complex(dt), 2);
    th_round(dt, gx, n);
    th_round(dt, gy, n);
    sl_darray *x = make(ctx, dt, 1, shape, 0, NULL, NULL, gx);
    sl_darray *y = make(ctx, dt, 1, shape, 0, NULL, NULL, gy);
    sl_scalar *d = NULL;
    CHECK_OK(sl_darray_vdot(x, y, &d), ctx);
    cplx alpha = 0;
    for (size_t i = 0; i < n; i++) alpha += conj(gx[i]) * gy[i];
    CHECK_OK(sl_darray_axpby_scalars(d, -1.0, x, NULL, 1.0, y), ctx); /* y -= <x,y> x */
    sl_scalar *check = NULL;
    CHECK_OK(sl_darray_norm(y, 2, &check), ctx);
    for (size_t i = 0; i < n; i++) gy[i] -= alpha * gx[i];
    if (check) expect_scalar(ctx, check, ref_norm(gy, n, 2), 5 * red_tol(dt), "axpy_scalar", dt);
    sl_scalar_destroy(d);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    free(gx);
    free(gy);
}

/* Masks: ranks of the same colour reduce together (colour = rank % 2). */
static void test_mask(sl_context *ctx, sl_dtype dt)
{
    int size;
    size = th_ctx(ctx).size;
    int mask[64];
    for (int r = 0; r < size; r++) mask[r] = r % 2;
    size_t shape[2] = {11, 3}, n = 33, sizes[64];
    for (int r = 0; r < size; r++) sizes[r] = 11 / (size_t)size + ((size_t)r < 11 % (size_t)size);
    cplx *g = malloc(n * sizeof(cplx));
    th_random(g, n, sl_dtype_is_complex(dt), 9);
    th_round(dt, g, n);
    sl_darray *x = make(ctx, dt, 2, shape, 0, sizes, mask, g);
    /* reference: the rows held by ranks of my colour */
    double s2 = 0;
    size_t row = 0;
    for (int r = 0; r < size; r++) {
        for (size_t i = row * 3; i < (row + sizes[r]) * 3; i++)
            if (mask[r] == mask[th_rank]) s2 += pow(cabs(g[i]), 2);
        row += sizes[r];
    }
    sl_scalar *s = NULL;
    CHECK_OK(sl_darray_norm(x, 2, &s), ctx);
    if (s) expect_scalar(ctx, s, sqrt(s2), red_tol(dt), "masked norm", dt);
    sl_darray_destroy(x);
    free(g);
}

/* Broadcast arrays reduce their own copy: no cross-rank sum. */
static void test_broadcast(sl_context *ctx, sl_dtype dt)
{
    size_t shape[1] = {9}, n = 9;
    cplx *g = malloc(n * sizeof(cplx));
    th_random(g, n, sl_dtype_is_complex(dt), 4);
    th_round(dt, g, n);
    void *raw = malloc(n * sl_dtype_size(dt));
    th_to_dtype(dt, g, raw, n);
    sl_darray *b = NULL;
    CHECK_OK(sl_darray_create(ctx, dt, 1, shape, SL_BROADCAST, 0, NULL, NULL, &b), ctx);
    CHECK_OK(sl_darray_from_global(b, raw), ctx);
    sl_scalar *s = NULL;
    CHECK_OK(sl_darray_norm(b, 1, &s), ctx);
    if (s) expect_scalar(ctx, s, ref_norm(g, n, 1), red_tol(dt), "broadcast norm1", dt);
    sl_darray_destroy(b);
    free(raw);
    free(g);
}

/* Ghost cells: my block with `front` rows of the previous rank and `back` of the next. */
static void test_ghosts(sl_context *ctx, sl_dtype dt, int axis)
{
    int size;
    size = th_ctx(ctx).size;
    size_t shape[3] = {3, 4 * (size_t)size + 1, 2}, n = th_prod(shape, 3);
    cplx *g = malloc(n * sizeof(cplx));
    th_random(g, n, sl_dtype_is_complex(dt), 21);
    th_round(dt, g, n);
    size_t sh[3] = {shape[0], shape[1], shape[2]};
    if (axis != 1) { sh[axis] = shape[1]; sh[1] = shape[axis]; }
    sl_darray *x = make(ctx, dt, 3, sh, axis, NULL, NULL, g);
    size_t front = 2, back = 1, row0, ls[3];
    row0 = th_info(x).local_offset;
    memcpy(ls, th_info(x).local_shape, (size_t)th_info(x).ndim * sizeof(size_t));
    size_t f = th_rank > 0 ? front : 0, b = th_rank + 1 < size ? back : 0;
    size_t rows = f + ls[axis] + b, cnt = n / sh[axis] * rows;
    void *raw = malloc(cnt * sl_dtype_size(dt));
    cplx *got = malloc(cnt * sizeof(cplx)), *want = malloc(cnt * sizeof(cplx));
    CHECK_OK(sl_darray_add_ghost_cells(x, front, back, raw, cnt), ctx);
    th_from_dtype(dt, raw, got, cnt);
    th_block(g, 3, sh, axis, row0 - f, rows, want);
    CHECK(th_rel_err(got, want, cnt) == 0, "ghost cells %s axis=%d: err %g", sl_dtype_name(dt), axis, th_rel_err(got, want, cnt));
    /* a width larger than a neighbour's block fails on every rank */
    sl_status st = sl_darray_add_ghost_cells(x, 100, 0, raw, cnt);
    CHECK(size == 1 || st == SL_ERR_SHAPE, "oversized ghost width: %s", sl_strerror(st));
    sl_darray_destroy(x);
    free(raw); free(got); free(want); free(g);
}

/* Reference: norms of a C-order (pre, len, post) array along its middle axis. */
static void ref_norm_axis(const cplx *v, size_t pre, size_t len, size_t post, double ord,
                          double *out)
{
    cplx *line = malloc(len * sizeof(cplx) + 1);
    for (size_t a = 0; a < pre; a++)
        for (size_t b = 0; b < post; b++) {
            for (size_t k = 0; k < len; k++)
                line[k] = v[(a * len + k) * post + b];
            out[a * post + b] = ref_norm(line, len, ord);
        }
    free(line);
}

static void test_norm_axis(sl_context *ctx, sl_dtype dt, int dist_axis, int axis)
{
    size_t shape[3] = {4, 7, 3}, n = 84;
    cplx *g = malloc(n * sizeof(cplx));
    th_random(g, n, sl_dtype_is_complex(dt), 17);
    th_round(dt, g, n);
    g[5] = 0;
    sl_darray *x = make(ctx, dt, 3, shape, dist_axis, NULL, NULL, g);
    size_t ls[3], row0;
    memcpy(ls, th_info(x).local_shape, (size_t)th_info(x).ndim * sizeof(size_t));
    row0 = th_info(x).local_offset;
    /* the reference array: global along the distributed axis, else this rank's block */
    const size_t *sh = axis == dist_axis ? shape : ls;
    size_t cnt = th_prod(sh, 3);
    cplx *src = malloc(cnt * sizeof(cplx) + 1);
    if (axis == dist_axis)
        memcpy(src, g, n * sizeof(cplx));
    else
        th_block(g, 3, shape, dist_axis, row0, ls[dist_axis], src);
    size_t pre = 1, post = 1;
    for (int d = 0; d < axis; d++) pre *= sh[d];
    for (int d = axis + 1; d < 3; d++) post *= sh[d];
    double *got = malloc(pre * post * sizeof(double) + 8), *want = malloc(pre * post * 8 + 8);
    const double ords[] = {2, 1, 0, 3, INFINITY, -INFINITY};
    for (size_t k = 0; k < sizeof ords / sizeof ords[0]; k++) {
        CHECK_OK(sl_darray_norm_axis(x, ords[k], axis, got, pre * post), ctx);
        ref_norm_axis(src, pre, sh[axis], post, ords[k], want);
        double err = 0;
        for (size_t i = 0; i < pre * post; i++)
            err = fmax(err, fabs(got[i] - want[i]) / fmax(1, fabs(want[i])));
        CHECK(err <= red_tol(dt), "norm_axis %s ord=%g dist axis %d axis %d: err %g",
              sl_dtype_name(dt), ords[k], dist_axis, axis, err);
    }
    if (pre * post > 0)
        CHECK_STATUS(sl_darray_norm_axis(x, 2, axis, got, pre * post - 1), SL_ERR_ARG, ctx);
    CHECK_STATUS(sl_darray_norm_axis(x, 2, 3, got, pre * post), SL_ERR_SHAPE, ctx);
    sl_darray_destroy(x);
    free(g); free(src); free(got); free(want);
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    size_t s1[1] = {29}, s1small[1] = {2}, s3[3] = {3, 5, 4};
    for (int d = 0; d < 4; d++) {
        sl_dtype dt = th_dtypes[d];
        test_reductions(ctx, dt, 1, s1, 0);
        test_reductions(ctx, dt, 1, s1small, 0); /* some ranks hold nothing */
        for (int axis = 0; axis < 3; axis++)
            test_reductions(ctx, dt, 3, s3, axis);
        test_scalar_future(ctx, dt);
        test_mask(ctx, dt);
        test_broadcast(ctx, dt);
        for (int axis = 0; axis < 3; axis++)
            test_ghosts(ctx, dt, axis);
        for (int dist = 0; dist < 3; dist++)
            for (int axis = 0; axis < 3; axis++)
                test_norm_axis(ctx, dt, dist, axis);
    }
    return th_end(ctx, "test_darray_reduce");
}
