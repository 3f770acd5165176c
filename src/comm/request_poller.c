/* See request_poller.h. The hook is cheap when nothing is pending (one mutex round trip). */
#include "comm/request_poller.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct pending_op {
    MPI_Request reqs[SL_POLLER_MAX_REQS];
    int nreq;
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
};

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
    if (pthread_mutex_trylock(&poller->lock) != 0)
        return 0;
    for (size_t i = 0; i < poller->count && ndone < 16;) {
        pending_op *op = &poller->ops[i];
        int flag = 0;
        MPI_Status statuses[SL_POLLER_MAX_REQS];
        if (MPI_Testall(op->nreq, op->reqs, &flag, statuses) != MPI_SUCCESS) {
            __atomic_add_fetch(&poller->failures, 1, __ATOMIC_RELAXED);
            op->failed = flag = 1;
        }
        if (flag) {
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
    return remaining == 0;
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

sl_status sl_request_poller_watch(sl_request_poller *poller, struct starpu_task *task,
                                  const MPI_Request *reqs, int nreq, sl_request_done_fn done,
                                  void *done_arg)
{
    if (nreq < 0 || nreq > SL_POLLER_MAX_REQS)
        return SL_ERR_ARG;
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
    pending_op *op = &poller->ops[poller->count++];
    memcpy(op->reqs, reqs, (size_t)nreq * sizeof *reqs);
    op->nreq = nreq;
    op->task = task;
    op->done = done;
    op->done_arg = done_arg;
    op->failed = 0;
    /* Added under the lock so the hook cannot release before the dependency exists. */
    starpu_task_end_dep_add(task, 1);
    pthread_mutex_unlock(&poller->lock);
    return SL_OK;
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
