/* Status sentences and the per-context / per-process error messages. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

#include "runtime/context_internal.h"

static const char *const status_text[SL_STATUS_COUNT] = {
    [SL_OK] = "success",
    [SL_ERR_NULL] = "a required pointer argument is NULL",
    [SL_ERR_ARG] = "invalid argument",
    [SL_ERR_SHAPE] = "shape mismatch",
    [SL_ERR_DTYPE] = "dtype mismatch or invalid dtype",
    [SL_ERR_PARTITION] = "partition mismatch",
    [SL_ERR_MASK] = "mask mismatch",
    [SL_ERR_RANK_MISMATCH] = "ranks passed different values to a collective call",
    [SL_ERR_ENV] = "invalid environment variable",
    [SL_ERR_MPI] = "MPI error",
    [SL_ERR_STARPU] = "StarPU error",
    [SL_ERR_NOMEM] = "out of memory",
    [SL_ERR_STATE] = "call not valid in the current state",
    [SL_ERR_UNSUPPORTED] = "not supported by this build",
    [SL_ERR_NONFINITE] = "a NaN or infinity appeared in the computation",
};

const char *sl_strerror(sl_status status)
{
    if ((int)status < 0 || status >= SL_STATUS_COUNT)
        return "unknown status code";
    return status_text[status];
}

/* Errors are numbered in the order they happen, so that sl_last_error can tell whether the
 * calling thread's latest NULL-argument error (which may name no context) came after the
 * context's own message. Only the ordering is shared between contexts, never a message. */
static atomic_ulong error_serial;
static _Thread_local char null_error[SL_ERRMSG_LEN];
static _Thread_local unsigned long null_error_serial;

sl_status sl_fail(const sl_context *ctx, sl_status status, const char *fmt, ...)
{
    if (ctx) {
        /* The message is the only mutable part of a logically const context. */
        sl_context *c = (sl_context *)ctx;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->last_error, SL_ERRMSG_LEN, fmt, ap);
        va_end(ap);
        c->last_error_serial = atomic_fetch_add(&error_serial, 1) + 1;
    }
    return status;
}

sl_status sl_null_error(const char *function)
{
    snprintf(null_error, sizeof null_error, "%s: a required pointer argument is NULL",
             function);
    null_error_serial = atomic_fetch_add(&error_serial, 1) + 1;
    return SL_ERR_NULL;
}

const char *sl_last_error(const sl_context *ctx)
{
    if (null_error_serial && (!ctx || null_error_serial > ctx->last_error_serial))
        return null_error;
    return ctx ? ctx->last_error : "no context (NULL)";
}

/* Before a context exists there is nowhere else to keep the sentence; it is per process
 * because StarPU allows one runtime per process anyway. */
static char init_error[SL_ERRMSG_LEN];

void sl_set_init_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(init_error, sizeof init_error, fmt, ap);
    va_end(ap);
}

const char *sl_init_error(void)
{
    return init_error;
}
