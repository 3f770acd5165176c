/* Deferred task completion for non-blocking communication (DESIGN.md 4.5).
 * A communication task posts MPI requests, hands them to the poller with itself, and returns;
 * StarPU keeps the task (and its data) alive through an end dependency until a progression
 * hook, run by idle workers, sees every request complete and releases it. Workers never block
 * inside MPI, so a rank's worker is free to run the task its neighbour is waiting for.
 * An idle hook makes idle workers give their core away: they yield between polls while
 * something is pending and otherwise sleep until a task is pushed (StarPU 1.3's workers spin
 * on `pause` and never yield: on shared cores a thread that yielded waited a 4 ms tick). */
#ifndef STARLOPS_REQUEST_POLLER_H
#define STARLOPS_REQUEST_POLLER_H

#include <mpi.h>
#include <starpu.h>
#include <starlops/status.h>

#define SL_POLLER_MAX_REQS 8

typedef struct sl_request_poller sl_request_poller;

sl_status sl_request_poller_create(sl_request_poller **out);
/* Joins the progress thread and deregisters the hooks (callers have waited for every task, so
 * nothing is pending). A worker may still be inside a hook right then: free only after StarPU
 * has shut down. */
void sl_request_poller_stop(sl_request_poller *poller);
/* Frees the poller; call after StarPU's shutdown has joined the workers. */
void sl_request_poller_destroy(sl_request_poller *poller);
/* Runs when an operation's requests have all completed, before its task is released (e.g. to
 * unpack a fused reduction into its buffers and free the operation); failed: a request
 * reported an error. Called from a worker, outside the poller's lock. */
typedef void (*sl_request_done_fn)(void *arg, int failed);

/* Called from inside the running task `task`: adds one end dependency to it and watches the
 * requests (copied). nreq <= SL_POLLER_MAX_REQS. If a request fails, the task still completes
 * and the failure is counted (sl_request_poller_failures). done (may be NULL) runs first. */
sl_status sl_request_poller_watch(sl_request_poller *poller, struct starpu_task *task,
                                  const MPI_Request *reqs, int nreq, sl_request_done_fn done,
                                  void *done_arg);
/* Watches an operation that is not a set of MPI requests (the one-sided backend's messages):
 * test(arg) returns 0 while it is pending, 1 when it completed, -1 when it failed (counted). */
typedef int (*sl_poll_test_fn)(void *arg);
sl_status sl_request_poller_watch_test(sl_request_poller *poller, struct starpu_task *task,
                                       sl_poll_test_fn test, void *test_arg,
                                       sl_request_done_fn done, void *done_arg);
/* A backend's own progress, run by the hook before it tests the watched operations; returns
 * nonzero while the backend has work in flight (then no worker may sleep). Set before any
 * operation is submitted. */
typedef int (*sl_poll_progress_fn)(void *arg);
void sl_request_poller_set_progress(sl_request_poller *poller, sl_poll_progress_fn progress,
                                    void *arg);
/* Starts a thread that wakes every interval_us and polls when an operation is pending and no
 * hook has polled for that long, so completions are noticed while every worker is busy with a
 * long task (0: no thread, the workers' hooks only). Call after set_progress; stop joins it. */
sl_status sl_request_poller_start_thread(sl_request_poller *poller, unsigned interval_us);
/* Number of completed requests that reported an MPI error so far. */
unsigned long sl_request_poller_failures(const sl_request_poller *poller);

#endif
