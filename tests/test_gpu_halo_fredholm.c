/* The CUDA halo box and Fredholm1 codelets against the CPU ones, through the public API, in
 * processes holding a CPU and a CUDA worker each (STARPU_NCPU=1 STARPU_NCUDA=1, set by
 * tests/CMakeLists.txt), at 1 and 2 ranks:
 *   (default) the MPIHalo operator (1-d, 2-d and 3-d, asymmetric widths, MPI's grid and an
 *             explicit one) and Fredholm1 (slice split with and without saveGt, nz = 1 and
 *             nz > 1; the 2D-blocked layout) forward and adjoint, every dtype, once with the
 *             codelets pinned to the CPU worker and once to the CUDA worker
 *             (STARLOPS_CUDA_PLACEMENT's cpu / cuda, set between phases); the results agree to
 *             1e-12 (double) / 1e-5 (single), and each family ran tasks on the GPU in its CUDA
 *             phase and none in its CPU phase (StarPU's per-worker profiling counts).
 *   placement: the same cases pinned to the CPU against the automatic placement: identical
 *             without a GPU (not in label gpu: it checks this test's own use of the API here).
 * Without a CUDA worker the default mode prints "skipped: no CUDA device" and exits 77. Tiles
 * of 40 elements (STARLOPS_TILE) make every halo slab span several tiles and cut Fredholm1's
 * model and data slices at different places, so that batches of several lengths occur. */
#include <starpu.h>
#include <starpu_profiling.h>

#include <starlops/fredholm.h>
#include <starlops/halo.h>

#include "cuda/cuda_workers.h"
#include "fredholm_fixture.h"
#include "gpu_harness.h"

enum { MAX_OUT = 32 };

/* What one placement computed: each case's output, gathered on every rank. */
typedef struct outputs {
    int n;
    cplx *v[MAX_OUT];
    size_t len[MAX_OUT];
    char what[MAX_OUT][64];
} outputs;

static void outputs_free(outputs *o)
{
    for (int i = 0; i < o->n; i++)
        free(o->v[i]);
    o->n = 0;
}

static size_t global_size(const sl_darray *x)
{
    sl_darray_info i = th_info(x);
    return th_prod(i.shape, i.ndim);
}

/* op (or op^H) applied to random values (seed), the output gathered into o. blocked: through
 * the 2D-blocked Fredholm1's natural-order scatter / gather. */
static void apply(sl_context *ctx, sl_dtype dt, const sl_op *op, int adjoint, int blocked,
                  uint64_t seed, outputs *o, const char *what)
{
    sl_darray *a = NULL, *b = NULL;
    CHECK_OK(adjoint ? sl_op_create_data(op, &a) : sl_op_create_model(op, &a), ctx);
    CHECK_OK(adjoint ? sl_op_create_model(op, &b) : sl_op_create_data(op, &b), ctx);
    size_t n_in = global_size(a), n_out = global_size(b), es = sl_dtype_size(dt);
    cplx *in = malloc(n_in * sizeof *in + 1), *out = malloc(n_out * sizeof *out + 1);
    void *raw = malloc((n_in > n_out ? n_in : n_out) * es + 1);
    th_random(in, n_in, sl_dtype_is_complex(dt), seed);
    th_to_dtype(dt, in, raw, n_in);
    sl_op_side side_in = adjoint ? SL_SIDE_DATA : SL_SIDE_MODEL;
    sl_op_side side_out = adjoint ? SL_SIDE_MODEL : SL_SIDE_DATA;
    CHECK_OK(blocked ? sl_fredholm1_blocked_scatter(op, side_in, raw, a)
                     : sl_darray_from_global(a, raw), ctx);
    CHECK_OK(adjoint ? sl_op_rmatvec(op, a, b) : sl_op_matvec(op, a, b), ctx);
    CHECK_OK(blocked ? sl_fredholm1_blocked_gather(op, side_out, b, SL_ALL_RANKS, raw)
                     : sl_darray_gather(b, SL_ALL_RANKS, raw), ctx);
    th_from_dtype(dt, raw, out, n_out);
    if (o->n < MAX_OUT) {
        o->v[o->n] = out, o->len[o->n] = n_out;
        snprintf(o->what[o->n++], sizeof o->what[0], "%s %s", what,
                 adjoint ? "adjoint" : "forward");
    } else {
        CHECK(0, "more than %d outputs", MAX_OUT);
        free(out);
    }
    free(in);
    free(raw);
    sl_darray_destroy(a);
    sl_darray_destroy(b);
}

/* ---- the MPIHalo operator ---- */

typedef struct halo_case {
    int ndim;
    size_t dims[3], halo[6];
    int grid_last; /* 1: every rank along the last dim, 0: MPI_Dims_create's grid */
} halo_case;

static void run_halo(sl_context *ctx, sl_dtype dt, outputs *o)
{
    static const halo_case cases[3] = {
        {3, {7, 6, 5}, {1, 2, 0, 1, 2, 1}, 0},
        {2, {9, 8}, {2, 1, 1, 2}, 1},
        {1, {40}, {3, 2}, 0},
    };
    int size = th_ctx(ctx).size;
    for (int c = 0; c < 3; c++) {
        const halo_case *h = &cases[c];
        int grid[3] = {1, 1, 1};
        grid[h->ndim - 1] = size;
        sl_op *op = NULL;
        CHECK_OK(sl_op_halo(ctx, dt, h->ndim, h->dims, h->grid_last ? grid : NULL, h->halo, &op),
                 ctx);
        char what[48];
        snprintf(what, sizeof what, "Halo %dd", h->ndim);
        apply(ctx, dt, op, 0, 0, 100 + (uint64_t)c, o, what);
        apply(ctx, dt, op, 1, 0, 200 + (uint64_t)c, o, what);
        sl_op_destroy(op);
    }
}

/* ---- Fredholm1 ---- */

typedef struct fred_case {
    size_t nsl, nx, ny, nz;
    int save_gt;
} fred_case;

/* Global G of a case (same values on every rank and placement). */
static cplx *make_g(const fred_case *f, sl_dtype dt)
{
    size_t n = f->nsl * f->nx * f->ny;
    cplx *g = malloc(n * sizeof *g);
    th_random(g, n, sl_dtype_is_complex(dt), 300 + f->nsl + f->nz);
    return g;
}

static void run_fredholm(sl_context *ctx, sl_dtype dt, outputs *o)
{
    static const fred_case cases[3] = {{7, 5, 4, 3, 0}, {7, 5, 4, 3, 1}, {23, 5, 4, 1, 0}};
    sl_context_info ci = th_ctx(ctx);
    for (int c = 0; c < 3; c++) {
        const fred_case *f = &cases[c];
        cplx *g = make_g(f, dt);
        /* this rank's slices of the balanced split (local_nsl NULL) */
        size_t base = f->nsl / (size_t)ci.size, extra = f->nsl % (size_t)ci.size;
        size_t r = (size_t)ci.rank, mine = base + (r < extra);
        size_t first = r * base + (r < extra ? r : extra);
        size_t n = mine * f->nx * f->ny;
        void *gl = malloc(n * sl_dtype_size(dt) + 1);
        th_to_dtype(dt, g + first * f->nx * f->ny, gl, n);
        sl_op *op = NULL;
        CHECK_OK(sl_op_fredholm1(ctx, dt, f->nsl, f->nx, f->ny, f->nz, gl, NULL, f->save_gt,
                                 &op), ctx);
        char what[48];
        snprintf(what, sizeof what, "Fredholm1 nz=%zu saveGt=%d", f->nz, f->save_gt);
        apply(ctx, dt, op, 0, 0, 400 + (uint64_t)c, o, what);
        apply(ctx, dt, op, 1, 0, 500 + (uint64_t)c, o, what);
        sl_op_destroy(op);
        free(gl);
        free(g);
    }
}

/* The 2D-blocked layout: a SUMMA product per slice (its codelets, not fredholm's). */
static void run_fredholm_blocked(sl_context *ctx, sl_dtype dt, outputs *o)
{
    static const fred_case f = {3, 9, 7, 2, 0};
    cplx *g = make_g(&f, dt);
    const shape sh = {f.nsl, f.nx, f.ny, f.nz};
    kernel k = {&sh, g, dt};
    sl_summa_opts opts = {.mb = 3, .kb = 2, .nb = 2};
    sl_op *op = NULL;
    CHECK_OK(sl_op_fredholm1_blocked(ctx, dt, f.nsl, f.nx, f.ny, f.nz, fill, &k, 0, &opts, &op),
             ctx);
    apply(ctx, dt, op, 0, 1, 600, o, "Fredholm1 2D-blocked");
    apply(ctx, dt, op, 1, 1, 601, o, "Fredholm1 2D-blocked");
    sl_op_destroy(op);
    free(g);
}

/* ---- the two placements ---- */

typedef void (*family_fn)(sl_context *ctx, sl_dtype dt, outputs *o);
static const family_fn families[3] = {run_halo, run_fredholm, run_fredholm_blocked};
static const char *family_names[3] = {"Halo", "Fredholm1", "Fredholm1 2D-blocked"};

/* Every family under one placement; the tasks each family ran per kind of worker. */
static void run_all(sl_context *ctx, sl_dtype dt, sl_cuda_placement p, outputs *o,
                    gpu_worker_counts *counts)
{
    CHECK(sl_cuda_set_placement(p) == SL_OK, "placement %d refused", (int)p);
    for (int f = 0; f < 3; f++) {
        gpu_take_counts();
        families[f](ctx, dt, o);
        CHECK_OK(sl_wait(ctx), ctx);
        counts[f] = gpu_take_counts();
    }
    CHECK_OK(sl_cuda_set_placement(SL_PLACE_AUTO), ctx);
}

static void compare(sl_dtype dt, const outputs *ref, const outputs *got, double tol,
                    const char *name)
{
    CHECK(ref->n == got->n, "%s: %d outputs against %d", name, got->n, ref->n);
    for (int i = 0; i < ref->n && i < got->n; i++) {
        double e = gpu_rel_diff(got->v[i], ref->v[i], ref->len[i]), scale = 0;
        for (size_t j = 0; j < ref->len[i]; j++)
            scale = fmax(scale, cabs(ref->v[i][j]));
        CHECK(scale > 0, "%s %s: the CPU output is zero (nothing compared)", sl_dtype_name(dt),
              ref->what[i]);
        CHECK(e <= tol, "%s %s: %s vs CPU relative difference %g", sl_dtype_name(dt),
              ref->what[i], name, e);
    }
}

/* second: SL_PLACE_CUDA (the GPU test) or SL_PLACE_AUTO (placement mode). */
static void check(sl_context *ctx, sl_cuda_placement second)
{
    int gpu = starpu_cuda_worker_get_count() > 0;
    for (int d = 0; d < SL_DTYPE_COUNT; d++) {
        sl_dtype dt = (sl_dtype)d;
        outputs cpu = {0}, other = {0};
        gpu_worker_counts on_cpu[3], on_other[3];
        run_all(ctx, dt, SL_PLACE_CPU, &cpu, on_cpu);
        run_all(ctx, dt, second, &other, on_other);
        for (int f = 0; f < 3; f++) {
            CHECK(on_cpu[f].cuda == 0, "%s %s: CPU placement ran %ld tasks on the GPU",
                  sl_dtype_name(dt), family_names[f], on_cpu[f].cuda);
            if (second == SL_PLACE_CUDA)
                CHECK(on_other[f].cuda > 0, "%s %s: CUDA placement ran no task on the GPU "
                      "(%ld on the CPU)", sl_dtype_name(dt), family_names[f], on_other[f].cpu);
        }
        double tol = second == SL_PLACE_CUDA || gpu ? gpu_tol(dt) : 0.0;
        compare(dt, &cpu, &other, tol, second == SL_PLACE_CUDA ? "CUDA" : "automatic");
        outputs_free(&cpu);
        outputs_free(&other);
    }
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    starpu_profiling_status_set(STARPU_PROFILING_ENABLE);
    if (argc > 1 && strcmp(argv[1], "placement") == 0) {
        check(ctx, SL_PLACE_AUTO);
        return th_end(ctx, "test_gpu_halo_fredholm placement");
    }
    if (!gpu_every_rank_has_cuda())
        return gpu_skip(ctx);
    check(ctx, SL_PLACE_CUDA);
    return th_end(ctx, "test_gpu_halo_fredholm");
}
