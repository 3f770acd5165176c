/* Codelets of scalar futures (scalar.c): per-rank vectors of two doubles (re, im) that tasks
 * set, combine and divide without the host reading them. */
#ifndef STARLOPS_CL_SCALAR_H
#define STARLOPS_CL_SCALAR_H

#include "codelet_common.h"
#include "guard_codes.h"

/* s (W) := value (re, im). */
int sl_task_scalar_set(const double value[2], starpu_data_handle_t s);

/* out (W, buffer 0) := combination of the scalars in buffers 1..n: a (complex) sum, max, min,
 * or (sum in_i^p)^(1/p) (stacked norms). */
typedef enum sl_combine_how { SL_COMBINE_SUM, SL_COMBINE_MAX, SL_COMBINE_MIN, SL_COMBINE_PNORM }
    sl_combine_how;
typedef struct sl_combine_args {
    sl_combine_how how;
    double p;
} sl_combine_args;
int sl_task_scalar_combine(sl_combine_args how, starpu_data_handle_t out,
                           const starpu_data_handle_t *parts, int n);

/* out (W) = num / (den1 + w * den2): buffers out, num, den1, optionally den2 (real parts),
 * then optionally a solver guard (RW, last): solvers' step lengths from scalar futures.
 * Guard: a vector of two doubles (code SL_GUARD_*, guard_codes.h; iterations completed when
 * the code was set). */
typedef struct sl_ratio_args {
    double w;
    int guarded;
    double completed; /* iterations x holds if this ratio trips the guard */
} sl_ratio_args;
/* den2 and guard may be NULL; `completed` is used with a guard only. */
int sl_task_scalar_ratio(starpu_data_handle_t out, starpu_data_handle_t num,
                         starpu_data_handle_t den1, starpu_data_handle_t den2, double w,
                         starpu_data_handle_t guard, double completed);

#endif
