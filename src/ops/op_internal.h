/* Private layout of sl_op: a vtable, the model and data layouts, and the operator's state. */
#ifndef STARLOPS_OP_INTERNAL_H
#define STARLOPS_OP_INTERNAL_H

#include <starlops/op.h>
#include "darray/darray_internal.h"
#include "darray/stacked_internal.h"

/* An operator's model or data space: one layout per component. A plain space (an sl_darray)
 * has count 1 and stacked 0; a stacked space (an sl_stacked) has stacked 1 and its leaves'
 * layouts, flattened. */
typedef struct sl_space {
    int count;
    int stacked;
    sl_layout *layouts; /* count entries (owned) */
} sl_space;

typedef struct sl_op_vtable {
    const char *name;
    /* Plain operators: in has the model layout (adjoint: data layout); out the other one.
     * Only submits. */
    sl_status (*apply)(const sl_op *op, int adjoint, const sl_darray *in, sl_darray *out);
    void (*destroy)(sl_op *op);
    /* Operators written on stacks (stacked spaces, or generic like the algebra): used instead
     * of apply when set. Plain spaces arrive as stacks of one. */
    sl_status (*apply_stacked)(const sl_op *op, int adjoint, const sl_stacked *in,
                               sl_stacked *out);
} sl_op_vtable;

struct sl_op {
    sl_context *ctx;
    const sl_op_vtable *vt;
    sl_space model, data;
    void *state;
    sl_op **owned; /* operands this operator destroys after itself (composite constructors) */
    int nowned;
};

/* The single layout of a plain space (the first component of a stacked one). */
static inline const sl_layout *sl_op_model_layout(const sl_op *op)
{
    return &op->model.layouts[0];
}
static inline const sl_layout *sl_op_data_layout(const sl_op *op)
{
    return &op->data.layouts[0];
}

/* sl_op_from_callbacks on layouts (agreed by the caller) rather than on arrays. */
sl_status sl_op_from_callback_layouts(sl_context *ctx, const sl_layout *ml, const sl_layout *dl,
                                     sl_local_apply_fn fn, void *user, sl_op **out);
/* The same for internal operators whose callback state the operator owns: free_user(user)
 * when it is destroyed (also when this call fails). */
sl_status sl_op_from_callback_owned(sl_context *ctx, const sl_layout *ml, const sl_layout *dl,
                                    sl_local_apply_fn fn, void *user,
                                    void (*free_user)(void *user), sl_op **out);

/* Spaces (src/ops/space.c). */
sl_status sl_space_single(sl_context *ctx, const sl_layout *l, sl_space *out);
sl_status sl_space_clone(sl_context *ctx, const sl_space *src, sl_space *out);
/* The stacked space of the parts' components, in order (nested stacks flatten). */
sl_status sl_space_concat(sl_context *ctx, int n, const sl_space *const *parts, sl_space *out);
void sl_space_free(sl_space *s);
int sl_space_equal(const sl_space *a, const sl_space *b, int nranks);
size_t sl_space_count(const sl_space *s);
/* SL_OK if v has the space's components and layouts (else a message prefixed by what). */
sl_status sl_space_check(sl_context *ctx, const sl_space *s, const sl_stacked *v,
                         const char *what);
/* New zero vector of the space, as a stack owning its arrays (collective). */
sl_status sl_space_create(sl_context *ctx, const sl_space *s, sl_stacked **out);

/* A new operator with the given layouts (copied) and state (owned through vt->destroy). */
sl_status sl_op_new(sl_context *ctx, const sl_op_vtable *vt, const sl_layout *model,
                    const sl_layout *data, void *state, sl_op **out);
/* The same with spaces (copied). On failure the state is not destroyed. */
sl_status sl_op_new_spaces(sl_context *ctx, const sl_op_vtable *vt, const sl_space *model,
                           const sl_space *data, void *state, sl_op **out);
/* op takes ownership of n operators (destroyed after op's own state). On failure (out of
 * memory) it owns nothing and the caller keeps them. */
sl_status sl_op_take(sl_op *op, int n, sl_op *const *ops);

/* The product ops[n-1] ... ops[1] ops[0] (ops[0] applies first), owning its factors, the
 * partial products and `extra` (operators the factors borrow, e.g. what an adjoint was made
 * of). Takes ownership whatever happens: on failure everything is destroyed (an entry may
 * borrow earlier entries of its list, and any of `extra`). n >= 1, n and nextra <= 16. */
sl_status sl_op_chain(int n, sl_op *const *ops, int nextra, sl_op *const *extra, sl_op **out);

/* 1 if op is the 1D (row-split) MatrixMult. */
int sl_op_is_matrixmult_row(const sl_op *op);

/* Applies op (or its adjoint) without checking the arguments: what composite operators call
 * on their operands, whose spaces they checked when they were made. */
sl_status sl_op_apply(const sl_op *op, int adjoint, const sl_stacked *in, sl_stacked *out);

#endif
