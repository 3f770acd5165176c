/* LSQR's scalar-recurrence codelets: the recurrences (lsqr_recurrence.h) run as tasks on a
 * per-rank state vector so the iterations never wait for the host, on a CPU or a CUDA
 * worker. */
#include "lsqr.h"
#ifdef STARLOPS_USE_CUDA
#include "cuda/cuda_scratch.h" /* SL_CUDA_CHECK */
#include "cuda/lsqr_cuda.h"
#endif

static double *vec(void *buffer)
{
    return (double *)STARPU_VECTOR_GET_PTR(buffer);
}

/* buffers: state (RW), squared norm (R), value (W), inverse (W). */
static void lsqr_norm_stage_cpu(void *buffers[], void *cl_arg)
{
    sl_lsqr_stage_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    sl_lsqr_norm_stage(vec(buffers[0]), a.which, a.initial, vec(buffers[1])[0], vec(buffers[2]),
                       vec(buffers[3]));
}

/* buffers: state (RW), ||w||^2 (R), t1 (W), t2 (W), ||y|| (R); x += t1 w and w = v + t2 w
 * follow as vector tasks. */
static void lsqr_rotate_cpu(void *buffers[], void *cl_arg)
{
    (void)cl_arg;
    sl_lsqr_rotate(vec(buffers[0]), vec(buffers[1])[0], vec(buffers[4])[0], vec(buffers[2]),
                   vec(buffers[3]));
}

#ifdef STARLOPS_USE_CUDA
/* The same recurrences in one-thread kernels on the worker's stream (cuda/lsqr.cu): a solve on
 * CUDA workers keeps its state on the device instead of moving it to the host and back twice
 * per iteration. */
static void lsqr_norm_stage_cuda(void *buffers[], void *cl_arg)
{
    sl_lsqr_stage_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    SL_CUDA_CHECK(sl_cuda_lsqr_norm_stage(vec(buffers[0]), a.which, a.initial, vec(buffers[1]),
                                          vec(buffers[2]), vec(buffers[3]),
                                          starpu_cuda_get_local_stream()));
}

static void lsqr_rotate_cuda(void *buffers[], void *cl_arg)
{
    (void)cl_arg;
    SL_CUDA_CHECK(sl_cuda_lsqr_rotate(vec(buffers[0]), vec(buffers[1]), vec(buffers[4]),
                                      vec(buffers[2]), vec(buffers[3]),
                                      starpu_cuda_get_local_stream()));
}
#endif

SL_HISTORY_MODEL(norm_model, "lsqr_norm");
SL_HISTORY_MODEL(rotate_model, "lsqr_rotate");
static struct starpu_codelet cl_lsqr_norm_stage = {
    .cpu_funcs = {lsqr_norm_stage_cpu}, SL_CUDA_FUNCS(lsqr_norm_stage_cuda) .nbuffers = 4,
    .modes = {STARPU_RW, STARPU_R, STARPU_W, STARPU_W}, .model = &norm_model,
    .name = "lsqr_norm"};
static struct starpu_codelet cl_lsqr_rotate = {
    .cpu_funcs = {lsqr_rotate_cpu}, SL_CUDA_FUNCS(lsqr_rotate_cuda) .nbuffers = 5,
    .modes = {STARPU_RW, STARPU_R, STARPU_W, STARPU_W, STARPU_R}, .model = &rotate_model,
    .name = "lsqr_rotate"};

int sl_task_lsqr_norm_stage(sl_lsqr_stage_args args, starpu_data_handle_t state,
                            starpu_data_handle_t n2, starpu_data_handle_t value,
                            starpu_data_handle_t inverse)
{
    return starpu_task_insert(&cl_lsqr_norm_stage, STARPU_VALUE, &args, sizeof args, STARPU_RW,
                              state, STARPU_R, n2, STARPU_W, value, STARPU_W, inverse, 0);
}

int sl_task_lsqr_rotate(starpu_data_handle_t state, starpu_data_handle_t ww,
                        starpu_data_handle_t t1, starpu_data_handle_t t2,
                        starpu_data_handle_t bnorm)
{
    return starpu_task_insert(&cl_lsqr_rotate, STARPU_RW, state, STARPU_R, ww, STARPU_W, t1,
                              STARPU_W, t2, STARPU_R, bnorm, 0);
}
