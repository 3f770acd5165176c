/* Reduction codelets (reduce.c): tile partials into per-rank accumulators, the accumulators'
 * init/redux pairs, norms along an axis, and the finishing step of a norm. */
#ifndef STARLOPS_CL_REDUCE_H
#define STARLOPS_CL_REDUCE_H

#include "codelet_common.h"
#include "cpu/kernels.h"

/* Reduction of tiles into an accumulator (a vector of 2 doubles) in STARPU_REDUX mode:
 * buffers: acc, a, and b when ib >= 0. */
typedef struct sl_reduce_args {
    sl_reduce_kind kind;
    sl_dtype dtype;
    double p;
    int ib;
} sl_reduce_args;

/* One tile's partial of args.kind into acc (acc_mode: STARPU_REDUX, or STARPU_RW when nothing
 * runs in parallel): tiles a and b (R; b NULL when absent, b == a is one buffer). The helper
 * sets args.ib. */
int sl_task_reduce(sl_reduce_args args, starpu_data_handle_t acc,
                   enum starpu_data_access_mode acc_mode, starpu_data_handle_t a,
                   starpu_data_handle_t b);

/* The codelet name of a reduction kind (what traces show). */
const char *sl_reduce_name(sl_reduce_kind kind);

/* How an accumulator combines: selects the REDUX init/redux pair and the MPI operation. */
typedef enum sl_acc_combine { SL_ACC_SUM, SL_ACC_MAX, SL_ACC_MIN } sl_acc_combine;

/* Installs the init/redux codelets of `combine` on an accumulator handle. */
void sl_acc_set_reduction(starpu_data_handle_t acc, sl_acc_combine combine);

/* acc (RW) := finish(acc): the last step of a norm. */
typedef enum sl_acc_finish { SL_FINISH_SQRT, SL_FINISH_ROOT_P } sl_acc_finish;
typedef struct sl_acc_finish_args {
    sl_acc_finish how;
    double p;
    int scalar; /* 1: a (re, im) scalar, 0: a vector of real norms */
} sl_acc_finish_args;
int sl_task_acc_finish(sl_acc_finish_args args, starpu_data_handle_t acc);

/* Norm along an axis: a tile (R, buffer 1) folds |x|^p (or max/min |x|) into the accumulator
 * vector (REDUX, buffer 0) at each element's position in the reduced array. */
typedef struct sl_reduce_axis_args {
    sl_reduce_kind kind;
    sl_dtype dtype;
    double p;
    sl_axis_geometry geom;
} sl_reduce_axis_args;
int sl_task_reduce_axis(const sl_reduce_axis_args *args, starpu_data_handle_t acc,
                        starpu_data_handle_t tile);

#endif
