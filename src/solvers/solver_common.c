/* See solver_common.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "solvers/solver_common.h"

sl_status sl_solver_check(const char *name, const sl_op *op, const sl_darray *y,
                          const sl_darray *x, const sl_solver_opts *opts, sl_solver_opts *o,
                          sl_solve_result *result)
{
    if (!op || !y || !x || !result)
        return SL_ERR_NULL;
    memset(result, 0, sizeof *result);
    sl_status st = sl_layout_check(op->ctx, &op->data, y, name);
    if (st == SL_OK)
        st = sl_layout_check(op->ctx, &op->model, x, name);
    if (st == SL_OK && opts && opts->x0)
        st = sl_layout_check(op->ctx, &op->model, opts->x0, name);
    if (st != SL_OK)
        return st;
    memset(o, 0, sizeof *o);
    if (opts)
        *o = *opts;
    if (o->niter < 0 || !(o->tol >= 0) || !isfinite(o->damp))
        return sl_fail(op->ctx, SL_ERR_ARG, "%s: niter=%d, tol=%g, damp=%g (need niter >= 0, "
                       "tol >= 0, finite damp)", name, o->niter, o->tol, o->damp);
    return SL_OK;
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

sl_status sl_solver_start(const sl_solver_opts *o, sl_darray *x)
{
    return o->x0 ? sl_darray_copy(o->x0, x) : sl_darray_zeros(x);
}

sl_status sl_solver_norms(const sl_darray *s, const sl_darray *x, double damp,
                          sl_solve_result *result)
{
    sl_scalar *rs = NULL, *rx = NULL;
    double r1 = 0, xn = 0;
    sl_status st = sl_darray_norm(s, 2, &rs);
    if (st == SL_OK)
        st = sl_darray_norm(x, 2, &rx);
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

void sl_solver_log_row(sl_context *ctx, const char *name, int iteration, double value,
                    const char *what)
{
    if (ctx->rank != 0)
        return;
    if (iteration == 0)
        printf("%s (starlops, %d ranks)\n   Itn      %s\n", name, ctx->size, what);
    printf("%6d   %14.6e\n", iteration, value);
    fflush(stdout);
}

sl_status sl_solver_iteration_end(const sl_op *op, const char *name, const char *what,
                                  const sl_solver_opts *o, int iteration,
                                  const sl_darray *residual, const sl_scalar *k,
                                  const sl_darray *x, sl_history *hist,
                                  sl_solve_result *result)
{
    sl_status st = SL_OK;
    if (iteration > 0 && o->history) {
        sl_scalar *n = NULL;
        st = sl_darray_norm(residual, 2, &n);
        if (st == SL_OK)
            st = sl_history_push(hist, n);
    }
    if (st == SL_OK && (o->tol > 0 || o->show)) {
        double value = 0;
        st = sl_scalar_get_real((sl_scalar *)k, &value);
        if (st == SL_OK && o->show)
            sl_solver_log_row(op->ctx, name, iteration, value, what);
        if (st == SL_OK && o->tol > 0 && value <= o->tol)
            result->istop = 1;
    }
    if (st == SL_OK && iteration > 0 && o->callback) {
        st = sl_wait(op->ctx);
        o->callback(iteration, x, o->callback_arg);
    }
    return st;
}
