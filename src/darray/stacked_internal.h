/* Private layout of sl_stacked, shared with the operators and solvers, which treat every
 * vector as a stack (a plain array being a stack of one, wrapped without allocating). */
#ifndef STARLOPS_STACKED_INTERNAL_H
#define STARLOPS_STACKED_INTERNAL_H

#include <starlops/stacked.h>
#include "darray/darray_internal.h"

struct sl_stacked {
    int count;
    sl_darray **arrays;
    int owns_arrays; /* stacks made by starlops (operators' scratch, create_*_stacked) */
};

/* A stack of one over *slot, valid while *slot is: no allocation, never destroyed. */
static inline sl_stacked sl_stacked_single(sl_darray **slot)
{
    sl_stacked s = {1, slot, 0};
    return s;
}

/* Like sl_stacked_create, but the stack destroys its arrays with itself. */
/* out[k] = vdot(x[k], y[k]) for k < n, their allreduces fused into one message (the scalars
 * a solver needs at the same point). */
sl_status sl_stacked_vdot_fused(const sl_stacked *const *x, const sl_stacked *const *y, int n,
                                sl_scalar **out);
sl_status sl_stacked_adopt(int count, sl_darray *const *arrays, sl_stacked **out);

#endif
