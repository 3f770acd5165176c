/* Stacked distributed arrays (PyLops-MPI StackedDistributedArray): a list of distributed arrays
 * treated as one vector. Math applies component-wise (as tasks); dot/vdot/norm combine the
 * components' futures in one more task, so nothing waits on the host.
 * A stack made by sl_stacked_create borrows its components: destroy them after the stack. A
 * stack returned by starlops (sl_op_create_model_stacked, ...) owns its components and
 * destroys them with itself. Components may differ in
 * shape, axis, partition and dtype; binary operations need stacks with pairwise-compatible
 * components. Stacks nest (sl_stacked_create_nested); a nested stack behaves exactly as the
 * flat stack of its leaves, which is also how PyLops-MPI combines nested norms
 * ((sum ||leaf||_p^p)^(1/p), max, min, count), so it is stored flattened. */
#ifndef STARLOPS_STACKED_H
#define STARLOPS_STACKED_H

#include <starlops/darray.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_stacked sl_stacked;

sl_status sl_stacked_create(int count, sl_darray *const *arrays, sl_stacked **out);
/* An item of a nested stack: exactly one of the two pointers is non-NULL. */
typedef struct sl_stack_item {
    sl_darray *array;
    const sl_stacked *stack;
} sl_stack_item;
sl_status sl_stacked_create_nested(int count, const sl_stack_item *items, sl_stacked **out);
sl_status sl_stacked_destroy(sl_stacked *s);
/* Number of (leaf) arrays and the leaf at `index`. */
sl_status sl_stacked_count(const sl_stacked *s, int *count);
sl_status sl_stacked_get(const sl_stacked *s, int index, sl_darray **array);

sl_status sl_stacked_fill(sl_stacked *x, double _Complex value);
sl_status sl_stacked_copy(const sl_stacked *src, sl_stacked *dst);
sl_status sl_stacked_scale(sl_stacked *x, double _Complex alpha);
sl_status sl_stacked_axpby(double _Complex alpha, const sl_stacked *x, double _Complex beta,
                           sl_stacked *y);
sl_status sl_stacked_axpy(double _Complex alpha, const sl_stacked *x, sl_stacked *y);
sl_status sl_stacked_zeros(sl_stacked *x);
/* Uniform random components in [-1, 1) (complex: both parts), a distinct seed per component. */
sl_status sl_stacked_random(sl_stacked *x, uint64_t seed);
/* The scalar-future forms of sl_darray_axpy_scalar / axpby_scalars / scale_scalar. */
sl_status sl_stacked_axpy_scalar(const sl_scalar *alpha, double sign, const sl_stacked *x,
                                 sl_stacked *y);
sl_status sl_stacked_axpby_scalars(const sl_scalar *alpha, double _Complex alpha_factor,
                                   const sl_stacked *x, const sl_scalar *beta,
                                   double _Complex beta_factor, sl_stacked *y);
sl_status sl_stacked_scale_scalar(sl_stacked *x, const sl_scalar *alpha, double _Complex factor);
sl_status sl_stacked_add(const sl_stacked *x, const sl_stacked *y, sl_stacked *z);
sl_status sl_stacked_sub(const sl_stacked *x, const sl_stacked *y, sl_stacked *z);
sl_status sl_stacked_multiply(const sl_stacked *x, const sl_stacked *y, sl_stacked *z);
sl_status sl_stacked_conj(const sl_stacked *x, sl_stacked *z);
sl_status sl_stacked_dot(const sl_stacked *x, const sl_stacked *y, sl_scalar **out);
sl_status sl_stacked_vdot(const sl_stacked *x, const sl_stacked *y, sl_scalar **out);
sl_status sl_stacked_norm(const sl_stacked *x, double ord, sl_scalar **out);

#ifdef __cplusplus
}
#endif
#endif
