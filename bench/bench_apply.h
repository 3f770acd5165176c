/* Shared by the benchmarks that time operator applications: one application (matvec + wait)
 * as a bench_time callback, and the halo-exchange probe bench/stencil and bench/msg_roofline
 * both report. */
#ifndef STARLOPS_BENCH_APPLY_H
#define STARLOPS_BENCH_APPLY_H

#include <starlops.h>

#include "bench_common.h"

typedef struct bench_apply_arg {
    sl_context *ctx;
    const sl_op *op;
    sl_darray *x, *y;
} bench_apply_arg;

static void bench_apply(void *p)
{
    bench_apply_arg *a = p;
    sl_op_matvec(a->op, a->x, a->y);
    sl_wait(a->ctx);
}

/* Steady-state time of one application. Warm-up: the one-sided backend's first passes through
 * its rings are ~2-3x slower than the steady state (measured at 256 KiB; cause not pinned
 * down), so 20 applications first. */
static inline double bench_apply_steady(bench_apply_arg *a)
{
    for (int w = 0; w < 20; w++)
        bench_apply(a);
    return bench_time(bench_apply, a, MPI_COMM_WORLD);
}

/* bench_apply_steady of op on x -> y, then frees all three (the probes' common end). */
static inline double bench_apply_steady_and_free(sl_context *ctx, sl_op *op, sl_darray *x,
                                                 sl_darray *y)
{
    bench_apply_arg a = {ctx, op, x, y};
    double sec = bench_apply_steady(&a);
    sl_op_destroy(op);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    return sec;
}

/* Time of one FirstDerivative of a (2 P) x inner float64 volume split along axis 0, taken
 * along `axis`: along 0 the slab sent to each neighbour is one row of `inner` doubles; along 1
 * the same stencil work needs no exchange (the difference is what the exchange costs). */
static inline double bench_halo_time_along(sl_context *ctx, int size, size_t inner, int axis)
{
    size_t dims[2] = {2 * (size_t)size, inner};
    sl_darray *x = NULL, *y = NULL;
    sl_op *d = NULL;
    sl_darray_create(ctx, SL_F64, 2, dims, SL_SCATTER, 0, NULL, NULL, &x);
    sl_darray_create_like(x, &y);
    sl_darray_fill(x, 1.0);
    sl_op_first_derivative(x, axis, SL_DERIV_CENTERED, 3, 0, 1.0, &d);
    return bench_apply_steady_and_free(ctx, d, x, y);
}

static inline double bench_halo_time(sl_context *ctx, int size, size_t inner)
{
    return bench_halo_time_along(ctx, size, inner, 0);
}

#endif
