/* Public getters: one definition for the NULL checks and the read (context.c, darray.c,
 * op_core.c). SL_DEFINE_GETTER(name, T, obj, U, expr) defines
 * sl_status name(const T *obj, U *out), which sets *out = expr. */
#ifndef STARLOPS_GETTER_H
#define STARLOPS_GETTER_H

#include <starlops/status.h>

sl_status sl_null_error(const char *function);

#define SL_DEFINE_GETTER(name, T, obj, U, expr)          \
    sl_status name(const T *obj, U *out)                 \
    {                                                    \
        if (!obj || !out)                                \
            return sl_null_error(__func__);              \
        *out = (expr);                                   \
        return SL_OK;                                    \
    }

#endif
