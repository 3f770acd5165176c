/* Private layout of sl_context and helpers shared by the library's layers. */
#ifndef STARLOPS_CONTEXT_INTERNAL_H
#define STARLOPS_CONTEXT_INTERNAL_H

#include <starpu.h>
#include <starpu_mpi.h>
#include <starlops/context.h>
#include "comm/comm.h"

#define SL_ERRMSG_LEN 512

/* Configuration read from the environment (env_config.c). */
typedef struct sl_config {
    size_t tile_elements;
    int grid_p, grid_q; /* 0 = choose */
    int grid_given;     /* STARLOPS_GRID was set (2D operators then use it as is) */
    sl_comm_kind comm_kind;
    size_t rma_ring_bytes; /* 0 = the default for the number of ranks */
    int progress_us;       /* the progress thread's interval; 0 = no thread, -1 = choose */
    int ordered_transfers; /* STARLOPS_ORDERED_TRANSFERS=1: the graphs of ordered backends
                              (sl_ordered_transfers) whatever the backend */
    char trace_dir[256]; /* "" = tracing off */
    int stream_stores;   /* stencils' streaming stores: -1 by output size, 0 never, 1 always */
} sl_config;

/* Sub-communicators for masks, created once per distinct mask and kept until finalize. */
typedef struct sl_mask_group {
    int *colours;  /* one colour per rank */
    MPI_Comm comm; /* this rank's colour group */
    struct sl_mask_group *next;
} sl_mask_group;

struct sl_context {
    MPI_Comm user_comm;  /* what the user passed (StarPU-MPI point-to-point runs on it) */
    MPI_Comm host_comm;  /* dup: blocking collectives called by the host thread */
    MPI_Comm task_comm;  /* dup: collectives posted by tasks, ordered by the comm token */
    int rank, size;
    int we_initialised_mpi;
    sl_config config;
    int64_t next_tag;    /* StarPU-MPI tag booking: same sequence on every rank */
    sl_comm *comm;       /* communication backend */
    unsigned progress_us; /* its progress thread's interval (0: none), from config or cores */
    sl_mask_group *mask_groups;
    unsigned long comm_failures_seen; /* reported by sl_wait */
    unsigned long task_failures;      /* tasks that could not run (atomic; codelets.h) */
    unsigned long task_failures_seen; /* reported by sl_wait */
    unsigned long cuda_failures_seen; /* CUDA calls failed in tasks (cuda_workers.h), reported */
    unsigned long host_waits;         /* scalar reads by the host (sl_context_host_waits) */
    unsigned long arrays_made;        /* staggers the arrays' start addresses (darray.c) */
    char last_error[SL_ERRMSG_LEN];
    unsigned long last_error_serial;  /* when last_error was written (status.c) */
};

/* The context's asynchronous status: failures that happen inside tasks (a communication
 * operation that failed: the backend counts it; a task that could not allocate its workspace:
 * task_failures) are counted where they happen; every host synchronisation reports the ones
 * not yet reported (sl_wait, sl_scalar_get; the solvers agree on them across ranks at the end
 * of a solve, solver_common.h). sl_async_check: SL_OK, or the status of the new failures with
 * a message naming `where`, marking them reported. */
sl_status sl_async_check(sl_context *ctx, const char *where);

/* Records a formatted message as the context's last error and returns status. */
sl_status sl_fail(const sl_context *ctx, sl_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Returns SL_ERR_NULL for a NULL argument of `function`. Such a call may have no object to
 * reach a context through, so the sentence is kept for the calling thread and sl_last_error
 * shows it when it is newer than the context's own message. */
sl_status sl_null_error(const char *function);

/* Parses STARLOPS_* variables; on error writes a sentence to msg. */
sl_status sl_config_from_env(sl_config *config, char *msg, size_t msg_len);
/* Picks the process grid: P x Q == size, from the config or near-square. */
sl_status sl_grid_choose(int size, int want_p, int want_q, int *p, int *q, char *msg, size_t len);

/* Books `count` consecutive StarPU-MPI tags (collective by convention: every rank calls it in
 * the same order). Returns the first tag. */
int64_t sl_tags_book(sl_context *ctx, int64_t count);

/* Collective on host_comm: returns SL_ERR_RANK_MISMATCH on every rank unless all ranks pass the
 * same `count` int64 values. Also combines a local failure: if any rank passes local_ok = 0,
 * every rank gets SL_ERR_ARG (the failing rank keeps its own message). */
sl_status sl_agree(sl_context *ctx, const int64_t *values, int count, int local_ok,
                   const char *what);

/* 64-bit FNV-1a, for fingerprints the ranks compare in sl_agree instead of whole tables:
 * start from SL_FNV1A_SEED, feed each field's bytes, then sl_fnv1a_value (non-negative, so a
 * negation in sl_agree cannot overflow). */
#define SL_FNV1A_SEED 1469598103934665603ULL
static inline uint64_t sl_fnv1a(uint64_t h, const void *data, size_t bytes)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < bytes; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}
static inline int64_t sl_fnv1a_value(uint64_t h)
{
    return (int64_t)(h >> 1);
}

/* Whether operators build their transfers as collectives and exchanges posted in the same
 * order on every rank (comm.h, "Ordered transfers") instead of lone sends and receives: always
 * under a backend that needs it (nccl), and under any backend when STARLOPS_ORDERED_TRANSFERS=1
 * asks for it (so that those graphs run, and are tested, on the CPU backends too). */
static inline int sl_ordered_transfers(const sl_context *ctx)
{
    return ctx->config.ordered_transfers || sl_comm_ordered(ctx->comm);
}

/* The communicator of this rank's colour group for `mask` (NULL mask: task_comm). */
sl_status sl_mask_comm(sl_context *ctx, const int *mask, MPI_Comm *comm);

/* A per-process error sentence for failures before a context exists. */
void sl_set_init_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
