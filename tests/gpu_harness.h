/* What the GPU tests (label gpu) share on top of harness.h: the skip when a rank has no CUDA
 * worker, the CUDA-against-CPU tolerance and difference, and the count of tasks each kind of
 * worker ran (so a case that silently ran on the CPU fails). */
#ifndef STARLOPS_TEST_GPU_HARNESS_H
#define STARLOPS_TEST_GPU_HARNESS_H

#include <starpu.h>
#include <starpu_profiling.h>

#include "harness.h"

/* ctest's SKIP_RETURN_CODE for the gpu tests: reported as skipped, not passed */
#define GPU_SKIP_CODE 77

/* 1 when every rank has a CUDA worker; else rank 0 prints "skipped: no CUDA device" and the
 * caller returns gpu_skip(ctx). All ranks skip, or none: a rank alone would leave the others
 * in the collectives. */
static inline int gpu_every_rank_has_cuda(void)
{
    int mine = starpu_cuda_worker_get_count() > 0, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!all && th_rank == 0)
        printf("skipped: no CUDA device\n");
    return all;
}

static inline int gpu_skip(sl_context *ctx)
{
    sl_finalize(ctx);
    return GPU_SKIP_CODE;
}

/* CUDA against CPU: 1e-12 in double, 1e-5 in single (the tolerances). */
static inline double gpu_tol(sl_dtype dt)
{
    return (dt == SL_F32 || dt == SL_C64) ? 1e-5 : 1e-12;
}

/* max |a - b| / max |b| (|b| == 0: the absolute difference). */
static inline double gpu_rel_diff(const cplx *a, const cplx *b, size_t n)
{
    double err = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        err = fmax(err, cabs(a[i] - b[i]));
        scale = fmax(scale, cabs(b[i]));
    }
    return scale > 0 ? err / scale : err;
}

/* Tasks each kind of worker executed since the last call (StarPU's profiling counters, reset
 * on read; profiling must be on: starpu_profiling_status_set). */
typedef struct gpu_worker_counts {
    long cpu, cuda;
} gpu_worker_counts;

static inline gpu_worker_counts gpu_take_counts(void)
{
    gpu_worker_counts c = {0, 0};
    for (unsigned w = 0; w < starpu_worker_get_count(); w++) {
        struct starpu_profiling_worker_info info;
        if (starpu_profiling_worker_get_info((int)w, &info) != 0)
            continue;
        if (starpu_worker_get_type((int)w) == STARPU_CUDA_WORKER)
            c.cuda += info.executed_tasks;
        else if (starpu_worker_get_type((int)w) == STARPU_CPU_WORKER)
            c.cpu += info.executed_tasks;
    }
    return c;
}

#endif
