/* LSQR (Paige & Saunders, ACM TOMS 8(1), 1982; update order and stopping tests as in scipy's
 * lsqr, which PyLops' lsqr follows). Vector work is submitted as tasks; the scalar recurrences
 * and the stopping tests run in two tasks per iteration on a per-rank state vector
 * (codelets/lsqr.c), whose coefficients reach the vector tasks as scalar futures.
 * The host either reads the state after every iteration (a user test, show or history) and
 * stops submitting when the tasks say so, or submits niter iterations that become no-ops once
 * the tasks' machine-precision tests or guards stop the solve, and reads it once. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codelets.h"
#include "runtime/try.h"
#include "solvers/solver_common.h"

typedef struct lsqr_work {
    sl_stacked *u, *v, *w, *tmp_data, *tmp_model;
    double state[SL_LSQR_NSTATE];
    starpu_data_handle_t state_h;
    sl_scalar *alfa, *beta; /* current coefficients as futures */
    sl_scalar *bnorm;       /* ||y||, read by the stopping tests */
} lsqr_work;

/* value = ||z||, inverse = 1/value (0 for a zero vector); z *= inverse. */
static sl_status normalise(sl_context *ctx, lsqr_work *wk, sl_stacked *z, int which, int initial,
                           sl_scalar **value)
{
    sl_scalar *n2 = NULL, *inv = NULL;
    double zero[2] = {0, 0};
    sl_status st = sl_stacked_vdot(z, z, &n2);
    if (st == SL_OK) st = sl_scalar_create(ctx, 0, zero, value);
    if (st == SL_OK) st = sl_scalar_create(ctx, 0, zero, &inv);
    sl_lsqr_stage_args a = {which, initial};
    if (st == SL_OK &&
        sl_task_lsqr_norm_stage(a, wk->state_h, n2->handle, (*value)->handle, inv->handle) != 0)
        st = sl_fail(ctx, SL_ERR_STARPU, "starpu_task_insert failed for lsqr_norm");
    if (st == SL_OK) st = sl_stacked_scale_scalar(z, inv, 1.0);
    sl_scalar_destroy(n2);
    sl_scalar_destroy(inv);
    return st;
}

/* A test switched off (negative) is 0 in the tasks: scipy's exact-zero behaviour. */
static double tol_or_zero(double t)
{
    return t > 0 ? t : 0;
}

static sl_status setup(const sl_op *op, const sl_stacked *y, sl_stacked *x,
                       const sl_solver_opts *o, lsqr_work *wk)
{
    sl_context *ctx = op->ctx;
    memset(wk->state, 0, sizeof wk->state);
    wk->state[SL_LSQR_DAMP] = o->damp;
    wk->state[SL_LSQR_CS2] = -1;
    wk->state[SL_LSQR_ATOL] = tol_or_zero(o->atol);
    wk->state[SL_LSQR_BTOL] = tol_or_zero(o->btol);
    wk->state[SL_LSQR_CTOL] = o->conlim > 0 ? 1 / o->conlim : 0;
    wk->state[SL_LSQR_NITER] = o->niter;
    starpu_vector_data_register(&wk->state_h, STARPU_MAIN_RAM, (uintptr_t)wk->state,
                                SL_LSQR_NSTATE, sizeof(double));
    /* what this makes belongs to wk, which the caller frees: nothing to release here */
    SL_TRY(sl_space_create(op->ctx, &op->data, &wk->u));
    SL_TRY(sl_space_create(op->ctx, &op->data, &wk->tmp_data));
    SL_TRY(sl_space_create(op->ctx, &op->model, &wk->v));
    SL_TRY(sl_space_create(op->ctx, &op->model, &wk->w));
    SL_TRY(sl_space_create(op->ctx, &op->model, &wk->tmp_model));
    SL_TRY(sl_solver_start(o, x));
    SL_TRY(sl_stacked_norm(y, 2, &wk->bnorm)); /* scipy's tests use ||y|| */
    SL_TRY(sl_stacked_copy(y, wk->u));
    if (o->x0) {
        SL_TRY(sl_op_apply(op, 0, x, wk->tmp_data));
        SL_TRY(sl_stacked_axpy(-1.0, wk->tmp_data, wk->u));
    }
    SL_TRY(normalise(ctx, wk, wk->u, SL_LSQR_BETA, 1, &wk->beta));
    SL_TRY(sl_op_apply(op, 1, wk->u, wk->v));
    SL_TRY(normalise(ctx, wk, wk->v, SL_LSQR_ALFA, 1, &wk->alfa));
    return sl_stacked_copy(wk->v, wk->w);
}

static sl_status iterate(const sl_op *op, sl_stacked *x, lsqr_work *wk)
{
    sl_context *ctx = op->ctx;
    sl_scalar *beta = NULL, *alfa = NULL, *ww = NULL, *t1 = NULL, *t2 = NULL;
    double zero[2] = {0, 0};
    /* u = A v - alfa u, beta = ||u||, u /= beta */
    sl_status st = sl_op_apply(op, 0, wk->v, wk->tmp_data);
    if (st == SL_OK) st = sl_stacked_axpby_scalars(NULL, 1.0, wk->tmp_data, wk->alfa, -1.0, wk->u);
    if (st == SL_OK) st = normalise(ctx, wk, wk->u, SL_LSQR_BETA, 0, &beta);
    /* v = A^H u - beta v, alfa = ||v||, v /= alfa */
    if (st == SL_OK) st = sl_op_apply(op, 1, wk->u, wk->tmp_model);
    if (st == SL_OK) st = sl_stacked_axpby_scalars(NULL, 1.0, wk->tmp_model, beta, -1.0, wk->v);
    if (st == SL_OK) st = normalise(ctx, wk, wk->v, SL_LSQR_ALFA, 0, &alfa);
    /* rotations, then x += t1 w and w = v + t2 w */
    if (st == SL_OK) st = sl_stacked_vdot(wk->w, wk->w, &ww);
    if (st == SL_OK) st = sl_scalar_create(ctx, 0, zero, &t1);
    if (st == SL_OK) st = sl_scalar_create(ctx, 0, zero, &t2);
    if (st == SL_OK &&
        sl_task_lsqr_rotate(wk->state_h, ww->handle, t1->handle, t2->handle,
                            wk->bnorm->handle) != 0)
        st = sl_fail(ctx, SL_ERR_STARPU, "starpu_task_insert failed for lsqr_rotate");
    if (st == SL_OK) st = sl_stacked_axpy_scalar(t1, 1.0, wk->w, x);
    if (st == SL_OK) st = sl_stacked_axpby_scalars(NULL, 1.0, wk->v, t2, 1.0, wk->w);
    sl_scalar_destroy(ww);
    sl_scalar_destroy(t1);
    sl_scalar_destroy(t2);
    sl_scalar_destroy(wk->alfa);
    sl_scalar_destroy(wk->beta);
    wk->alfa = alfa;
    wk->beta = beta;
    return st;
}

/* The host's copy of the state (one wait). */
static sl_status read_state(sl_context *ctx, lsqr_work *wk, double *s)
{
    ctx->host_waits++;
    if (starpu_data_acquire(wk->state_h, STARPU_R) != 0)
        return sl_fail(ctx, SL_ERR_STARPU, "sl_lsqr: cannot read the state");
    memcpy(s, wk->state, sizeof wk->state);
    starpu_data_release(wk->state_h);
    return SL_OK;
}

static void free_work(lsqr_work *wk)
{
    sl_scalar_destroy(wk->bnorm);
    sl_scalar_destroy(wk->alfa);
    sl_scalar_destroy(wk->beta);
    sl_stacked_destroy(wk->u);
    sl_stacked_destroy(wk->v);
    sl_stacked_destroy(wk->w);
    sl_stacked_destroy(wk->tmp_data);
    sl_stacked_destroy(wk->tmp_model);
    if (wk->state_h)
        starpu_data_unregister(wk->state_h);
    free(wk);
}

/* After iteration `it`: the log row and the history entry from the state just read. */
static sl_status record(const sl_op *op, const sl_solver_opts *o, int it, const double *s,
                        sl_solve_result *result)
{
    if (o->show)
        sl_solver_log_row(op, "LSQR", o, it, fabs(s[SL_LSQR_R1NORM]), s[SL_LSQR_RNORM],
                          it ? s[SL_LSQR_ARNORM] : s[SL_LSQR_ALFA] * s[SL_LSQR_BETA],
                          "||A^H r||");
    if (it == 0 || !o->history)
        return SL_OK;
    double *c = realloc(result->cost, (size_t)it * sizeof(double));
    if (!c)
        return sl_fail(op->ctx, SL_ERR_NOMEM, "sl_lsqr: out of memory");
    (result->cost = c)[it - 1] = fabs(s[SL_LSQR_R1NORM]);
    result->ncost = it;
    return SL_OK;
}

static sl_status lsqr(const char *name, const sl_op *op, const sl_stacked *y, sl_stacked *x,
                      const sl_solver_opts *opts, sl_solve_result *result)
{
    sl_solver_opts o;
    sl_status st = sl_solver_check(SL_SOLVER_LSQR, name, op, y, x, opts, &o, result);
    if (st != SL_OK)
        return st;
    sl_context *ctx = op->ctx;
    sl_failure_count before = sl_failure_count_now(ctx);
    lsqr_work *wk = calloc(1, sizeof *wk);
    if (!wk)
        return sl_fail(ctx, SL_ERR_NOMEM, "sl_lsqr: out of memory");
    /* the host watches (one read per iteration) only when a user test, the log or the history
     * needs it; otherwise the tasks' own tests and guards stop the solve */
    int watch = o.atol > 0 || o.btol > 0 || o.conlim > 0 || o.show || o.history;
    int it = 0, stopped = 0;
    double s[SL_LSQR_NSTATE] = {0};
    st = setup(op, y, x, &o, wk);
    if (st == SL_OK && watch) {
        st = read_state(ctx, wk, s);
        stopped = st == SL_OK && s[SL_LSQR_STOPPED] != 0;
        int none = 0;
        if (st == SL_OK) st = sl_solver_global_stop(op, &none, &stopped);
        if (st == SL_OK) st = record(op, &o, 0, s, result);
    }
    while (st == SL_OK && !stopped && it < o.niter) {
        starpu_iteration_push((unsigned long)it + 1); /* tags the tasks in FxT traces */
        st = iterate(op, x, wk);
        starpu_iteration_pop();
        it++;
        if (st == SL_OK && watch) {
            st = read_state(ctx, wk, s);
            stopped = st == SL_OK && s[SL_LSQR_STOPPED] != 0;
            int none = 0; /* a stopped group's tasks are no-ops: it waits for the others */
            if (st == SL_OK) st = sl_solver_global_stop(op, &none, &stopped);
            if (st == SL_OK) st = record(op, &o, it, s, result);
        }
        if (st == SL_OK)
            st = sl_solver_notify(op, &o, it, x);
    }
    if (st == SL_OK)
        st = read_state(ctx, wk, s);
    result->iterations = it;
    if (st == SL_OK && s[SL_LSQR_STOPPED] != 0) {
        result->istop = (int)s[SL_LSQR_ISTOP];
        result->iterations = (int)s[SL_LSQR_ITN];
    }
    if (result->ncost > result->iterations)
        result->ncost = result->iterations;
    if (st == SL_OK) st = sl_solver_true_norms(op, y, x, o.damp, wk->tmp_data, result);
    if (st == SL_OK)
        st = sl_solver_finish(op, name, SL_SOLVER_LSQR, (int)s[SL_LSQR_GUARD],
                              (int)s[SL_LSQR_ITN], result);
    st = sl_solver_conclude(op, name, SL_SOLVER_LSQR, &before, st, result);
    free_work(wk);
    return st;
}

sl_status sl_lsqr(const sl_op *op, const sl_darray *y, sl_darray *x, const sl_solver_opts *opts,
                  sl_solve_result *result)
{
    return sl_solver_run("sl_lsqr", lsqr, op, y, x, opts, result);
}
