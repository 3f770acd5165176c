/* See request_poller.h. The hook is cheap when nothing is pending (one mutex round trip). */
#include "comm/request_poller.h"

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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
    int hook_id, idle_hook_id;
    unsigned long failures;
    sl_poll_progress_fn progress;
    void *progress_arg;
    int backend_busy; /* the progress call's last verdict (read by idle workers) */
    long long last_poll_ns; /* when a hook or the thread last polled, or an op was watched */
    /* the progress thread (sl_request_poller_start_thread) */
    pthread_t thread;
    int thread_started;
    long interval_ns;
    pthread_mutex_t thread_lock;
    pthread_cond_t thread_wake;
    int thread_stop; /* under thread_lock */
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

static struct timespec after_ns(long ns)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += ns / 1000000000L;
    t.tv_nsec += ns % 1000000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
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
    if (__atomic_load_n(&poller->thread_started, __ATOMIC_RELAXED)) /* for the thread only */
        __atomic_store_n(&poller->last_poll_ns, now_ns(), __ATOMIC_RELAXED);
    int busy = poller->progress ? poller->progress(poller->progress_arg) : 0;
    __atomic_store_n(&poller->backend_busy, busy, __ATOMIC_RELAXED);
    if (pthread_mutex_trylock(&poller->lock) != 0)
        return 0;
    for (size_t i = 0; i < poller->count && ndone < 16;) {
        pending_op *op = &poller->ops[i];
        if (op_finished(poller, op)) {
            done[ndone++] = *op;
            poller->ops[i] = poller->ops[poller->count - 1];
            __atomic_store_n(&poller->count, poller->count - 1, __ATOMIC_RELAXED);
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

/* Idle CPU workers.
 * StarPU 1.3 is built with non-blocking drivers by default (STARPU_NON_BLOCKING_DRIVERS; with
 * blocking drivers it still never blocks the last awake worker of a context, i.e. always with one
 * CPU worker): a worker without a task loops on `pause` instructions and never gives up its
 * core. With ranks sharing cores, a thread that yields (Open MPI's yield_when_idle in
 * MPI_Barrier/Allreduce, the neighbour rank's threads) then waits for the scheduler's tick to
 * preempt the worker: 4 ms at HZ=250, the slow mode of a small halo exchange. StarPU runs the
 * idle hooks in a CPU worker that found no task, once per turn of its loop; ours
 * - keeps polling while requests are pending (the progression hook), yielding between polls;
 * - otherwise sleeps until a task is pushed (the scheduling policy's push is wrapped to count
 *   pushes and wake sleepers) or IDLE_SLEEP_NS has passed (a bound on a wake-up we would not
 *   send: a push that bypasses the policy, a data request). */
#define IDLE_SLEEP_NS 10000000L

/* Process-wide, as StarPU is (one context per process at a time, context.c): the wrapped
 * push_task has no argument to find a per-context state through. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned long pushes;  /* pushes so far (atomic) */
    int sleepers;          /* workers waiting on cond (atomic) */
    struct starpu_sched_policy *policy; /* the one whose push_task is wrapped */
    int (*push)(struct starpu_task *); /* its own push_task */
} idle = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, NULL, NULL};

static __thread unsigned long idle_seen; /* pushes the calling worker has accounted for */

static int push_and_wake(struct starpu_task *task)
{
    int ret = idle.push(task);
    /* After the task is in a queue: a worker that missed it in its pop sees the count change.
     * Sequentially consistent with the sleeper's increment of `sleepers` then read of
     * `pushes`: either it sees this push or this sees it waiting. */
    __atomic_add_fetch(&idle.pushes, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&idle.sleepers, __ATOMIC_SEQ_CST) > 0) {
        pthread_mutex_lock(&idle.lock);
        pthread_cond_broadcast(&idle.cond);
        pthread_mutex_unlock(&idle.lock);
    }
    return ret;
}

static void idle_wrap_push(void)
{
    struct starpu_sched_policy *policy = starpu_sched_ctx_get_sched_policy(0);
    if (!policy || !policy->push_task || policy->push_task == push_and_wake)
        return;
    idle.policy = policy;
    idle.push = policy->push_task;
    __atomic_store_n(&policy->push_task, push_and_wake, __ATOMIC_RELEASE);
}

static void idle_unwrap_push(void)
{
    if (idle.policy && idle.policy->push_task == push_and_wake)
        __atomic_store_n(&idle.policy->push_task, idle.push, __ATOMIC_RELEASE);
    /* wake the workers asleep in the hook: StarPU is about to stop them */
    pthread_mutex_lock(&idle.lock);
    idle.policy = NULL;
    __atomic_add_fetch(&idle.pushes, 1, __ATOMIC_SEQ_CST);
    pthread_cond_broadcast(&idle.cond);
    pthread_mutex_unlock(&idle.lock);
}

static unsigned idle_worker(void *arg)
{
    sl_request_poller *poller = arg;
    if (__atomic_load_n(&poller->count, __ATOMIC_RELAXED) != 0 ||
        __atomic_load_n(&poller->backend_busy, __ATOMIC_RELAXED)) {
        sched_yield(); /* polling: let the threads sharing this core run between polls */
        return 0;
    }
    unsigned long seen = idle_seen;
    pthread_mutex_lock(&idle.lock);
    __atomic_add_fetch(&idle.sleepers, 1, __ATOMIC_SEQ_CST);
    if (idle.policy && __atomic_load_n(&idle.pushes, __ATOMIC_SEQ_CST) == seen) {
        struct timespec until = after_ns(IDLE_SLEEP_NS);
        while (__atomic_load_n(&idle.pushes, __ATOMIC_SEQ_CST) == seen &&
               pthread_cond_timedwait(&idle.cond, &idle.lock, &until) == 0)
            ;
    }
    __atomic_sub_fetch(&idle.sleepers, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&idle.lock);
    idle_seen = __atomic_load_n(&idle.pushes, __ATOMIC_SEQ_CST);
    return 1;
}

/* The progress thread: hooks run only between tasks, so while every worker runs a long task a
 * completion (or, over two-sided MPI, the rendezvous handshake of a large message, which needs
 * the receiver to enter MPI) would wait for the task's end. The thread takes the same trylock
 * as the hooks, so it never waits for a worker and vice versa. */
#define THREAD_SLICE_NS 100000ULL /* the shortest slice the kernel accepts */

/* Sleeps `ns` or until stopped; returns 0 once stopped. */
static int thread_sleep(sl_request_poller *poller, long ns)
{
    struct timespec until = after_ns(ns);
    pthread_mutex_lock(&poller->thread_lock);
    while (!poller->thread_stop &&
           pthread_cond_timedwait(&poller->thread_wake, &poller->thread_lock, &until) == 0)
        ;
    int running = !poller->thread_stop;
    pthread_mutex_unlock(&poller->thread_lock);
    return running;
}

/* Asks the scheduler for a short time slice (sched_setattr's sched_runtime on a SCHED_OTHER
 * thread, honoured by EEVDF since Linux 6.12; unprivileged): a thread with a short slice has an
 * early deadline, so its wake-up preempts a worker at once instead of waiting for the worker's
 * slice to run out (measured here: 2-6 ms without it, bench/progress_busy). Older kernels
 * ignore the field; failure changes nothing but the latency. */
static void ask_for_short_slice(void)
{
#ifdef SYS_sched_setattr
    struct { /* the kernel's struct sched_attr, first version (SCHED_ATTR_SIZE_VER0, 48 bytes);
              * <linux/sched/types.h> clashes with <sched.h> */
        uint32_t size, sched_policy;
        uint64_t sched_flags;
        int32_t sched_nice;
        uint32_t sched_priority;
        uint64_t sched_runtime, sched_deadline, sched_period;
    } attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.sched_policy = SCHED_OTHER;
    attr.sched_runtime = THREAD_SLICE_NS;
    (void)syscall(SYS_sched_setattr, 0, &attr, 0);
#endif
}

/* The thread wakes every interval_ns and polls only when something is pending and nobody
 * has polled for an interval: while workers go through tasks their hooks poll, and the thread
 * stays out of their way (no contention for MPI's or the backend's locks); when every worker
 * is inside a long task, it takes over. Nothing wakes it in between: a wake-up per watched
 * operation cost the solvers 15-50% on shared cores (each one preempts a worker). */
static void *progress_thread(void *arg)
{
    sl_request_poller *poller = arg;
    ask_for_short_slice();
    long sleep_ns = poller->interval_ns;
    while (thread_sleep(poller, sleep_ns)) {
        sleep_ns = poller->interval_ns;
        if (!__atomic_load_n(&poller->count, __ATOMIC_RELAXED) &&
            !__atomic_load_n(&poller->backend_busy, __ATOMIC_RELAXED))
            continue;
        long long since = now_ns() - __atomic_load_n(&poller->last_poll_ns, __ATOMIC_RELAXED);
        if (since < poller->interval_ns) { /* next look one interval after that poll */
            sleep_ns = poller->interval_ns - (long)since;
            continue;
        }
        /* a second look when the first left work: Open MPI often completes a request on the
         * progress call after the one that moved its data (poll_requests returns nonzero when
         * nothing is left) */
        if (!poll_requests(poller))
            poll_requests(poller);
    }
    return NULL;
}

sl_status sl_request_poller_start_thread(sl_request_poller *poller, unsigned interval_us)
{
    if (interval_us == 0 || poller->thread_started)
        return SL_OK;
    poller->interval_ns = (long)interval_us * 1000L;
    pthread_mutex_init(&poller->thread_lock, NULL);
    pthread_cond_init(&poller->thread_wake, NULL);
    if (pthread_create(&poller->thread, NULL, progress_thread, poller) != 0) {
        pthread_cond_destroy(&poller->thread_wake);
        pthread_mutex_destroy(&poller->thread_lock);
        return SL_ERR_NOMEM;
    }
    __atomic_store_n(&poller->thread_started, 1, __ATOMIC_RELAXED); /* hooks read it */
    return SL_OK;
}

static void stop_thread(sl_request_poller *poller)
{
    if (!poller->thread_started)
        return;
    pthread_mutex_lock(&poller->thread_lock);
    poller->thread_stop = 1;
    pthread_cond_signal(&poller->thread_wake);
    pthread_mutex_unlock(&poller->thread_lock);
    pthread_join(poller->thread, NULL);
    pthread_cond_destroy(&poller->thread_wake);
    pthread_mutex_destroy(&poller->thread_lock);
    __atomic_store_n(&poller->thread_started, 0, __ATOMIC_RELAXED);
}

sl_status sl_request_poller_create(sl_request_poller **out)
{
    sl_request_poller *poller = calloc(1, sizeof *poller);
    if (!poller)
        return SL_ERR_NOMEM;
    pthread_mutex_init(&poller->lock, NULL);
    poller->hook_id = starpu_progression_hook_register(poll_requests, poller);
    poller->idle_hook_id = poller->hook_id < 0 ? -1 : starpu_idle_hook_register(idle_worker, poller);
    if (poller->idle_hook_id < 0) {
        if (poller->hook_id >= 0)
            starpu_progression_hook_deregister(poller->hook_id);
        pthread_mutex_destroy(&poller->lock);
        free(poller);
        return SL_ERR_STARPU;
    }
    idle_wrap_push();
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
    poller->ops[poller->count] = *model;
    __atomic_store_n(&poller->count, poller->count + 1, __ATOMIC_RELAXED);
    /* Added under the lock so the hook cannot release before the dependency exists. */
    starpu_task_end_dep_add(model->task, 1);
    /* the watching task tested it just now; the thread's first poll comes an interval later */
    if (__atomic_load_n(&poller->thread_started, __ATOMIC_RELAXED))
        __atomic_store_n(&poller->last_poll_ns, now_ns(), __ATOMIC_RELAXED);
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
    if (poller)
        stop_thread(poller); /* before the backend it calls into goes away */
    if (poller && poller->hook_id >= 0) {
        starpu_progression_hook_deregister(poller->hook_id);
        poller->hook_id = -1;
    }
    if (poller && poller->idle_hook_id >= 0) {
        starpu_idle_hook_deregister(poller->idle_hook_id);
        poller->idle_hook_id = -1;
        idle_unwrap_push(); /* every task has completed (sl_finalize waited for them) */
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
