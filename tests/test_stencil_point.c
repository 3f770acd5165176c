/* The device evaluation of the stencil task (codelets/stencil_point.h, which the CUDA kernel
 * runs point by point) checked on the host against the CPU codelet, through the real
 * operators: each operator is applied on the CPU workers, then every output tile is evaluated
 * again from *packed* copies of the task's buffers (as a device holds them: ld == nx, separate
 * allocations), with the task's own arguments (sl_stencil_tile_args, what stencil_apply
 * submits) translated by sl_stencil_point_task_of, the CUDA function's translation.
 *
 * Cases: first and second derivatives along each axis of 3-d arrays split along each axis
 * (terms along the tiles read neighbouring tiles, and ghost slabs at 2 ranks), a weighted
 * 3-axis Laplacian (several terms: the CPU accumulates), convolutions with short and long
 * filters, forward and adjoint, all four dtypes. With "fused": rows long enough for the CPU's
 * fused, flat and block-cut paths. Also: buffers that do not fit the arguments are refused. */
#include "harness.h"

#include <starlops/convolve.h>
#include <starlops/derivatives.h>

#include "ops/stencil_op.h"

typedef struct op_case {
    const char *name;
    int kind; /* 0 first, 1 second derivative, 2 Laplacian, 3 convolution */
    int axis;
    size_t nh, offset; /* convolution */
} op_case;

static sl_op *make_op(sl_context *ctx, const sl_darray *x, const op_case *c)
{
    static const int axes[3] = {0, 1, 2};
    static const double weights[3] = {1.0, -2.0, 0.5}, sampling[3] = {1.0, 0.5, 2.0};
    sl_op *op = NULL;
    double h[64];
    uint64_t s = 77 + c->nh;
    for (size_t k = 0; k < c->nh && k < 64; k++)
        h[k] = th_rand(&s);
    switch (c->kind) {
    case 0:
        CHECK_OK(sl_op_first_derivative(x, c->axis, SL_DERIV_CENTERED, 5, 1, 0.5, &op), ctx);
        break;
    case 1:
        CHECK_OK(sl_op_second_derivative(x, c->axis, SL_DERIV_FORWARD, 0, 2.0, &op), ctx);
        break;
    case 2:
        CHECK_OK(sl_op_laplacian(x, 3, axes, weights, sampling, 1, SL_DERIV_CENTERED, &op), ctx);
        break;
    default:
        CHECK_OK(sl_op_convolve1d(x, c->axis, h, c->nh, c->offset, &op), ctx);
        break;
    }
    return op;
}

/* A packed copy of a matrix or vector handle's main-memory data (what a device holds). */
static sl_stencil_buffer packed_copy(starpu_data_handle_t h, int is_vector, void **mem)
{
    sl_stencil_buffer b;
    if (is_vector) {
        b.nx = b.ld = starpu_vector_get_nx(h), b.ny = 1;
        b.elemsize = starpu_vector_get_elemsize(h);
        *mem = malloc(b.nx * b.elemsize + 1);
        memcpy(*mem, (const void *)starpu_vector_get_local_ptr(h), b.nx * b.elemsize);
    } else {
        b.nx = starpu_matrix_get_nx(h), b.ny = starpu_matrix_get_ny(h);
        b.elemsize = starpu_matrix_get_elemsize(h);
        size_t ld = starpu_matrix_get_local_ld(h), row = b.nx * b.elemsize;
        const char *src = (const char *)starpu_matrix_get_local_ptr(h);
        *mem = malloc(b.ny * row + 1);
        for (size_t r = 0; r < b.ny; r++)
            memcpy((char *)*mem + r * row, src + r * ld * b.elemsize, row);
        b.ld = b.nx;
    }
    b.ptr = *mem;
    return b;
}

/* Every point of a task through stencil_point.h, into its (packed) output, walked as the
 * kernel's threads are: a flat index located by the header. */
static void evaluate(const sl_point_task *p, const sl_stencil *table,
                     const sl_stencil_task_args *a)
{
    const double *interior[SL_STENCIL_MAX_TERMS];
    for (int t = 0; t < p->nterms; t++)
        interior[t] = table[a->terms[t].stencil].interior;
    for (size_t i = 0; i < p->outer * p->rows * p->row_len; i++) {
        size_t o, r, j, at = sl_point_locate(p, i, &o, &r, &j);
        if (p->single)
            ((float *)p->out)[at] = sl_stencil_point_f32(p, interior, o, r, j);
        else
            ((double *)p->out)[at] = sl_stencil_point_f64(p, interior, o, r, j);
    }
}

/* max |got - want| over tile t's reals, and max |want|. */
static void compare_tile(const sl_point_task *p, starpu_data_handle_t y, double *err,
                         double *scale)
{
    size_t ld = starpu_matrix_get_local_ld(y) * (starpu_matrix_get_elemsize(y) /
                                                 (p->single ? sizeof(float) : sizeof(double)));
    const void *want = (const void *)starpu_matrix_get_local_ptr(y);
    for (size_t o = 0; o < p->outer; o++)
        for (size_t i = 0; i < p->rows * p->row_len; i++) {
            size_t g = o * p->out_slice + i, w = o * ld + i;
            double a = p->single ? ((const float *)p->out)[g] : ((const double *)p->out)[g];
            double b = p->single ? ((const float *)want)[w] : ((const double *)want)[w];
            double e = isnan(a) ? INFINITY : fabs(a - b);
            *err = e > *err ? e : *err;
            *scale = fabs(b) > *scale ? fabs(b) : *scale;
        }
}

/* Tile t of op applied to x (already computed into y by the CPU codelet) again through the
 * point evaluation. Returns max |difference| / max(1, max |y|) over the tile. */
static double check_tile(const sl_op *op, int adjoint, const sl_darray *x, const sl_darray *y,
                         size_t t)
{
    sl_stencil_task_args a;
    starpu_data_handle_t ph[SL_STENCIL_MAX_PIECES], table_h;
    sl_stencil_tile_args(op, adjoint, x, t, &a, ph, &table_h);
    void *mem[SL_STENCIL_MAX_PIECES + 2];
    sl_stencil_buffer pieces[SL_STENCIL_MAX_PIECES], in, out;
    starpu_data_acquire(table_h, STARPU_R);
    starpu_data_acquire(x->tiles[t].handle, STARPU_R);
    starpu_data_acquire(y->tiles[t].handle, STARPU_R);
    for (int i = 0; i < a.npieces; i++) {
        starpu_data_acquire(ph[i], STARPU_R);
        pieces[i] = packed_copy(ph[i], a.pieces[i].is_vector, &mem[i]);
    }
    in = packed_copy(x->tiles[t].handle, 0, &mem[a.npieces]);
    out = packed_copy(y->tiles[t].handle, 0, &mem[a.npieces + 1]);
    memset(mem[a.npieces + 1], 0xff, out.nx * out.ny * out.elemsize); /* NaN: unwritten */
    const sl_stencil *table = (const sl_stencil *)starpu_vector_get_local_ptr(table_h);
    sl_point_task p;
    double err = INFINITY, scale = 1;
    int st = sl_stencil_point_task_of(&a, table, &out, &in, pieces, &p);
    CHECK(st == 0, "tile %zu: buffers refused", t);
    if (st == 0) {
        err = 0;
        evaluate(&p, table, &a);
        compare_tile(&p, y->tiles[t].handle, &err, &scale);
    }
    /* a tile one slice short does not fit its arguments */
    in.ny += 1;
    CHECK(sl_stencil_point_task_of(&a, table, &out, &in, pieces, &p) != 0,
          "tile %zu: mismatched input accepted", t);
    for (int i = 0; i < a.npieces + 2; i++)
        free(mem[i]);
    for (int i = 0; i < a.npieces; i++)
        starpu_data_release(ph[i]);
    starpu_data_release(y->tiles[t].handle);
    starpu_data_release(x->tiles[t].handle);
    starpu_data_release(table_h);
    return err / scale;
}

/* What the tasks of the cases covered: pieces by kind, the CPU's modes, terms before the
 * split axis. */
enum { NEIGHBOUR_TILES, GHOST_SLABS, FUSED, FLAT, BLOCK_CUT, ACROSS_SLICES, NSTATS };
static const char *const stat_names[NSTATS] = {"neighbouring tiles", "ghost slabs", "fused",
                                               "flat", "block-cut", "across-slice terms"};

static void count_cover(const sl_op *op, const sl_darray *x, long *stats)
{
    for (size_t t = 0; t < x->ntiles; t++) {
        sl_stencil_task_args a;
        starpu_data_handle_t ph[SL_STENCIL_MAX_PIECES], table_h;
        sl_stencil_tile_args(op, 0, x, t, &a, ph, &table_h);
        for (int i = 0; i < a.npieces; i++)
            stats[a.pieces[i].is_vector ? GHOST_SLABS : NEIGHBOUR_TILES]++;
        stats[FUSED] += a.fused, stats[FLAT] += a.flat, stats[BLOCK_CUT] += a.chunk > 0;
        for (int k = 0; k < a.nterms; k++)
            stats[ACROSS_SLICES] += a.terms[k].slice_stride > 0;
    }
}

static void run_case(sl_context *ctx, sl_dtype dt, int ndim, const size_t *shape, int split,
                     const op_case *c, long *stats)
{
    sl_darray *x = NULL, *y = NULL;
    CHECK_OK(sl_darray_create(ctx, dt, ndim, shape, SL_SCATTER, split, NULL, NULL, &x), ctx);
    CHECK_OK(sl_darray_create(ctx, dt, ndim, shape, SL_SCATTER, split, NULL, NULL, &y), ctx);
    sl_op *op = x && y ? make_op(ctx, x, c) : NULL;
    for (int adjoint = 0; op && adjoint < 2; adjoint++) {
        CHECK_OK(sl_darray_random(x, 11 + (uint64_t)adjoint + 10 * (uint64_t)c->kind), ctx);
        CHECK_OK(adjoint ? sl_op_rmatvec(op, x, y) : sl_op_matvec(op, x, y), ctx);
        CHECK_OK(sl_wait(ctx), ctx);
        double worst = 0, tol = dt == SL_F32 || dt == SL_C64 ? 1e-5 : 1e-12;
        for (size_t t = 0; t < y->ntiles; t++) {
            double e = check_tile(op, adjoint, x, y, t);
            worst = e > worst ? e : worst;
        }
        CHECK(worst <= tol, "%s %s split %d %s: point evaluation differs from the CPU by %g",
              c->name, adjoint ? "adjoint" : "forward", split, sl_dtype_name(dt), worst);
        if (adjoint == 0)
            count_cover(op, x, stats);
    }
    if (op)
        sl_op_destroy(op);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    int fused = argc > 1 && strcmp(argv[1], "fused") == 0;
    static const sl_dtype dts[4] = {SL_F64, SL_F32, SL_C128, SL_C64};
    static const op_case small_cases[] = {
        {"FirstDerivative axis 0", 0, 0, 0, 0}, {"FirstDerivative axis 1", 0, 1, 0, 0},
        {"FirstDerivative axis 2", 0, 2, 0, 0}, {"SecondDerivative axis 0", 1, 0, 0, 0},
        {"SecondDerivative axis 1", 1, 1, 0, 0}, {"SecondDerivative axis 2", 1, 2, 0, 0},
        {"Laplacian axes 0-2", 2, 0, 0, 0},     {"Convolve1D axis 0 (5 taps)", 3, 0, 5, 1},
        {"Convolve1D axis 2 (9 taps)", 3, 2, 9, 6}};
    static const op_case long_case = {"Convolve1D axis 1 (31 taps)", 3, 1, 31, 9};
    static const op_case lap = {"Laplacian axes 0-2 (long rows)", 2, 0, 0, 0};
    const size_t small[3] = {8, 12, 14}, longf[3] = {3, 64, 5}, big[3] = {4, 40, 1100};
    long stats[NSTATS] = {0};
    /* the index helper's 64-bit path (the cases below stay in its 32-bit one) */
    const size_t wide = ((size_t)1 << 40) + 12345;
    CHECK(sl_point_index(wide, 7, 1000) == wide / 7 % 1000, "64-bit index");
    CHECK(sl_point_index(wide, (size_t)1 << 33, 3) == (wide >> 33) % 3, "64-bit stride");
    CHECK(sl_point_index(123456, 10, 37) == 123456 / 10 % 37, "32-bit index");
    for (int d = 0; d < 4; d++) {
        if (fused) { /* flat (split 0: one slice) and block-cut rows (split 1) */
            for (int split = 0; split < 2; split++)
                run_case(ctx, dts[d], 3, big, split, &lap, stats);
            continue;
        }
        for (int split = 0; split < 3; split++)
            for (size_t c = 0; c < sizeof small_cases / sizeof *small_cases; c++)
                run_case(ctx, dts[d], 3, small, split, &small_cases[c], stats);
        run_case(ctx, dts[d], 3, longf, 1, &long_case, stats);
    }
    int size = th_ctx(ctx).size;
    /* the cases must reach what they are meant to check */
    for (int i = 0; i < NSTATS; i++) {
        int want = i == GHOST_SLABS ? size > 1 : i == NEIGHBOUR_TILES ? 1
                   : i == ACROSS_SLICES ? !fused : fused;
        CHECK(!want || stats[i] > 0, "no task with %s", stat_names[i]);
        if (th_rank == 0)
            printf("%s%s: %ld", i ? ", " : "tasks (rank 0) with ", stat_names[i], stats[i]);
    }
    if (th_rank == 0)
        printf("\n");
    return th_end(ctx, fused ? "test_stencil_point fused" : "test_stencil_point");
}
