/* Runtime context: MPI + StarPU + StarPU-MPI, the process grid and the configuration read from
 * the environment. One context per process at a time (StarPU is a process-wide runtime).
 *
 * Environment variables read by sl_init / sl_init_comm (all ranks must agree; a rank whose value
 * is invalid makes sl_init fail on every rank):
 *   STARLOPS_TILE   elements per tile of a distributed array (positive integer, default 1048576)
 *   STARLOPS_GRID   process grid "PxQ" with P*Q == number of ranks (default: near-square)
 *   STARLOPS_COMM   communication backend: mpi (default: two-sided and non-blocking
 *                   collectives), rma (MPI one-sided: Put + flush into rings of a window
 *                   made at sl_init) or nccl (builds with CUDA and NCCL: collectives and
 *                   neighbour exchanges as NCCL calls on the GPU, point-to-point transfers
 *                   through mpi; needs a CUDA worker and its own GPU on every rank, else
 *                   sl_init fails on every rank saying why).
 *   STARLOPS_RMA_RING  with rma: bytes of each source rank's ring (4096 .. 2^30; default 4 MiB,
 *                   less above 64 ranks).
 *   STARLOPS_TRACE  directory: turns FxT tracing on, one prof_file_* per rank in that directory.
 *                   Unset: tracing off (STARPU_FXT_TRACE=0 unless the user set it).
 * Every STARPU_* variable keeps its StarPU meaning (STARPU_SCHED, STARPU_NCPU, ...).
 * sl_init also makes OpenBLAS single-threaded: StarPU's workers are the parallelism. */
#ifndef STARLOPS_CONTEXT_H
#define STARLOPS_CONTEXT_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>
#include <starlops/status.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_context sl_context;

typedef enum sl_comm_kind {
    SL_COMM_MPI = 0, /* two-sided MPI + non-blocking collectives posted from tasks */
    SL_COMM_RMA = 1, /* MPI one-sided (Put + flush + notice, passive target) */
    SL_COMM_NCCL = 2 /* NCCL collectives on GPUs (src/comm/comm_nccl.c) */
} sl_comm_kind;

/* Initialise MPI (MPI_THREAD_MULTIPLE) if needed, then StarPU and StarPU-MPI on MPI_COMM_WORLD.
 * If this call initialised MPI, sl_finalize finalises it. argc/argv may be NULL. */
sl_status sl_init(int *argc, char ***argv, sl_context **ctx);

/* Same, on a communicator of an application that already initialised MPI with
 * MPI_THREAD_MULTIPLE. The communicator is duplicated for the library's own calls.
 * Note: StarPU-MPI 1.3 synchronises MPI_COMM_WORLD at shutdown, so every rank of
 * MPI_COMM_WORLD must call sl_finalize. */
sl_status sl_init_comm(MPI_Comm comm, sl_context **ctx);

/* Waits for every submitted task, shuts StarPU down, frees the context (NULL is accepted). */
sl_status sl_finalize(sl_context *ctx);

/* Blocks until every task submitted so far on this rank has completed, then reports failures
 * inside tasks not reported yet on this rank (a communication operation: SL_ERR_MPI; a task
 * that could not allocate its workspace: SL_ERR_NOMEM). */
sl_status sl_wait(sl_context *ctx);

/* The sentence describing the last error raised on this context ("" if none), followed, when
 * the calling thread raised it, by the path it took back ("[via f (src/file.c:line) < g
 * ...]"). Never NULL; valid until the thread's next call into starlops. */
const char *sl_last_error(const sl_context *ctx);

/* The sentence describing the last sl_init / sl_init_comm failure of this process, for callers
 * that have no context yet. */
const char *sl_init_error(void);

/* What a context is and what it has done so far (local, never blocks). */
typedef struct sl_context_info {
    int rank, size;        /* in the context's communicator */
    int grid_p, grid_q;    /* the process grid SUMMA operators default to (STARLOPS_GRID) */
    size_t tile_elements;  /* target elements per tile (STARLOPS_TILE) */
    sl_comm_kind comm_kind;
    /* How many times the host has waited for a scalar future (sl_scalar_get): lets a caller
     * check that a solver really runs without per-iteration synchronisation. */
    unsigned long host_waits;
    /* Bytes this rank has submitted for sending and receiving through the communication layer
     * since the context started (collectives count their payload once each way; point-to-point
     * tile transfers count their size). Benchmarks compare differences with traffic models. */
    uint64_t bytes_sent, bytes_received;
    /* The library's duplicate of the user communicator (for host-side user code, never for
     * tasks). */
    MPI_Comm comm;
} sl_context_info;
sl_status sl_context_get_info(const sl_context *ctx, sl_context_info *info);

#ifdef __cplusplus
}
#endif
#endif
