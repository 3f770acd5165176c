/* Applications of the FFT operator: tasks over tiles holding whole lines along the axis, and
 * the redistribution around them when the axis is cut between ranks. */
#include <string.h>

#include "ops/fft_op.h"
#include "runtime/try.h"

static size_t prod(const size_t *v, int from, int to)
{
    size_t p = 1;
    for (int d = from; d < to; d++)
        p *= v[d];
    return p;
}

/* The lines of `nrows` rows of x's block (all of them along the distributed axis) and their
 * strides in x, in elements: those that step over rows of the tile are counted in its row
 * stride ld (the block's row length in main memory, the tile's on a device). */
static void side_geometry(const sl_darray *x, int axis, size_t nrows, sl_fft_lines *ln,
                          sl_fft_stride *s1, sl_fft_stride *s2, sl_fft_stride *sk)
{
    int d = x->layout.axis;
    size_t len = x->layout.shape[axis];
    if (axis > d) { /* inside a row: outer x (rows x pre) x len x post */
        const sl_layout *l = &x->layout;
        size_t pre = prod(l->shape, d + 1, axis), post = prod(l->shape, axis + 1, l->ndim);
        *ln = (sl_fft_lines){x->outer * nrows * pre * post, nrows * pre, post};
        *s1 = (sl_fft_stride){1, 0}, *s2 = (sl_fft_stride){0, len * post};
        *sk = (sl_fft_stride){0, post};
    } else if (axis < d) { /* across rows: pre x len x mid x (rows of the tile) */
        size_t pre = prod(x->layout.shape, 0, axis), mid = prod(x->layout.shape, axis + 1, d);
        *ln = (sl_fft_lines){pre * mid * nrows * x->inner, mid, nrows * x->inner};
        *s1 = (sl_fft_stride){len * mid, 0}, *s2 = (sl_fft_stride){1, 0};
        *sk = (sl_fft_stride){mid, 0};
    } else { /* along the rows: outer x len x inner */
        *ln = (sl_fft_lines){x->outer * x->inner, 1, x->inner};
        *s1 = (sl_fft_stride){1, 0}, *s2 = (sl_fft_stride){0, 0};
        *sk = (sl_fft_stride){0, x->inner};
    }
}

static sl_fft_task_args *new_args(const sl_fft_state *s, int adjoint, const sl_darray *in,
                                  const sl_darray *out, int ncalls, int nsegs)
{
    sl_fft_task_args *a = sl_fft_task_args_new(ncalls, nsegs);
    if (a) {
        a->engine = &s->engine[adjoint];
        a->workspaces = s->workspaces;
        a->cuda = s->cuda;
        a->esize[0] = in->elem_size;
        a->esize[1] = out->elem_size;
    }
    return a;
}

static sl_status submitted(const sl_darray *x, int ret)
{
    if (ret == -ENOMEM)
        return sl_fail(x->ctx, SL_ERR_NOMEM, "FFT: out of memory submitting a task");
    return ret == 0 ? SL_OK
                    : sl_fail(x->ctx, SL_ERR_STARPU, "FFT: starpu_task_insert failed (%d)", ret);
}

/* Output tile t of out, from the input tiles holding its rows: one kernel call per input
 * tile (the two arrays' tiles need not line up, as their rows differ in length). */
static sl_status tile_task(const sl_fft_state *s, int adjoint, const sl_darray *in,
                           sl_darray *out, size_t t)
{
    const sl_tile *ot = &out->tiles[t];
    size_t lo = ot->row0, hi = lo + ot->nrows, first = in->ntiles, count = 0;
    for (size_t u = 0; u < in->ntiles; u++)
        if (in->tiles[u].row0 < hi && in->tiles[u].row0 + in->tiles[u].nrows > lo) {
            first = first < u ? first : u;
            count++;
        }
    sl_fft_task_args *a = new_args(s, adjoint, in, out, (int)count, 2 * (int)count);
    starpu_data_handle_t *src = malloc((count ? count : 1) * sizeof *src);
    if (!a || !src) {
        free(a);
        free(src);
        return sl_fail(in->ctx, SL_ERR_NOMEM, "FFT: out of memory");
    }
    a->ndst = 1, a->nsrc = (int)count;
    sl_fft_task_call *calls = sl_fft_task_calls(a);
    sl_fft_task_segment *where = sl_fft_task_segments(a);
    sl_fft_segment *segs = sl_fft_task_kernel_segments(a);
    for (size_t j = 0; j < count; j++) {
        const sl_tile *it = &in->tiles[first + j];
        size_t r0 = it->row0 > lo ? it->row0 : lo;
        size_t r1 = it->row0 + it->nrows < hi ? it->row0 + it->nrows : hi;
        sl_fft_task_call *c = &calls[j];
        side_geometry(in, s->axis, r1 - r0, &c->lines, &c->s1[0], &c->s2[0], &c->sk[0]);
        side_geometry(out, s->axis, r1 - r0, &c->lines, &c->s1[1], &c->s2[1], &c->sk[1]);
        c->seg0[0] = 2 * (int)j, c->seg0[1] = 2 * (int)j + 1, c->nseg[0] = c->nseg[1] = 1;
        where[2 * j] = (sl_fft_task_segment){1 + (int)j, (r0 - it->row0) * in->inner};
        where[2 * j + 1] = (sl_fft_task_segment){0, (r0 - lo) * out->inner};
        segs[2 * j] = (sl_fft_segment){NULL, 0, in->layout.shape[s->axis]};
        segs[2 * j + 1] = (sl_fft_segment){NULL, 0, out->layout.shape[s->axis]};
        src[j] = it->handle;
    }
    sl_status st = submitted(in, sl_task_fft(a, &ot->handle, src, s->guard));
    free(src);
    return st;
}

static sl_status handles_of(const sl_darray *x, starpu_data_handle_t **h)
{
    *h = malloc((x->ntiles ? x->ntiles : 1) * sizeof **h);
    if (!*h)
        return sl_fail(x->ctx, SL_ERR_NOMEM, "FFT: out of memory");
    for (size_t t = 0; t < x->ntiles; t++)
        (*h)[t] = x->tiles[t].handle;
    return SL_OK;
}

/* The whole axis in this rank's block, cut into tiles along it: one task over all the tiles,
 * each line made of one segment per tile. */
static sl_status block_task(const sl_fft_state *s, int adjoint, const sl_darray *in,
                            sl_darray *out)
{
    if (in->ntiles == 0)
        return SL_OK; /* a rank holding no rows */
    int nin = (int)in->ntiles, nout = (int)out->ntiles;
    sl_fft_task_args *a = new_args(s, adjoint, in, out, 1, nin + nout);
    if (!a)
        return sl_fail(in->ctx, SL_ERR_NOMEM, "FFT: out of memory");
    a->ndst = nout, a->nsrc = nin;
    sl_fft_task_call *c = sl_fft_task_calls(a);
    sl_fft_task_segment *where = sl_fft_task_segments(a);
    sl_fft_segment *segs = sl_fft_task_kernel_segments(a);
    side_geometry(in, s->axis, 0, &c->lines, &c->s1[0], &c->s2[0], &c->sk[0]);
    side_geometry(out, s->axis, 0, &c->lines, &c->s1[1], &c->s2[1], &c->sk[1]);
    c->seg0[0] = 0, c->nseg[0] = nin, c->seg0[1] = nin, c->nseg[1] = nout;
    for (int u = 0; u < nin; u++) {
        where[u] = (sl_fft_task_segment){nout + u, 0};
        segs[u] = (sl_fft_segment){NULL, in->tiles[u].row0, in->tiles[u].nrows};
    }
    for (int t = 0; t < nout; t++) {
        where[nin + t] = (sl_fft_task_segment){t, 0};
        segs[nin + t] = (sl_fft_segment){NULL, out->tiles[t].row0, out->tiles[t].nrows};
    }
    starpu_data_handle_t *hin = NULL, *hout = NULL;
    sl_status st = handles_of(in, &hin);
    if (st == SL_OK)
        st = handles_of(out, &hout);
    if (st == SL_OK)
        st = submitted(in, sl_task_fft(a, hout, hin, s->guard));
    else
        free(a);
    free(hin);
    free(hout);
    return st;
}

static sl_status local_transform(const sl_fft_state *s, int adjoint, const sl_darray *in,
                                 sl_darray *out)
{
    if (s->axis == in->layout.axis)
        return block_task(s, adjoint, in, out);
    for (size_t t = 0; t < out->ntiles; t++)
        SL_TRY(tile_task(s, adjoint, in, out, t));
    return SL_OK;
}

/* The axis is cut between ranks: the input's values move to the mid array of its shape
 * (distributed along work_axis), the transform runs there into the other mid array, whose
 * values move into out. Tasks only: two all-to-alls of packed boxes. */
static sl_status redistributed(const sl_fft_state *s, int adjoint, const sl_darray *in,
                               sl_darray *out)
{
    sl_darray *from = s->mid[adjoint ? 0 : 1], *to = s->mid[adjoint ? 1 : 0];
    int64_t tag = sl_tags_book(in->ctx, 2);
    SL_TRY(sl_fft_exchange_run(&s->there[adjoint], in, from, tag));
    SL_TRY(local_transform(s, adjoint, from, to));
    return sl_fft_exchange_run(&s->back[!adjoint], to, out, tag + 1);
}

sl_status sl_fft_apply(const sl_op *op, int adjoint, const sl_darray *in, sl_darray *out)
{
    const sl_fft_state *s = op->state;
    if (s->route == SL_FFT_ROUTE_REDIST)
        return redistributed(s, adjoint, in, out);
    return local_transform(s, adjoint, in, out);
}
