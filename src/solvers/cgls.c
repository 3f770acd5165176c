/* CGLS for min ||y - A x||^2 + damp^2 ||x||^2 (PyLops' cgls, with damp^2 used consistently).
 * One iteration = one matvec, one rmatvec, two or three reductions and four vector updates,
 * all submitted; the step lengths a = k / (||q||^2 + damp^2 ||c||^2) and b = k_new / k are
 * scalar futures computed by guarded ratio tasks (a zero or non-finite step stops the solve
 * inside the tasks, solver_common.h). */
#include <stdlib.h>

#include "darray/stacked_internal.h"
#include "runtime/try.h"
#include "solvers/solver_common.h"

typedef struct cgls_vectors {
    sl_stacked *s, *r, *c, *q; /* residual (data), normal residual, direction (model), A c */
} cgls_vectors;

static void free_vectors(cgls_vectors *v)
{
    sl_stacked_destroy(v->s);
    sl_stacked_destroy(v->r);
    sl_stacked_destroy(v->c);
    sl_stacked_destroy(v->q);
}

/* r = A^H s - damp^2 x */
static sl_status normal_residual(const sl_op *op, const cgls_vectors *v, const sl_stacked *x,
                                 double damp)
{
    SL_TRY(sl_op_apply(op, 1, v->s, v->r));
    return damp != 0 ? sl_stacked_axpy(-damp * damp, x, v->r) : SL_OK;
}

/* ||v||^2 as a future (vdot of v with itself: real, non-negative) */
static sl_status sq_norm(const sl_stacked *v, sl_scalar **out)
{
    return sl_stacked_vdot(v, v, out);
}

static sl_status cgls_setup(const sl_op *op, const sl_stacked *y, sl_stacked *x, double damp,
                            const sl_solver_opts *o, cgls_vectors *v, sl_scalar **kold)
{
    /* what this makes belongs to v and *kold, which the caller frees */
    SL_TRY(sl_space_create(op->ctx, &op->data, &v->s));
    SL_TRY(sl_space_create(op->ctx, &op->data, &v->q));
    SL_TRY(sl_space_create(op->ctx, &op->model, &v->r));
    SL_TRY(sl_space_create(op->ctx, &op->model, &v->c));
    SL_TRY(sl_solver_start(o, x));
    SL_TRY(sl_stacked_copy(y, v->s));
    if (o->x0) { /* s = y - A x0, with q as scratch */
        SL_TRY(sl_op_apply(op, 0, x, v->q));
        SL_TRY(sl_stacked_axpy(-1.0, v->q, v->s));
    }
    SL_TRY(normal_residual(op, v, x, damp));
    SL_TRY(sl_stacked_copy(v->r, v->c));
    SL_TRY(sl_op_apply(op, 0, v->c, v->q));
    return sq_norm(v->r, kold);
}

/* Iteration `it` (1-based); on success *kold is replaced by the new ||r||^2 future. If the
 * step length a trips the guard x holds it - 1 iterations, if b does it holds it. */
static sl_status cgls_step(const sl_op *op, sl_stacked *x, double damp, cgls_vectors *v,
                           const sl_solver_guard *guard, int it, sl_scalar **kold)
{
    sl_context *ctx = op->ctx;
    sl_scalar *qq = NULL, *cc = NULL, *a = NULL, *k = NULL, *b = NULL;
    sl_ratio_guard before = sl_guard_at(guard, it - 1), after = sl_guard_at(guard, it);
    sl_status st;
    if (damp != 0) { /* ||q||^2 and ||c||^2 travel in one allreduce */
        const sl_stacked *both[2] = {v->q, v->c};
        sl_scalar *out[2] = {NULL, NULL};
        st = sl_stacked_vdot_fused(both, both, 2, out);
        qq = out[0], cc = out[1];
    } else {
        st = sq_norm(v->q, &qq);
    }
    if (st == SL_OK) st = sl_scalar_ratio(ctx, *kold, qq, cc, damp * damp, &before, &a);
    if (st == SL_OK) st = sl_stacked_axpy_scalar(a, 1.0, v->c, x);    /* x += a c */
    if (st == SL_OK) st = sl_stacked_axpy_scalar(a, -1.0, v->q, v->s); /* s -= a q */
    if (st == SL_OK) st = normal_residual(op, v, x, damp);
    if (st == SL_OK) st = sq_norm(v->r, &k);
    if (st == SL_OK) st = sl_scalar_ratio(ctx, k, *kold, NULL, 0, &after, &b);
    if (st == SL_OK) st = sl_stacked_axpby_scalars(NULL, 1.0, v->r, b, 1.0, v->c); /* c = r + b c */
    if (st == SL_OK) st = sl_op_apply(op, 0, v->c, v->q);
    sl_scalar_destroy(qq);
    sl_scalar_destroy(cc);
    sl_scalar_destroy(a);
    sl_scalar_destroy(b);
    if (st == SL_OK) {
        sl_scalar_destroy(*kold);
        *kold = k;
    } else {
        sl_scalar_destroy(k);
    }
    return st;
}

static sl_status cgls(const char *name, const sl_op *op, const sl_stacked *y, sl_stacked *x,
                      const sl_solver_opts *opts, sl_solve_result *result)
{
    sl_solver_opts o;
    sl_status st = sl_solver_check(SL_SOLVER_CGLS, name, op, y, x, opts, &o, result);
    if (st != SL_OK)
        return st;
    sl_failure_count before = sl_failure_count_now(op->ctx);
    cgls_vectors v = {0};
    sl_scalar *kold = NULL;
    sl_history hist = {0};
    sl_solver_guard guard;
    int it = 0, code = SL_GUARD_OK, completed = 0;
    const char *test = "||A^H r - d^2 x||^2";
    st = sl_guard_create(op->ctx, &guard);
    if (st == SL_OK) st = cgls_setup(op, y, x, o.damp, &o, &v, &kold);
    if (st == SL_OK)
        st = sl_solver_iteration_end(op, "CGLS", test, &o, 0, v.s, kold, x, &hist, result);
    for (; st == SL_OK && it < o.niter && result->istop == 2; it++) {
        starpu_iteration_push((unsigned long)it + 1); /* tags the tasks in FxT traces */
        st = cgls_step(op, x, o.damp, &v, &guard, it + 1, &kold);
        starpu_iteration_pop();
        if (st == SL_OK)
            st = sl_solver_iteration_end(op, "CGLS", test, &o, it + 1, v.s, kold, x, &hist,
                                         result);
    }
    result->iterations = it;
    if (st == SL_OK) st = sl_history_finish(&hist, result);
    else sl_history_discard(&hist);
    if (st == SL_OK) st = sl_guard_read(&guard, &code, &completed);
    if (st == SL_OK) st = sl_solver_true_norms(op, y, x, o.damp, v.q, result);
    if (st == SL_OK) st = sl_solver_finish(op, name, SL_SOLVER_CGLS, code, completed, result);
    st = sl_solver_conclude(op, name, SL_SOLVER_CGLS, &before, st, result);
    sl_scalar_destroy(kold);
    free_vectors(&v);
    sl_guard_destroy(&guard);
    return st;
}

sl_status sl_cgls(const sl_op *op, const sl_darray *y, sl_darray *x, const sl_solver_opts *opts,
                  sl_solve_result *result)
{
    return sl_solver_run("sl_cgls", cgls, op, y, x, opts, result);
}
