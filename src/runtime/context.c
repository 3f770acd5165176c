/* sl_init / sl_finalize: MPI (thread-multiple), StarPU + StarPU-MPI, the library's
 * communicators, the process grid and the communication backend. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <starpu_fxt.h>

#include "cpu/kernels.h"
#include "cuda/cuda_workers.h"
#include "runtime/context_internal.h"

/* StarPU is one runtime per process: this guard turns a second sl_init into an error instead
 * of undefined behaviour inside StarPU. */
static int context_active;

/* Every rank learns whether any rank failed to parse its environment and whether the ranks
 * agree on the values, before anything is started: a bad variable on one rank must fail
 * sl_init everywhere rather than leave the other ranks waiting. */
static sl_status agree_on_config(MPI_Comm comm, sl_status local, const sl_config *c,
                                 char *msg, size_t len)
{
    enum { NV = 7 };
    int64_t v[NV] = {local == SL_OK ? 0 : (int64_t)local, (int64_t)c->tile_elements, c->grid_p,
                     c->grid_q, c->comm_kind, (int64_t)c->rma_ring_bytes,
                     c->ordered_transfers};
    int64_t both[2 * NV], red[2 * NV];
    for (int i = 0; i < NV; i++) {
        both[i] = v[i];
        both[NV + i] = -v[i];
    }
    if (MPI_Allreduce(both, red, 2 * NV, MPI_INT64_T, MPI_MAX, comm) != MPI_SUCCESS) {
        snprintf(msg, len, "MPI_Allreduce failed while checking the environment");
        return SL_ERR_MPI;
    }
    if (local != SL_OK)
        return local;
    if (red[0] != 0) {
        snprintf(msg, len, "another rank has an invalid STARLOPS_* environment variable");
        return (sl_status)red[0];
    }
    for (int i = 1; i < NV; i++)
        if (red[i] != -red[NV + i]) {
            snprintf(msg, len, "ranks disagree on STARLOPS_TILE/GRID/COMM/RMA_RING/"
                               "ORDERED_TRANSFERS (set them the same on every rank)");
            return SL_ERR_RANK_MISMATCH;
        }
    return SL_OK;
}

/* A local verdict made collective: every rank fails if one does (the others would otherwise
 * go on into StarPU-MPI's start-up and wait there for it). */
static sl_status agree_on_status(MPI_Comm comm, sl_status local, char *msg, size_t len,
                                 const char *what)
{
    int mine = (int)local, worst = 0;
    if (MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS) {
        snprintf(msg, len, "%s: MPI_Allreduce failed while checking it", what);
        return SL_ERR_MPI;
    }
    if (local == SL_OK && worst != SL_OK)
        snprintf(msg, len, "%s failed on another rank", what);
    return (sl_status)worst;
}

/* FxT is compiled into our StarPU; it must write traces only when the user asks. */
static sl_status configure_tracing(const sl_config *c, char *msg, size_t len)
{
    if (c->trace_dir[0] == '\0') {
        setenv("STARPU_FXT_TRACE", "0", 0);
        return SL_OK;
    }
    if (mkdir(c->trace_dir, 0777) != 0 && errno != EEXIST) {
        snprintf(msg, len, "STARLOPS_TRACE='%s': cannot create directory (%s)", c->trace_dir,
                 strerror(errno));
        return SL_ERR_ENV;
    }
    /* FxT only opens its file at shutdown: a path that is a file, or a directory it cannot
     * write to, would otherwise fail after a run that printed success. */
    struct stat info;
    if (stat(c->trace_dir, &info) != 0 || !S_ISDIR(info.st_mode)) {
        snprintf(msg, len, "STARLOPS_TRACE='%s' exists and is not a directory", c->trace_dir);
        return SL_ERR_ENV;
    }
    char probe[sizeof c->trace_dir + 32];
    snprintf(probe, sizeof probe, "%s/.starlops-probe-XXXXXX", c->trace_dir);
    int fd = mkstemp(probe);
    if (fd < 0) {
        snprintf(msg, len, "STARLOPS_TRACE='%s': cannot write in that directory (%s)",
                 c->trace_dir, strerror(errno));
        return SL_ERR_ENV;
    }
    close(fd);
    unlink(probe);
    setenv("STARPU_FXT_PREFIX", c->trace_dir, 1);
    setenv("STARPU_FXT_TRACE", "1", 1);
    return SL_OK;
}

static sl_status check_mpi(MPI_Comm comm)
{
    int initialised = 0, finalised = 0, level = 0;
    MPI_Initialized(&initialised);
    MPI_Finalized(&finalised);
    if (!initialised || finalised) {
        sl_set_init_error("MPI is not initialised (or already finalised)");
        return SL_ERR_STATE;
    }
    MPI_Query_thread(&level);
    if (level < MPI_THREAD_MULTIPLE) {
        sl_set_init_error("MPI was initialised with thread level %d; starlops needs "
                          "MPI_THREAD_MULTIPLE (%d)", level, MPI_THREAD_MULTIPLE);
        return SL_ERR_MPI;
    }
    if (comm == MPI_COMM_NULL) {
        sl_set_init_error("the communicator is MPI_COMM_NULL");
        return SL_ERR_ARG;
    }
    return SL_OK;
}

/* The one-sided backend's ring per source: 4 MiB (a 2 MiB halo slab or a large panel in one
 * piece) while the window stays under 256 MiB per rank, never under 64 KiB. */
static size_t rma_ring_bytes(const sl_context *ctx)
{
    if (ctx->config.rma_ring_bytes)
        return ctx->config.rma_ring_bytes;
    size_t ring = ((size_t)256 << 20) / (size_t)ctx->size;
    ring = ring > ((size_t)4 << 20) ? (size_t)4 << 20 : ring;
    return ring < ((size_t)64 << 10) ? (size_t)64 << 10 : ring;
}

/* The progress thread's interval (request_poller.h) when STARLOPS_PROGRESS_US is not set:
 * 1000 us when the node has a core for it, i.e. the cores the node's ranks may run on number at
 * least the ranks' CPU workers plus one per rank (its communication threads); none on shared
 * cores, where its wake-ups cost the solvers 7-10% (bench/run_progress_busy.sh, results in
 * bench/results/README.md). Collective over the node's ranks. */
#define AUTO_PROGRESS_US 1000

static unsigned progress_interval(const sl_context *ctx)
{
    cpu_set_t mine, all;
    CPU_ZERO(&mine);
    if (sched_getaffinity(0, sizeof mine, &mine) != 0)
        CPU_SET(0, &mine);
    int want = (int)starpu_cpu_worker_get_count() + 1, wanted = want;
    MPI_Comm node;
    if (MPI_Comm_split_type(ctx->host_comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) ==
        MPI_SUCCESS) {
        /* the union of the ranks' affinity masks: the cores they share or own */
        MPI_Allreduce(&mine, &all, (int)sizeof mine, MPI_BYTE, MPI_BOR, node);
        MPI_Allreduce(&want, &wanted, 1, MPI_INT, MPI_SUM, node);
        MPI_Comm_free(&node);
    } else {
        all = mine;
    }
    if (ctx->config.progress_us >= 0)
        return (unsigned)ctx->config.progress_us;
    return CPU_COUNT(&all) >= wanted ? AUTO_PROGRESS_US : 0;
}

static const char *backend_name(sl_comm_kind kind)
{
    return kind == SL_COMM_RMA ? "rma" : kind == SL_COMM_NCCL ? "nccl" : "mpi";
}

/* The communication backend STARLOPS_COMM chose (collective: rma and nccl set up across the
 * ranks, which all get the same verdict; msg says why on failure when the backend can). */
static sl_status create_backend(sl_context *ctx, char *msg, size_t len)
{
    switch (ctx->config.comm_kind) {
    case SL_COMM_RMA:
        return sl_comm_rma_create(ctx->task_comm, rma_ring_bytes(ctx), ctx->progress_us,
                                  &ctx->comm);
#ifdef STARLOPS_HAVE_NCCL
    case SL_COMM_NCCL:
        return sl_comm_nccl_create(ctx->task_comm, &ctx->comm, msg, len);
#endif
    default:
        return sl_comm_mpi_create(ctx->progress_us, &ctx->comm);
    }
}

static sl_status start_starpu(sl_context *ctx)
{
    struct starpu_conf conf;
    starpu_conf_init(&conf);
    int ret = starpu_mpi_init_conf(NULL, NULL, 0, ctx->user_comm, &conf);
    if (ret != 0) {
        sl_set_init_error("starpu_mpi_init_conf failed (%d)", ret);
        return SL_ERR_STARPU;
    }
    sl_blas_single_threaded();
    /* cuBLAS handles, reduction scratch, STARLOPS_CUDA_PLACEMENT: agreed, so that a rank
     * whose set-up failed does not leave the others waiting in their first collective. */
    char cuda_msg[SL_ERRMSG_LEN] = "";
    sl_status cuda_local = sl_cuda_start(cuda_msg, sizeof cuda_msg);
    sl_status cuda_st = agree_on_status(ctx->user_comm, cuda_local, cuda_msg, sizeof cuda_msg,
                                        "the CUDA set-up");
    if (cuda_st != SL_OK) {
        if (cuda_local == SL_OK)
            sl_cuda_stop();
        sl_set_init_error("%s", cuda_msg);
        starpu_mpi_shutdown();
        return cuda_st;
    }
    ctx->progress_us = progress_interval(ctx);
    char comm_msg[SL_ERRMSG_LEN] = "";
    sl_status st = create_backend(ctx, comm_msg, sizeof comm_msg);
    if (st != SL_OK) {
        if (comm_msg[0])
            sl_set_init_error("%s", comm_msg);
        else
            sl_set_init_error("cannot create the %s communication backend: %s",
                              backend_name(ctx->config.comm_kind), sl_strerror(st));
        sl_cuda_stop();
        starpu_mpi_shutdown();
    }
    return st;
}

sl_status sl_init_comm(MPI_Comm comm, sl_context **out)
{
    if (!out)
        return sl_null_error(__func__);
    *out = NULL;
    if (context_active) {
        sl_set_init_error("a starlops context is already active in this process");
        return SL_ERR_STATE;
    }
    sl_status st = check_mpi(comm);
    if (st != SL_OK)
        return st;

    sl_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return SL_ERR_NOMEM;
    char msg[SL_ERRMSG_LEN] = "";
    ctx->user_comm = comm;
    MPI_Comm_rank(comm, &ctx->rank);
    MPI_Comm_size(comm, &ctx->size);
    st = sl_config_from_env(&ctx->config, msg, sizeof msg);
    st = agree_on_config(comm, st, &ctx->config, msg, sizeof msg);
    ctx->config.grid_given = ctx->config.grid_p > 0;
    if (st == SL_OK)
        st = sl_grid_choose(ctx->size, ctx->config.grid_p, ctx->config.grid_q,
                            &ctx->config.grid_p, &ctx->config.grid_q, msg, sizeof msg);
    if (st == SL_OK)
        st = agree_on_status(comm, configure_tracing(&ctx->config, msg, sizeof msg), msg,
                             sizeof msg, "STARLOPS_TRACE");
    if (st != SL_OK) {
        sl_set_init_error("%s", msg);
        free(ctx);
        return st;
    }
    MPI_Comm_dup(comm, &ctx->host_comm);
    MPI_Comm_dup(comm, &ctx->task_comm);
    /* MPI errors on the library's communicators become statuses, not aborts. */
    MPI_Comm_set_errhandler(ctx->host_comm, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(ctx->task_comm, MPI_ERRORS_RETURN);
    ctx->next_tag = 1000; /* StarPU-MPI keeps small tags for itself */
    st = start_starpu(ctx);
    if (st != SL_OK) {
        MPI_Comm_free(&ctx->host_comm);
        MPI_Comm_free(&ctx->task_comm);
        free(ctx);
        return st;
    }
    context_active = 1;
    *out = ctx;
    return SL_OK;
}

sl_status sl_init(int *argc, char ***argv, sl_context **out)
{
    if (!out)
        return sl_null_error(__func__);
    *out = NULL;
    int initialised = 0, we_did = 0;
    MPI_Initialized(&initialised);
    if (!initialised) {
        int provided = 0;
        if (MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS) {
            sl_set_init_error("MPI_Init_thread failed");
            return SL_ERR_MPI;
        }
        we_did = 1;
    }
    sl_status st = sl_init_comm(MPI_COMM_WORLD, out);
    if (st != SL_OK) {
        /* Leave MPI as we found it so the process can exit cleanly. */
        if (we_did)
            MPI_Finalize();
        return st;
    }
    (*out)->we_initialised_mpi = we_did;
    return SL_OK;
}

static void free_mask_groups(sl_context *ctx)
{
    sl_mask_group *g = ctx->mask_groups;
    while (g) {
        sl_mask_group *next = g->next;
        MPI_Comm_free(&g->comm);
        free(g->colours);
        free(g);
        g = next;
    }
    ctx->mask_groups = NULL;
}

sl_status sl_finalize(sl_context *ctx)
{
    if (!ctx)
        return SL_OK;
    starpu_task_wait_for_all();
    /* The trace ends with the user's work: shutdown's unregistering stays out of it. (It starts
     * at initialisation, where StarPU-MPI records the clock sync point that starpu_fxt_tool
     * needs to merge the ranks' files.) */
    if (ctx->config.trace_dir[0])
        starpu_fxt_stop_profiling();
    sl_comm_shutdown(ctx->comm);
    sl_cuda_stop(); /* cuBLAS handles and scratch: while StarPU's CUDA workers still exist */
    starpu_mpi_shutdown(); /* also shuts StarPU down: starpu_mpi_init_conf started it */
    sl_comm_destroy(ctx->comm); /* after the workers are gone: one may have been in the hook */
    free_mask_groups(ctx);
    MPI_Comm_free(&ctx->host_comm);
    MPI_Comm_free(&ctx->task_comm);
    int finalise_mpi = ctx->we_initialised_mpi;
    free(ctx);
    context_active = 0;
    if (finalise_mpi)
        MPI_Finalize();
    return SL_OK;
}

/* Failures counted since the last report (the counters only grow); marks them reported. */
static unsigned long take_new(unsigned long total, unsigned long *seen)
{
    unsigned long fresh = total - *seen;
    *seen = total;
    return fresh;
}

sl_status sl_async_check(sl_context *ctx, const char *where)
{
    unsigned long fresh = take_new(sl_comm_failures(ctx->comm), &ctx->comm_failures_seen);
    if (fresh)
        return sl_fail(ctx, SL_ERR_MPI, "%s: %lu communication operation(s) failed on rank %d "
                       "since the last report; this context's reductions are NaN from now on "
                       "(on every rank)", where, fresh, ctx->rank);
    fresh = take_new(__atomic_load_n(&ctx->task_failures, __ATOMIC_RELAXED),
                     &ctx->task_failures_seen);
    if (fresh)
        return sl_fail(ctx, SL_ERR_NOMEM, "%s: %lu task(s) could not allocate their workspace "
                       "on rank %d since the last report (their output tiles are NaN)", where,
                       fresh, ctx->rank);
    char first[200] = "";
    fresh = take_new(sl_cuda_failures(first, sizeof first), &ctx->cuda_failures_seen);
    if (fresh)
        return sl_fail(ctx, SL_ERR_STARPU, "%s: %lu CUDA call(s) failed inside tasks on rank %d "
                       "since the last report (first: %s); their outputs are not to be trusted",
                       where, fresh, ctx->rank, first);
    return SL_OK;
}

sl_status sl_wait(sl_context *ctx)
{
    if (!ctx)
        return sl_null_error(__func__);
    if (starpu_task_wait_for_all() != 0)
        return sl_fail(ctx, SL_ERR_STARPU, "starpu_task_wait_for_all failed");
    return sl_async_check(ctx, "sl_wait");
}

sl_status sl_context_get_info(const sl_context *ctx, sl_context_info *info)
{
    if (!ctx || !info)
        return sl_null_error(__func__);
    *info = (sl_context_info){
        .rank = ctx->rank,
        .size = ctx->size,
        .grid_p = ctx->config.grid_p,
        .grid_q = ctx->config.grid_q,
        .tile_elements = ctx->config.tile_elements,
        .comm_kind = ctx->config.comm_kind,
        .host_waits = ctx->host_waits,
        .bytes_sent = __atomic_load_n(&ctx->comm->bytes_sent, __ATOMIC_RELAXED),
        .bytes_received = __atomic_load_n(&ctx->comm->bytes_received, __ATOMIC_RELAXED),
        .comm = ctx->host_comm,
    };
    return SL_OK;
}
