/* See request_poller.h. The hook is cheap when nothing is pending (one mutex round trip). */
#include "comm/request_poller.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct pending_op {
    MPI_Request reqs[SL_POLLER_MAX_REQS];
    int nreq;
    sl_poll_test_fn test; /* instead of reqs when set */
    void *test_arg;
    struct starpu_task *task;
    sl_request_done_fn done;
    void *done_arg;
    int failed;
} pending_op;

struct sl_request_poller {
    pthread_mutex_t lock;
    pending_op *ops;
    size_t count, capacity;
    int hook_id;
    unsigned long failures;
    sl_poll_progress_fn progress;
    void *progress_arg;
};

/* 1 when the operation is over (failed or not), 0 while pending. */
static int op_finished(sl_request_poller *poller, pending_op *op)
{
    int flag = 0;
    if (op->test) {
        int r = op->test(op->test_arg);
        if (r < 0) {
            __atomic_add_fetch(&poller->failures, 1, __ATOMIC_RELAXED);
            op->failed = 1;
        }
        return r != 0;
    }
    MPI_Status statuses[SL_POLLER_MAX_REQS];
    if (MPI_Testall(op->nreq, op->reqs, &flag, statuses) != MPI_SUCCESS) {
        __atomic_add_fetch(&poller->failures, 1, __ATOMIC_RELAXED);
        op->failed = flag = 1;
    }
    return flag;
}

/* Collects the finished operations under the lock, releases their tasks outside it: releasing
 * may run StarPU's completion code, which must not call back into a held lock. */
static unsigned poll_requests(void *arg)
{
    sl_request_poller *poller = arg;
    pending_op done[16];
    size_t ndone = 0;

    /* The return value is StarPU's "this worker may block" (sleep until a task arrives):
     * never while requests may be pending, or nobody would notice them complete and release
     * the tasks that would wake it. The lock may be held by a thread that is about to sleep
     * (the application thread also runs the hooks while it waits): no blocking then either. */
    int busy = poller->progress ? poller->progress(poller->progress_arg) : 0;
    if (pthread_mutex_trylock(&poller->lock) != 0)
        return 0;
    for (size_t i = 0; i < poller->count && ndone < 16;) {
        pending_op *op = &poller->ops[i];
        if (op_finished(poller, op)) {
            done[ndone++] = *op;
            poller->ops[i] = poller->ops[--poller->count];
        } else {
            i++;
        }
    }
    unsigned remaining = (unsigned)poller->count;
    pthread_mutex_unlock(&poller->lock);

    for (size_t i = 0; i < ndone; i++) {
        if (done[i].done)
            done[i].done(done[i].done_arg, done[i].failed);
        starpu_task_end_dep_release(done[i].task);
    }
    return remaining == 0 && !busy;
}

sl_status sl_request_poller_create(sl_request_poller **out)
{
    sl_request_poller *poller = calloc(1, sizeof *poller);
    if (!poller)
        return SL_ERR_NOMEM;
    pthread_mutex_init(&poller->lock, NULL);
    poller->hook_id = starpu_progression_hook_register(poll_requests, poller);
    if (poller->hook_id < 0) {
        pthread_mutex_destroy(&poller->lock);
        free(poller);
        return SL_ERR_STARPU;
    }
    *out = poller;
    return SL_OK;
}

static sl_status watch(sl_request_poller *poller, const pending_op *model)
{
    pthread_mutex_lock(&poller->lock);
    if (poller->count == poller->capacity) {
        size_t cap = poller->capacity ? 2 * poller->capacity : 16;
        pending_op *ops = realloc(poller->ops, cap * sizeof *ops);
        if (!ops) {
            pthread_mutex_unlock(&poller->lock);
            return SL_ERR_NOMEM;
        }
        poller->ops = ops;
        poller->capacity = cap;
    }
    poller->ops[poller->count++] = *model;
    /* Added under the lock so the hook cannot release before the dependency exists. */
    starpu_task_end_dep_add(model->task, 1);
    pthread_mutex_unlock(&poller->lock);
    return SL_OK;
}

sl_status sl_request_poller_watch(sl_request_poller *poller, struct starpu_task *task,
                                  const MPI_Request *reqs, int nreq, sl_request_done_fn done,
                                  void *done_arg)
{
    if (nreq < 0 || nreq > SL_POLLER_MAX_REQS)
        return SL_ERR_ARG;
    pending_op op = {.nreq = nreq, .task = task, .done = done, .done_arg = done_arg};
    memcpy(op.reqs, reqs, (size_t)nreq * sizeof *reqs);
    return watch(poller, &op);
}

sl_status sl_request_poller_watch_test(sl_request_poller *poller, struct starpu_task *task,
                                       sl_poll_test_fn test, void *test_arg,
                                       sl_request_done_fn done, void *done_arg)
{
    if (!test)
        return SL_ERR_ARG;
    pending_op op = {.test = test, .test_arg = test_arg, .task = task, .done = done,
                     .done_arg = done_arg};
    return watch(poller, &op);
}

void sl_request_poller_set_progress(sl_request_poller *poller, sl_poll_progress_fn progress,
                                    void *arg)
{
    poller->progress_arg = arg;
    poller->progress = progress;
}

unsigned long sl_request_poller_failures(const sl_request_poller *poller)
{
    return __atomic_load_n(&poller->failures, __ATOMIC_RELAXED);
}

void sl_request_poller_stop(sl_request_poller *poller)
{
    if (poller && poller->hook_id >= 0) {
        starpu_progression_hook_deregister(poller->hook_id);
        poller->hook_id = -1;
    }
}

void sl_request_poller_destroy(sl_request_poller *poller)
{
    if (!poller)
        return;
    pthread_mutex_destroy(&poller->lock);
    free(poller->ops);
    free(poller);
}
