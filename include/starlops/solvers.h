/* Iterative solvers written against operator and array calls: every iteration is a set of
 * submitted tasks; step lengths and norms live in scalar futures computed by tasks. x, y and
 * x0 are plain arrays or stacks (sl_darray_stack) matching the operator's model and data;
 * every dtype mix the parts allow works (the step lengths are complex when any part is).
 *
 * Defaults (a zeroed sl_solver_opts): PyLops-MPI's and scipy's. CG/CGLS stop when the squared
 * norm they test falls to tol = 1e-4; LSQR uses atol = btol = 1e-8 and conlim = 1e8. A
 * negative value (SL_TOL_NONE) turns that test off. Whatever the options, a step whose
 * denominator is exactly zero (the iterate already solves the problem, or the operator is
 * zero) or whose value is not finite stops the solve with that reason (sl_solve_result.reason)
 * and x keeps the last iterate made of finite steps: a solver never returns a NaN it made.
 *
 * Failures inside tasks (a communication operation that failed on some rank, a task that
 * could not allocate its workspace) end the solve with an error on every rank: SL_ERR_MPI and
 * SL_STOP_COMM, or SL_ERR_NOMEM; the ranks agree on it once, at the end of the solve.
 *
 * Host synchronisation: with every test off (SL_TOL_NONE), show = 0, history = 0 and no
 * callback, an iteration never waits: the breakdown and non-finite guards run inside the tasks
 * (later steps become no-ops) and the host reads their verdict once at the end. With a test
 * on, the host reads one value per iteration (see each solver). The final r1norm/r2norm are
 * those of the returned x (one more matvec: y - A x), never a recurrence's estimate. */
#ifndef STARLOPS_SOLVERS_H
#define STARLOPS_SOLVERS_H

#include <starlops/op.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Turns a stopping test off (any negative value does): tol, atol, btol, conlim. */
#define SL_TOL_NONE (-1.0)
/* The defaults a zero selects (PyLops-MPI cg/cgls tol; scipy lsqr atol, btol, conlim). */
#define SL_CG_DEFAULT_TOL 1e-4
#define SL_LSQR_DEFAULT_ATOL 1e-8
#define SL_LSQR_DEFAULT_BTOL 1e-8
#define SL_LSQR_DEFAULT_CONLIM 1e8

typedef struct sl_solver_opts {
    int niter;             /* maximum number of iterations (>= 0) */
    double tol;            /* CG/CGLS threshold on a squared norm; 0: 1e-4; < 0: no test */
    double damp;           /* CGLS, LSQR: minimise ||y - A x||^2 + damp^2 ||x||^2 */
    double atol, btol;     /* LSQR tolerances (Paige & Saunders); 0: 1e-8; < 0: no test */
    double conlim;         /* LSQR: stop when the condition estimate exceeds it; 0: 1e8;
                              < 0: no limit. Tests 4-6 (machine precision) always run. */
    const sl_darray *x0;   /* initial guess (the model's layout, a stack for a stacked model),
                              or NULL for zeros */
    int show;              /* print a PyLops-style iteration table on rank 0 (reads per iteration) */
    int history;           /* record r1norm after every iteration in sl_solve_result.cost */
    /* called after every iteration with the current iterate, the x passed to the solver
     * (host synchronisation point) */
    void (*callback)(int iteration, const sl_darray *x, void *arg);
    void *callback_arg;
} sl_solver_opts;

/* Why a solve stopped. */
typedef enum sl_stop_reason {
    SL_STOP_NONE = 0,    /* the solve did not run (an argument error) */
    SL_STOP_CONVERGED,   /* a stopping test passed (CG/CGLS: tol; LSQR: istop 0, 1, 2, 4, 5) */
    SL_STOP_ITERATIONS,  /* niter iterations ran */
    SL_STOP_CONDITION,   /* LSQR: the condition estimate passed conlim (istop 3 or 6) */
    SL_STOP_BREAKDOWN,   /* a step's denominator was exactly zero: the iterate solves the
                            (normal) equations exactly, or the operator annihilates the
                            search direction (a zero operator, zero data) */
    SL_STOP_NONFINITE,   /* a NaN or infinity appeared (in the data, the operator or a step);
                            the solver returns SL_ERR_NONFINITE */
    SL_STOP_COMM         /* a communication operation failed on some rank during the solve:
                            every rank returns SL_ERR_MPI with this reason (the failing rank's
                            later reductions are NaN, so every rank stops at the same point) */
} sl_stop_reason;

/* "converged", "iterations", "condition", "breakdown", "nonfinite", "communication" ("none"
 * for NONE). */
const char *sl_stop_reason_name(sl_stop_reason reason);

typedef struct sl_solve_result {
    int iterations;  /* iterations whose steps x holds */
    int istop;       /* CG/CGLS: 1 tolerance reached, 2 niter reached, 3 breakdown,
                        4 non-finite value, 5 communication failure.
                        LSQR (Paige & Saunders / scipy codes): 0 x = 0 is the solution,
                        1 Ax = y within atol/btol, 2 least-squares within atol, 3 condition
                        above conlim, 4-6 the same at machine precision, 7 niter reached;
                        beyond scipy: 8 breakdown, 9 non-finite value, 10 communication
                        failure */
    sl_stop_reason reason;
    double r1norm;   /* ||y - A x|| of the returned x (computed afresh at the end) */
    double r2norm;   /* sqrt(r1norm^2 + damp^2 ||x||^2) */
    double *cost;    /* r1norm after each iteration when opts.history (free: sl_solve_result_free) */
    int ncost;
} sl_solve_result;

/* CGLS (PyLops cgls with damp^2 used consistently): x is the output (and must have the
 * operator's model layout); stops when ||A^H (y - A x) - damp^2 x||^2 <= tol (PyLops'
 * `kold > tol` guard: checked before the first iteration too). */
sl_status sl_cgls(const sl_op *op, const sl_darray *y, sl_darray *x, const sl_solver_opts *opts,
                  sl_solve_result *result);
/* CG for Hermitian positive definite A: stops when ||y - A x||^2 <= tol. */
sl_status sl_cg(const sl_op *op, const sl_darray *y, sl_darray *x, const sl_solver_opts *opts,
                sl_solve_result *result);
/* LSQR (Paige & Saunders 1982, as scipy.sparse.linalg.lsqr / PyLops lsqr): the scalar
 * recurrences (rotations, norm and condition estimates) and all of scipy's stopping tests run
 * in tasks on a per-rank state vector. With atol, btol and conlim all SL_TOL_NONE only the
 * machine-precision tests 4-6 and the guards are made, inside the tasks, and no iteration
 * waits; otherwise the host reads the state once per iteration. */
sl_status sl_lsqr(const sl_op *op, const sl_darray *y, sl_darray *x, const sl_solver_opts *opts,
                  sl_solve_result *result);
void sl_solve_result_free(sl_solve_result *result);

#ifdef __cplusplus
}
#endif
#endif
