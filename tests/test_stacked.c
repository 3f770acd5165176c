/* Stacked distributed arrays against a serial reference on the concatenated components:
 * a 1-d scattered array, a 2-d array split along axis 1 and a broadcast array, every dtype. */
#include "harness.h"

#define NCOMP 3

typedef struct comp {
    int ndim, axis;
    size_t shape[2];
    sl_partition part;
} comp;

static const comp comps[NCOMP] = {
    {1, 0, {13, 0}, SL_SCATTER}, {2, 1, {5, 3}, SL_SCATTER}, {1, 0, {4, 0}, SL_BROADCAST}};

static size_t comp_n(int c)
{
    return th_prod(comps[c].shape, comps[c].ndim);
}

/* A stack whose components hold the global values g (concatenated). */
static sl_darray *make_stack(sl_context *ctx, sl_dtype dt, const cplx *g, sl_darray **parts)
{
    size_t off = 0;
    for (int c = 0; c < NCOMP; c++) {
        parts[c] = NULL;
        CHECK_OK(sl_darray_create(ctx, dt, comps[c].ndim, comps[c].shape, comps[c].part,
                                  comps[c].axis, NULL, NULL, &parts[c]), ctx);
        void *raw = malloc(comp_n(c) * sl_dtype_size(dt));
        th_to_dtype(dt, g + off, raw, comp_n(c));
        CHECK_OK(sl_darray_from_global(parts[c], raw), ctx);
        free(raw);
        off += comp_n(c);
    }
    sl_darray *s = NULL;
    CHECK_OK(sl_darray_stack(NCOMP, parts, &s), ctx);
    return s;
}

static void expect_stack(sl_context *ctx, sl_dtype dt, sl_darray **parts, const cplx *want,
                         const char *what)
{
    size_t off = 0;
    for (int c = 0; c < NCOMP; c++) {
        size_t n = comp_n(c);
        void *raw = malloc(n * sl_dtype_size(dt));
        cplx *got = malloc(n * sizeof(cplx));
        CHECK_OK(sl_darray_gather(parts[c], SL_ALL_RANKS, raw), ctx);
        th_from_dtype(dt, raw, got, n);
        double err = th_rel_err(got, want + off, n);
        CHECK(err <= th_tol(dt), "%s %s component %d: err %g", what, sl_dtype_name(dt), c, err);
        free(raw);
        free(got);
        off += n;
    }
}

static void expect_scalar(sl_context *ctx, sl_scalar *s, cplx want, sl_dtype dt, const char *w)
{
    cplx got = 0;
    CHECK_OK(sl_scalar_get(s, &got), ctx);
    double tol = (dt == SL_F32 || dt == SL_C64) ? 1e-6 : 1e-13;
    CHECK(cabs(got - want) <= tol * fmax(1, cabs(want)), "%s %s: got %g%+gi want %g%+gi", w,
          sl_dtype_name(dt), creal(got), cimag(got), creal(want), cimag(want));
    sl_scalar_destroy(s);
}

static void run(sl_context *ctx, sl_dtype dt)
{
    size_t n = 0;
    for (int c = 0; c < NCOMP; c++) n += comp_n(c);
    cplx *gx = malloc(n * sizeof(cplx)), *gy = malloc(n * sizeof(cplx)),
         *ref = malloc(n * sizeof(cplx));
    int cpx = sl_dtype_is_complex(dt);
    th_random(gx, n, cpx, 31);
    th_random(gy, n, cpx, 32);
    th_round(dt, gx, n);
    th_round(dt, gy, n);
    sl_darray *px[NCOMP], *py[NCOMP], *pz[NCOMP];
    sl_darray *x = make_stack(ctx, dt, gx, px), *y = make_stack(ctx, dt, gy, py),
               *z = make_stack(ctx, dt, gy, pz);
    cplx alpha = cpx ? CMPLX(0.5, 1.5) : 0.5, beta = cpx ? CMPLX(-2, 0.25) : -2;

    CHECK_OK(sl_darray_axpby(alpha, x, beta, z), ctx);
    for (size_t i = 0; i < n; i++) ref[i] = alpha * gx[i] + beta * gy[i];
    expect_stack(ctx, dt, pz, ref, "axpby");
    CHECK_OK(sl_darray_multiply(x, y, z), ctx);
    for (size_t i = 0; i < n; i++) ref[i] = gx[i] * gy[i];
    expect_stack(ctx, dt, pz, ref, "multiply");
    CHECK_OK(sl_darray_sub(x, y, z), ctx);
    CHECK_OK(sl_darray_conj(z, z), ctx);
    for (size_t i = 0; i < n; i++) ref[i] = conj(gx[i] - gy[i]);
    expect_stack(ctx, dt, pz, ref, "conj(sub)");
    CHECK_OK(sl_darray_copy(x, z), ctx);
    CHECK_OK(sl_darray_scale(z, alpha), ctx);
    CHECK_OK(sl_darray_add(z, y, z), ctx);
    for (size_t i = 0; i < n; i++) ref[i] = alpha * gx[i] + gy[i];
    expect_stack(ctx, dt, pz, ref, "scale+add");

    cplx dot = 0, vdot = 0;
    for (size_t i = 0; i < n; i++) {
        dot += gx[i] * gy[i];
        vdot += conj(gx[i]) * gy[i];
    }
    sl_scalar *s = NULL;
    CHECK_OK(sl_darray_dot(x, y, &s), ctx);
    if (s) expect_scalar(ctx, s, dot, dt, "stacked dot");
    CHECK_OK(sl_darray_vdot(x, y, &s), ctx);
    if (s) expect_scalar(ctx, s, vdot, dt, "stacked vdot");
    const double ords[] = {2, 1, 0, 3, INFINITY, -INFINITY};
    for (size_t k = 0; k < sizeof ords / sizeof ords[0]; k++) {
        double o = ords[k], acc = isinf(o) ? (o > 0 ? 0 : INFINITY) : 0;
        for (size_t i = 0; i < n; i++) {
            double a = cabs(gx[i]);
            if (isinf(o)) acc = o > 0 ? fmax(acc, a) : fmin(acc, a);
            else acc += o == 0 ? (a != 0) : pow(a, o);
        }
        if (!isinf(o) && o != 0) acc = pow(acc, 1 / o);
        CHECK_OK(sl_darray_norm(x, o, &s), ctx);
        char what[48];
        snprintf(what, sizeof what, "stacked norm ord=%g", o);
        if (s) expect_scalar(ctx, s, acc, dt, what);
    }
    /* a nested stack [x0, [x1, x2]] computes the same norm as x */
    sl_darray *inner = NULL, *nested = NULL;
    CHECK_OK(sl_darray_stack(2, px + 1, &inner), ctx);
    sl_darray *items[2] = {px[0], inner};
    CHECK_OK(sl_darray_stack(2, items, &nested), ctx);
    CHECK(th_info(nested).nparts == NCOMP, "nested stack of %d parts", th_info(nested).nparts);
    if (nested) {
        sl_scalar *a = NULL, *b = NULL;
        cplx va = 0, vb = 1;
        CHECK_OK(sl_darray_norm(nested, 3, &a), ctx);
        CHECK_OK(sl_darray_norm(x, 3, &b), ctx);
        sl_scalar_get(a, &va);
        sl_scalar_get(b, &vb);
        /* not bitwise: REDUX combines tile partials in whatever order the tasks ran */
        double tol = (dt == SL_F32 || dt == SL_C64) ? 1e-6 : 1e-13;
        CHECK(cabs(va - vb) <= tol * cabs(vb), "nested norm %.17g vs flat %.17g", creal(va),
              creal(vb));
        sl_scalar_destroy(a);
        sl_scalar_destroy(b);
    }
    sl_darray *bad[2] = {px[0], NULL};
    sl_darray *none = NULL;
    CHECK_STATUS(sl_darray_stack(2, bad, &none), SL_ERR_NULL, ctx);
    CHECK(none == NULL, "a stack with a NULL part was made");
    sl_darray_destroy(nested);
    sl_darray_destroy(inner);
    /* mismatched stacks */
    sl_darray *short_stack = NULL;
    CHECK_OK(sl_darray_stack(1, px, &short_stack), ctx);
    CHECK_STATUS(sl_darray_add(x, short_stack, z), SL_ERR_SHAPE, ctx);
    CHECK_STATUS(sl_darray_dot(x, NULL, &s), SL_ERR_NULL, ctx);
    sl_darray *got = NULL;
    sl_darray_info info = th_info(x);
    CHECK(info.nparts == NCOMP && info.ndim == 1 && info.shape[0] == n, "stack info: %d parts, "
          "%zu elements", info.nparts, info.shape[0]);
    CHECK_STATUS(sl_darray_stack_part(x, NCOMP, &got), SL_ERR_ARG, ctx);
    CHECK_OK(sl_darray_stack_part(x, 1, &got), ctx);
    CHECK(got == px[1], "part 1 is not the second array");
    CHECK_OK(sl_darray_stack_part(px[0], 0, &got), ctx);
    CHECK(got == px[0], "part 0 of a plain array is not itself");
    /* functions on one array's layout refuse a stack, naming the way out */
    CHECK(sl_darray_gather(x, SL_ALL_RANKS, NULL) == SL_ERR_ARG &&
          strstr(sl_last_error(ctx), "sl_darray_stack_part"), "gather of a stack: %s",
          sl_last_error(ctx));
    /* create_like of a stack is a stack owning new parts like its parts */
    sl_darray *like = NULL;
    CHECK_OK(sl_darray_create_like(x, &like), ctx);
    CHECK(like && th_info(like).nparts == NCOMP, "create_like of a stack");
    if (like) {
        sl_darray *part = NULL;
        sl_darray_stack_part(like, 0, &part);
        CHECK(part != px[0] && th_info(part).global_size == th_info(px[0]).global_size,
              "create_like's part 0");
        CHECK_OK(sl_darray_copy(x, like), ctx);
        CHECK_OK(sl_darray_axpy(-1.0, x, like), ctx);
        sl_scalar *zero = NULL;
        cplx vz = 1;
        CHECK_OK(sl_darray_norm(like, INFINITY, &zero), ctx);
        sl_scalar_get(zero, &vz);
        CHECK(vz == 0, "copy into create_like's stack: %g left", creal(vz));
        sl_scalar_destroy(zero);
    }
    sl_darray_destroy(like); /* frees its parts */
    sl_darray *empty = NULL;
    CHECK_STATUS(sl_darray_stack(0, px, &empty), SL_ERR_ARG, ctx);
    CHECK(empty == NULL, "a stack of no parts was made");
    sl_darray_destroy(short_stack);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    sl_darray_destroy(z);
    for (int c = 0; c < NCOMP; c++) {
        sl_darray_destroy(px[c]);
        sl_darray_destroy(py[c]);
        sl_darray_destroy(pz[c]);
    }
    free(gx);
    free(gy);
    free(ref);
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    for (int d = 0; d < 4; d++)
        run(ctx, th_dtypes[d]);
    return th_end(ctx, "test_stacked");
}
