/* Derivative operators (PyLops FirstDerivative, SecondDerivative, Laplacian, Gradient) along any
 * axis of N-d arrays, with PyLops' boundary rows, on arrays laid out like `like` (any
 * distributed axis, scattered or replicated). Along the distributed axis the neighbouring
 * ranks' rows arrive as ghost slabs through task-based neighbour exchanges, overlapping the
 * interior tiles' work. Axes may be negative (counted from the end). All four dtypes; the
 * coefficients are real. Constructors are collective: arguments that differ between ranks are
 * an error on every rank. A rank whose block along the distributed axis is thinner than the
 * stencil reads (1 or 2 rows) makes construction fail with a message (ranks with no rows are
 * skipped). */
#ifndef STARLOPS_DERIVATIVES_H
#define STARLOPS_DERIVATIVES_H

#include <starlops/op.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sl_deriv_kind {
    SL_DERIV_CENTERED = 0, /* PyLops' default */
    SL_DERIV_FORWARD = 1,
    SL_DERIV_BACKWARD = 2
} sl_deriv_kind;

/* y = dx/d(axis) / sampling. kind centered with order 3 (y[i] = (x[i+1] - x[i-1]) / 2) or 5
 * (fourth-order accurate), zero end rows unless edge (then one-sided differences there);
 * forward y[i] = x[i+1] - x[i] (last row 0), backward y[i] = x[i] - x[i-1] (first row 0);
 * order and edge matter only for centered (order must still be 3 or 5). sampling != 0. */
sl_status sl_op_first_derivative(const sl_darray *like, int axis, sl_deriv_kind kind,
                                 int order, int edge, double sampling, sl_op **out);

/* y = d2x/d(axis)2 / sampling^2: centered x[i+1] - 2x[i] + x[i-1] (end rows 0, or with edge
 * the neighbour's stencil), forward x[i] - 2x[i+1] + x[i+2] (last two rows 0), backward
 * x[i-2] - 2x[i-1] + x[i] (first two rows 0). */
sl_status sl_op_second_derivative(const sl_darray *like, int axis, sl_deriv_kind kind,
                                  int edge, double sampling, sl_op **out);

/* sum_k weights[k] * SecondDerivative(axis = axes[k], sampling = sampling[k], edge, kind), one
 * task per tile for all axes. weights / sampling may be NULL (ones). kind applies to every
 * axis (PyLops' snapshot passes it to the first axis only: not copied). naxes in [1, 8]. */
sl_status sl_op_laplacian(const sl_darray *like, int naxes, const int *axes,
                          const double *weights, const double *sampling, int edge,
                          sl_deriv_kind kind, sl_op **out);

/* Gradient: data is a stack of ndim arrays laid out like `like`, component k the
 * FirstDerivative(axis k, sampling[k], kind, order 3, edge); the adjoint sums the components'
 * adjoints. sampling may be NULL (ones). The result owns its component operators. Its data
 * is a stack (sl_darray_stack; sl_op_create_data makes one). */
sl_status sl_op_gradient(const sl_darray *like, const double *sampling, int edge,
                         sl_deriv_kind kind, sl_op **out);

#ifdef __cplusplus
}
#endif
#endif
