/* LSQR's scalar-recurrence codelets (lsqr.c) on a per-rank state vector. */
#ifndef STARLOPS_CL_LSQR_H
#define STARLOPS_CL_LSQR_H

#include "codelet_common.h"
#include "lsqr_recurrence.h" /* the state slots SL_LSQR_* */

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
