/* Internal operators the frequency-domain operators are built from (op_relayout.c,
 * op_mdc.c). */
#ifndef STARLOPS_RELAYOUT_H
#define STARLOPS_RELAYOUT_H

#include "ops/op_internal.h"

/* The identity between two distributions of one global array (same dtype and shape): forward
 * moves values from `from`'s layout to `to`'s, the adjoint moves them back; one all-to-all of
 * tasks per application. Collective (both layouts agreed already). */
sl_status sl_op_relayout(sl_context *ctx, const sl_layout *from, const sl_layout *to,
                         sl_op **out);

#endif
