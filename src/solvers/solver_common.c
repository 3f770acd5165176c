/* See solver_common.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "cuda/cuda_workers.h"
#include "solvers/solver_common.h"

/* Zeros select the defaults (PyLops-MPI cg/cgls tol; scipy lsqr atol, btol, conlim). */
static void apply_defaults(sl_solver_kind kind, sl_solver_opts *o)
{
    if (kind == SL_SOLVER_LSQR) {
        if (o->atol == 0) o->atol = SL_LSQR_DEFAULT_ATOL;
        if (o->btol == 0) o->btol = SL_LSQR_DEFAULT_BTOL;
        if (o->conlim == 0) o->conlim = SL_LSQR_DEFAULT_CONLIM;
    } else if (o->tol == 0) {
        o->tol = SL_CG_DEFAULT_TOL;
    }
}

static const char *kind_name(sl_solver_kind kind)
{
    return kind == SL_SOLVER_CG ? "CG" : kind == SL_SOLVER_CGLS ? "CGLS" : "LSQR";
}

sl_status sl_solver_check(sl_solver_kind kind, const char *name, const sl_op *op,
                          const sl_stacked *y, const sl_stacked *x, const sl_solver_opts *opts,
                          sl_solver_opts *o, sl_solve_result *result)
{
    if (!op)
        return sl_null_error(name); /* no context to reach the other ranks with */
    memset(o, 0, sizeof *o);
    if (opts)
        *o = *opts;
    apply_defaults(kind, o);
    sl_status local = SL_OK;
    if (!y || !x || !result)
        local = sl_fail(op->ctx, SL_ERR_NULL, "%s: %s is NULL", name,
                        !y ? "y" : !x ? "x" : "result");
    if (local == SL_OK)
        local = sl_space_check(op->ctx, &op->data, y, name);
    if (local == SL_OK)
        local = sl_space_check(op->ctx, &op->model, x, name);
    if (local == SL_OK && o->x0) {
        SL_STACK_VIEW(x0, o->x0);
        local = sl_space_check(op->ctx, &op->model, &x0, name);
    }
    if (local == SL_OK && (o->niter < 0 || isnan(o->tol) || isnan(o->atol) || isnan(o->btol) ||
                           isnan(o->conlim) || !isfinite(o->damp)))
        local = sl_fail(op->ctx, SL_ERR_ARG, "%s: niter=%d tol=%g atol=%g btol=%g conlim=%g "
                        "damp=%g (need niter >= 0, no NaN tolerance (0: default, < 0: no "
                        "test), finite damp)", name, o->niter, o->tol, o->atol, o->btol,
                        o->conlim, o->damp);
    if (result) {
        memset(result, 0, sizeof *result);
        result->istop = kind == SL_SOLVER_LSQR ? 7 : 2;
    }
    /* Ranks in different solvers, or running different iteration counts or tests, would leave
     * some in a collective forever (and one rank's bad argument would leave the others
     * waiting): one check per solve, not per iteration, makes either an error everywhere.
     * The solver first, with its own message; then the options. Doubles compare bitwise. */
    int64_t which = kind;
    sl_status agreed = sl_agree(op->ctx, &which, 1, 1, name);
    if (agreed == SL_ERR_RANK_MISMATCH)
        return sl_fail(op->ctx, agreed, "%s: ranks called different solvers (this rank: %s)",
                       name, kind_name(kind));
    if (agreed != SL_OK)
        return agreed;
    double d[5] = {o->tol, o->damp, o->atol, o->btol, o->conlim};
    int64_t v[10] = {o->niter, o->show != 0, o->history != 0, o->x0 != NULL,
                     o->callback != NULL};
    memcpy(&v[5], d, sizeof d);
    agreed = sl_agree(op->ctx, v, 10, local == SL_OK, name);
    return local != SL_OK ? local : agreed;
}

sl_status sl_guard_create(sl_context *ctx, sl_solver_guard *g)
{
    memset(g, 0, sizeof *g);
    g->ctx = ctx;
    starpu_vector_data_register(&g->handle, STARPU_MAIN_RAM, (uintptr_t)g->value, 2,
                                sizeof(double));
    return g->handle ? SL_OK : sl_fail(ctx, SL_ERR_STARPU, "cannot register a solver guard");
}

sl_ratio_guard sl_guard_at(const sl_solver_guard *g, int completed)
{
    return (sl_ratio_guard){g->handle, completed};
}

sl_status sl_guard_read(sl_solver_guard *g, int *code, int *completed)
{
    g->ctx->host_waits++;
    if (starpu_data_acquire(g->handle, STARPU_R) != 0)
        return sl_fail(g->ctx, SL_ERR_STARPU, "cannot read the solver guard");
    *code = (int)g->value[0];
    *completed = (int)g->value[1];
    starpu_data_release(g->handle);
    return SL_OK;
}

void sl_guard_destroy(sl_solver_guard *g)
{
    if (g->handle)
        starpu_data_unregister(g->handle);
    g->handle = NULL;
}

sl_status sl_solver_finish(const sl_op *op, const char *name, sl_solver_kind kind, int code,
                           int completed, sl_solve_result *result)
{
    int lsqr = kind == SL_SOLVER_LSQR;
    if (code == SL_GUARD_OK && result->reason == SL_STOP_NONFINITE) /* seen by the host */
        code = SL_GUARD_NONFINITE, completed = result->iterations;
    if (code != SL_GUARD_OK && completed < result->iterations) {
        result->iterations = completed;
        if (result->ncost > completed)
            result->ncost = completed;
    }
    if (code == SL_GUARD_BREAKDOWN) {
        result->istop = lsqr ? 8 : 3;
        result->reason = SL_STOP_BREAKDOWN;
    } else if (code == SL_GUARD_NONFINITE) {
        result->istop = lsqr ? 9 : 4;
        result->reason = SL_STOP_NONFINITE;
    } else if (lsqr) {
        int i = result->istop;
        result->reason = i == 7 ? SL_STOP_ITERATIONS : i == 3 || i == 6 ? SL_STOP_CONDITION
                                                                        : SL_STOP_CONVERGED;
    } else {
        result->reason = result->istop == 1 ? SL_STOP_CONVERGED : SL_STOP_ITERATIONS;
    }
    if (result->reason == SL_STOP_NONFINITE || !isfinite(result->r1norm) ||
        !isfinite(result->r2norm)) {
        result->reason = SL_STOP_NONFINITE;
        result->istop = lsqr ? 9 : 4;
        return sl_fail(op->ctx, SL_ERR_NONFINITE, "%s: a NaN or infinity appeared after %d "
                       "iteration(s) (in the data, the operator or a step); x holds the last "
                       "iterate made of finite steps; r1norm = %g", name, result->iterations,
                       result->r1norm);
    }
    return SL_OK;
}

const char *sl_stop_reason_name(sl_stop_reason reason)
{
    switch (reason) {
    case SL_STOP_CONVERGED: return "converged";
    case SL_STOP_ITERATIONS: return "iterations";
    case SL_STOP_CONDITION: return "condition";
    case SL_STOP_BREAKDOWN: return "breakdown";
    case SL_STOP_NONFINITE: return "nonfinite";
    case SL_STOP_COMM: return "communication";
    default: return "none";
    }
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
            st = sl_scalar_read_real(h->norms[i], &result->cost[i]);
        sl_scalar_destroy(h->norms[i]);
    }
    result->ncost = st == SL_OK ? h->count : 0;
    free(h->norms);
    memset(h, 0, sizeof *h);
    return st;
}

sl_status sl_solver_global_stop(const sl_op *op, int *nonfinite, int *done)
{
    /* Unmasked, every rank computed the same values, unless a communication failed on one
     * (its result is NaN there only): agreeing always keeps the ranks in step then. */
    int mine[2] = {*nonfinite != 0, !*done}, all[2];
    if (MPI_Allreduce(mine, all, 2, MPI_INT, MPI_MAX, op->ctx->host_comm) != MPI_SUCCESS)
        return sl_fail(op->ctx, SL_ERR_MPI, "solver: MPI_Allreduce of the stopping test failed");
    *nonfinite = all[0];
    *done = !all[1];
    return SL_OK;
}

sl_status sl_solver_conclude(const sl_op *op, const char *name, sl_solver_kind kind,
                             const sl_failure_count *before, sl_status st,
                             sl_solve_result *result)
{
    sl_context *ctx = op->ctx;
    sl_failure_count now = sl_failure_count_now(ctx);
    /* a communication failure before this solve poisoned its reductions too (comm.h) */
    int mine[2] = {now.comm != 0, now.tasks != before->tasks}, any[2];
    if (MPI_Allreduce(mine, any, 2, MPI_INT, MPI_MAX, ctx->host_comm) != MPI_SUCCESS)
        return sl_fail(ctx, SL_ERR_MPI, "%s: MPI_Allreduce at the end of the solve failed", name);
    if (!any[0] && !any[1])
        return st;
    char cause[SL_ERRMSG_LEN] = "a communication operation or a task failed on another rank";
    if (sl_async_check(ctx, name) != SL_OK) /* reported here, not again by sl_wait */
        snprintf(cause, sizeof cause, "%s", sl_last_error(ctx));
    else if (mine[0])
        snprintf(cause, sizeof cause, "a communication operation failed on rank %d before this "
                 "solve (reported then): the context's reductions are NaN since", ctx->rank);
    int iterations = result ? result->iterations : 0;
    if (result && any[0]) {
        result->reason = SL_STOP_COMM;
        result->istop = kind == SL_SOLVER_LSQR ? 10 : 5;
    }
    return sl_fail(ctx, any[0] ? SL_ERR_MPI : SL_ERR_NOMEM, "%s stopped after %d iteration(s), "
                   "x is not to be trusted: %s", name, iterations, cause);
}

sl_failure_count sl_failure_count_now(const sl_context *ctx)
{
    /* a CUDA call that failed in a task counts as a task failure (cuda_workers.h) */
    return (sl_failure_count){sl_comm_failures(ctx->comm),
                              __atomic_load_n(&ctx->task_failures, __ATOMIC_RELAXED) +
                                  sl_cuda_failures(NULL, 0)};
}

void sl_history_discard(sl_history *h)
{
    for (int i = 0; i < h->count; i++)
        sl_scalar_destroy(h->norms[i]);
    free(h->norms);
    memset(h, 0, sizeof *h);
}

sl_status sl_solver_start(const sl_solver_opts *o, sl_stacked *x)
{
    if (!o->x0)
        return sl_stacked_zeros(x);
    SL_STACK_VIEW(x0, o->x0);
    return sl_stacked_copy(&x0, x);
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
        st = sl_scalar_read_real(rs, &r1);
    if (st == SL_OK)
        st = sl_scalar_read_real(rx, &xn);
    sl_scalar_destroy(rs);
    sl_scalar_destroy(rx);
    result->r1norm = r1;
    result->r2norm = sqrt(r1 * r1 + damp * damp * xn * xn);
    return st;
}

sl_status sl_solver_true_norms(const sl_op *op, const sl_stacked *y, const sl_stacked *x,
                               double damp, sl_stacked *scratch, sl_solve_result *result)
{
    sl_status st = sl_op_apply(op, 0, x, scratch);          /* A x */
    if (st == SL_OK) st = sl_stacked_axpby(1.0, y, -1.0, scratch); /* y - A x */
    if (st == SL_OK) st = sl_solver_norms(scratch, x, damp, result);
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
        st = sl_scalar_read_real(k, &value);
        double r1 = 0, r2 = 0;
        if (st == SL_OK && o->show && (st = current_norms(residual, x, o->damp, &r1, &r2)) == SL_OK)
            sl_solver_log_row(op, name, o, iteration, r1, r2, value, what);
        int nonfinite = o->tol > 0 && !isfinite(value), converged = o->tol > 0 && value <= o->tol;
        if (st == SL_OK)
            st = sl_solver_global_stop(op, &nonfinite, &converged);
        if (st == SL_OK && nonfinite) {
            result->istop = 4; /* PyLops would go on with NaN steps */
            result->reason = SL_STOP_NONFINITE;
        } else if (st == SL_OK && converged) {
            result->istop = 1;
        }
    }
    if (st == SL_OK && iteration > 0)
        st = sl_solver_notify(op, o, iteration, x);
    return st;
}

sl_status sl_solver_notify(const sl_op *op, const sl_solver_opts *o, int iteration,
                           const sl_stacked *x)
{
    if (!o->callback)
        return SL_OK;
    /* not sl_wait: a failure it reported on one rank only would end the solve there alone
     * (sl_solver_conclude reports it on every rank) */
    if (starpu_task_wait_for_all() != 0)
        return sl_fail(op->ctx, SL_ERR_STARPU, "starpu_task_wait_for_all failed");
    o->callback(iteration, x->whole, o->callback_arg); /* the array the caller passed */
    return SL_OK;
}

sl_status sl_solver_run(const char *name, sl_solver_core core, const sl_op *op,
                        const sl_darray *y, sl_darray *x, const sl_solver_opts *opts,
                        sl_solve_result *result)
{
    if (!y || !x) /* the core reports it, collectively */
        return core(name, op, NULL, NULL, opts, result);
    SL_STACK_VIEW(ys, y);
    SL_STACK_VIEW(xs, x);
    return core(name, op, &ys, &xs, opts, result);
}
