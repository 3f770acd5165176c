/* Iterative solvers written against operator and array calls: every iteration is a set of
 * submitted tasks; step lengths and norms live in scalar futures computed by tasks.
 *
 * Host synchronisation: with tol = 0, show = 0 and no callback, an iteration never waits (the
 * residual history, if asked for, is read once at the end). With tol > 0 the host reads one
 * scalar per iteration, the squared norm the stopping test compares (see each solver). */
#ifndef STARLOPS_SOLVERS_H
#define STARLOPS_SOLVERS_H

#include <starlops/op.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_solver_opts {
    int niter;             /* maximum number of iterations (>= 0) */
    double tol;            /* stopping threshold (0: run niter iterations) */
    double damp;           /* CGLS, LSQR: minimise ||y - A x||^2 + damp^2 ||x||^2 */
    double atol, btol;     /* LSQR stopping tolerances (Paige & Saunders); 0: not tested */
    double conlim;         /* LSQR: stop when the condition estimate exceeds it; 0: no limit */
    const sl_darray *x0;   /* initial guess, or NULL for zeros */
    int show;              /* print a PyLops-style iteration table on rank 0 (reads per iteration) */
    int history;           /* record r1norm after every iteration in sl_solve_result.cost */
    /* called after every iteration with the current iterate (host synchronisation point) */
    void (*callback)(int iteration, const sl_darray *x, void *arg);
    void *callback_arg;
    /* The same two for the _stacked solvers (which reject x0 and callback; the plain solvers
     * reject these): initial guess and per-iteration callback on stacks. */
    const sl_stacked *x0_stacked;
    void (*callback_stacked)(int iteration, const sl_stacked *x, void *arg);
} sl_solver_opts;

typedef struct sl_solve_result {
    int iterations;
    int istop;       /* CG/CGLS: 1 tolerance reached, 2 niter reached.
                        LSQR (Paige & Saunders / scipy codes): 0 x = 0 is the solution,
                        1 Ax = y within atol/btol, 2 least-squares within atol, 3 condition
                        above conlim, 4-6 the same at machine precision, 7 niter reached */
    double r1norm;   /* ||y - A x|| */
    double r2norm;   /* sqrt(r1norm^2 + damp^2 ||x||^2) */
    double *cost;    /* r1norm after each iteration when opts.history (free: sl_solve_result_free) */
    int ncost;
} sl_solve_result;

/* CGLS (PyLops cgls with damp^2 used consistently): x is the output (and must have the
 * operator's model layout); stops when ||A^H (y - A x) - damp^2 x||^2 <= tol. */
sl_status sl_cgls(const sl_op *op, const sl_darray *y, sl_darray *x, const sl_solver_opts *opts,
                  sl_solve_result *result);
/* CG for Hermitian positive definite A: stops when ||y - A x||^2 <= tol. */
sl_status sl_cg(const sl_op *op, const sl_darray *y, sl_darray *x, const sl_solver_opts *opts,
                sl_solve_result *result);
/* LSQR (Paige & Saunders 1982, as scipy.sparse.linalg.lsqr / PyLops lsqr): the scalar
 * recurrences (rotations, norm and condition estimates) run in tasks on a per-rank state
 * vector. With atol = btol = conlim = 0 no test is made (istop 7 after niter iterations) and
 * no iteration waits; otherwise the host reads the state once per iteration. */
sl_status sl_lsqr(const sl_op *op, const sl_darray *y, sl_darray *x, const sl_solver_opts *opts,
                  sl_solve_result *result);
/* The same solvers on stacked vectors (PyLops-MPI's StackedDistributedArray), for operators
 * with a stacked model or data (or both; a plain side is passed as a stack of one array).
 * Every dtype mix the stacks' components allow works; the step lengths are complex when any
 * component is. */
sl_status sl_cgls_stacked(const sl_op *op, const sl_stacked *y, sl_stacked *x,
                          const sl_solver_opts *opts, sl_solve_result *result);
sl_status sl_cg_stacked(const sl_op *op, const sl_stacked *y, sl_stacked *x,
                        const sl_solver_opts *opts, sl_solve_result *result);
sl_status sl_lsqr_stacked(const sl_op *op, const sl_stacked *y, sl_stacked *x,
                          const sl_solver_opts *opts, sl_solve_result *result);
void sl_solve_result_free(sl_solve_result *result);

#ifdef __cplusplus
}
#endif
#endif
