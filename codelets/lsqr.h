/* LSQR's scalar-recurrence codelets (lsqr.c) on a per-rank state vector. */
#ifndef STARLOPS_CL_LSQR_H
#define STARLOPS_CL_LSQR_H

#include "codelet_common.h"

/* LSQR state vector slots. The recurrences, all of scipy's stopping tests and the guards run
 * in the tasks: once STOPPED is set (ISTOP: scipy's code; GUARD: SL_GUARD_*; ITN: the
 * iterations x holds) later steps are no-ops, so a solve that the host does not watch still
 * stops where scipy's would. ATOL, BTOL, CTOL (1/conlim) and NITER are set by the host before
 * the first task (a test switched off is 0: scipy's exact-zero behaviour). */
enum {
    SL_LSQR_ALFA, SL_LSQR_BETA, SL_LSQR_RHOBAR, SL_LSQR_PHIBAR, SL_LSQR_ANORM, SL_LSQR_DDNORM,
    SL_LSQR_RES2, SL_LSQR_XNORM, SL_LSQR_XXNORM, SL_LSQR_Z, SL_LSQR_CS2, SL_LSQR_SN2,
    SL_LSQR_RNORM, SL_LSQR_ARNORM, SL_LSQR_ACOND, SL_LSQR_R1NORM, SL_LSQR_DAMP,
    SL_LSQR_ATOL, SL_LSQR_BTOL, SL_LSQR_CTOL, SL_LSQR_NITER, SL_LSQR_ITN, SL_LSQR_STOPPED,
    SL_LSQR_ISTOP, SL_LSQR_GUARD, SL_LSQR_NSTATE
};
typedef struct sl_lsqr_stage_args {
    int which;   /* SL_LSQR_BETA or SL_LSQR_ALFA */
    int initial; /* the set-up before the first iteration */
} sl_lsqr_stage_args;

/* state (RW), squared norm n2 (R) -> value = sqrt(n2) (W), inverse = 1/value (W). */
int sl_task_lsqr_norm_stage(sl_lsqr_stage_args args, starpu_data_handle_t state,
                            starpu_data_handle_t n2, starpu_data_handle_t value,
                            starpu_data_handle_t inverse);
/* state (RW), ||w||^2 (R) -> step coefficients t1, t2 (W); bnorm (R) for the stopping tests. */
int sl_task_lsqr_rotate(starpu_data_handle_t state, starpu_data_handle_t ww,
                        starpu_data_handle_t t1, starpu_data_handle_t t2,
                        starpu_data_handle_t bnorm);

#endif
