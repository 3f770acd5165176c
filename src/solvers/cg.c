/* Conjugate gradient for Hermitian positive definite operators (PyLops' cg), as tasks:
 * a = ||r||^2 / <d, A d> and b = ||r_new||^2 / ||r||^2 are scalar futures of guarded ratio
 * tasks (a zero or non-finite step stops the solve, solver_common.h). */
#include <stdlib.h>

#include "solvers/solver_common.h"

static sl_status cg(const char *name, const sl_op *op, const sl_stacked *y, sl_stacked *x,
                    const sl_solver_opts *opts, sl_solve_result *result)
{
    sl_solver_opts o;
    sl_status st = sl_solver_check(SL_SOLVER_CG, name, op, y, x, opts, &o, result);
    if (st != SL_OK)
        return st;
    if (!sl_space_equal(&op->model, &op->data, op->ctx->size))
        return sl_fail(op->ctx, SL_ERR_SHAPE, "%s: %s is not square (model and data layouts "
                       "differ)", name, op->vt->name);
    sl_context *ctx = op->ctx;
    sl_failure_count before = sl_failure_count_now(ctx);
    sl_stacked *r = NULL, *d = NULL, *ad = NULL;
    sl_scalar *kold = NULL;
    sl_history hist = {0};
    sl_solver_guard guard;
    int code = SL_GUARD_OK, completed = 0;
    st = sl_guard_create(ctx, &guard);
    if (st == SL_OK) st = sl_space_create(op->ctx, &op->data, &r);
    if (st == SL_OK) st = sl_space_create(op->ctx, &op->data, &d);
    if (st == SL_OK) st = sl_space_create(op->ctx, &op->data, &ad);
    if (st == SL_OK) st = sl_solver_start(&o, x);
    if (st == SL_OK) st = sl_stacked_copy(y, r);
    if (st == SL_OK && o.x0) {
        st = sl_op_apply(op, 0, x, ad);
        if (st == SL_OK) st = sl_stacked_axpy(-1.0, ad, r);
    }
    if (st == SL_OK) st = sl_stacked_copy(r, d);
    if (st == SL_OK) st = sl_stacked_vdot(r, r, &kold);
    if (st == SL_OK)
        st = sl_solver_iteration_end(op, "CG", "||r||^2", &o, 0, r, kold, x, &hist, result);
    int it = 0;
    for (; st == SL_OK && it < o.niter && result->istop == 2; it++) {
        sl_scalar *dad = NULL, *a = NULL, *knew = NULL, *b = NULL;
        /* x holds `it` iterations if a trips the guard, it + 1 if b does */
        sl_ratio_guard before = sl_guard_at(&guard, it), after = sl_guard_at(&guard, it + 1);
        starpu_iteration_push((unsigned long)it + 1); /* tags the tasks in FxT traces */
        st = sl_op_apply(op, 0, d, ad);
        if (st == SL_OK) st = sl_stacked_vdot(d, ad, &dad);
        if (st == SL_OK) st = sl_scalar_ratio(ctx, kold, dad, NULL, 0, &before, &a);
        if (st == SL_OK) st = sl_stacked_axpy_scalar(a, 1.0, d, x);
        if (st == SL_OK) st = sl_stacked_axpy_scalar(a, -1.0, ad, r);
        if (st == SL_OK) st = sl_stacked_vdot(r, r, &knew);
        if (st == SL_OK) st = sl_scalar_ratio(ctx, knew, kold, NULL, 0, &after, &b);
        if (st == SL_OK) st = sl_stacked_axpby_scalars(NULL, 1.0, r, b, 1.0, d);
        starpu_iteration_pop();
        sl_scalar_destroy(dad);
        sl_scalar_destroy(a);
        sl_scalar_destroy(b);
        sl_scalar_destroy(kold);
        kold = knew;
        if (st == SL_OK)
            st = sl_solver_iteration_end(op, "CG", "||r||^2", &o, it + 1, r, kold, x, &hist,
                                         result);
    }
    result->iterations = it;
    if (st == SL_OK) st = sl_history_finish(&hist, result);
    else sl_history_discard(&hist);
    if (st == SL_OK) st = sl_guard_read(&guard, &code, &completed);
    if (st == SL_OK) st = sl_solver_true_norms(op, y, x, 0.0, ad, result);
    if (st == SL_OK) st = sl_solver_finish(op, name, SL_SOLVER_CG, code, completed, result);
    st = sl_solver_conclude(op, name, SL_SOLVER_CG, &before, st, result);
    sl_guard_destroy(&guard);
    sl_scalar_destroy(kold);
    sl_stacked_destroy(r);
    sl_stacked_destroy(d);
    sl_stacked_destroy(ad);
    return st;
}

sl_status sl_cg(const sl_op *op, const sl_darray *y, sl_darray *x, const sl_solver_opts *opts,
                sl_solve_result *result)
{
    return sl_solver_run("sl_cg", cg, op, y, x, opts, result);
}

void sl_solve_result_free(sl_solve_result *result)
{
    if (result) {
        free(result->cost);
        result->cost = NULL;
        result->ncost = 0;
    }
}
