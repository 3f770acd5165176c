/* Private layout of sl_op: a vtable, the model and data layouts, and the operator's state. */
#ifndef STARLOPS_OP_INTERNAL_H
#define STARLOPS_OP_INTERNAL_H

#include <starlops/op.h>
#include "darray/darray_internal.h"

/* Everything sl_darray_create needs to make an array of this layout. */
typedef struct sl_layout {
    sl_dtype dtype;
    int ndim;
    size_t shape[SL_MAX_NDIM];
    sl_partition partition;
    int axis;
    size_t *local_sizes; /* per rank along the axis (owned) */
    int *mask;           /* owned, or NULL */
} sl_layout;

typedef struct sl_op_vtable {
    const char *name;
    /* in has the model layout (adjoint: data layout); out the other one. Only submits. */
    sl_status (*apply)(const sl_op *op, int adjoint, const sl_darray *in, sl_darray *out);
    void (*destroy)(sl_op *op);
} sl_op_vtable;

struct sl_op {
    sl_context *ctx;
    const sl_op_vtable *vt;
    sl_layout model, data;
    void *state;
};

/* Layout helpers. */
sl_status sl_layout_from_darray(const sl_darray *x, sl_layout *l);
void sl_layout_free(sl_layout *l);
sl_status sl_layout_create(sl_context *ctx, const sl_layout *l, sl_darray **out);
/* SL_OK if x has layout l (else a message naming the difference, prefixed by what). */
sl_status sl_layout_check(sl_context *ctx, const sl_layout *l, const sl_darray *x,
                          const char *what);
size_t sl_layout_count(const sl_layout *l);
int sl_layout_equal(const sl_layout *a, const sl_layout *b, int nranks);

/* A new operator with the given layouts (copied) and state (owned through vt->destroy). */
sl_status sl_op_new(sl_context *ctx, const sl_op_vtable *vt, const sl_layout *model,
                    const sl_layout *data, void *state, sl_op **out);

#endif
