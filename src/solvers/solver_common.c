/* See solver_common.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "solvers/solver_common.h"

sl_status sl_solver_check(const char *name, const sl_op *op, const sl_stacked *y,
                          const sl_stacked *x, const sl_solver_opts *opts, sl_solver_opts *o,
                          sl_solve_result *result)
{
    if (!op)
        return SL_ERR_NULL; /* no context to reach the other ranks with */
    memset(o, 0, sizeof *o);
    if (opts)
        *o = *opts;
    sl_status local = SL_OK;
    if (!y || !x || !result)
        local = sl_fail(op->ctx, SL_ERR_NULL, "%s: %s is NULL", name,
                        !y ? "y" : !x ? "x" : "result");
    if (local == SL_OK && (o->x0 || o->callback))
        local = sl_fail(op->ctx, SL_ERR_ARG, "%s: opts.%s takes a plain array: use opts.%s "
                        "with stacked vectors", name, o->x0 ? "x0" : "callback",
                        o->x0 ? "x0_stacked" : "callback_stacked");
    if (local == SL_OK)
        local = sl_space_check(op->ctx, &op->data, y, name);
    if (local == SL_OK)
        local = sl_space_check(op->ctx, &op->model, x, name);
    if (local == SL_OK && o->x0_stacked)
        local = sl_space_check(op->ctx, &op->model, o->x0_stacked, name);
    if (local == SL_OK && (o->niter < 0 || !(o->tol >= 0) || !isfinite(o->damp)))
        local = sl_fail(op->ctx, SL_ERR_ARG, "%s: niter=%d, tol=%g, damp=%g (need niter >= 0, "
                        "tol >= 0, finite damp)", name, o->niter, o->tol, o->damp);
    if (result)
        memset(result, 0, sizeof *result);
    /* Ranks running different iteration counts or tests would leave some in a collective
     * forever (and one rank's bad argument would leave the others waiting): one check per
     * solve, not per iteration, makes either an error everywhere. Doubles compare bitwise. */
    double d[5] = {o->tol, o->damp, o->atol, o->btol, o->conlim};
    int64_t v[10] = {o->niter, o->show != 0, o->history != 0, o->x0_stacked != NULL,
                     o->callback_stacked != NULL};
    memcpy(&v[5], d, sizeof d);
    sl_status agreed = sl_agree(op->ctx, v, 10, local == SL_OK, name);
    return local != SL_OK ? local : agreed;
}

sl_status sl_history_push(sl_history *h, sl_scalar *norm)
{
    if (h->count == h->capacity) {
        int cap = h->capacity ? 2 * h->capacity : 64;
        sl_scalar **n = realloc(h->norms, (size_t)cap * sizeof *n);
        if (!n)
            return SL_ERR_NOMEM;
        h->norms = n;
        h->capacity = cap;
    }
    h->norms[h->count++] = norm;
    return SL_OK;
}

sl_status sl_history_finish(sl_history *h, sl_solve_result *result)
{
    sl_status st = SL_OK;
    if (h->count > 0) {
        result->cost = malloc((size_t)h->count * sizeof(double));
        if (!result->cost)
            st = SL_ERR_NOMEM;
    }
    for (int i = 0; i < h->count; i++) {
        if (st == SL_OK)
            st = sl_scalar_get_real(h->norms[i], &result->cost[i]);
        sl_scalar_destroy(h->norms[i]);
    }
    result->ncost = st == SL_OK ? h->count : 0;
    free(h->norms);
    memset(h, 0, sizeof *h);
    return st;
}

sl_status sl_solver_start(const sl_solver_opts *o, sl_stacked *x)
{
    return o->x0_stacked ? sl_stacked_copy(o->x0_stacked, x) : sl_stacked_zeros(x);
}

sl_status sl_solver_norms(const sl_stacked *s, const sl_stacked *x, double damp,
                          sl_solve_result *result)
{
    sl_scalar *rs = NULL, *rx = NULL;
    double r1 = 0, xn = 0;
    sl_status st = sl_stacked_norm(s, 2, &rs);
    if (st == SL_OK)
        st = sl_stacked_norm(x, 2, &rx);
    if (st == SL_OK)
        st = sl_scalar_get_real(rs, &r1);
    if (st == SL_OK)
        st = sl_scalar_get_real(rx, &xn);
    sl_scalar_destroy(rs);
    sl_scalar_destroy(rx);
    result->r1norm = r1;
    result->r2norm = sqrt(r1 * r1 + damp * damp * xn * xn);
    return st;
}

void sl_solver_log_row(const sl_op *op, const char *name, const sl_solver_opts *o, int iteration,
                       double r1norm, double r2norm, double test, const char *test_name)
{
    sl_context *ctx = op->ctx;
    if (ctx->rank != 0)
        return;
    if (iteration == 0) {
        printf("%s (starlops): operator %zu x %zu (%s), %d ranks\n"
               "damp = %.2e   tol = %.2e   niter = %d\n"
               "   Itn       r1norm         r2norm        %s\n",
               name, sl_space_count(&op->data), sl_space_count(&op->model), op->vt->name,
               ctx->size, o->damp, o->tol, o->niter, test_name);
    }
    printf("%6d   %12.6e   %12.6e   %12.6e\n", iteration, r1norm, r2norm, test);
    fflush(stdout);
}

/* r1norm = ||residual|| and r2norm = sqrt(r1^2 + damp^2 ||x||^2), read now (for the log). */
static sl_status current_norms(const sl_stacked *residual, const sl_stacked *x, double damp,
                               double *r1, double *r2)
{
    sl_solve_result tmp;
    sl_status st = sl_solver_norms(residual, x, damp, &tmp);
    *r1 = tmp.r1norm;
    *r2 = tmp.r2norm;
    return st;
}

sl_status sl_solver_iteration_end(const sl_op *op, const char *name, const char *what,
                                  const sl_solver_opts *o, int iteration,
                                  const sl_stacked *residual, const sl_scalar *k,
                                  const sl_stacked *x, sl_history *hist,
                                  sl_solve_result *result)
{
    sl_status st = SL_OK;
    if (iteration > 0 && o->history) {
        sl_scalar *n = NULL;
        st = sl_stacked_norm(residual, 2, &n);
        if (st == SL_OK)
            st = sl_history_push(hist, n);
    }
    if (st == SL_OK && (o->tol > 0 || o->show)) {
        double value = 0;
        st = sl_scalar_get_real((sl_scalar *)k, &value);
        double r1 = 0, r2 = 0;
        if (st == SL_OK && o->show && (st = current_norms(residual, x, o->damp, &r1, &r2)) == SL_OK)
            sl_solver_log_row(op, name, o, iteration, r1, r2, value, what);
        if (st == SL_OK && o->tol > 0 && value <= o->tol)
            result->istop = 1;
    }
    if (st == SL_OK && iteration > 0)
        st = sl_solver_notify(op, o, iteration, x);
    return st;
}

sl_status sl_solver_notify(const sl_op *op, const sl_solver_opts *o, int iteration,
                           const sl_stacked *x)
{
    if (!o->callback_stacked)
        return SL_OK;
    sl_status st = sl_wait(op->ctx);
    o->callback_stacked(iteration, x, o->callback_arg);
    return st;
}

/* The plain callback, called with the only component of a plain model. */
typedef struct plain_callback {
    void (*fn)(int iteration, const sl_darray *x, void *arg);
    void *arg;
} plain_callback;

static void call_plain(int iteration, const sl_stacked *x, void *arg)
{
    const plain_callback *p = arg;
    p->fn(iteration, x->arrays[0], p->arg);
}

sl_status sl_solver_run_plain(const char *name, const char *stacked_name, sl_solver_core core,
                              const sl_op *op, const sl_darray *y, sl_darray *x,
                              const sl_solver_opts *opts, sl_solve_result *result)
{
    if (!op)
        return SL_ERR_NULL;
    if (op->model.stacked || op->data.stacked) /* the same on every rank: no agreement needed */
        return sl_fail(op->ctx, SL_ERR_ARG, "%s: %s has a stacked %s space: use %s", name,
                       op->vt->name, op->model.stacked ? "model" : "data", stacked_name);
    sl_solver_opts o = {0};
    if (opts)
        o = *opts;
    int misuse = o.x0_stacked || o.callback_stacked;
    sl_darray *y_slot = (sl_darray *)y, *x_slot = x, *x0_slot = (sl_darray *)o.x0;
    sl_stacked ys = sl_stacked_single(&y_slot), xs = sl_stacked_single(&x_slot);
    sl_stacked x0s = sl_stacked_single(&x0_slot);
    plain_callback cb = {o.callback, o.callback_arg};
    o.x0_stacked = o.x0 ? &x0s : NULL;
    o.callback_stacked = o.callback ? call_plain : NULL;
    o.callback_arg = o.callback ? &cb : NULL;
    o.x0 = NULL;
    o.callback = NULL;
    if (misuse) /* still a collective call: the check below reports it on every rank */
        o.niter = -1;
    sl_status st = core(name, op, y ? &ys : NULL, x ? &xs : NULL, &o, result);
    if (misuse && st != SL_OK)
        st = sl_fail(op->ctx, SL_ERR_ARG, "%s: opts.x0_stacked and opts.callback_stacked are "
                     "for %s; use opts.x0 and opts.callback", name, stacked_name);
    return st;
}
