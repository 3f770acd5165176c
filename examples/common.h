/* What every example shares: TRY(call) runs a starlops call and, when it fails, prints the
 * call, the status and the context's detailed message, then returns 1 from the enclosing
 * function (main, or a helper returning int). It reads the variable `ctx` (an sl_context *,
 * NULL before the context exists) in the calling scope. */
#ifndef STARLOPS_EXAMPLES_COMMON_H
#define STARLOPS_EXAMPLES_COMMON_H

#include <stdio.h>

#include <starlops.h>

#define TRY(call)                                                                           \
    do {                                                                                    \
        sl_status st_ = (call);                                                             \
        if (st_ != SL_OK) {                                                                 \
            fprintf(stderr, "%s: %s (%s)\n", #call, sl_strerror(st_), sl_last_error(ctx)); \
            return 1;                                                                       \
        }                                                                                   \
    } while (0)

#endif
