/* An FFT operator's cuFFT plans and work buffers on each CUDA worker (see fft_cuda.h): made
 * once with the operator on every CUDA worker's own thread, never inside a task. */
#include <stdio.h>
#include <stdlib.h>

#include <starpu.h>

#include "cuda/fft_cuda.h"

/* What each worker's set-up reads, and the failures the workers record (they run at once). */
typedef struct plan_job {
    sl_fft_cuda *c;
    const sl_fft_engine *engine;
    int failures;
    char msg[200];
} plan_job;

static void job_fail(plan_job *j, const char *what, int code)
{
    if (__atomic_fetch_add(&j->failures, 1, __ATOMIC_RELAXED) == 0)
        snprintf(j->msg, sizeof j->msg, "%s failed (%d) on CUDA worker %d", what, code,
                 starpu_worker_get_id_check());
}

static cufftType type_of(const sl_fft_engine *e)
{
    if (e->r2c)
        return e->forward ? (e->single ? CUFFT_R2C : CUFFT_D2Z)
                          : (e->single ? CUFFT_C2R : CUFFT_Z2D);
    return e->single ? CUFFT_C2C : CUFFT_Z2Z;
}

/* Lines one after the other in the work buffers (cuFFT's default layout with no embedding:
 * nfft reals or complexes per line, nfft / 2 + 1 complexes on a real transform's complex
 * side), `batch` of them per execution. */
static void make_plans(void *arg)
{
    plan_job *j = arg;
    sl_fft_cuda_worker *w = &j->c->w[starpu_worker_get_id_check()];
    for (int a = 0; a < 2; a++) {
        int n = (int)j->engine[a].nfft;
        cufftResult r = cufftPlanMany(&w->plan[a], 1, &n, NULL, 1, 0, NULL, 1, 0,
                                      type_of(&j->engine[a]), (int)j->c->batch);
        if (r != CUFFT_SUCCESS) {
            job_fail(j, "cufftPlanMany", (int)r);
            return;
        }
        w->planned[a] = 1;
    }
    cudaError_t e = cudaMalloc(&w->win, j->c->bytes);
    if (e == cudaSuccess)
        e = cudaMalloc(&w->wout, j->c->bytes);
    if (e != cudaSuccess)
        job_fail(j, "cudaMalloc of the FFT work buffers", (int)e);
}

static void free_plans(void *arg)
{
    sl_fft_cuda *c = arg;
    sl_fft_cuda_worker *w = &c->w[starpu_worker_get_id_check()];
    for (int a = 0; a < 2; a++)
        if (w->planned[a])
            cufftDestroy(w->plan[a]);
    cudaFree(w->win); /* cudaFree(NULL) does nothing */
    cudaFree(w->wout);
    *w = (sl_fft_cuda_worker){{0, 0}, {0, 0}, NULL, NULL};
}

/* Lines per execution: all of a call's lines when their buffers stay under
 * SL_FFT_CUDA_BATCH_BYTES, else as many as fit (at least 1). */
static size_t batch_of(const sl_fft_engine engine[2], size_t lines, size_t *bytes)
{
    size_t len = 0, real = engine[0].single ? sizeof(float) : sizeof(double);
    for (int a = 0; a < 2; a++) {
        size_t l = engine[a].in_len > engine[a].out_len ? engine[a].in_len : engine[a].out_len;
        len = l > len ? l : len;
    }
    size_t line_bytes = 2 * real * (len ? len : 1);
    size_t b = SL_FFT_CUDA_BATCH_BYTES / line_bytes;
    b = b < lines ? b : lines;
    b = b ? b : 1;
    *bytes = b * line_bytes;
    return b;
}

int sl_fft_cuda_create(const sl_fft_engine engine[2], size_t lines, sl_fft_cuda **out,
                       char *msg, size_t len)
{
    *out = NULL;
    if (starpu_cuda_worker_get_count() == 0)
        return 0;
    sl_fft_cuda *c = calloc(1, sizeof *c);
    int nw = (int)starpu_worker_get_count();
    if (c)
        c->w = calloc((size_t)nw, sizeof *c->w);
    if (!c || !c->w) {
        free(c);
        snprintf(msg, len, "out of memory");
        return -1;
    }
    c->nworkers = nw;
    c->batch = batch_of(engine, lines, &c->bytes);
    plan_job job = {c, engine, 0, ""};
    starpu_execute_on_each_worker(make_plans, &job, STARPU_CUDA);
    if (job.failures) {
        snprintf(msg, len, "cuFFT plans for %zu lines of %zu samples: %s", c->batch,
                 engine[0].nfft, job.msg);
        sl_fft_cuda_destroy(c);
        return -1;
    }
    *out = c;
    return 0;
}

void sl_fft_cuda_destroy(sl_fft_cuda *c)
{
    if (!c)
        return;
    starpu_execute_on_each_worker(free_plans, c, STARPU_CUDA);
    free(c->w);
    free(c);
}

const sl_fft_cuda_worker *sl_fft_cuda_local(const sl_fft_cuda *c)
{
    int id = starpu_worker_get_id_check();
    if (!c || id < 0 || id >= c->nworkers || !c->w[id].planned[0] || !c->w[id].planned[1] ||
        !c->w[id].wout)
        return NULL;
    return &c->w[id];
}
