/* Pieces shared by the solvers: argument checks, the iteration log, result bookkeeping. */
#ifndef STARLOPS_SOLVER_COMMON_H
#define STARLOPS_SOLVER_COMMON_H

#include <starlops/solvers.h>
#include "ops/op_internal.h"

/* Checks op, y (data layout), x (model layout), options; fills defaults into *o. */
sl_status sl_solver_check(const char *name, const sl_op *op, const sl_darray *y,
                          const sl_darray *x, const sl_solver_opts *opts, sl_solver_opts *o,
                          sl_solve_result *result);

/* Residual norm futures kept for the history, read after the last iteration. */
typedef struct sl_history {
    sl_scalar **norms;
    int count, capacity;
} sl_history;
sl_status sl_history_push(sl_history *h, sl_scalar *norm);
/* Reads the futures into result->cost (one wait at the end) and frees them. */
sl_status sl_history_finish(sl_history *h, sl_solve_result *result);

/* x = x0 or zeros. */
sl_status sl_solver_start(const sl_solver_opts *o, sl_darray *x);
/* r1norm = ||s||, r2norm = sqrt(r1^2 + damp^2 ||x||^2) (host reads at the end). */
sl_status sl_solver_norms(const sl_darray *s, const sl_darray *x, double damp,
                          sl_solve_result *result);
/* Bookkeeping after iteration `iteration` (0: the starting point): the residual norm future for
 * the history, the host read of the squared norm `k` when the stopping test or the log needs it
 * (the iteration's only wait; sets result->istop = 1 when k <= tol), the log, the callback. */
sl_status sl_solver_iteration_end(const sl_op *op, const char *name, const char *what,
                                  const sl_solver_opts *o, int iteration,
                                  const sl_darray *residual, const sl_scalar *k,
                                  const sl_darray *x, sl_history *hist,
                                  sl_solve_result *result);

/* One row of the PyLops-style iteration table on rank 0 (with a header before iteration 0):
 * Itn, r1norm, r2norm and the quantity the stopping test compares. */
void sl_solver_log_row(const sl_op *op, const char *name, const sl_solver_opts *o, int iteration,
                       double r1norm, double r2norm, double test, const char *test_name);

#endif
