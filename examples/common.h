/* What every example shares. TRY(call) runs a starlops call and, when it fails, prints the
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

/* sl_init, or a message saying why it failed; then this rank and the number of ranks (either
 * pointer may be NULL). Returns 0 on success, 1 after printing the message. */
static inline int example_start(int *argc, char ***argv, sl_context **ctx, int *rank, int *size)
{
    if (sl_init(argc, argv, ctx) != SL_OK) {
        fprintf(stderr, "sl_init: %s\n", sl_init_error());
        return 1;
    }
    sl_context_info info;
    sl_context_get_info(*ctx, &info);
    if (rank)
        *rank = info.rank;
    if (size)
        *size = info.size;
    return 0;
}

#endif
