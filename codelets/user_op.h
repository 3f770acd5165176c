/* Tasks of user-defined operators (user_op.c): the codelet that runs a per-rank callback on
 * whole blocks, and the insertion of the user's own per-tile codelets. */
#ifndef STARLOPS_CL_USER_OP_H
#define STARLOPS_CL_USER_OP_H

#include <starlops/op.h>

#include "codelet_common.h"

/* One task calls fn(in, out, adjoint, user) on host blocks; it holds the nread handles of
 * `reads` (R) then the nwrite of `writes` (W), so the blocks are complete while it runs.
 * Returns -ENOMEM when the helper cannot allocate. */
int sl_task_user_callback(sl_local_apply_fn fn, void *user, int adjoint, const void *in,
                          void *out, const starpu_data_handle_t *reads, int nread,
                          const starpu_data_handle_t *writes, int nwrite);

/* One task of the user's codelet cl on a tile: out (W), in (R); cl_arg packs *info, then the
 * arg_size bytes of arg (sl_op_from_codelets's contract). */
int sl_task_user_tile(struct starpu_codelet *cl, const sl_tile_info *info, void *arg,
                      size_t arg_size, starpu_data_handle_t out, starpu_data_handle_t in);

#endif
