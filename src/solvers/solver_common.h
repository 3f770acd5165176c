/* Pieces shared by the solvers: argument checks, the iteration log, result bookkeeping. */
#ifndef STARLOPS_SOLVER_COMMON_H
#define STARLOPS_SOLVER_COMMON_H

#include <starlops/solvers.h>
#include "ops/op_internal.h"

#include "codelets.h"
#include "darray/darray_internal.h"

typedef enum sl_solver_kind { SL_SOLVER_CG = 1, SL_SOLVER_CGLS, SL_SOLVER_LSQR } sl_solver_kind;

/* Checks op, y (data layout), x (model layout), options; fills defaults into *o (zeros: the
 * kind's defaults) and zeroes *result (istop: the iteration-limit code). Collective: ranks in
 * different solvers or with different options fail on every rank. */
sl_status sl_solver_check(sl_solver_kind kind, const char *name, const sl_op *op,
                          const sl_stacked *y, const sl_stacked *x, const sl_solver_opts *opts,
                          sl_solver_opts *o, sl_solve_result *result);

/* The breakdown / non-finite guard of one solve: a vector (code, iterations completed) that
 * guarded ratio tasks write (codelets.h, SL_GUARD_*), read by the host at the end. */
typedef struct sl_solver_guard {
    sl_context *ctx;
    starpu_data_handle_t handle;
    double value[2];
} sl_solver_guard;
sl_status sl_guard_create(sl_context *ctx, sl_solver_guard *g);
/* The guard as passed to sl_scalar_ratio, for a ratio after which x holds `completed`
 * iterations if it trips. */
sl_ratio_guard sl_guard_at(const sl_solver_guard *g, int completed);
sl_status sl_guard_read(sl_solver_guard *g, int *code, int *completed); /* one host wait */
void sl_guard_destroy(sl_solver_guard *g);

/* The verdict: iterations cut to where the guard tripped, istop and reason from the guard
 * code (SL_GUARD_*) or the solver's istop; SL_ERR_NONFINITE (with a message) when a NaN or
 * infinity appeared, in a step or in the final norms. */
sl_status sl_solver_finish(const sl_op *op, const char *name, sl_solver_kind kind, int code,
                           int completed, sl_solve_result *result);

/* Residual norm futures kept for the history, read after the last iteration. */
typedef struct sl_history {
    sl_scalar **norms;
    int count, capacity;
} sl_history;
sl_status sl_history_push(sl_history *h, sl_scalar *norm);
/* Reads the futures into result->cost (one wait at the end) and frees them. */
sl_status sl_history_finish(sl_history *h, sl_solve_result *result);
/* Every rank must stop at the same iteration: with masked layouts each colour group tests its
 * own norms while the operator's tasks may communicate across groups, and a communication that
 * failed on one rank leaves NaN there only. Combines this rank's verdict (collective on the
 * host communicator, once per iteration that the host reads anyway): a non-finite value
 * anywhere stops everyone; `done` holds only when every rank is done. */
sl_status sl_solver_global_stop(const sl_op *op, int *nonfinite, int *done);
/* This rank's asynchronous failures so far, by kind (context_internal.h). */
typedef struct sl_failure_count {
    unsigned long comm, tasks;
} sl_failure_count;
sl_failure_count sl_failure_count_now(const sl_context *ctx);
/* The last step of every solve, whatever st is (collective on the host communicator): when a
 * communication operation failed on any rank (during the solve, or before it: the context's
 * reductions are poisoned since, comm.h), every rank returns SL_ERR_MPI with reason
 * SL_STOP_COMM (istop 5, LSQR 10); when a task failed during the solve, SL_ERR_NOMEM;
 * otherwise st. */
sl_status sl_solver_conclude(const sl_op *op, const char *name, sl_solver_kind kind,
                             const sl_failure_count *before, sl_status st,
                             sl_solve_result *result);
/* Frees the futures without reading them (after a failure). */
void sl_history_discard(sl_history *h);

/* x = opts.x0 or zeros. */
sl_status sl_solver_start(const sl_solver_opts *o, sl_stacked *x);
/* r1norm = ||s||, r2norm = sqrt(r1^2 + damp^2 ||x||^2) (host reads at the end). */
sl_status sl_solver_norms(const sl_stacked *s, const sl_stacked *x, double damp,
                          sl_solve_result *result);
/* The same for the returned x: s = y - A x computed afresh in `scratch` (a data vector), so
 * the norms reported are never a recurrence's drifting estimate. */
sl_status sl_solver_true_norms(const sl_op *op, const sl_stacked *y, const sl_stacked *x,
                               double damp, sl_stacked *scratch, sl_solve_result *result);
/* Bookkeeping after iteration `iteration` (0: the starting point): the residual norm future for
 * the history, the host read of the squared norm `k` when the stopping test or the log needs it
 * (the iteration's only wait; sets result->istop = 1 when k <= tol), the log, the callback. */
sl_status sl_solver_iteration_end(const sl_op *op, const char *name, const char *what,
                                  const sl_solver_opts *o, int iteration,
                                  const sl_stacked *residual, const sl_scalar *k,
                                  const sl_stacked *x, sl_history *hist,
                                  sl_solve_result *result);

/* Calls the callback, if any, with the array the caller passed as x, after a wait (a host
 * synchronisation point). */
sl_status sl_solver_notify(const sl_op *op, const sl_solver_opts *o, int iteration,
                           const sl_stacked *x);

/* A solver written on stacks, and its public entry point: y and x (plain arrays or stacks)
 * become stack views; opts.x0 is viewed where it is used. */
typedef sl_status (*sl_solver_core)(const char *name, const sl_op *op, const sl_stacked *y,
                                    sl_stacked *x, const sl_solver_opts *opts,
                                    sl_solve_result *result);
sl_status sl_solver_run(const char *name, sl_solver_core core, const sl_op *op,
                        const sl_darray *y, sl_darray *x, const sl_solver_opts *opts,
                        sl_solve_result *result);

/* One row of the PyLops-style iteration table on rank 0 (with a header before iteration 0):
 * Itn, r1norm, r2norm and the quantity the stopping test compares. */
void sl_solver_log_row(const sl_op *op, const char *name, const sl_solver_opts *o, int iteration,
                       double r1norm, double r2norm, double test, const char *test_name);

#endif
