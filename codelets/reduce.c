/* Reduction codelets: tile partials in STARPU_REDUX mode into a per-rank accumulator (a vector
 * of two doubles: re, im), the accumulator's init/redux pairs, norms along an axis, the
 * finishing step, and their insert helpers. Each has a CPU and a CUDA function (kernels in
 * codelets/cuda/reduce.cu), both accumulating in double. */
#include <math.h>

#include "reduce.h"
#ifdef STARLOPS_USE_CUDA
#include "cuda/cuda_scratch.h"
#include "cuda/reduce_cuda.h"
#endif

static double *acc_ptr(void *buffer)
{
    return (double *)STARPU_VECTOR_GET_PTR(buffer);
}

static void reduce_cpu(void *buffers[], void *cl_arg)
{
    sl_reduce_args args;
    starpu_codelet_unpack_args(cl_arg, &args);
    void *a = buffers[1];
    sl_tile_shape s = {STARPU_MATRIX_GET_NX(a), STARPU_MATRIX_GET_NY(a), STARPU_MATRIX_GET_LD(a)};
    const void *b = args.ib >= 0 ? (const void *)STARPU_MATRIX_GET_PTR(buffers[args.ib]) : NULL;
    sl_kernel_reduce(args.kind, args.dtype, s, (const void *)STARPU_MATRIX_GET_PTR(a), b, args.p,
                     acc_ptr(buffers[0]));
}

#ifdef STARLOPS_USE_CUDA
/* The same partial on a CUDA worker: the accumulator is the worker's device copy (STARPU_REDUX
 * initialised it with the init codelet's CUDA function on the same stream). */
static void reduce_cuda(void *buffers[], void *cl_arg)
{
    sl_reduce_args args;
    starpu_codelet_unpack_args(cl_arg, &args);
    void *a = buffers[1];
    sl_cuda_red r = {.kind = args.kind, .dtype = args.dtype, .p = args.p,
                     .nx = STARPU_MATRIX_GET_NX(a), .ny = STARPU_MATRIX_GET_NY(a),
                     .a = (const void *)STARPU_MATRIX_GET_PTR(a), .ld_a = STARPU_MATRIX_GET_LD(a)};
    if (args.ib >= 0) {
        r.b = (const void *)STARPU_MATRIX_GET_PTR(buffers[args.ib]);
        r.ld_b = STARPU_MATRIX_GET_LD(buffers[args.ib]);
    }
    SL_CUDA_CHECK(sl_cuda_reduce(&r, acc_ptr(buffers[0]), sl_cuda_scratch(),
                                 starpu_cuda_get_local_stream()));
}
#endif

#define RED_MODEL(k, sym) \
    static struct starpu_perfmodel model_##k = {.type = STARPU_HISTORY_BASED, .symbol = sym}
RED_MODEL(dot, "sl_dot");
RED_MODEL(vdot, "sl_vdot");
RED_MODEL(abs2, "sl_sum_abs2");
RED_MODEL(abs, "sl_sum_abs");
RED_MODEL(absp, "sl_sum_absp");
RED_MODEL(nz, "sl_count_nz");
RED_MODEL(max, "sl_max_abs");
RED_MODEL(min, "sl_min_abs");

#define RED_CODELET(kind_enum, k, nm)                                                  \
    [kind_enum] = {.cpu_funcs = {reduce_cpu}, .cpu_funcs_name = {"reduce_cpu"},         \
                   SL_CUDA_FUNCS(reduce_cuda)                                           \
                   .nbuffers = STARPU_VARIABLE_NBUFFERS, .model = &model_##k, .name = nm}

static struct starpu_codelet cl_reduce[SL_RED_KIND_COUNT] = {
    RED_CODELET(SL_RED_DOT, dot, "dot"),          RED_CODELET(SL_RED_VDOT, vdot, "vdot"),
    RED_CODELET(SL_RED_SUM_ABS2, abs2, "norm2"),  RED_CODELET(SL_RED_SUM_ABS, abs, "norm1"),
    RED_CODELET(SL_RED_SUM_ABSP, absp, "normp"),  RED_CODELET(SL_RED_COUNT_NZ, nz, "norm0"),
    RED_CODELET(SL_RED_MAX_ABS, max, "norm_inf"), RED_CODELET(SL_RED_MIN_ABS, min, "norm_minf"),
};

const char *sl_reduce_name(sl_reduce_kind kind)
{
    return cl_reduce[kind].name;
}

int sl_task_reduce(sl_reduce_args args, starpu_data_handle_t acc,
                   enum starpu_data_access_mode acc_mode, starpu_data_handle_t a,
                   starpu_data_handle_t b)
{
    struct starpu_data_descr d[3] = {{acc, acc_mode}, {a, STARPU_R}};
    int n = 2;
    if (b && b != a)
        d[n++] = (struct starpu_data_descr){b, STARPU_R};
    args.ib = b ? n - 1 : -1;
    return starpu_task_insert(&cl_reduce[args.kind], STARPU_VALUE, &args, sizeof args,
                              STARPU_DATA_MODE_ARRAY, d, n, 0);
}

/* Identity elements and combination rules of the three accumulator kinds, elementwise over
 * the whole accumulator vector (2 doubles for a scalar, more for norms along an axis). */
static void fill_acc(void *buffer, double v)
{
    double *p = acc_ptr(buffer);
    for (size_t i = 0; i < STARPU_VECTOR_GET_NX(buffer); i++)
        p[i] = v;
}
static void init_sum_cpu(void *buffers[], void *arg)
{
    (void)arg;
    fill_acc(buffers[0], 0.0);
}
static void init_max_cpu(void *buffers[], void *arg)
{
    (void)arg;
    fill_acc(buffers[0], -INFINITY);
}
static void init_min_cpu(void *buffers[], void *arg)
{
    (void)arg;
    fill_acc(buffers[0], INFINITY);
}

#define REDUX_FN(name, EXPR)                                            \
    static void name(void *buffers[], void *arg)                        \
    {                                                                   \
        (void)arg;                                                      \
        double *dst = acc_ptr(buffers[0]);                              \
        const double *src = acc_ptr(buffers[1]);                        \
        for (size_t i = 0; i < STARPU_VECTOR_GET_NX(buffers[0]); i++)   \
            dst[i] = EXPR;                                              \
    }
REDUX_FN(redux_sum_cpu, dst[i] + src[i])
REDUX_FN(redux_max_cpu, fmax(dst[i], src[i]))
REDUX_FN(redux_min_cpu, fmin(dst[i], src[i]))

#ifdef STARLOPS_USE_CUDA
/* The same on a CUDA worker. StarPU calls an init function directly (not as a task) from the
 * worker that needs a fresh copy, before that worker's task: both queue on its stream, in
 * order. */
static void init_sum_cuda(void *buffers[], void *arg)
{
    (void)arg;
    SL_CUDA_CHECK(sl_cuda_acc_fill(acc_ptr(buffers[0]), STARPU_VECTOR_GET_NX(buffers[0]), 0.0,
                                   starpu_cuda_get_local_stream()));
}
static void init_max_cuda(void *buffers[], void *arg)
{
    (void)arg;
    SL_CUDA_CHECK(sl_cuda_acc_fill(acc_ptr(buffers[0]), STARPU_VECTOR_GET_NX(buffers[0]),
                                   -INFINITY, starpu_cuda_get_local_stream()));
}
static void init_min_cuda(void *buffers[], void *arg)
{
    (void)arg;
    SL_CUDA_CHECK(sl_cuda_acc_fill(acc_ptr(buffers[0]), STARPU_VECTOR_GET_NX(buffers[0]),
                                   INFINITY, starpu_cuda_get_local_stream()));
}
#define REDUX_CUDA(name, HOW)                                                                \
    static void name(void *buffers[], void *arg)                                             \
    {                                                                                        \
        (void)arg;                                                                           \
        SL_CUDA_CHECK(sl_cuda_acc_combine(acc_ptr(buffers[0]), acc_ptr(buffers[1]),          \
                                          STARPU_VECTOR_GET_NX(buffers[0]), HOW,             \
                                          starpu_cuda_get_local_stream()));                  \
    }
REDUX_CUDA(redux_sum_cuda, SL_ACC_SUM)
REDUX_CUDA(redux_max_cuda, SL_ACC_MAX)
REDUX_CUDA(redux_min_cuda, SL_ACC_MIN)
#endif

/* StarPU 1.3.10 requires the redux codelet's first mode to be exactly STARPU_RW. */
static struct starpu_perfmodel acc_models[6] = {
    {.type = STARPU_HISTORY_BASED, .symbol = "acc_init_sum"},
    {.type = STARPU_HISTORY_BASED, .symbol = "acc_init_max"},
    {.type = STARPU_HISTORY_BASED, .symbol = "acc_init_min"},
    {.type = STARPU_HISTORY_BASED, .symbol = "acc_redux_sum"},
    {.type = STARPU_HISTORY_BASED, .symbol = "acc_redux_max"},
    {.type = STARPU_HISTORY_BASED, .symbol = "acc_redux_min"}};
#define INIT_CL(fn, i, nm)                                                                 \
    {.cpu_funcs = {fn##_cpu}, SL_CUDA_FUNCS(fn##_cuda) .nbuffers = 1, .modes = {STARPU_W},  \
     .model = &acc_models[i], .name = nm}
#define REDUX_CL(fn, i, nm)                                                                 \
    {.cpu_funcs = {fn##_cpu}, SL_CUDA_FUNCS(fn##_cuda) .nbuffers = 2,                      \
     .modes = {STARPU_RW, STARPU_R}, .model = &acc_models[i], .name = nm}
static struct starpu_codelet init_cl[3] = {INIT_CL(init_sum, 0, "acc_init_sum"),
                                           INIT_CL(init_max, 1, "acc_init_max"),
                                           INIT_CL(init_min, 2, "acc_init_min")};
static struct starpu_codelet redux_cl[3] = {REDUX_CL(redux_sum, 3, "acc_redux_sum"),
                                            REDUX_CL(redux_max, 4, "acc_redux_max"),
                                            REDUX_CL(redux_min, 5, "acc_redux_min")};

void sl_acc_set_reduction(starpu_data_handle_t acc, sl_acc_combine combine)
{
    starpu_data_set_reduction_methods(acc, &redux_cl[combine], &init_cl[combine]);
}

/* A scalar (2 doubles) keeps im = 0; a vector of norms is finished elementwise. */
static void acc_finish_cpu(void *buffers[], void *cl_arg)
{
    sl_acc_finish_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    double *v = acc_ptr(buffers[0]);
    size_t n = STARPU_VECTOR_GET_NX(buffers[0]);
    if (a.scalar)
        n = 1, v[1] = 0.0;
    for (size_t i = 0; i < n; i++)
        v[i] = a.how == SL_FINISH_SQRT ? sqrt(v[i]) : pow(v[i], 1.0 / a.p);
}
#ifdef STARLOPS_USE_CUDA
static void acc_finish_cuda(void *buffers[], void *cl_arg)
{
    sl_acc_finish_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    SL_CUDA_CHECK(sl_cuda_acc_finish(acc_ptr(buffers[0]), STARPU_VECTOR_GET_NX(buffers[0]),
                                     a.scalar, a.how == SL_FINISH_ROOT_P, a.p,
                                     starpu_cuda_get_local_stream()));
}
#endif
SL_HISTORY_MODEL(model_finish, "norm_finish");
static struct starpu_codelet cl_acc_finish = {
    .cpu_funcs = {acc_finish_cpu}, SL_CUDA_FUNCS(acc_finish_cuda) .nbuffers = 1,
    .modes = {STARPU_RW}, .model = &model_finish, .name = "norm_finish"};

int sl_task_acc_finish(sl_acc_finish_args args, starpu_data_handle_t acc)
{
    return starpu_task_insert(&cl_acc_finish, STARPU_VALUE, &args, sizeof args, STARPU_RW, acc,
                              0);
}


static void reduce_axis_cpu(void *buffers[], void *cl_arg)
{
    sl_reduce_axis_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    void *t = buffers[1];
    sl_tile_shape s = {STARPU_MATRIX_GET_NX(t), STARPU_MATRIX_GET_NY(t), STARPU_MATRIX_GET_LD(t)};
    sl_kernel_reduce_axis(a.kind, a.dtype, s, (const void *)STARPU_MATRIX_GET_PTR(t), a.p,
                          &a.geom, acc_ptr(buffers[0]));
}
#ifdef STARLOPS_USE_CUDA
/* On a device the tile's copy is packed (ld == nx), so the block's row stride, which the
 * element positions need, is not the tile's: it is the block's size over its rows. The block
 * holds pre * len * post elements, the accumulator pre * post, and the tile has one row per
 * row of the block (the dimensions before the distributed axis). */
static void reduce_axis_cuda(void *buffers[], void *cl_arg)
{
    sl_reduce_axis_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    void *t = buffers[1];
    size_t ny = STARPU_MATRIX_GET_NY(t);
    size_t block_ld = ny > 1 ? STARPU_VECTOR_GET_NX(buffers[0]) * a.geom.len / ny : 0;
    SL_CUDA_CHECK(sl_cuda_reduce_axis(a.kind, a.dtype, STARPU_MATRIX_GET_NX(t), ny,
                                      (const void *)STARPU_MATRIX_GET_PTR(t),
                                      STARPU_MATRIX_GET_LD(t), a.p, &a.geom, block_ld,
                                      acc_ptr(buffers[0]), starpu_cuda_get_local_stream()));
}
#endif
static struct starpu_perfmodel model_reduce_axis = {.type = STARPU_HISTORY_BASED,
                                                    .symbol = "sl_norm_axis"};
static struct starpu_codelet cl_reduce_axis = {
    .cpu_funcs = {reduce_axis_cpu}, SL_CUDA_FUNCS(reduce_axis_cuda) .nbuffers = 2,
    .modes = {STARPU_REDUX, STARPU_R}, .model = &model_reduce_axis, .name = "norm_axis"};

int sl_task_reduce_axis(const sl_reduce_axis_args *args, starpu_data_handle_t acc,
                        starpu_data_handle_t tile)
{
    return starpu_task_insert(&cl_reduce_axis, STARPU_VALUE, args, sizeof *args, STARPU_REDUX,
                              acc, STARPU_R, tile, 0);
}
