/* SL_TRY(call), for functions that return an sl_status and have nothing to release on failure:
 * when the call fails, records where (this function, file:line) in the calling thread's error
 * trace and returns the call's status from the enclosing function. sl_last_error then shows
 * the message followed by the path it took back, innermost first:
 *   "sl_op_apply: ... [via normal_residual (src/solvers/cgls.c:28) < cgls_setup (...)]".
 * Functions with something to release keep the `if (st == SL_OK) st = ...` chain and their
 * cleanup at the end. */
#ifndef STARLOPS_TRY_H
#define STARLOPS_TRY_H

#include <starlops/status.h>

/* Appends a step to the trace of the calling thread's latest error, when `status` is that
 * error's status (a status returned without a message starts no trace). */
void sl_trace_step(sl_status status, const char *function, const char *file, int line);

#define SL_TRY(call)                                                        \
    do {                                                                    \
        sl_status sl_try_status_ = (call);                                  \
        if (sl_try_status_ != SL_OK) {                                      \
            sl_trace_step(sl_try_status_, __func__, __FILE__, __LINE__);    \
            return sl_try_status_;                                          \
        }                                                                   \
    } while (0)

#endif
