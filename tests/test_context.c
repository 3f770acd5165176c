/* sl_init / sl_finalize and the environment: invalid values and ranks that disagree fail on
 * every rank (no hang), valid values are honoured. MPI is initialised here, as an application
 * that owns MPI would. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static int size;

static void expect_init_fails(const char *var, const char *value, sl_status want,
                              int only_last_rank)
{
    /* the test may run with the variable set (the rma variants): put it back after */
    char saved[256] = "";
    int had = getenv(var) != NULL;
    if (had)
        snprintf(saved, sizeof saved, "%s", getenv(var));
    if (!only_last_rank || th_rank == size - 1)
        setenv(var, value, 1);
    sl_context *ctx = NULL;
    sl_status st = sl_init_comm(MPI_COMM_WORLD, &ctx);
    int expect_here = !only_last_rank || th_rank == size - 1;
    if (expect_here)
        CHECK(st == want, "%s=%s: got %s (%s), expected %s", var, value, sl_strerror(st),
              sl_init_error(), sl_strerror(want));
    else
        CHECK(st != SL_OK, "%s=%s on another rank: got %s", var, value, sl_strerror(st));
    CHECK(ctx == NULL, "failed init left a context");
    CHECK(st == SL_OK || sl_init_error()[0] != '\0', "no message for %s=%s", var, value);
    if (ctx)
        sl_finalize(ctx);
    if (had)
        setenv(var, saved, 1);
    else
        unsetenv(var);
}

static void test_env_errors(void)
{
    expect_init_fails("STARLOPS_GRID", "0x3", SL_ERR_ENV, 0);
    expect_init_fails("STARLOPS_GRID", "2x", SL_ERR_ENV, 0);
    expect_init_fails("STARLOPS_GRID", "banana", SL_ERR_ENV, 0);
    expect_init_fails("STARLOPS_GRID", "5x7", SL_ERR_ENV, 0); /* 35 ranks wanted */
    expect_init_fails("STARLOPS_COMM", "foo", SL_ERR_ENV, 0);
    /* nccl: a build without NCCL says so; with NCCL, a rank without a CUDA worker (this
     * machine, or STARPU_NCUDA=0) fails every rank, saying what is missing */
    expect_init_fails("STARLOPS_COMM", "nccl", SL_ERR_UNSUPPORTED, 0);
    CHECK(strstr(sl_init_error(), "no NCCL backend") || strstr(sl_init_error(), "CUDA worker"),
          "STARLOPS_COMM=nccl: %s", sl_init_error());
    expect_init_fails("STARLOPS_RMA_RING", "4095", SL_ERR_ENV, 0);
    expect_init_fails("STARLOPS_RMA_RING", "64k", SL_ERR_ENV, 0);
    expect_init_fails("STARLOPS_PROGRESS_US", "-1", SL_ERR_ENV, 0);
    expect_init_fails("STARLOPS_PROGRESS_US", "1000001", SL_ERR_ENV, 0);
    expect_init_fails("STARLOPS_PROGRESS_US", "1ms", SL_ERR_ENV, 0);
    expect_init_fails("STARLOPS_TILE", "abc", SL_ERR_ENV, 0);
    expect_init_fails("STARLOPS_TILE", "-5", SL_ERR_ENV, 0);
    expect_init_fails("STARLOPS_TILE", "0", SL_ERR_ENV, 0);
    expect_init_fails("STARLOPS_TRACE", "", SL_ERR_ENV, 0);
    expect_init_fails("STARLOPS_ORDERED_TRANSFERS", "yes", SL_ERR_ENV, 0);
    expect_init_fails("STARLOPS_ORDERED_TRANSFERS", "2", SL_ERR_ENV, 0);
    expect_init_fails("STARLOPS_STREAM_STORES", "yes", SL_ERR_ENV, 0);
    /* FxT writes only at shutdown: a file, or a directory nobody can write in, must fail at
     * init rather than after a run that printed success */
    expect_init_fails("STARLOPS_TRACE", "/etc/hostname", SL_ERR_ENV, 0);
    expect_init_fails("STARLOPS_TRACE", "/proc/self", SL_ERR_ENV, 0);
    if (size > 1) {
        /* one rank that cannot trace fails everyone (the others would wait in StarPU-MPI) */
        expect_init_fails("STARLOPS_TRACE", "/proc/self", SL_ERR_ENV, 1);
        /* one rank's typo fails everyone; one rank choosing nccl is a disagreement */
        expect_init_fails("STARLOPS_COMM", "nccl", SL_ERR_RANK_MISMATCH, 1);
        expect_init_fails("STARLOPS_COMM", "foo", SL_ERR_ENV, 1);
        /* ranks that disagree fail everyone */
        expect_init_fails("STARLOPS_TILE", "333", SL_ERR_RANK_MISMATCH, 1);
        const char *comm = getenv("STARLOPS_COMM");
        expect_init_fails("STARLOPS_COMM", comm && strcmp(comm, "rma") == 0 ? "mpi" : "rma",
                          SL_ERR_RANK_MISMATCH, 1);
        expect_init_fails("STARLOPS_RMA_RING", "65536", SL_ERR_RANK_MISMATCH, 1);
        /* the graphs differ with ordered transfers: ranks must agree on them */
        const char *ordered = getenv("STARLOPS_ORDERED_TRANSFERS");
        expect_init_fails("STARLOPS_ORDERED_TRANSFERS", ordered && !strcmp(ordered, "1") ? "0"
                          : "1", SL_ERR_RANK_MISMATCH, 1);
        /* a local tuning: ranks may differ, but a typo on one still fails everyone */
        expect_init_fails("STARLOPS_PROGRESS_US", "fast", SL_ERR_ENV, 1);
    }
}

static void test_valid_context(void)
{
    setenv("STARLOPS_TILE", "4096", 1);
    sl_context *ctx = NULL;
    CHECK_OK(sl_init_comm(MPI_COMM_WORLD, &ctx), ctx);
    if (!ctx)
        return;
    sl_context_info info = {0};
    CHECK_OK(sl_context_get_info(ctx, &info), ctx);
    int p = info.grid_p, q = info.grid_q;
    CHECK(p * q == size && p <= q && (size != 4 || p == 2), "grid %dx%d for %d ranks", p, q,
          size);
    CHECK(info.rank == th_rank && info.size == size, "rank %d size %d", info.rank, info.size);
    CHECK(info.tile_elements == 4096, "STARLOPS_TILE not honoured: %zu", info.tile_elements);
    const char *comm = getenv("STARLOPS_COMM");
    sl_comm_kind want = comm && strcmp(comm, "rma") == 0 ? SL_COMM_RMA : SL_COMM_MPI;
    CHECK(info.comm_kind == want, "backend %d, STARLOPS_COMM=%s", (int)info.comm_kind,
          comm ? comm : "(unset)");
    int same = 0;
    MPI_Comm_compare(info.comm, MPI_COMM_WORLD, &same);
    CHECK(same == MPI_CONGRUENT, "the context's communicator is not a duplicate (%d)", same);
    CHECK_STATUS(sl_context_get_info(ctx, NULL), SL_ERR_NULL, ctx);
    CHECK_STATUS(sl_context_get_info(NULL, &info), SL_ERR_NULL, ctx);
    CHECK_STATUS(sl_wait(NULL), SL_ERR_NULL, ctx);
    CHECK_OK(sl_wait(ctx), ctx);

    sl_context *second = NULL;
    CHECK_STATUS(sl_init_comm(MPI_COMM_WORLD, &second), SL_ERR_STATE, ctx);
    CHECK(second == NULL, "second context returned");
    CHECK_OK(sl_finalize(ctx), ctx);
    unsetenv("STARLOPS_TILE");

    /* an explicit grid, and a new context after the first one ended */
    char grid[32];
    snprintf(grid, sizeof grid, "%dx1", size);
    setenv("STARLOPS_GRID", grid, 1);
    CHECK_OK(sl_init_comm(MPI_COMM_WORLD, &ctx), ctx);
    if (ctx) {
        CHECK_OK(sl_context_get_info(ctx, &info), ctx);
        p = info.grid_p;
        q = info.grid_q;
        CHECK(p == size && q == 1, "STARLOPS_GRID=%s gave %dx%d", grid, p, q);
        CHECK_OK(sl_finalize(ctx), ctx);
    }
    unsetenv("STARLOPS_GRID");
}

static void test_status_text(void)
{
    for (int s = 0; s < SL_STATUS_COUNT; s++)
        CHECK(sl_strerror((sl_status)s) && sl_strerror((sl_status)s)[0], "status %d", s);
    CHECK(sl_strerror((sl_status)-1)[0] != '\0', "negative status");
    CHECK(sl_strerror((sl_status)999)[0] != '\0', "large status");
    CHECK(sl_init_comm(MPI_COMM_WORLD, NULL) == SL_ERR_NULL, "NULL out");
    CHECK(sl_init_comm(MPI_COMM_NULL, &(sl_context *){NULL}) != SL_OK, "MPI_COMM_NULL");
    CHECK(sl_finalize(NULL) == SL_OK, "finalize(NULL)");
    CHECK(sl_last_error(NULL)[0] != '\0', "last_error(NULL)");
}

int main(int argc, char **argv)
{
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &th_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    unsetenv("STARLOPS_TILE");
    test_status_text();
    test_env_errors();
    test_valid_context();
    int rc = th_finish(MPI_COMM_WORLD, "test_context");
    MPI_Finalize();
    return rc;
}
