/* A solver's guarded step, shared by the C codelets and the CUDA kernels (plain C, compiled for
 * the host and, under nvcc, for the device): the verdict codes a guard records (scalar.h's
 * ratio guard, LSQR's state) and the guarded ratio itself, so both kinds of worker decide
 * alike. */
#ifndef STARLOPS_GUARD_CODES_H
#define STARLOPS_GUARD_CODES_H

#include <math.h>

#ifdef __CUDACC__
#define SL_HOST_DEVICE __host__ __device__
#else
#define SL_HOST_DEVICE
#endif

enum { SL_GUARD_OK = 0, SL_GUARD_BREAKDOWN = 1, SL_GUARD_NONFINITE = 2 };

/* num / den, guarded. A step whose denominator is zero (0/0 when the iterate already solves
 * the problem; a zero operator or zero data) or whose value is not finite is reported in the
 * guard (NULL: none; first event only: code and the iteration count x holds, `completed`) and
 * yields 0, as does every ratio after it: later steps become no-ops and x keeps its last good
 * iterate, instead of turning into NaN. */
static inline SL_HOST_DEVICE double sl_guarded_ratio(double num, double den, double *guard,
                                                     double completed)
{
    double q = num / den, code = SL_GUARD_OK;
    if (!isfinite(num) || !isfinite(den))
        code = SL_GUARD_NONFINITE;
    else if (den == 0)
        code = SL_GUARD_BREAKDOWN;
    else if (!isfinite(q))
        code = SL_GUARD_NONFINITE;
    if (guard && guard[0] != SL_GUARD_OK)
        return 0; /* an earlier step stopped the solve */
    if (code != SL_GUARD_OK) {
        if (guard)
            guard[0] = code, guard[1] = completed;
        return 0;
    }
    return q;
}

#endif
