/* Process grid P x Q for 2D operators: the user's choice or the most square factorisation. */
#include <stdio.h>

#include "runtime/context_internal.h"

sl_status sl_grid_choose(int size, int want_p, int want_q, int *p, int *q, char *msg, size_t len)
{
    if (want_p > 0 || want_q > 0) {
        if ((long long)want_p * want_q != size) {
            snprintf(msg, len, "STARLOPS_GRID=%dx%d needs %d ranks, but there are %d", want_p,
                     want_q, want_p * want_q, size);
            return SL_ERR_ENV;
        }
        *p = want_p;
        *q = want_q;
        return SL_OK;
    }
    int best = 1;
    for (int d = 1; (long long)d * d <= size; d++)
        if (size % d == 0)
            best = d;
    *p = best;
    *q = size / best;
    return SL_OK;
}
