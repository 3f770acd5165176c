/* Reduction codelets: tile partials in STARPU_REDUX mode into a per-rank accumulator (a vector
 * of two doubles: re, im), the accumulator's init/redux pairs, and the finishing step. */
#include <math.h>

#include "codelets.h"

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
                   .nbuffers = STARPU_VARIABLE_NBUFFERS, .model = &model_##k, .name = nm}

struct starpu_codelet sl_cl_reduce[SL_RED_KIND_COUNT] = {
    RED_CODELET(SL_RED_DOT, dot, "dot"),          RED_CODELET(SL_RED_VDOT, vdot, "vdot"),
    RED_CODELET(SL_RED_SUM_ABS2, abs2, "norm2"),  RED_CODELET(SL_RED_SUM_ABS, abs, "norm1"),
    RED_CODELET(SL_RED_SUM_ABSP, absp, "normp"),  RED_CODELET(SL_RED_COUNT_NZ, nz, "norm0"),
    RED_CODELET(SL_RED_MAX_ABS, max, "norm_inf"), RED_CODELET(SL_RED_MIN_ABS, min, "norm_minf"),
};

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

/* StarPU 1.3.10 requires the redux codelet's first mode to be exactly STARPU_RW. */
static struct starpu_perfmodel acc_models[6] = {
    {.type = STARPU_HISTORY_BASED, .symbol = "acc_init_sum"},
    {.type = STARPU_HISTORY_BASED, .symbol = "acc_init_max"},
    {.type = STARPU_HISTORY_BASED, .symbol = "acc_init_min"},
    {.type = STARPU_HISTORY_BASED, .symbol = "acc_redux_sum"},
    {.type = STARPU_HISTORY_BASED, .symbol = "acc_redux_max"},
    {.type = STARPU_HISTORY_BASED, .symbol = "acc_redux_min"}};
#define INIT_CL(fn, i, nm) \
    {.cpu_funcs = {fn}, .nbuffers = 1, .modes = {STARPU_W}, .model = &acc_models[i], .name = nm}
#define REDUX_CL(fn, i, nm)                                                                 \
    {.cpu_funcs = {fn}, .nbuffers = 2, .modes = {STARPU_RW, STARPU_R},                      \
     .model = &acc_models[i], .name = nm}
static struct starpu_codelet init_cl[3] = {INIT_CL(init_sum_cpu, 0, "acc_init_sum"),
                                           INIT_CL(init_max_cpu, 1, "acc_init_max"),
                                           INIT_CL(init_min_cpu, 2, "acc_init_min")};
static struct starpu_codelet redux_cl[3] = {REDUX_CL(redux_sum_cpu, 3, "acc_redux_sum"),
                                            REDUX_CL(redux_max_cpu, 4, "acc_redux_max"),
                                            REDUX_CL(redux_min_cpu, 5, "acc_redux_min")};

void sl_acc_set_reduction(starpu_data_handle_t acc, sl_acc_combine combine)
{
    starpu_data_set_reduction_methods(acc, &redux_cl[combine], &init_cl[combine]);
}

static void acc_set_cpu(void *buffers[], void *cl_arg)
{
    double v[2];
    starpu_codelet_unpack_args(cl_arg, &v);
    acc_ptr(buffers[0])[0] = v[0];
    acc_ptr(buffers[0])[1] = v[1];
}
SL_HISTORY_MODEL(model_set, "scalar_set");
struct starpu_codelet sl_cl_acc_set = {
    .cpu_funcs = {acc_set_cpu}, .nbuffers = 1, .modes = {STARPU_W}, .model = &model_set,
    .name = "scalar_set"};

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
SL_HISTORY_MODEL(model_finish, "norm_finish");
struct starpu_codelet sl_cl_acc_finish = {
    .cpu_funcs = {acc_finish_cpu}, .nbuffers = 1, .modes = {STARPU_RW}, .model = &model_finish,
    .name = "norm_finish"};

static void scalar_combine_cpu(void *buffers[], void *cl_arg)
{
    sl_combine_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    int n = STARPU_TASK_GET_NBUFFERS(starpu_task_get_current()) - 1;
    double re = a.how == SL_COMBINE_MAX ? -INFINITY : a.how == SL_COMBINE_MIN ? INFINITY : 0.0;
    double im = 0.0;
    for (int i = 1; i <= n; i++) {
        const double *v = acc_ptr(buffers[i]);
        switch (a.how) {
        case SL_COMBINE_SUM: re += v[0]; im += v[1]; break;
        case SL_COMBINE_MAX: re = fmax(re, v[0]); break;
        case SL_COMBINE_MIN: re = fmin(re, v[0]); break;
        case SL_COMBINE_PNORM: re += pow(v[0], a.p); break;
        }
    }
    acc_ptr(buffers[0])[0] = a.how == SL_COMBINE_PNORM ? pow(re, 1.0 / a.p) : re;
    acc_ptr(buffers[0])[1] = im;
}
SL_HISTORY_MODEL(model_combine, "scalar_combine");
struct starpu_codelet sl_cl_scalar_combine = {
    .cpu_funcs = {scalar_combine_cpu}, .nbuffers = STARPU_VARIABLE_NBUFFERS,
    .model = &model_combine, .name = "scalar_combine"};

static void reduce_axis_cpu(void *buffers[], void *cl_arg)
{
    sl_reduce_axis_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    void *t = buffers[1];
    sl_tile_shape s = {STARPU_MATRIX_GET_NX(t), STARPU_MATRIX_GET_NY(t), STARPU_MATRIX_GET_LD(t)};
    sl_kernel_reduce_axis(a.kind, a.dtype, s, (const void *)STARPU_MATRIX_GET_PTR(t), a.p,
                          &a.geom, acc_ptr(buffers[0]));
}
static struct starpu_perfmodel model_reduce_axis = {.type = STARPU_HISTORY_BASED,
                                                    .symbol = "sl_norm_axis"};
struct starpu_codelet sl_cl_reduce_axis = {
    .cpu_funcs = {reduce_axis_cpu}, .nbuffers = 2, .modes = {STARPU_REDUX, STARPU_R},
    .model = &model_reduce_axis, .name = "norm_axis"};

/* out = num / (den1 + w * den2), guarded. A step whose denominator is zero (0/0 when the
 * iterate already solves the problem; a zero operator or zero data) or whose value is not
 * finite is reported in the guard (first event only: code and the iteration count x holds)
 * and yields 0, as does every ratio after it: later steps become no-ops and x keeps its last
 * good iterate, instead of turning into NaN. */
static void scalar_ratio_cpu(void *buffers[], void *cl_arg)
{
    sl_ratio_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    int n = STARPU_TASK_GET_NBUFFERS(starpu_task_get_current());
    double *guard = a.guarded ? acc_ptr(buffers[n - 1]) : NULL;
    int nden = n - 2 - (a.guarded ? 1 : 0);
    double num = acc_ptr(buffers[1])[0];
    double den = acc_ptr(buffers[2])[0] + (nden > 1 ? a.w * acc_ptr(buffers[3])[0] : 0.0);
    double q = num / den, code = SL_GUARD_OK;
    if (!isfinite(num) || !isfinite(den))
        code = SL_GUARD_NONFINITE;
    else if (den == 0)
        code = SL_GUARD_BREAKDOWN;
    else if (!isfinite(q))
        code = SL_GUARD_NONFINITE;
    if (guard && guard[0] != SL_GUARD_OK) {
        q = 0; /* an earlier step stopped the solve */
    } else if (code != SL_GUARD_OK) {
        q = 0;
        if (guard)
            guard[0] = code, guard[1] = a.completed;
    }
    acc_ptr(buffers[0])[0] = q;
    acc_ptr(buffers[0])[1] = 0.0;
}
SL_HISTORY_MODEL(model_ratio, "scalar_ratio");
struct starpu_codelet sl_cl_scalar_ratio = {
    .cpu_funcs = {scalar_ratio_cpu}, .nbuffers = STARPU_VARIABLE_NBUFFERS,
    .model = &model_ratio, .name = "scalar_ratio"};
