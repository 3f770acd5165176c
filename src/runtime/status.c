/* Status sentences and the per-context / per-process error messages. */
#include <stdarg.h>
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
};

const char *sl_strerror(sl_status status)
{
    if ((int)status < 0 || status >= SL_STATUS_COUNT)
        return "unknown status code";
    return status_text[status];
}

sl_status sl_fail(const sl_context *ctx, sl_status status, const char *fmt, ...)
{
    if (ctx) {
        /* The message buffer is the only mutable part of a logically const context. */
        char *buf = ((sl_context *)ctx)->last_error;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, SL_ERRMSG_LEN, fmt, ap);
        va_end(ap);
    }
    return status;
}

const char *sl_last_error(const sl_context *ctx)
{
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
