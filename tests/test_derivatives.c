/* Derivative operators against serial references written here from PyLops' formulas (every
 * kind, order and edge; every derivative axis and every distributed axis of 1-d to 3-d arrays;
 * even and uneven splits, including ranks too thin for the stencil, which must fail cleanly),
 * with adjoints checked against the transposed dense matrix of the reference and dot tests.
 * Laplacian and Gradient are checked as sums and stacks of the references. */
#include "harness.h"

#include <starlops/derivatives.h>

typedef struct variant {
    int second;         /* 0: first derivative, 1: second */
    sl_deriv_kind kind; /* centered, forward, backward */
    int order, edge;
} variant;

/* ---- the serial reference: PyLops' _matvec_* on one line ---- */

static void first_line(const variant *v, const cplx *x, cplx *y, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = 0;
    if (v->kind == SL_DERIV_FORWARD) {
        for (size_t i = 0; i + 1 < n; i++) y[i] = x[i + 1] - x[i];
    } else if (v->kind == SL_DERIV_BACKWARD) {
        for (size_t i = 1; i < n; i++) y[i] = x[i] - x[i - 1];
    } else if (v->order == 3) {
        for (size_t i = 1; i + 1 < n; i++) y[i] = 0.5 * (x[i + 1] - x[i - 1]);
        if (v->edge) {
            y[0] = x[1] - x[0];
            y[n - 1] = x[n - 1] - x[n - 2];
        }
    } else {
        for (size_t i = 2; i + 2 < n; i++)
            y[i] = x[i - 2] / 12.0 - 2.0 * x[i - 1] / 3.0 + 2.0 * x[i + 1] / 3.0 - x[i + 2] / 12.0;
        if (v->edge) {
            y[0] = x[1] - x[0];
            y[1] = 0.5 * (x[2] - x[0]);
            y[n - 2] = 0.5 * (x[n - 1] - x[n - 3]);
            y[n - 1] = x[n - 1] - x[n - 2];
        }
    }
}

static void second_line(const variant *v, const cplx *x, cplx *y, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = 0;
    if (v->kind == SL_DERIV_FORWARD) {
        for (size_t i = 0; i + 2 < n; i++) y[i] = x[i] - 2.0 * x[i + 1] + x[i + 2];
    } else if (v->kind == SL_DERIV_BACKWARD) {
        for (size_t i = 2; i < n; i++) y[i] = x[i - 2] - 2.0 * x[i - 1] + x[i];
    } else {
        for (size_t i = 1; i + 1 < n; i++) y[i] = x[i + 1] - 2.0 * x[i] + x[i - 1];
        if (v->edge) {
            y[0] = x[0] - 2.0 * x[1] + x[2];
            y[n - 1] = x[n - 3] - 2.0 * x[n - 2] + x[n - 1];
        }
    }
}

/* The line operator as a dense n x n matrix (column j = operator applied to e_j), scaled. */
static cplx *line_matrix(const variant *v, size_t n, double sampling)
{
    cplx *a = calloc(n * n, sizeof(cplx)), *e = calloc(n, sizeof(cplx)), *col = malloc(n * sizeof(cplx));
    double f = v->second ? 1.0 / (sampling * sampling) : 1.0 / sampling;
    for (size_t j = 0; j < n; j++) {
        e[j] = 1;
        (v->second ? second_line : first_line)(v, e, col, n);
        e[j] = 0;
        for (size_t i = 0; i < n; i++) a[i * n + j] = f * col[i];
    }
    free(e);
    free(col);
    return a;
}

/* y (+)= A x along `axis` of a C-order array (A^T when adjoint: the coefficients are real). */
static void apply_along(const cplx *a, int adjoint, int ndim, const size_t *shape, int axis,
                        const cplx *x, cplx *y, int accumulate)
{
    size_t n = shape[axis], outer = th_prod(shape, axis), inner = th_prod(shape + axis + 1, ndim - axis - 1);
    for (size_t o = 0; o < outer; o++)
        for (size_t in = 0; in < inner; in++)
            for (size_t i = 0; i < n; i++) {
                cplx s = 0;
                for (size_t j = 0; j < n; j++)
                    s += (adjoint ? a[j * n + i] : a[i * n + j]) * x[(o * n + j) * inner + in];
                size_t k = (o * n + i) * inner + in;
                y[k] = accumulate ? y[k] + s : s;
            }
}

/* ---- distributed side ---- */

typedef struct layout {
    int ndim, axis; /* distributed axis */
    size_t shape[3];
    int uneven;
} layout;

static void split(sl_context *ctx, const layout *l, size_t *sizes)
{
    int size = 1;
    size = th_ctx(ctx).size;
    size_t n = l->shape[l->axis];
    for (int r = 0; r < size; r++) sizes[r] = n / (size_t)size + ((size_t)r < n % (size_t)size);
    if (l->uneven && size > 1) { /* rank 0 empty, the last rank the heaviest */
        sizes[size - 1] += sizes[0];
        sizes[0] = 0;
    }
}

static sl_darray *make_array(sl_context *ctx, sl_dtype dt, const layout *l, const cplx *g)
{
    size_t sizes[64];
    split(ctx, l, sizes);
    sl_darray *x = NULL;
    CHECK_OK(sl_darray_create(ctx, dt, l->ndim, l->shape, SL_SCATTER, l->axis, sizes, NULL, &x), ctx);
    if (x && g) {
        size_t n = th_prod(l->shape, l->ndim);
        void *raw = malloc(n * sl_dtype_size(dt));
        th_to_dtype(dt, g, raw, n);
        CHECK_OK(sl_darray_from_global(x, raw), ctx);
        free(raw);
    }
    return x;
}

static void gather(sl_context *ctx, sl_dtype dt, const sl_darray *x, cplx *g, size_t n)
{
    void *raw = malloc(n * sl_dtype_size(dt));
    CHECK_OK(sl_darray_gather(x, SL_ALL_RANKS, raw), ctx);
    th_from_dtype(dt, raw, g, n);
    free(raw);
}

static int single(sl_dtype dt) { return dt == SL_F32 || dt == SL_C64; }

/* Rows the stencil reads beyond a block along its axis. */
static size_t margin(const variant *v)
{
    if (!v->second) return v->kind == SL_DERIV_CENTERED && v->order == 5 ? 2 : 1;
    return v->kind != SL_DERIV_CENTERED || v->edge ? 2 : 1;
}

/* Whether the split leaves a rank holding rows, but fewer than the stencil needs. */
static int too_thin(sl_context *ctx, const layout *l, size_t m)
{
    int size = 1, holders = 0, thin = 0;
    size = th_ctx(ctx).size;
    size_t sizes[64];
    split(ctx, l, sizes);
    for (int r = 0; r < size; r++) {
        holders += sizes[r] > 0;
        thin |= sizes[r] > 0 && sizes[r] < m;
    }
    return holders > 1 && thin;
}

/* Forward and adjoint of op against `apply_ref`, then the dot test. */
typedef void (*ref_fn)(const void *ctx_ref, int adjoint, const cplx *x, cplx *y);

static void compare(sl_context *ctx, sl_dtype dt, const layout *l, const sl_op *op,
                    ref_fn ref, const void *ref_ctx, const char *what)
{
    size_t n = th_prod(l->shape, l->ndim);
    cplx *gx = malloc(n * sizeof(cplx)), *want = malloc(n * sizeof(cplx)), *got = malloc(n * sizeof(cplx));
    for (int adjoint = 0; adjoint < 2; adjoint++) {
        th_random(gx, n, sl_dtype_is_complex(dt), 100 + (uint64_t)adjoint);
        th_round(dt, gx, n);
        ref(ref_ctx, adjoint, gx, want);
        sl_darray *x = make_array(ctx, dt, l, gx), *y = make_array(ctx, dt, l, NULL);
        CHECK_OK(adjoint ? sl_op_rmatvec(op, x, y) : sl_op_matvec(op, x, y), ctx);
        gather(ctx, dt, y, got, n);
        double e = th_rel_err(got, want, n);
        CHECK(e <= 20 * th_tol(dt), "%s %s %s: rel err %g", what, adjoint ? "adjoint" : "forward",
              sl_dtype_name(dt), e);
        sl_darray_destroy(x);
        sl_darray_destroy(y);
    }
    int passed = 0;
    double err = 0;
    CHECK_OK(sl_dottest(op, single(dt) ? 1e-5 : 1e-12, &passed, &err), ctx);
    CHECK(passed, "%s dottest %s: err %g", what, sl_dtype_name(dt), err);
    free(gx);
    free(want);
    free(got);
}

typedef struct single_ref {
    const layout *l;
    int axis;
    const cplx *a; /* dense line matrix */
} single_ref;

static void single_apply(const void *p, int adjoint, const cplx *x, cplx *y)
{
    const single_ref *r = p;
    apply_along(r->a, adjoint, r->l->ndim, r->l->shape, r->axis, x, y, 0);
}

static void test_variant(sl_context *ctx, sl_dtype dt, const layout *l, int axis,
                         const variant *v)
{
    double sampling = v->second ? 0.5 : 1.3;
    sl_darray *like = make_array(ctx, dt, l, NULL);
    sl_op *op = NULL;
    sl_status st = v->second ? sl_op_second_derivative(like, axis, v->kind, v->edge, sampling, &op)
                             : sl_op_first_derivative(like, axis, v->kind, v->order, v->edge, sampling, &op);
    char what[160];
    snprintf(what, sizeof what, "%s kind %d order %d edge %d, shape %zux%zux%zu (%d-d) split "
             "on axis %d%s, derivative axis %d", v->second ? "SecondDerivative" : "FirstDerivative",
             (int)v->kind, v->order, v->edge, l->shape[0], l->ndim > 1 ? l->shape[1] : 1,
             l->ndim > 2 ? l->shape[2] : 1, l->ndim, l->axis, l->uneven ? " (uneven)" : "", axis);
    if (axis == l->axis && too_thin(ctx, l, margin(v))) {
        CHECK(st == SL_ERR_SHAPE && !op && strstr(sl_last_error(ctx), "fewer than"),
              "%s: expected a thin-rank error, got %d: %s", what, (int)st, sl_last_error(ctx));
    } else {
        CHECK_OK(st, ctx);
        if (op) {
            cplx *a = line_matrix(v, l->shape[axis], sampling);
            single_ref r = {l, axis, a};
            compare(ctx, dt, l, op, single_apply, &r, what);
            free(a);
        }
    }
    sl_op_destroy(op);
    sl_darray_destroy(like);
}

static const variant variants[] = {
    {0, SL_DERIV_CENTERED, 3, 0}, {0, SL_DERIV_CENTERED, 3, 1}, {0, SL_DERIV_CENTERED, 5, 0},
    {0, SL_DERIV_CENTERED, 5, 1}, {0, SL_DERIV_FORWARD, 3, 0},  {0, SL_DERIV_FORWARD, 3, 1},
    {0, SL_DERIV_BACKWARD, 3, 0}, {0, SL_DERIV_BACKWARD, 5, 1}, {1, SL_DERIV_CENTERED, 3, 0},
    {1, SL_DERIV_CENTERED, 3, 1}, {1, SL_DERIV_FORWARD, 3, 0},  {1, SL_DERIV_FORWARD, 3, 1},
    {1, SL_DERIV_BACKWARD, 3, 0}, {1, SL_DERIV_BACKWARD, 3, 1},
};
#define NVARIANTS ((int)(sizeof variants / sizeof variants[0]))

static const layout layouts[] = {
    {1, 0, {13, 0, 0}, 0}, {2, 0, {7, 9, 0}, 0}, {2, 1, {7, 9, 0}, 0},
    {3, 0, {6, 5, 7}, 0}, {3, 1, {6, 5, 7}, 0}, {3, 2, {6, 5, 7}, 0},
    {1, 0, {13, 0, 0}, 1}, {2, 1, {7, 9, 0}, 1}, {3, 0, {6, 5, 7}, 1},
    {1, 0, {5, 0, 0}, 0}, /* 5 samples over up to 4 ranks: blocks of 1 and 2 rows */
    /* rows of >= 1024 reals: the Laplacian goes row by row (the fused path) */
    {3, 0, {10, 9, 130}, 0}, {3, 1, {3, 8, 1030}, 0},
    /* and rows long enough to be cut into blocks of lines (a last block shorter or not) */
    {3, 0, {3, 40, 1000}, 0},
};
#define NLAYOUTS ((int)(sizeof layouts / sizeof layouts[0]))

static void test_derivatives(sl_context *ctx)
{
    for (int d = 0; d < 4; d++) {
        sl_dtype dt = th_dtypes[d];
        for (int li = 0; li < NLAYOUTS; li++)
            for (int axis = 0; axis < layouts[li].ndim; axis++)
                for (int vi = 0; vi < NVARIANTS; vi++) {
                    /* every variant and layout in float64; the other dtypes on the variants
                     * with edge rows, on the 3-d layouts split along the first and last axes
                     * and on an uneven split (the kernels differ only by element type) */
                    if (dt != SL_F64 && (!variants[vi].edge || (li != 3 && li != 5 && li != 6)))
                        continue;
                    if (li >= 10) /* the large layouts are there for the Laplacian */
                        continue;
                    test_variant(ctx, dt, &layouts[li], axis, &variants[vi]);
                }
    }
}

/* ---- Laplacian and Gradient ---- */

typedef struct laplacian_ref {
    const layout *l;
    int naxes, axes[3];
    double weights[3];
    cplx *a[3];
} laplacian_ref;

static void laplacian_apply(const void *p, int adjoint, const cplx *x, cplx *y)
{
    const laplacian_ref *r = p;
    size_t n = th_prod(r->l->shape, r->l->ndim);
    cplx *tmp = malloc(n * sizeof(cplx));
    for (size_t i = 0; i < n; i++) y[i] = 0;
    for (int k = 0; k < r->naxes; k++) {
        apply_along(r->a[k], adjoint, r->l->ndim, r->l->shape, r->axes[k], x, tmp, 0);
        for (size_t i = 0; i < n; i++) y[i] += r->weights[k] * tmp[i];
    }
    free(tmp);
}

static void test_laplacian(sl_context *ctx, sl_dtype dt, const layout *l, int edge,
                           sl_deriv_kind kind)
{
    int axes[3] = {0, 1, 2};
    double weights[3] = {1.0, 2.0, -0.5}, sampling[3] = {0.5, 1.0, 2.0};
    laplacian_ref r = {l, l->ndim, {0, 1, 2}, {1.0, 2.0, -0.5}, {NULL, NULL, NULL}};
    variant v = {1, kind, 3, edge};
    for (int k = 0; k < l->ndim; k++) r.a[k] = line_matrix(&v, l->shape[k], sampling[k]);
    sl_darray *like = make_array(ctx, dt, l, NULL);
    sl_op *op = NULL;
    sl_status st = sl_op_laplacian(like, l->ndim, axes, weights, sampling, edge, kind, &op);
    char what[96];
    snprintf(what, sizeof what, "Laplacian kind %d edge %d (%d-d, split on axis %d)", (int)kind,
             edge, l->ndim, l->axis);
    if (too_thin(ctx, l, margin(&v)))
        CHECK(st == SL_ERR_SHAPE && !op, "%s: expected a thin-rank error: %s", what, sl_last_error(ctx));
    else
        CHECK_OK(st, ctx);
    if (op) compare(ctx, dt, l, op, laplacian_apply, &r, what);
    for (int k = 0; k < l->ndim; k++) free(r.a[k]);
    sl_op_destroy(op);
    sl_darray_destroy(like);
}

static void test_gradient(sl_context *ctx, sl_dtype dt, const layout *l)
{
    size_t n = th_prod(l->shape, l->ndim);
    double sampling[3] = {1.0, 0.5, 2.0};
    variant v = {0, SL_DERIV_CENTERED, 3, 1};
    sl_darray *like = make_array(ctx, dt, l, NULL);
    sl_op *op = NULL;
    CHECK_OK(sl_op_gradient(like, sampling, 1, SL_DERIV_CENTERED, &op), ctx);
    if (!op) { sl_darray_destroy(like); return; }
    sl_op_info oi = {0};
    sl_op_get_info(op, &oi);
    CHECK(oi.model_parts == 0 && oi.data_parts == (int)l->ndim, "Gradient: model parts %d, "
          "data parts %d", oi.model_parts, oi.data_parts);
    cplx *gx = malloc(n * sizeof(cplx)), *want = malloc(l->ndim * n * sizeof(cplx));
    cplx *got = malloc(l->ndim * n * sizeof(cplx));
    th_random(gx, n, sl_dtype_is_complex(dt), 7);
    th_round(dt, gx, n);
    for (int k = 0; k < l->ndim; k++) {
        cplx *a = line_matrix(&v, l->shape[k], sampling[k]);
        apply_along(a, 0, l->ndim, l->shape, k, gx, want + k * n, 0);
        free(a);
    }
    sl_darray *x = make_array(ctx, dt, l, gx);
    sl_darray *y = NULL;
    CHECK_OK(sl_op_create_data(op, &y), ctx);
    sl_darray *xs = NULL;
    CHECK_OK(sl_darray_stack(1, &x, &xs), ctx);
    CHECK_OK(sl_op_matvec(op, xs, y), ctx);
    for (int k = 0; k < l->ndim; k++) {
        sl_darray *c = NULL;
        sl_darray_stack_part(y, k, &c);
        gather(ctx, dt, c, got + k * n, n);
    }
    double e = th_rel_err(got, want, l->ndim * n);
    CHECK(e <= 20 * th_tol(dt), "Gradient forward %s (%d-d): rel err %g", sl_dtype_name(dt), l->ndim, e);
    int passed = 0;
    double err = 0;
    CHECK_OK(sl_dottest(op, single(dt) ? 1e-5 : 1e-12, &passed, &err), ctx);
    CHECK(passed, "Gradient dottest %s: %g", sl_dtype_name(dt), err);
    sl_darray_destroy(xs);
    sl_darray_destroy(y);
    sl_darray_destroy(x);
    sl_op_destroy(op);
    sl_darray_destroy(like);
    free(gx);
    free(want);
    free(got);
}

/* ---- bad input: an error on every rank, never a hang ---- */

static void test_errors(sl_context *ctx)
{
    layout l = {2, 0, {7, 9, 0}, 0};
    sl_darray *like = make_array(ctx, SL_F64, &l, NULL);
    sl_op *op = NULL;
    CHECK(sl_op_first_derivative(like, 2, SL_DERIV_CENTERED, 3, 0, 1.0, &op) == SL_ERR_ARG && !op,
          "axis 2 of a 2-d array: %s", sl_last_error(ctx));
    CHECK(sl_op_first_derivative(like, -3, SL_DERIV_CENTERED, 3, 0, 1.0, &op) == SL_ERR_ARG, "axis -3");
    /* 1/sampling^2 overflows: every output would be 0 * inf = NaN */
    CHECK(sl_op_second_derivative(like, 0, SL_DERIV_CENTERED, 0, 1e-200, &op) == SL_ERR_ARG &&
              !op, "sampling 1e-200: %s", sl_last_error(ctx));
    CHECK(sl_op_first_derivative(like, 0, SL_DERIV_CENTERED, 3, 0, 1e-310, &op) == SL_ERR_ARG &&
              !op, "sampling 1e-310: %s", sl_last_error(ctx));
    CHECK(sl_op_first_derivative(like, 0, SL_DERIV_CENTERED, 4, 0, 1.0, &op) == SL_ERR_ARG &&
              strstr(sl_last_error(ctx), "order 4"), "order 4: %s", sl_last_error(ctx));
    CHECK(sl_op_second_derivative(like, 0, (sl_deriv_kind)7, 0, 1.0, &op) == SL_ERR_ARG, "kind 7");
    CHECK(sl_op_second_derivative(like, 0, SL_DERIV_CENTERED, 0, 0.0, &op) == SL_ERR_ARG, "sampling 0");
    int axes[2] = {0, 5};
    CHECK(sl_op_laplacian(like, 2, axes, NULL, NULL, 0, SL_DERIV_CENTERED, &op) == SL_ERR_ARG,
          "Laplacian axis 5: %s", sl_last_error(ctx));
    CHECK(sl_op_laplacian(like, 0, axes, NULL, NULL, 0, SL_DERIV_CENTERED, &op) == SL_ERR_ARG,
          "Laplacian without axes");
    /* one rank asks for another sampling: every rank fails, nobody hangs */
    sl_status st = sl_op_first_derivative(like, 1, SL_DERIV_CENTERED, 3, 0, th_rank == 0 ? 2.0 : 1.0, &op);
    int size = 1;
    size = th_ctx(ctx).size;
    CHECK(size == 1 ? st == SL_OK : st == SL_ERR_RANK_MISMATCH, "rank-dependent sampling: %d %s",
          (int)st, sl_last_error(ctx));
    sl_op_destroy(op);
    op = NULL;
    /* one rank with a bad argument: the others fail too */
    st = sl_op_first_derivative(like, 1, SL_DERIV_CENTERED, th_rank == 0 ? 4 : 3, 0, 1.0, &op);
    CHECK(st != SL_OK && !op, "bad order on rank 0 only: %d", (int)st);
    /* axis too short for the boundary rows */
    layout tiny = {1, 0, {3, 0, 0}, 0};
    sl_darray *t = make_array(ctx, SL_F64, &tiny, NULL);
    st = sl_op_first_derivative(t, 0, SL_DERIV_CENTERED, 5, 1, 1.0, &op);
    CHECK(st == SL_ERR_SHAPE && !op, "3 samples, centered order 5: %s", sl_last_error(ctx));
    sl_darray_destroy(t);
    sl_darray_destroy(like);
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    if (argc > 1 && !strcmp(argv[1], "fused")) { /* Laplacians on rows of >= 1024 reals */
        for (int d = 0; d < 4; d++)
            for (int li = 10; li < NLAYOUTS; li++) {
                test_laplacian(ctx, th_dtypes[d], &layouts[li], 1, SL_DERIV_CENTERED);
                test_laplacian(ctx, th_dtypes[d], &layouts[li], 0, SL_DERIV_BACKWARD);
            }
        return th_end(ctx, "test_derivatives fused");
    }
    test_derivatives(ctx);
    for (int d = 0; d < 4; d++) {
        for (int li = 3; li < NLAYOUTS; li++) {
            if (li >= 6 && li < 10)
                continue; /* the small ones above, the two fused ones below */
            test_laplacian(ctx, th_dtypes[d], &layouts[li], 1, SL_DERIV_CENTERED);
            if (th_dtypes[d] == SL_F64) {
                test_laplacian(ctx, SL_F64, &layouts[li], 0, SL_DERIV_FORWARD);
                test_laplacian(ctx, SL_F64, &layouts[li], 0, SL_DERIV_BACKWARD);
            }
        }
        test_gradient(ctx, th_dtypes[d], &layouts[4]);
        test_gradient(ctx, th_dtypes[d], &layouts[8]);
    }
    test_errors(ctx);
    return th_end(ctx, "test_derivatives");
}
