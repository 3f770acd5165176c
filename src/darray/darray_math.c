/* Elementwise operations: one task per tile, submitted and not waited for. Stacks go part by
 * part through src/darray/stacked.c. */
#include <string.h>

#include "codelets.h"
#include "darray/stacked_internal.h"

#define ANY_STACK2(a, b) (sl_darray_is_stack(a) || sl_darray_is_stack(b))
#define ANY_STACK3(a, b, c) (ANY_STACK2(a, b) || sl_darray_is_stack(c))

/* Operands of an elementwise operation; NULL where unused. */
typedef struct ew_operands {
    sl_darray *out;
    const sl_darray *a, *b;
    const sl_scalar *alpha_scalar, *beta_scalar;
    enum starpu_data_access_mode out_mode;
} ew_operands;

static sl_status submit_elementwise(const ew_operands *o, sl_ew_args args)
{
    sl_context *ctx = o->out->ctx;
    for (size_t t = 0; t < o->out->ntiles; t++) {
        int ret = sl_task_elementwise(
            args, o->out->tiles[t].handle, o->out_mode, o->a ? o->a->tiles[t].handle : NULL,
            o->b ? o->b->tiles[t].handle : NULL, o->alpha_scalar ? o->alpha_scalar->handle : NULL,
            o->beta_scalar ? o->beta_scalar->handle : NULL);
        if (ret != 0)
            return sl_fail(ctx, SL_ERR_STARPU, "starpu_task_insert failed (%d) for %s", ret,
                           sl_elementwise_name(args.op));
    }
    return SL_OK;
}

static sl_status check_scalar(const sl_darray *x, double _Complex v, const char *what)
{
    if (!sl_dtype_is_complex(x->layout.dtype) && cimag(v) != 0.0)
        return sl_fail(x->ctx, SL_ERR_DTYPE, "%s: complex scalar (%g%+gi) for a %s array", what,
                       creal(v), cimag(v), sl_dtype_name(x->layout.dtype));
    return SL_OK;
}

static sl_ew_args make_args(sl_ew_op op, const sl_darray *x, double _Complex alpha,
                            double _Complex beta)
{
    sl_ew_args a;
    memset(&a, 0, sizeof a);
    a.op = op;
    a.dtype = x->layout.dtype;
    a.alpha[0] = creal(alpha);
    a.alpha[1] = cimag(alpha);
    a.beta[0] = creal(beta);
    a.beta[1] = cimag(beta);
    return a;
}

sl_status sl_darray_fill(sl_darray *x, double _Complex value)
{
    if (!x)
        return sl_null_error(__func__);
    if (sl_darray_is_stack(x)) {
        SL_STACK_VIEW(v, x);
        return sl_stacked_fill(&v, value);
    }
    sl_status st = check_scalar(x, value, "sl_darray_fill");
    if (st != SL_OK)
        return st;
    ew_operands o = {.out = x, .out_mode = STARPU_W};
    return submit_elementwise(&o, make_args(SL_EW_FILL, x, value, 0));
}

sl_status sl_darray_zeros(sl_darray *x)
{
    return sl_darray_fill(x, 0);
}

sl_status sl_darray_copy(const sl_darray *src, sl_darray *dst)
{
    if (!src || !dst)
        return sl_null_error(__func__);
    if (ANY_STACK2(src, dst)) {
        SL_STACK_VIEW(vs, src);
        SL_STACK_VIEW(vd, dst);
        return sl_stacked_copy(&vs, &vd);
    }
    sl_status st = sl_darray_check_compatible(dst, src, "sl_darray_copy");
    if (st != SL_OK || src == dst)
        return st;
    ew_operands o = {.out = dst, .a = src, .out_mode = STARPU_W};
    return submit_elementwise(&o, make_args(SL_EW_COPY, dst, 0, 0));
}

sl_status sl_darray_scale(sl_darray *x, double _Complex alpha)
{
    if (!x)
        return sl_null_error(__func__);
    if (sl_darray_is_stack(x)) {
        SL_STACK_VIEW(v, x);
        return sl_stacked_scale(&v, alpha);
    }
    sl_status st = check_scalar(x, alpha, "sl_darray_scale");
    if (st != SL_OK)
        return st;
    ew_operands o = {.out = x, .a = x, .out_mode = STARPU_RW};
    return submit_elementwise(&o, make_args(SL_EW_SCALE, x, alpha, 0));
}

sl_status sl_darray_axpby(double _Complex alpha, const sl_darray *x, double _Complex beta,
                          sl_darray *y)
{
    if (!x || !y)
        return sl_null_error(__func__);
    if (ANY_STACK2(x, y)) {
        SL_STACK_VIEW(vx, x);
        SL_STACK_VIEW(vy, y);
        return sl_stacked_axpby(alpha, &vx, beta, &vy);
    }
    sl_status st = sl_darray_check_compatible(y, x, "sl_darray_axpby");
    if (st == SL_OK)
        st = check_scalar(y, alpha, "sl_darray_axpby (alpha)");
    if (st == SL_OK)
        st = check_scalar(y, beta, "sl_darray_axpby (beta)");
    if (st != SL_OK)
        return st;
    /* beta == 0 does not read y (BLAS convention), so y's old content never leaks in. */
    sl_ew_op op = beta == 0 ? SL_EW_SCALE : beta == 1 ? SL_EW_AXPY : SL_EW_AXPBY;
    ew_operands o = {.out = y, .a = x, .out_mode = beta == 0 ? STARPU_W : STARPU_RW};
    return submit_elementwise(&o, make_args(op, y, alpha, beta));
}

sl_status sl_darray_axpy(double _Complex alpha, const sl_darray *x, sl_darray *y)
{
    return sl_darray_axpby(alpha, x, 1.0, y);
}

sl_status sl_darray_axpy_scalar(const sl_scalar *alpha, double sign, const sl_darray *x,
                                sl_darray *y)
{
    if (!alpha)
        return sl_null_error(__func__);
    return sl_darray_axpby_scalars(alpha, sign, x, NULL, 1.0, y);
}

sl_status sl_darray_axpby_scalars(const sl_scalar *alpha, double _Complex alpha_factor,
                                  const sl_darray *x, const sl_scalar *beta,
                                  double _Complex beta_factor, sl_darray *y)
{
    if (!x || !y)
        return sl_null_error(__func__);
    if (ANY_STACK2(x, y)) {
        SL_STACK_VIEW(vx, x);
        SL_STACK_VIEW(vy, y);
        return sl_stacked_axpby_scalars(alpha, alpha_factor, &vx, beta, beta_factor, &vy);
    }
    if (alpha_factor == 0 && x == y && beta) /* the scaling form: y is read once */
        return sl_darray_scale_scalar(y, beta, beta_factor);
    sl_status st = sl_darray_check_compatible(y, x, "sl_darray_axpby_scalars");
    if (st != SL_OK)
        return st;
    /* Complex factors on a real array are caught here; complex scalar futures on a real array
     * keep only their real part, as their producers (dot/norm of real arrays) are real. */
    if ((st = check_scalar(y, alpha_factor, "sl_darray_axpby_scalars (alpha)")) != SL_OK ||
        (st = check_scalar(y, beta_factor, "sl_darray_axpby_scalars (beta)")) != SL_OK)
        return st;
    int plain_add = beta == NULL && beta_factor == 1.0;
    ew_operands o = {.out = y, .a = x, .alpha_scalar = alpha, .beta_scalar = beta,
                     .out_mode = STARPU_RW};
    return submit_elementwise(&o, make_args(plain_add ? SL_EW_AXPY : SL_EW_AXPBY, y,
                                            alpha_factor, beta_factor));
}

sl_status sl_darray_scale_scalar(sl_darray *x, const sl_scalar *alpha, double _Complex factor)
{
    if (!x || !alpha)
        return sl_null_error(__func__);
    sl_status st = check_scalar(x, factor, "sl_darray_scale_scalar");
    if (st != SL_OK)
        return st;
    ew_operands o = {.out = x, .a = x, .alpha_scalar = alpha, .out_mode = STARPU_RW};
    return submit_elementwise(&o, make_args(SL_EW_SCALE, x, factor, 0));
}

/* self: the public function, which stacks apply to each part. */
static sl_status binary(sl_ew_op op, const sl_darray *x, const sl_darray *y, sl_darray *z,
                        const char *what, sl_darray_binary_fn self)
{
    if (!x || !y || !z)
        return sl_null_error(what);
    if (ANY_STACK3(x, y, z)) {
        SL_STACK_VIEW(vx, x);
        SL_STACK_VIEW(vy, y);
        SL_STACK_VIEW(vz, z);
        return sl_stacked_binary(self, &vx, &vy, &vz, what);
    }
    sl_status st = sl_darray_check_compatible(z, x, what);
    if (st == SL_OK)
        st = sl_darray_check_compatible(z, y, what);
    if (st != SL_OK)
        return st;
    ew_operands o = {.out = z, .a = x, .b = y, .out_mode = STARPU_W};
    return submit_elementwise(&o, make_args(op, z, 0, 0));
}

sl_status sl_darray_add(const sl_darray *x, const sl_darray *y, sl_darray *z)
{
    return binary(SL_EW_ADD, x, y, z, "sl_darray_add", sl_darray_add);
}

sl_status sl_darray_sub(const sl_darray *x, const sl_darray *y, sl_darray *z)
{
    return binary(SL_EW_SUB, x, y, z, "sl_darray_sub", sl_darray_sub);
}

sl_status sl_darray_multiply(const sl_darray *x, const sl_darray *y, sl_darray *z)
{
    return binary(SL_EW_MUL, x, y, z, "sl_darray_multiply", sl_darray_multiply);
}

sl_status sl_darray_conj(const sl_darray *x, sl_darray *z)
{
    if (!x || !z)
        return sl_null_error(__func__);
    if (ANY_STACK2(x, z)) {
        SL_STACK_VIEW(vx, x);
        SL_STACK_VIEW(vz, z);
        return sl_stacked_conj(&vx, &vz);
    }
    sl_status st = sl_darray_check_compatible(z, x, "sl_darray_conj");
    if (st != SL_OK)
        return st;
    ew_operands o = {.out = z, .a = x, .out_mode = STARPU_W};
    return submit_elementwise(&o, make_args(SL_EW_CONJ, z, 0, 0));
}

sl_status sl_darray_conj_multiply(const sl_darray *x, const sl_darray *y, sl_darray *z)
{
    return binary(SL_EW_CMUL, x, y, z, "sl_darray_conj_multiply", sl_darray_conj_multiply);
}
