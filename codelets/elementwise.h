/* Elementwise codelets (elementwise.c): one codelet and performance model per operation. */
#ifndef STARLOPS_CL_ELEMENTWISE_H
#define STARLOPS_CL_ELEMENTWISE_H

#include "codelet_common.h"
#include "cpu/kernels.h"

/* Elementwise: buffers are the deduplicated tiles; out is buffer 0, a and b are buffer indices
 * (-1: absent), ialpha / ibeta the indices of scalar handles that multiply alpha / beta (-1:
 * none): how solvers use scalars computed by earlier tasks without the host reading them. */
typedef struct sl_ew_args {
    sl_ew_op op;
    sl_dtype dtype;
    double alpha[2], beta[2];
    int ia, ib, ialpha, ibeta;
} sl_ew_args;

/* One tile of args.op: out (out_mode), then a, b (tiles, R) and alpha, beta (scalar vectors,
 * R), each NULL when absent. A handle given twice (an output aliasing an input) is one buffer
 * whose mode is the union of both accesses; the helper sets args' buffer indices. */
int sl_task_elementwise(sl_ew_args args, starpu_data_handle_t out,
                        enum starpu_data_access_mode out_mode, starpu_data_handle_t a,
                        starpu_data_handle_t b, starpu_data_handle_t alpha,
                        starpu_data_handle_t beta);

/* The codelet name of an operation (what traces show). */
const char *sl_elementwise_name(sl_ew_op op);

#endif
