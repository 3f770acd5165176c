/* Status sentences and the per-context / per-process error messages. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

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

/* The calling thread's latest error (serial and status) and the path it took back through
 * SL_TRY (runtime/try.h); shown by sl_last_error after the message it belongs to. */
static _Thread_local unsigned long trace_serial;
static _Thread_local sl_status trace_status;
static _Thread_local char trace[SL_ERRMSG_LEN];
static _Thread_local char traced_message[2 * SL_ERRMSG_LEN + 16];

static unsigned long new_error(sl_status status)
{
    unsigned long serial = atomic_fetch_add(&error_serial, 1) + 1;
    trace_serial = serial;
    trace_status = status;
    trace[0] = '\0';
    return serial;
}

void sl_trace_step(sl_status status, const char *function, const char *file, int line)
{
    size_t used = strlen(trace);
    if (!trace_serial || status != trace_status || used + 1 >= sizeof trace)
        return;
    const char *src = strstr(file, "/src/"); /* the path within the project */
    file = src ? src + 1 : file;
    snprintf(trace + used, sizeof trace - used, "%s%s (%s:%d)", used ? " < " : "", function,
             file, line);
}

/* message + " [via trace]" when the trace belongs to that message */
static const char *with_trace(const char *message, unsigned long serial)
{
    if (serial != trace_serial || !trace[0])
        return message;
    snprintf(traced_message, sizeof traced_message, "%s [via %s]", message, trace);
    return traced_message;
}

sl_status sl_fail(const sl_context *ctx, sl_status status, const char *fmt, ...)
{
    if (ctx) {
        /* The message is the only mutable part of a logically const context. */
        sl_context *c = (sl_context *)ctx;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->last_error, SL_ERRMSG_LEN, fmt, ap);
        va_end(ap);
        c->last_error_serial = new_error(status);
    }
    return status;
}

sl_status sl_null_error(const char *function)
{
    snprintf(null_error, sizeof null_error, "%s: a required pointer argument is NULL",
             function);
    null_error_serial = new_error(SL_ERR_NULL);
    return SL_ERR_NULL;
}

const char *sl_last_error(const sl_context *ctx)
{
    if (null_error_serial && (!ctx || null_error_serial > ctx->last_error_serial))
        return with_trace(null_error, null_error_serial);
    return ctx ? with_trace(ctx->last_error, ctx->last_error_serial) : "no context (NULL)";
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
