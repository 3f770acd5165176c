/* Stacked operators (StackedBlockDiag, StackedVStack, StackedHStack, nesting, algebra on
 * stacks) against serial references, dot tests, and the solvers on stacked vectors against
 * direct least-squares solutions (LAPACKE zgels). Every dtype; one operand split unevenly
 * (a rank with no rows at 2+ ranks). */
#include <lapacke.h>

#include "harness.h"

enum { N1 = 7, N2 = 6, K = 4, M = 5 };

typedef struct fixture {
    sl_dtype dt;
    cplx g[(N1 + N2) * K]; /* G = [A1; A2], row-major */
    cplx d[M];             /* a positive diagonal */
    sl_op *a1, *a2, *diag;
    sl_darray *dvec;
} fixture;

static size_t darray_count(const sl_darray *a)
{
    return th_info(a).global_size;
}

/* Global values g (the components concatenated) into / out of a stack. */
static void stack_set(sl_context *ctx, sl_dtype dt, sl_darray *s, const cplx *g)
{
    int n = th_parts(s);
    for (int c = 0; c < n; c++) {
        sl_darray *a = NULL;
        sl_darray_stack_part(s, c, &a);
        size_t cnt = darray_count(a);
        void *raw = malloc(cnt * sl_dtype_size(dt) + 1);
        th_to_dtype(dt, g, raw, cnt);
        CHECK_OK(sl_darray_from_global(a, raw), ctx);
        free(raw);
        g += cnt;
    }
}

static void stack_get(sl_context *ctx, sl_dtype dt, const sl_darray *s, cplx *g)
{
    int n = th_parts(s);
    for (int c = 0; c < n; c++) {
        sl_darray *a = NULL;
        sl_darray_stack_part(s, c, &a);
        size_t cnt = darray_count(a);
        void *raw = malloc(cnt * sl_dtype_size(dt) + 1);
        CHECK_OK(sl_darray_gather(a, SL_ALL_RANKS, raw), ctx);
        th_from_dtype(dt, raw, g, cnt);
        free(raw);
        g += cnt;
    }
}

/* out = A in (or A^H in) for a row-major rows x cols block; accumulates when add. */
static void ref_matmul(const cplx *a, size_t rows, size_t cols, const cplx *in, cplx *out,
                       int adjoint, int add)
{
    size_t nout = adjoint ? cols : rows, nin = adjoint ? rows : cols;
    for (size_t i = 0; i < nout; i++) {
        cplx s = add ? out[i] : 0;
        for (size_t j = 0; j < nin; j++)
            s += (adjoint ? conj(a[j * cols + i]) : a[i * cols + j]) * in[j];
        out[i] = s;
    }
}

static sl_op *matrixmult(sl_context *ctx, sl_dtype dt, const cplx *a, size_t rows, int uneven)
{
    int size = 1;
    size = th_ctx(ctx).size;
    size_t sizes[64], row0 = 0;
    for (int r = 0; r < size; r++) sizes[r] = rows / (size_t)size + ((size_t)r < rows % (size_t)size);
    if (uneven && size > 1) { sizes[size - 1] += sizes[0]; sizes[0] = 0; }
    for (int r = 0; r < th_rank; r++) row0 += sizes[r];
    void *mine = malloc(sizes[th_rank] * K * sl_dtype_size(dt) + 1);
    th_to_dtype(dt, a + row0 * K, mine, sizes[th_rank] * K);
    sl_op *op = NULL;
    CHECK_OK(sl_op_matrixmult(ctx, dt, rows, K, 0, mine, sizes, &op), ctx);
    free(mine);
    return op;
}

static fixture *make_fixture(sl_context *ctx, sl_dtype dt)
{
    fixture *f = calloc(1, sizeof *f);
    f->dt = dt;
    int cpx = sl_dtype_is_complex(dt);
    th_random(f->g, (N1 + N2) * K, cpx, 71);
    for (int i = 0; i < K; i++) { /* both blocks well conditioned on their own */
        f->g[i * K + i] += 4.0;
        f->g[(N1 + i) * K + i] += 4.0;
    }
    th_random(f->d, M, cpx, 72);
    for (int i = 0; i < M; i++) f->d[i] = 2.0 + creal(f->d[i]);
    th_round(dt, f->g, (N1 + N2) * K);
    th_round(dt, f->d, M);
    f->a1 = matrixmult(ctx, dt, f->g, N1, 0);
    f->a2 = matrixmult(ctx, dt, f->g + N1 * K, N2, 1);
    size_t m = M;
    CHECK_OK(sl_darray_create(ctx, dt, 1, &m, SL_SCATTER, 0, NULL, NULL, &f->dvec), ctx);
    void *raw = malloc(M * sl_dtype_size(dt));
    th_to_dtype(dt, f->d, raw, M);
    CHECK_OK(sl_darray_from_global(f->dvec, raw), ctx);
    free(raw);
    CHECK_OK(sl_op_diagonal(f->dvec, &f->diag), ctx);
    return f;
}

static void free_fixture(fixture *f)
{
    sl_op_destroy(f->a1);
    sl_op_destroy(f->a2);
    sl_op_destroy(f->diag);
    sl_darray_destroy(f->dvec);
    free(f);
}

typedef void (*ref_fn)(const fixture *f, const cplx *in, cplx *out, int adjoint);

/* Forward and adjoint against ref, and the dot test. */
static void check_op(sl_context *ctx, const fixture *f, const sl_op *op, ref_fn ref,
                     const char *what)
{
    sl_op_info oi = {0};
    CHECK_OK(sl_op_get_info(op, &oi), ctx);
    size_t nd = oi.n_data, nm = oi.n_model;
    int cpx = sl_dtype_is_complex(f->dt);
    for (int adjoint = 0; adjoint < 2; adjoint++) {
        size_t nin = adjoint ? nd : nm, nout = adjoint ? nm : nd;
        cplx *gin = malloc(nin * sizeof(cplx)), *want = malloc(nout * sizeof(cplx)),
             *got = malloc(nout * sizeof(cplx));
        th_random(gin, nin, cpx, 80 + (uint64_t)adjoint);
        th_round(f->dt, gin, nin);
        ref(f, gin, want, adjoint);
        sl_darray *in = NULL, *out = NULL;
        CHECK_OK(adjoint ? sl_op_create_data(op, &in) : sl_op_create_model(op, &in), ctx);
        CHECK_OK(adjoint ? sl_op_create_model(op, &out) : sl_op_create_data(op, &out), ctx);
        stack_set(ctx, f->dt, in, gin);
        CHECK_OK(adjoint ? sl_op_rmatvec(op, in, out) : sl_op_matvec(op, in, out), ctx);
        stack_get(ctx, f->dt, out, got);
        double e = th_rel_err(got, want, nout);
        CHECK(e <= 10 * th_tol(f->dt), "%s %s %s: rel err %g", what, adjoint ? "adjoint" : "forward",
              sl_dtype_name(f->dt), e);
        sl_darray_destroy(in);
        sl_darray_destroy(out);
        free(gin);
        free(want);
        free(got);
    }
    int passed = 0;
    double err = 0;
    int sp = f->dt == SL_F32 || f->dt == SL_C64;
    CHECK_OK(sl_dottest(op, sp ? 1e-5 : 1e-12, &passed, &err), ctx);
    CHECK(passed, "%s dottest %s: err %g", what, sl_dtype_name(f->dt), err);
}

/* BlockDiag[A1, D]: model (K, M), data (N1, M). */
static void ref_blockdiag(const fixture *f, const cplx *in, cplx *out, int adjoint)
{
    ref_matmul(f->g, N1, K, in, out, adjoint, 0);
    const cplx *in2 = in + (adjoint ? N1 : K);
    cplx *out2 = out + (adjoint ? K : N1);
    for (int i = 0; i < M; i++) out2[i] = (adjoint ? conj(f->d[i]) : f->d[i]) * in2[i];
}

/* VStack[A1, A2] = G: model K, data (N1, N2) which concatenate to G's rows. */
static void ref_vstack(const fixture *f, const cplx *in, cplx *out, int adjoint)
{
    ref_matmul(f->g, N1 + N2, K, in, out, adjoint, 0);
}

/* HStack[A1^H, A2^H] = G^H. */
static void ref_hstack(const fixture *f, const cplx *in, cplx *out, int adjoint)
{
    ref_matmul(f->g, N1 + N2, K, in, out, !adjoint, 0);
}

/* BlockDiag[VStack[A1, A2], D]: model (K, M), data (N1, N2, M). */
static void ref_nested(const fixture *f, const cplx *in, cplx *out, int adjoint)
{
    ref_matmul(f->g, N1 + N2, K, in, out, adjoint, 0);
    const cplx *in2 = in + (adjoint ? N1 + N2 : K);
    cplx *out2 = out + (adjoint ? K : N1 + N2);
    for (int i = 0; i < M; i++) out2[i] = (adjoint ? conj(f->d[i]) : f->d[i]) * in2[i];
}

/* V^H V = G^H G (Hermitian: its adjoint is itself). */
static void ref_normal(const fixture *f, const cplx *in, cplx *out, int adjoint)
{
    (void)adjoint;
    cplx tmp[N1 + N2];
    ref_matmul(f->g, N1 + N2, K, in, tmp, 0, 0);
    ref_matmul(f->g, N1 + N2, K, tmp, out, 1, 0);
}

/* 2 V + V (sum and scaling of a stacked operator). */
static void ref_sum(const fixture *f, const cplx *in, cplx *out, int adjoint)
{
    ref_vstack(f, in, out, adjoint);
    for (int i = 0; i < (adjoint ? K : N1 + N2); i++) out[i] *= 3.0;
}

static void test_operators(sl_context *ctx, fixture *f)
{
    const sl_op *bd_ops[2] = {f->a1, f->diag}, *v_ops[2] = {f->a1, f->a2};
    sl_op *bd = NULL, *v = NULL, *h = NULL, *a1h = NULL, *a2h = NULL, *nested = NULL;
    sl_op *vh = NULL, *normal = NULL, *v2 = NULL, *sum = NULL;
    CHECK_OK(sl_op_stacked_blockdiag(2, bd_ops, &bd), ctx);
    CHECK_OK(sl_op_stacked_vstack(2, v_ops, &v), ctx);
    CHECK_OK(sl_op_adjoint(f->a1, &a1h), ctx);
    CHECK_OK(sl_op_adjoint(f->a2, &a2h), ctx);
    const sl_op *h_ops[2] = {a1h, a2h};
    CHECK_OK(sl_op_stacked_hstack(2, h_ops, &h), ctx);
    const sl_op *n_ops[2] = {v, f->diag};
    CHECK_OK(sl_op_stacked_blockdiag(2, n_ops, &nested), ctx);
    CHECK_OK(sl_op_adjoint(v, &vh), ctx);
    CHECK_OK(sl_op_product(vh, v, &normal), ctx);
    CHECK_OK(sl_op_scale(v, 2.0, &v2), ctx);
    CHECK_OK(sl_op_sum(v2, v, &sum), ctx);
    if (!bd || !v || !h || !nested || !normal || !sum)
        return;
    sl_op_info vi = {0}, ni = {0};
    CHECK_OK(sl_op_get_info(v, &vi), ctx);
    CHECK(vi.model_parts == 0 && vi.data_parts == 2, "VStack: model parts %d, data parts %d",
          vi.model_parts, vi.data_parts);
    CHECK_OK(sl_op_get_info(normal, &ni), ctx);
    CHECK(ni.model_parts == 0 && ni.data_parts == 0, "V^H V: model parts %d, data parts %d",
          ni.model_parts, ni.data_parts);
    check_op(ctx, f, bd, ref_blockdiag, "StackedBlockDiag[A1, D]");
    check_op(ctx, f, v, ref_vstack, "StackedVStack[A1, A2]");
    check_op(ctx, f, h, ref_hstack, "StackedHStack[A1^H, A2^H]");
    check_op(ctx, f, nested, ref_nested, "StackedBlockDiag[VStack, D]");
    check_op(ctx, f, normal, ref_normal, "V^H V");
    check_op(ctx, f, sum, ref_sum, "2V + V");

    /* V^H V is plain: the plain entry points take it */
    sl_darray *x = NULL, *y = NULL;
    CHECK_OK(sl_op_create_model(normal, &x), ctx);
    CHECK_OK(sl_op_create_data(normal, &y), ctx);
    CHECK_OK(sl_op_matvec(normal, x, y), ctx);
    /* a plain array where the data is a stack: refused, saying so */
    CHECK(sl_op_matvec(v, x, y) == SL_ERR_SHAPE && strstr(sl_last_error(ctx), "plain array"),
          "plain data for a stacked data space: %s", sl_last_error(ctx));
    sl_darray *vdata = NULL;
    CHECK_OK(sl_op_create_data(v, &vdata), ctx);
    CHECK(vdata && th_info(vdata).nparts == 2, "create_data on VStack: a stack of 2");
    sl_darray_destroy(vdata);
    sl_op_info oi = {0};
    CHECK_OK(sl_op_get_info(v, &oi), ctx);
    CHECK(oi.model_parts == 0 && oi.data_parts == 2, "VStack info: %d/%d parts",
          oi.model_parts, oi.data_parts);
    /* a stack with the wrong number of components */
    sl_darray *xs = NULL, *ys = NULL, *short_y = NULL;
    CHECK_OK(sl_op_create_model(v, &xs), ctx);
    CHECK_OK(sl_op_create_data(bd, &ys), ctx);
    sl_darray *first = NULL;
    sl_darray_stack_part(ys, 0, &first);
    CHECK_OK(sl_darray_stack(1, &first, &short_y), ctx);
    CHECK(sl_op_matvec(v, xs, short_y) == SL_ERR_SHAPE && strstr(sl_last_error(ctx), "stack of 1"),
          "1 component for 2: %s",
          sl_last_error(ctx));
    /* components laid out differently: BlockDiag's second data component is D's */
    CHECK(sl_op_matvec(v, xs, ys) != SL_OK, "VStack into BlockDiag's data");
    /* in and out sharing an array */
    CHECK(sl_op_matvec(normal, xs, xs) == SL_ERR_ARG, "aliasing: %s", sl_last_error(ctx));
    /* operands that do not share the model: an error on every rank, not a hang */
    const sl_op *bad[2] = {f->a1, f->diag};
    sl_op *nope = NULL;
    CHECK(sl_op_stacked_vstack(2, bad, &nope) == SL_ERR_SHAPE && !nope, "VStack[A1, D]: %s",
          sl_last_error(ctx));
    CHECK(sl_op_stacked_hstack(2, bad, &nope) == SL_ERR_SHAPE && !nope, "HStack[A1, D]: %s",
          sl_last_error(ctx));
    CHECK(sl_op_stacked_blockdiag(0, bad, &nope) == SL_ERR_ARG, "empty BlockDiag");
    sl_darray_destroy(short_y);
    sl_darray_destroy(xs);
    sl_darray_destroy(ys);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    sl_op_destroy(sum);
    sl_op_destroy(v2);
    sl_op_destroy(normal);
    sl_op_destroy(vh);
    sl_op_destroy(nested);
    sl_op_destroy(h);
    sl_op_destroy(a1h);
    sl_op_destroy(a2h);
    sl_op_destroy(v);
    sl_op_destroy(bd);
}

/* min ||y - A x||^2 + damp^2 ||x||^2 for a rows x K block via zgels. */
static void lstsq(const cplx *a, size_t rows, const cplx *y, double damp, cplx *x)
{
    size_t all = rows + (damp != 0 ? K : 0);
    lapack_complex_double *aa = calloc(all * K, sizeof *aa), *b = calloc(all, sizeof *b);
    memcpy(aa, a, rows * K * sizeof(cplx));
    memcpy(b, y, rows * sizeof(cplx));
    for (size_t i = 0; damp != 0 && i < K; i++) aa[(rows + i) * K + i] = damp;
    LAPACKE_zgels(LAPACK_ROW_MAJOR, 'N', (int)all, K, 1, aa, K, b, 1);
    memcpy(x, b, K * sizeof(cplx));
    free(aa);
    free(b);
}

/* What the solver callback was handed, and how often. */
static const sl_darray *seen_x;
static int seen_calls;
static void note_x(int iteration, const sl_darray *x, void *arg)
{
    (void)iteration;
    (void)arg;
    seen_x = x;
    seen_calls++;
}

typedef sl_status (*solver_fn)(const sl_op *, const sl_darray *, sl_darray *,
                                    const sl_solver_opts *, sl_solve_result *);

/* Solves op x = y (y given globally) and compares x with want. */
static void solve_and_check(sl_context *ctx, const fixture *f, const sl_op *op,
                            solver_fn solve, const sl_solver_opts *o, const cplx *y,
                            const cplx *want, const char *what)
{
    sl_op_info oi = {0};
    CHECK_OK(sl_op_get_info(op, &oi), ctx);
    size_t nm = oi.n_model;
    sl_darray *ys = NULL, *xs = NULL;
    CHECK_OK(sl_op_create_data(op, &ys), ctx);
    CHECK_OK(sl_op_create_model(op, &xs), ctx);
    stack_set(ctx, f->dt, ys, y);
    sl_solve_result res;
    CHECK_OK(solve(op, ys, xs, o, &res), ctx);
    cplx *got = malloc(nm * sizeof(cplx));
    stack_get(ctx, f->dt, xs, got);
    int sp = f->dt == SL_F32 || f->dt == SL_C64;
    double e = th_rel_err(got, want, nm);
    CHECK(e <= (sp ? 2e-4 : 1e-8), "%s %s: rel err %g after %d iterations (istop %d)", what,
          sl_dtype_name(f->dt), e, res.iterations, res.istop);
    sl_solve_result_free(&res);
    free(got);
    sl_darray_destroy(ys);
    sl_darray_destroy(xs);
}

static void test_solvers(sl_context *ctx, fixture *f)
{
    int cpx = sl_dtype_is_complex(f->dt), sp = f->dt == SL_F32 || f->dt == SL_C64;
    cplx y[N1 + N2 + K + M], want[K + K + M];
    th_random(y, N1 + N2 + K + M, cpx, 91);
    th_round(f->dt, y, N1 + N2 + K + M);
    sl_solver_opts cgls_o = {.niter = 200, .tol = sp ? 1e-11 : 1e-28};
    sl_solver_opts lsqr_o = {.niter = 200, .atol = sp ? 1e-7 : 1e-14, .btol = sp ? 1e-7 : 1e-14};

    /* plain model, stacked data: VStack[A1, A2] is G */
    const sl_op *v_ops[2] = {f->a1, f->a2};
    sl_op *v = NULL;
    CHECK_OK(sl_op_stacked_vstack(2, v_ops, &v), ctx);
    lstsq(f->g, N1 + N2, y, 0, want);
    solve_and_check(ctx, f, v, sl_cgls, &cgls_o, y, want, "CGLS on VStack[A1, A2]");
    solve_and_check(ctx, f, v, sl_lsqr, &lsqr_o, y, want, "LSQR on VStack[A1, A2]");

    /* Tikhonov as a stack: VStack[G, eps I] with zero second data = CGLS with damp = eps */
    sl_op *g = matrixmult(ctx, f->dt, f->g, N1 + N2, 1), *id = NULL, *reg = NULL, *tik = NULL;
    sl_darray *like = NULL;
    CHECK_OK(sl_op_create_model(g, &like), ctx);
    CHECK_OK(sl_op_identity(like, &id), ctx);
    CHECK_OK(sl_op_scale(id, 0.8, &reg), ctx);
    const sl_op *t_ops[2] = {g, reg};
    CHECK_OK(sl_op_stacked_vstack(2, t_ops, &tik), ctx);
    cplx yt[N1 + N2 + K];
    memcpy(yt, y, (N1 + N2) * sizeof(cplx));
    memset(yt + N1 + N2, 0, K * sizeof(cplx));
    lstsq(f->g, N1 + N2, y, 0.8, want);
    solve_and_check(ctx, f, tik, sl_cgls, &cgls_o, yt, want, "CGLS on VStack[G, 0.8 I]");

    /* stacked model and data: BlockDiag[A1, A2] solves two problems at once */
    sl_op *bd = NULL;
    CHECK_OK(sl_op_stacked_blockdiag(2, v_ops, &bd), ctx);
    lstsq(f->g, N1, y, 0, want);
    lstsq(f->g + N1 * K, N2, y + N1, 0, want + K);
    solve_and_check(ctx, f, bd, sl_cgls, &cgls_o, y, want, "CGLS on BlockDiag[A1, A2]");
    solve_and_check(ctx, f, bd, sl_lsqr, &lsqr_o, y, want, "LSQR on BlockDiag[A1, A2]");

    /* CG on a square stacked operator: BlockDiag[G^H G, D] (D positive) */
    sl_op *gh = NULL, *ghg = NULL, *spd = NULL;
    CHECK_OK(sl_op_adjoint(g, &gh), ctx);
    CHECK_OK(sl_op_product(gh, g, &ghg), ctx);
    const sl_op *s_ops[2] = {ghg, f->diag};
    CHECK_OK(sl_op_stacked_blockdiag(2, s_ops, &spd), ctx);
    cplx ghy[K];
    ref_matmul(f->g, N1 + N2, K, y, ghy, 1, 0); /* G^H G x = G^H y: x is G's least squares */
    cplx ycg[K + M];
    memcpy(ycg, ghy, sizeof ghy);
    lstsq(f->g, N1 + N2, y, 0, want);
    for (int i = 0; i < M; i++) {
        ycg[K + i] = y[i];
        want[K + i] = y[i] / f->d[i];
    }
    sl_solver_opts cg_o = {.niter = 100, .tol = sp ? 1e-10 : 1e-26};
    solve_and_check(ctx, f, spd, sl_cg, &cg_o, ycg, want, "CG on BlockDiag[G^H G, D]");

    /* misuse: a plain y for VStack's stacked data; an x0 with the data's layout */
    sl_darray *px = NULL;
    sl_solve_result res;
    CHECK_OK(sl_op_create_model(g, &px), ctx);
    CHECK(sl_cgls(v, px, px, &cgls_o, &res) == SL_ERR_SHAPE &&
              strstr(sl_last_error(ctx), "plain array"),
          "plain y for VStack's CGLS: %s", sl_last_error(ctx));
    sl_darray *ys = NULL, *xs = NULL;
    CHECK_OK(sl_op_create_data(v, &ys), ctx);
    CHECK_OK(sl_op_create_model(v, &xs), ctx);
    sl_solver_opts with_x0 = cgls_o;
    with_x0.x0 = ys;
    CHECK(sl_cgls(v, ys, xs, &with_x0, &res) == SL_ERR_SHAPE,
          "a data-shaped x0 for CGLS: %s", sl_last_error(ctx));
    /* a stacked model: the callback is handed the very stack passed as x, once per
     * iteration; an operator made `like` a stack is refused, naming the way out */
    sl_darray *bx = NULL, *by = NULL;
    CHECK_OK(sl_op_create_model(bd, &bx), ctx);
    CHECK_OK(sl_op_create_data(bd, &by), ctx);
    CHECK_OK(sl_darray_random(by, 5), ctx);
    seen_x = NULL;
    seen_calls = 0;
    sl_solver_opts with_cb = {.niter = 3, .tol = SL_TOL_NONE, .callback = note_x};
    CHECK_OK(sl_cgls(bd, by, bx, &with_cb, &res), ctx);
    CHECK(seen_calls == 3 && seen_x == bx, "callback: %d calls, x %s the stack passed",
          seen_calls, seen_x == bx ? "is" : "is not");
    sl_op *id_stack = NULL;
    CHECK(sl_op_identity(bx, &id_stack) == SL_ERR_ARG && !id_stack &&
              strstr(sl_last_error(ctx), "sl_darray_stack_part"),
          "Identity like a stack: %s", sl_last_error(ctx));
    sl_darray_destroy(bx);
    sl_darray_destroy(by);
    /* x0 is honoured: starting from the solution, zero iterations change nothing */
    sl_darray *x0 = NULL;
    CHECK_OK(sl_op_create_model(v, &x0), ctx);
    lstsq(f->g, N1 + N2, y, 0, want);
    stack_set(ctx, f->dt, x0, want);
    stack_set(ctx, f->dt, ys, y);
    sl_solver_opts zero = {.niter = 0, .x0 = x0};
    CHECK_OK(sl_cgls(v, ys, xs, &zero, &res), ctx);
    cplx got[K];
    stack_get(ctx, f->dt, xs, got);
    CHECK(th_rel_err(got, want, K) <= th_tol(f->dt), "x0 not used");
    sl_darray_destroy(x0);
    sl_darray_destroy(xs);
    sl_darray_destroy(ys);
    sl_darray_destroy(px);
    sl_op_destroy(spd);
    sl_op_destroy(ghg);
    sl_op_destroy(gh);
    sl_op_destroy(bd);
    sl_op_destroy(tik);
    sl_op_destroy(reg);
    sl_op_destroy(id);
    sl_darray_destroy(like);
    sl_op_destroy(g);
    sl_op_destroy(v);
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    for (int d = 0; d < 4; d++) {
        fixture *f = make_fixture(ctx, th_dtypes[d]);
        if (f->a1 && f->a2 && f->diag) {
            test_operators(ctx, f);
            test_solvers(ctx, f);
        }
        free_fixture(f);
    }
    return th_end(ctx, "test_stacked_ops");
}
