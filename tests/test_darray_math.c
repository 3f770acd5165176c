/* Elementwise operations and data movement of sl_darray against serial references computed
 * here on the full global arrays: every dtype, 1-d to 4-d, every axis, balanced and uneven
 * splits (including ranks with no rows). */
#include "harness.h"

typedef struct layout_case {
    int ndim;
    size_t shape[4];
} layout_case;

static const layout_case cases[] = {
    {1, {17}}, {1, {1}}, {1, {5}}, {2, {7, 5}}, {3, {4, 3, 5}}, {4, {3, 2, 4, 3}},
};

typedef struct fixture {
    sl_context *ctx;
    sl_dtype dt;
    int ndim, axis;
    const size_t *shape;
    const size_t *sizes; /* NULL: balanced */
    size_t n, row0, rows;
    cplx *gx, *gy; /* global references */
    sl_darray *x, *y, *z;
} fixture;

/* Rank 0 gets nothing and the last rank the most: the least friendly split. */
static void uneven_split(size_t n, int size, size_t *sizes)
{
    for (int r = 0; r < size; r++)
        sizes[r] = 0;
    if (size == 1) {
        sizes[0] = n;
        return;
    }
    size_t left = n;
    for (int r = 1; r < size; r++) {
        size_t share = left / (size_t)(size - r);
        sizes[r] = share;
        left -= share;
    }
    sizes[size - 1] += left;
}

/* Compares this rank's block of z with the reference global array ref. */
static void expect_block(fixture *f, const sl_darray *z, const cplx *ref, const char *what)
{
    size_t count = 0;
    count = th_info(z).local_size;
    void *raw = malloc(count * sl_dtype_size(f->dt) + 1);
    cplx *got = malloc(count * sizeof(cplx) + 1), *want = malloc(count * sizeof(cplx) + 1);
    CHECK_OK(sl_darray_to_local(z, raw), f->ctx);
    th_from_dtype(f->dt, raw, got, count);
    th_block(ref, f->ndim, f->shape, f->axis, f->row0, f->rows, want);
    double err = th_rel_err(got, want, count);
    CHECK(err <= th_tol(f->dt), "%s: %s ndim=%d axis=%d %s split: rel err %g", what,
          sl_dtype_name(f->dt), f->ndim, f->axis, f->sizes ? "uneven" : "balanced", err);
    free(raw);
    free(got);
    free(want);
}

static void expect_gather(fixture *f, const sl_darray *z, const cplx *ref)
{
    void *raw = malloc(f->n * sl_dtype_size(f->dt));
    cplx *got = malloc(f->n * sizeof(cplx));
    int size;
    size = th_ctx(f->ctx).size;
    for (int root = SL_ALL_RANKS; root < size; root += size) { /* all ranks, then rank 0 */
        int target = root == SL_ALL_RANKS ? SL_ALL_RANKS : 0;
        memset(raw, 0, f->n * sl_dtype_size(f->dt));
        CHECK_OK(sl_darray_gather(z, target, raw), f->ctx);
        if (target == SL_ALL_RANKS || th_rank == 0) {
            th_from_dtype(f->dt, raw, got, f->n);
            double err = th_rel_err(got, ref, f->n);
            CHECK(err <= th_tol(f->dt), "gather(root=%d) %s ndim=%d axis=%d: rel err %g",
                  target, sl_dtype_name(f->dt), f->ndim, f->axis, err);
        }
        if (root == 0)
            break;
    }
    free(raw);
    free(got);
}

/* z := global values g */
static void load(fixture *f, sl_darray *z, const cplx *g)
{
    void *raw = malloc(f->n * sl_dtype_size(f->dt));
    th_to_dtype(f->dt, g, raw, f->n);
    CHECK_OK(sl_darray_from_global(z, raw), f->ctx);
    free(raw);
}

static void run_ops(fixture *f)
{
    int cpx = sl_dtype_is_complex(f->dt);
    cplx alpha = cpx ? CMPLX(0.75, -1.25) : 0.75, beta = cpx ? CMPLX(-0.5, 2.0) : -0.5;
    cplx *ref = malloc(f->n * sizeof(cplx));
    sl_context *ctx = f->ctx;

    expect_block(f, f->x, f->gx, "from_global");
    expect_gather(f, f->x, f->gx);

    CHECK_OK(sl_darray_fill(f->z, alpha), ctx);
    for (size_t i = 0; i < f->n; i++) ref[i] = alpha;
    th_round(f->dt, ref, f->n);
    expect_block(f, f->z, ref, "fill");

    CHECK_OK(sl_darray_copy(f->x, f->z), ctx);
    expect_block(f, f->z, f->gx, "copy");

    CHECK_OK(sl_darray_scale(f->z, alpha), ctx);
    for (size_t i = 0; i < f->n; i++) ref[i] = alpha * f->gx[i];
    expect_block(f, f->z, ref, "scale");

    CHECK_OK(sl_darray_copy(f->y, f->z), ctx);
    CHECK_OK(sl_darray_axpy(alpha, f->x, f->z), ctx);
    for (size_t i = 0; i < f->n; i++) ref[i] = alpha * f->gx[i] + f->gy[i];
    expect_block(f, f->z, ref, "axpy");

    CHECK_OK(sl_darray_copy(f->y, f->z), ctx);
    CHECK_OK(sl_darray_axpby(alpha, f->x, beta, f->z), ctx);
    for (size_t i = 0; i < f->n; i++) ref[i] = alpha * f->gx[i] + beta * f->gy[i];
    expect_block(f, f->z, ref, "axpby");

    CHECK_OK(sl_darray_axpby(alpha, f->x, 0.0, f->z), ctx);
    for (size_t i = 0; i < f->n; i++) ref[i] = alpha * f->gx[i];
    expect_block(f, f->z, ref, "axpby beta=0");

    CHECK_OK(sl_darray_add(f->x, f->y, f->z), ctx);
    for (size_t i = 0; i < f->n; i++) ref[i] = f->gx[i] + f->gy[i];
    expect_block(f, f->z, ref, "add");

    CHECK_OK(sl_darray_sub(f->x, f->y, f->z), ctx);
    for (size_t i = 0; i < f->n; i++) ref[i] = f->gx[i] - f->gy[i];
    expect_block(f, f->z, ref, "sub");

    /* z = x - z with z aliasing the second operand */
    CHECK_OK(sl_darray_copy(f->y, f->z), ctx);
    CHECK_OK(sl_darray_sub(f->x, f->z, f->z), ctx);
    expect_block(f, f->z, ref, "sub aliasing the output");

    CHECK_OK(sl_darray_multiply(f->x, f->y, f->z), ctx);
    for (size_t i = 0; i < f->n; i++) ref[i] = f->gx[i] * f->gy[i];
    expect_block(f, f->z, ref, "multiply");

    CHECK_OK(sl_darray_multiply(f->x, f->x, f->z), ctx);
    for (size_t i = 0; i < f->n; i++) ref[i] = f->gx[i] * f->gx[i];
    expect_block(f, f->z, ref, "multiply x*x");

    CHECK_OK(sl_darray_copy(f->x, f->z), ctx);
    CHECK_OK(sl_darray_add(f->z, f->z, f->z), ctx);
    for (size_t i = 0; i < f->n; i++) ref[i] = 2.0 * f->gx[i];
    expect_block(f, f->z, ref, "add all aliased");

    CHECK_OK(sl_darray_conj(f->x, f->z), ctx);
    for (size_t i = 0; i < f->n; i++) ref[i] = conj(f->gx[i]);
    expect_block(f, f->z, ref, "conj");
    expect_gather(f, f->z, ref);
    free(ref);
}

static void run_case(sl_context *ctx, sl_dtype dt, const layout_case *c, int axis, int uneven)
{
    int size;
    size = th_ctx(ctx).size;
    size_t sizes[64];
    fixture f = {.ctx = ctx, .dt = dt, .ndim = c->ndim, .axis = axis, .shape = c->shape};
    f.n = th_prod(c->shape, c->ndim);
    if (uneven) {
        uneven_split(c->shape[axis], size, sizes);
        f.sizes = sizes;
    }
    f.gx = malloc(f.n * sizeof(cplx));
    f.gy = malloc(f.n * sizeof(cplx));
    th_random(f.gx, f.n, sl_dtype_is_complex(dt), 11 + (uint64_t)axis);
    th_random(f.gy, f.n, sl_dtype_is_complex(dt), 97 + (uint64_t)c->ndim);
    th_round(dt, f.gx, f.n);
    th_round(dt, f.gy, f.n);
    CHECK_OK(sl_darray_create(ctx, dt, c->ndim, c->shape, SL_SCATTER, axis, f.sizes, NULL, &f.x),
             ctx);
    CHECK_OK(sl_darray_create_like(f.x, &f.y), ctx);
    CHECK_OK(sl_darray_create_like(f.x, &f.z), ctx);
    if (f.x && f.y && f.z) {
        f.row0 = th_info(f.x).local_offset;
        size_t ls[4];
        memcpy(ls, th_info(f.x).local_shape, (size_t)th_info(f.x).ndim * sizeof(size_t));
        f.rows = ls[axis];
        load(&f, f.x, f.gx);
        load(&f, f.y, f.gy);
        run_ops(&f);
    }
    sl_darray_destroy(f.x);
    sl_darray_destroy(f.y);
    sl_darray_destroy(f.z);
    free(f.gx);
    free(f.gy);
}

/* Broadcast arrays: every rank holds the whole array; from_global takes rank 0's values. */
static void run_broadcast(sl_context *ctx, sl_dtype dt)
{
    size_t shape[2] = {6, 3}, n = 18;
    cplx *g = malloc(n * sizeof(cplx)), *got = malloc(n * sizeof(cplx));
    void *raw = malloc(n * sl_dtype_size(dt));
    th_random(g, n, sl_dtype_is_complex(dt), 5);
    th_round(dt, g, n);
    sl_darray *b = NULL;
    CHECK_OK(sl_darray_create(ctx, dt, 2, shape, SL_BROADCAST, 1, NULL, NULL, &b), ctx);
    th_to_dtype(dt, g, raw, n);
    if (th_rank != 0)
        memset(raw, 0, n * sl_dtype_size(dt)); /* only rank 0's copy counts */
    CHECK_OK(sl_darray_from_global(b, raw), ctx);
    CHECK_OK(sl_darray_scale(b, 2.0), ctx);
    CHECK_OK(sl_darray_to_local(b, raw), ctx);
    th_from_dtype(dt, raw, got, n);
    for (size_t i = 0; i < n; i++) g[i] *= 2.0;
    CHECK(th_rel_err(got, g, n) <= th_tol(dt), "broadcast scale %s", sl_dtype_name(dt));
    sl_darray_destroy(b);
    free(g);
    free(got);
    free(raw);
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    for (int d = 0; d < 4; d++) {
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
            for (int axis = 0; axis < cases[c].ndim; axis++)
                for (int uneven = 0; uneven < 2; uneven++)
                    run_case(ctx, th_dtypes[d], &cases[c], axis, uneven);
        run_broadcast(ctx, th_dtypes[d]);
    }
    return th_end(ctx, "test_darray_math");
}
