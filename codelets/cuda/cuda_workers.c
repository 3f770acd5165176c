/* The process-wide CUDA side: placement of the codelets that have a CUDA version (every
 * build), and with STARLOPS_USE_CUDA the CUDA workers' cuBLAS handles and reduction scratch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starpu.h>

#include "codelet_common.h" /* sl_cuda_can_execute's declaration */
#include "cuda/cuda_workers.h"
#ifdef STARLOPS_USE_CUDA
#include <cuda_runtime_api.h>
#include <cublas_v2.h>
#include <starpu_cublas.h>

#include "cuda/cuda_scratch.h"
#endif

/* Read by the schedulers' workers (sl_cuda_can_execute), written by the host with no task in
 * flight: relaxed atomics are enough. */
static int placement = SL_PLACE_AUTO;

sl_cuda_placement sl_cuda_get_placement(void)
{
    return (sl_cuda_placement)__atomic_load_n(&placement, __ATOMIC_RELAXED);
}

sl_status sl_cuda_set_placement(sl_cuda_placement p)
{
    if (p != SL_PLACE_AUTO && p != SL_PLACE_CPU && p != SL_PLACE_CUDA)
        return SL_ERR_ARG;
    if (p == SL_PLACE_CUDA && starpu_cuda_worker_get_count() == 0)
        return SL_ERR_ARG;
    if (p == SL_PLACE_CPU && starpu_cpu_worker_get_count() == 0)
        return SL_ERR_ARG;
    __atomic_store_n(&placement, (int)p, __ATOMIC_RELAXED);
    return SL_OK;
}

#ifdef STARLOPS_USE_CUDA
/* The codelets' can_execute (codelet_common.h's SL_CUDA_FUNCS): a worker of the kind the
 * placement allows. StarPU asks it for each candidate worker, so it only reads one int. */
int sl_cuda_can_execute(unsigned workerid, struct starpu_task *task, unsigned nimpl)
{
    (void)task;
    (void)nimpl;
    switch (sl_cuda_get_placement()) {
    case SL_PLACE_CPU: return starpu_worker_get_type((int)workerid) == STARPU_CPU_WORKER;
    case SL_PLACE_CUDA: return starpu_worker_get_type((int)workerid) == STARPU_CUDA_WORKER;
    default: return 1;
    }
}

/* Each CUDA worker's scratch, indexed by worker id: written once per worker by that worker
 * (starpu_execute_on_each_worker), read only by it afterwards. */
static double *scratch[STARPU_NMAXWORKERS];
static int scratch_failures;

/* Failed CUDA calls in tasks (SL_CUDA_CHECK): a count and the first one's description. */
static unsigned long cuda_failures;
static char first_failure[160];

void sl_cuda_note_failure(int error, const char *file, int line)
{
    if (__atomic_fetch_add(&cuda_failures, 1, __ATOMIC_RELAXED) == 0)
        snprintf(first_failure, sizeof first_failure, "%s at %s:%d",
                 cudaGetErrorString((cudaError_t)error), file, line);
}

void sl_cuda_note_cublas_failure(int status, const char *file, int line)
{
    if (__atomic_fetch_add(&cuda_failures, 1, __ATOMIC_RELAXED) == 0)
        snprintf(first_failure, sizeof first_failure, "cuBLAS: %s at %s:%d",
                 cublasGetStatusString((cublasStatus_t)status), file, line);
}

static void scratch_alloc(void *arg)
{
    (void)arg;
    int w = starpu_worker_get_id_check();
    if (cudaMalloc((void **)&scratch[w], SL_CUDA_SCRATCH_DOUBLES * sizeof(double)) != cudaSuccess) {
        scratch[w] = NULL;
        __atomic_add_fetch(&scratch_failures, 1, __ATOMIC_RELAXED);
    }
}

static void scratch_free(void *arg)
{
    (void)arg;
    int w = starpu_worker_get_id_check();
    if (scratch[w])
        cudaFree(scratch[w]);
    scratch[w] = NULL;
}

double *sl_cuda_scratch(void)
{
    return scratch[starpu_worker_get_id_check()];
}
#endif

static sl_status placement_from_env(char *msg, size_t len)
{
    const char *v = getenv("STARLOPS_CUDA_PLACEMENT");
    sl_cuda_placement p = SL_PLACE_AUTO;
    if (!v || !*v || strcmp(v, "auto") == 0)
        p = SL_PLACE_AUTO;
    else if (strcmp(v, "cpu") == 0)
        p = SL_PLACE_CPU;
    else if (strcmp(v, "cuda") == 0)
        p = SL_PLACE_CUDA;
    else {
        snprintf(msg, len, "STARLOPS_CUDA_PLACEMENT='%s' is not one of auto, cpu, cuda", v);
        return SL_ERR_ENV;
    }
    if (sl_cuda_set_placement(p) != SL_OK) {
        snprintf(msg, len, "STARLOPS_CUDA_PLACEMENT=%s but this process has no %s worker", v,
                 p == SL_PLACE_CUDA ? "CUDA" : "CPU");
        return SL_ERR_ENV;
    }
    return SL_OK;
}

unsigned long sl_cuda_failures(char *msg, size_t len)
{
#ifdef STARLOPS_USE_CUDA
    unsigned long n = __atomic_load_n(&cuda_failures, __ATOMIC_RELAXED);
    if (n && msg)
        snprintf(msg, len, "%s", first_failure);
    return n;
#else
    if (msg && len)
        msg[0] = '\0';
    return 0;
#endif
}

sl_status sl_cuda_start(char *msg, size_t len)
{
    sl_status st = placement_from_env(msg, len);
    if (st != SL_OK)
        return st;
#ifdef STARLOPS_USE_CUDA
    if (starpu_cuda_worker_get_count() == 0)
        return SL_OK;
    /* One handle per CUDA worker, on its stream: what starpu_cublas_get_local_handle returns. */
    starpu_cublas_init();
    scratch_failures = 0;
    __atomic_store_n(&cuda_failures, 0, __ATOMIC_RELAXED); /* a new context starts clean */
    starpu_execute_on_each_worker(scratch_alloc, NULL, STARPU_CUDA);
    if (scratch_failures) {
        snprintf(msg, len, "cannot allocate the reduction scratch (%zu bytes) on %d CUDA "
                 "worker(s)", (size_t)SL_CUDA_SCRATCH_DOUBLES * sizeof(double),
                 scratch_failures);
        sl_cuda_stop();
        return SL_ERR_NOMEM;
    }
#endif
    return SL_OK;
}

void sl_cuda_stop(void)
{
#ifdef STARLOPS_USE_CUDA
    if (starpu_cuda_worker_get_count() == 0)
        return;
    starpu_execute_on_each_worker(scratch_free, NULL, STARPU_CUDA);
    starpu_cublas_shutdown();
#endif
    __atomic_store_n(&placement, SL_PLACE_AUTO, __ATOMIC_RELAXED);
}
