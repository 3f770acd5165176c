/* Scalars computed by tasks (dot products, norms): futures that later tasks can read without a
 * host synchronisation; sl_scalar_get is the blocking getter. */
#ifndef STARLOPS_SCALAR_H
#define STARLOPS_SCALAR_H

#include <complex.h>
#include <starlops/status.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_scalar sl_scalar;

/* Waits for the tasks producing the scalar and returns its value (real results have im = 0).
 * Like sl_wait, it also reports failures inside tasks not reported yet on this rank (the value
 * is still written: NaN when a communication failure poisoned the reduction). */
sl_status sl_scalar_get(sl_scalar *s, double _Complex *value);
/* Real part only; convenient for norms. */
sl_status sl_scalar_get_real(sl_scalar *s, double *value);
/* Releases the scalar once the tasks reading it have run (asynchronous, NULL accepted). */
sl_status sl_scalar_destroy(sl_scalar *s);

#ifdef __cplusplus
}
#endif
#endif
