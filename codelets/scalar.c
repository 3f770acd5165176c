/* Codelets of scalar futures: set, combine (stacked reductions) and guarded ratios (solvers'
 * step lengths), and their insert helpers. A scalar is a vector of two doubles (re, im). Each
 * has a CUDA function too (single-thread kernels, codelets/cuda/scalar.cu): not for speed, but
 * so that a scalar produced and consumed on a GPU (a dot feeding a step length feeding an
 * axpby) is never copied to the host and back in between; the scheduler's models weigh that. */
#include <math.h>

#include "scalar.h"
#ifdef STARLOPS_USE_CUDA
#include "cuda/cuda_scratch.h"
#include "cuda/scalar_cuda.h"
#endif

static double *acc_ptr(void *buffer)
{
    return (double *)STARPU_VECTOR_GET_PTR(buffer);
}

static void acc_set_cpu(void *buffers[], void *cl_arg)
{
    double v[2];
    starpu_codelet_unpack_args(cl_arg, &v);
    acc_ptr(buffers[0])[0] = v[0];
    acc_ptr(buffers[0])[1] = v[1];
}
#ifdef STARLOPS_USE_CUDA
static void acc_set_cuda(void *buffers[], void *cl_arg)
{
    double v[2];
    starpu_codelet_unpack_args(cl_arg, &v);
    SL_CUDA_CHECK(sl_cuda_scalar_set(acc_ptr(buffers[0]), v[0], v[1],
                                     starpu_cuda_get_local_stream()));
}
#endif
SL_HISTORY_MODEL(model_set, "scalar_set");
static struct starpu_codelet cl_scalar_set = {
    .cpu_funcs = {acc_set_cpu}, SL_CUDA_FUNCS(acc_set_cuda) .nbuffers = 1, .modes = {STARPU_W},
    .model = &model_set, .name = "scalar_set"};

int sl_task_scalar_set(const double value[2], starpu_data_handle_t s)
{
    double v[2] = {value[0], value[1]};
    return starpu_task_insert(&cl_scalar_set, STARPU_VALUE, v, sizeof v, STARPU_W, s, 0);
}

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
#ifdef STARLOPS_USE_CUDA
static void scalar_combine_cuda(void *buffers[], void *cl_arg)
{
    sl_combine_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    int n = STARPU_TASK_GET_NBUFFERS(starpu_task_get_current()) - 1;
    const double *inline_parts[SL_CUDA_COMBINE_MAX_PARTS];
    const double **parts = inline_parts;
    if (n > SL_CUDA_COMBINE_MAX_PARTS && !(parts = malloc((size_t)n * sizeof *parts))) {
        sl_cuda_note_failure((int)cudaErrorMemoryAllocation, __FILE__, __LINE__);
        return;
    }
    for (int i = 0; i < n; i++)
        parts[i] = acc_ptr(buffers[1 + i]);
    SL_CUDA_CHECK(sl_cuda_scalar_combine(acc_ptr(buffers[0]), parts, n, (int)a.how, a.p,
                                         starpu_cuda_get_local_stream()));
    if (parts != inline_parts)
        free(parts);
}
#endif
SL_HISTORY_MODEL(model_combine, "scalar_combine");
static struct starpu_codelet cl_scalar_combine = {
    .cpu_funcs = {scalar_combine_cpu}, SL_CUDA_FUNCS(scalar_combine_cuda)
    .nbuffers = STARPU_VARIABLE_NBUFFERS, .model = &model_combine, .name = "scalar_combine"};

int sl_task_scalar_combine(sl_combine_args how, starpu_data_handle_t out,
                           const starpu_data_handle_t *parts, int n)
{
    sl_task_buffers tb;
    if (sl_task_buffers_init(&tb, n + 1) != 0)
        return -ENOMEM;
    sl_task_buffers_add(&tb, out, STARPU_W);
    sl_task_buffers_add_all(&tb, parts, n, STARPU_R);
    int ret = starpu_task_insert(&cl_scalar_combine, STARPU_VALUE, &how, sizeof how,
                                 STARPU_DATA_MODE_ARRAY, tb.d, tb.n, 0);
    sl_task_buffers_free(&tb);
    return ret;
}

/* out = num / (den1 + w * den2), guarded (sl_guarded_ratio, guard_codes.h). */
static void scalar_ratio_cpu(void *buffers[], void *cl_arg)
{
    sl_ratio_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    int n = STARPU_TASK_GET_NBUFFERS(starpu_task_get_current());
    double *guard = a.guarded ? acc_ptr(buffers[n - 1]) : NULL;
    int nden = n - 2 - (a.guarded ? 1 : 0);
    double num = acc_ptr(buffers[1])[0];
    double den = acc_ptr(buffers[2])[0] + (nden > 1 ? a.w * acc_ptr(buffers[3])[0] : 0.0);
    acc_ptr(buffers[0])[0] = sl_guarded_ratio(num, den, guard, a.completed);
    acc_ptr(buffers[0])[1] = 0.0;
}
#ifdef STARLOPS_USE_CUDA
static void scalar_ratio_cuda(void *buffers[], void *cl_arg)
{
    sl_ratio_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    int n = STARPU_TASK_GET_NBUFFERS(starpu_task_get_current());
    int nden = n - 2 - (a.guarded ? 1 : 0);
    SL_CUDA_CHECK(sl_cuda_scalar_ratio(acc_ptr(buffers[0]), acc_ptr(buffers[1]),
                                       acc_ptr(buffers[2]), nden > 1 ? acc_ptr(buffers[3]) : NULL,
                                       a.w, a.guarded ? acc_ptr(buffers[n - 1]) : NULL,
                                       a.completed, starpu_cuda_get_local_stream()));
}
#endif
SL_HISTORY_MODEL(model_ratio, "scalar_ratio");
static struct starpu_codelet cl_scalar_ratio = {
    .cpu_funcs = {scalar_ratio_cpu}, SL_CUDA_FUNCS(scalar_ratio_cuda)
    .nbuffers = STARPU_VARIABLE_NBUFFERS, .model = &model_ratio, .name = "scalar_ratio"};

int sl_task_scalar_ratio(starpu_data_handle_t out, starpu_data_handle_t num,
                         starpu_data_handle_t den1, starpu_data_handle_t den2, double w,
                         starpu_data_handle_t guard, double completed)
{
    struct starpu_data_descr d[5] = {{out, STARPU_W}, {num, STARPU_R}, {den1, STARPU_R}};
    int n = 3;
    if (den2)
        d[n++] = (struct starpu_data_descr){den2, STARPU_R};
    sl_ratio_args a = {.w = w, .guarded = guard != NULL, .completed = guard ? completed : 0};
    if (guard)
        d[n++] = (struct starpu_data_descr){guard, STARPU_RW};
    return starpu_task_insert(&cl_scalar_ratio, STARPU_VALUE, &a, sizeof a,
                              STARPU_DATA_MODE_ARRAY, d, n, 0);
}
