/* What every codelet family (codelets/<family>.c + .h) shares. A family file owns its codelets,
 * their history-based performance models (named after them, so the dm* schedulers use
 * measured timings once calibrated with STARPU_CALIBRATE=1) and the typed insert helpers
 * sl_task_<name>(...): the only place outside src/comm/ that submits tasks. A helper returns
 * starpu_task_insert's result (0, or a negative errno; -ENOMEM when the helper itself could not
 * allocate), which the caller turns into its sl_status. */
#ifndef STARLOPS_CODELET_COMMON_H
#define STARLOPS_CODELET_COMMON_H

#include <errno.h>
#include <stdlib.h>

#include <starpu.h>

/* A history-based performance model named `name` (what STARPU_CALIBRATE fills). */
#define SL_HISTORY_MODEL(var, name) \
    static struct starpu_perfmodel var = {.type = STARPU_HISTORY_BASED, .symbol = name}

/* The slot of a codelet's CUDA implementation, named where the codelet is defined. In a build
 * with the CUDA codelets (STARLOPS_USE_CUDA: a CUDA toolkit and a StarPU with CUDA) it names
 * `fn`, defined next to the CPU function under the same macro: asynchronous (the function only
 * queues work on the worker's stream, StarPU waits for it), and subject to the process-wide
 * placement (codelets/cuda/cuda_workers.h), which can pin such codelets to one kind of
 * worker. Without CUDA it expands to nothing and the codelet is CPU-only. */
#ifdef STARLOPS_USE_CUDA
int sl_cuda_can_execute(unsigned workerid, struct starpu_task *task, unsigned nimpl);
#define SL_CUDA_FUNCS(fn) \
    .cuda_funcs = {fn}, .cuda_flags = {STARPU_CUDA_ASYNC}, .can_execute = sl_cuda_can_execute,
#else
#define SL_CUDA_FUNCS(fn)
#endif

/* The buffers of a task with a variable number of them, for starpu_task_insert's
 * STARPU_DATA_MODE_ARRAY: inline up to SL_TASK_INLINE_BUFFERS, else on the heap. */
#define SL_TASK_INLINE_BUFFERS 16
typedef struct sl_task_buffers {
    struct starpu_data_descr inline_d[SL_TASK_INLINE_BUFFERS];
    struct starpu_data_descr *d;
    int n;
} sl_task_buffers;

/* Room for `capacity` buffers; 0 or -ENOMEM. */
static inline int sl_task_buffers_init(sl_task_buffers *tb, int capacity)
{
    tb->n = 0;
    tb->d = tb->inline_d;
    if (capacity > SL_TASK_INLINE_BUFFERS)
        tb->d = malloc((size_t)capacity * sizeof *tb->d);
    return tb->d ? 0 : -ENOMEM;
}

static inline void sl_task_buffers_add(sl_task_buffers *tb, starpu_data_handle_t h,
                                       enum starpu_data_access_mode mode)
{
    tb->d[tb->n].handle = h;
    tb->d[tb->n++].mode = mode;
}

static inline void sl_task_buffers_add_all(sl_task_buffers *tb, const starpu_data_handle_t *h,
                                           int n, enum starpu_data_access_mode mode)
{
    for (int i = 0; i < n; i++)
        sl_task_buffers_add(tb, h[i], mode);
}

static inline void sl_task_buffers_free(sl_task_buffers *tb)
{
    if (tb->d != tb->inline_d)
        free(tb->d);
}

#endif
