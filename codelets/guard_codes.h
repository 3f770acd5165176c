/* The verdict a solver's guarded step records (scalar.h's ratio guard, LSQR's state): plain C
 * constants, shared by the C codelets and the CUDA kernels. */
#ifndef STARLOPS_GUARD_CODES_H
#define STARLOPS_GUARD_CODES_H

enum { SL_GUARD_OK = 0, SL_GUARD_BREAKDOWN = 1, SL_GUARD_NONFINITE = 2 };

#endif
