/* Status codes returned by every public starlops function. */
#ifndef STARLOPS_STATUS_H
#define STARLOPS_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sl_status {
    SL_OK = 0,
    SL_ERR_NULL,          /* a required pointer argument was NULL */
    SL_ERR_ARG,           /* an argument is out of its valid range */
    SL_ERR_SHAPE,         /* shapes, local shapes or axes do not match */
    SL_ERR_DTYPE,         /* element types do not match or are unknown */
    SL_ERR_PARTITION,     /* partitions (SCATTER/BROADCAST) do not match */
    SL_ERR_MASK,          /* masks (sub-communicator colours) do not match */
    SL_ERR_RANK_MISMATCH, /* ranks passed different values to a collective call */
    SL_ERR_ENV,           /* an environment variable has an invalid value */
    SL_ERR_MPI,           /* an MPI call failed or MPI is unusable (thread level) */
    SL_ERR_STARPU,        /* a StarPU call failed */
    SL_ERR_NOMEM,         /* memory allocation failed */
    SL_ERR_STATE,         /* call not valid in the current state (e.g. double init) */
    SL_ERR_UNSUPPORTED,   /* valid request that this build does not implement */
    SL_ERR_NONFINITE,     /* a NaN or infinity appeared in a computation (e.g. a solve) */
    SL_STATUS_COUNT
} sl_status;

/* A short fixed sentence for a status code (never NULL). */
const char *sl_strerror(sl_status status);

#ifdef __cplusplus
}
#endif
#endif
