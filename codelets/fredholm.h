/* Codelets of Fredholm1 (fredholm.c): a batch of per-slice matrix products. */
#ifndef STARLOPS_CL_FREDHOLM_H
#define STARLOPS_CL_FREDHOLM_H

#include "codelet_common.h"
#include "cpu/kernels.h"

/* One task's products: out[s] (m x nz) = op(G[s]) in[s] (k x nz) for the output tile's
 * slices, op(G[s]) = G[s] (m x k, the forward, or the stored G^H of the adjoint) or, with
 * adjoint_g, G[s]^H where G[s] is k x m (the adjoint without saveGt). */
typedef struct sl_fredholm_args {
    sl_dtype dtype;
    int adjoint_g;
    size_t m, k, nz;
    size_t skip; /* slices of the first input tile before the output tile's first slice */
} sl_fredholm_args;

/* out (W, a tile of whole slices) = the products above, reading g (R: a matrix handle of one
 * row per slice of the output tile, m*k elements each) and the input tiles (R) that hold those
 * slices, in order. */
int sl_task_fredholm(const sl_fredholm_args *args, starpu_data_handle_t out,
                     starpu_data_handle_t g, const starpu_data_handle_t *in, int nin);

#endif
