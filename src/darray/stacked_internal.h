/* Stacks as the operators and solvers see every vector: a list of plain arrays. A public stack
 * (an sl_darray with parts) and a plain array (a stack of one) are both viewed as an
 * sl_stacked without allocating; the sl_stacked_* functions apply array operations part by
 * part and combine reductions in one more task. */
#ifndef STARLOPS_STACKED_INTERNAL_H
#define STARLOPS_STACKED_INTERNAL_H

#include "darray/darray_internal.h"

typedef struct sl_stacked {
    int count;
    sl_darray **arrays;
    int owns_arrays;       /* stacks made by starlops (operators' scratch vectors) */
    sl_darray *whole;      /* the public array this view was made of (NULL: none) */
} sl_stacked;

/* The view of *slot (a plain array or a stack), valid while *slot and the slot are. */
static inline sl_stacked sl_stacked_view(sl_darray **slot)
{
    sl_darray *x = *slot;
    if (sl_darray_is_stack(x))
        return (sl_stacked){x->nparts, x->parts, 0, x};
    return (sl_stacked){1, slot, 0, x};
}

/* Declares `name`, the view of the public array x (const or not). */
#define SL_STACK_VIEW(name, x)                            sl_darray *name##_slot_ = (sl_darray *)(x);           sl_stacked name = sl_stacked_view(&name##_slot_)

/* A stack of count arrays (borrowed), and one that destroys them with itself. */
sl_status sl_stacked_create(int count, sl_darray *const *arrays, sl_stacked **out);
sl_status sl_stacked_adopt(int count, sl_darray *const *arrays, sl_stacked **out);
sl_status sl_stacked_destroy(sl_stacked *s);
/* A public stack taking over s's arrays (and their ownership); frees s. */
sl_status sl_stacked_publish(sl_stacked *s, sl_darray **out);

sl_status sl_stacked_fill(const sl_stacked *x, double _Complex value);
sl_status sl_stacked_copy(const sl_stacked *src, const sl_stacked *dst);
sl_status sl_stacked_scale(const sl_stacked *x, double _Complex alpha);
sl_status sl_stacked_axpby(double _Complex alpha, const sl_stacked *x, double _Complex beta,
                           const sl_stacked *y);
sl_status sl_stacked_axpy(double _Complex alpha, const sl_stacked *x, const sl_stacked *y);
sl_status sl_stacked_zeros(const sl_stacked *x);
sl_status sl_stacked_random(const sl_stacked *x, uint64_t seed);
sl_status sl_stacked_axpy_scalar(const sl_scalar *alpha, double sign, const sl_stacked *x,
                                 const sl_stacked *y);
sl_status sl_stacked_axpby_scalars(const sl_scalar *alpha, double _Complex alpha_factor,
                                   const sl_stacked *x, const sl_scalar *beta,
                                   double _Complex beta_factor, const sl_stacked *y);
sl_status sl_stacked_scale_scalar(const sl_stacked *x, const sl_scalar *alpha,
                                  double _Complex factor);
/* z = fn(x, y) part by part, fn one of the binary sl_darray functions (y NULL for conj). */
typedef sl_status (*sl_darray_binary_fn)(const sl_darray *, const sl_darray *, sl_darray *);
sl_status sl_stacked_binary(sl_darray_binary_fn fn, const sl_stacked *x, const sl_stacked *y,
                            const sl_stacked *z, const char *what);
sl_status sl_stacked_conj(const sl_stacked *x, const sl_stacked *z);
sl_status sl_stacked_dot(const sl_stacked *x, const sl_stacked *y, sl_scalar **out);
sl_status sl_stacked_vdot(const sl_stacked *x, const sl_stacked *y, sl_scalar **out);
sl_status sl_stacked_norm(const sl_stacked *x, double ord, sl_scalar **out);
/* out[k] = vdot(x[k], y[k]) for k < n, their allreduces fused into one message (the scalars
 * a solver needs at the same point). */
sl_status sl_stacked_vdot_fused(const sl_stacked *const *x, const sl_stacked *const *y, int n,
                                sl_scalar **out);

#endif
