/* Collective checks run by the host thread on host_comm (never by tasks), and the resources
 * that need them: tag booking and mask sub-communicators. */
#include <stdlib.h>
#include <string.h>

#include "runtime/context_internal.h"

#define AGREE_MAX 64

sl_status sl_agree(sl_context *ctx, const int64_t *values, int count, int local_ok,
                   const char *what)
{
    if (count < 0 || count > AGREE_MAX)
        return sl_fail(ctx, SL_ERR_ARG, "internal: sl_agree on %d values", count);
    /* max(v) and max(-v) in one call: ranks agree iff max == min for every value. */
    int64_t both[2 * (AGREE_MAX + 1)], red[2 * (AGREE_MAX + 1)];
    int n = count + 1;
    both[0] = local_ok ? 0 : 1;
    for (int i = 0; i < count; i++)
        both[1 + i] = values[i];
    for (int i = 0; i < n; i++)
        both[n + i] = -both[i];
    if (MPI_Allreduce(both, red, 2 * n, MPI_INT64_T, MPI_MAX, ctx->host_comm) != MPI_SUCCESS)
        return sl_fail(ctx, SL_ERR_MPI, "%s: MPI_Allreduce failed while checking arguments",
                       what);
    if (!local_ok)
        return SL_ERR_ARG; /* this rank's own message is already set */
    if (red[0] != 0)
        return sl_fail(ctx, SL_ERR_ARG, "%s: invalid arguments on another rank", what);
    for (int i = 1; i < n; i++)
        if (red[i] != -red[n + i])
            return sl_fail(ctx, SL_ERR_RANK_MISMATCH,
                           "%s: ranks passed different arguments (value #%d ranges from %lld "
                           "to %lld across ranks)",
                           what, i - 1, (long long)-red[n + i], (long long)red[i]);
    return SL_OK;
}

int64_t sl_tags_book(sl_context *ctx, int64_t count)
{
    int64_t first = ctx->next_tag;
    ctx->next_tag += count;
    return first;
}

sl_status sl_mask_comm(sl_context *ctx, const int *mask, MPI_Comm *comm)
{
    if (!mask) {
        *comm = ctx->task_comm;
        return SL_OK;
    }
    size_t bytes = (size_t)ctx->size * sizeof *mask;
    for (sl_mask_group *g = ctx->mask_groups; g; g = g->next)
        if (memcmp(g->colours, mask, bytes) == 0) {
            *comm = g->comm;
            return SL_OK;
        }
    sl_mask_group *g = calloc(1, sizeof *g);
    int *colours = malloc(bytes);
    if (!g || !colours) {
        free(g);
        free(colours);
        return sl_fail(ctx, SL_ERR_NOMEM, "cannot allocate a mask group");
    }
    memcpy(colours, mask, bytes);
    /* Split off host_comm (a host-side collective); the result is used only by tasks. */
    if (MPI_Comm_split(ctx->host_comm, mask[ctx->rank], ctx->rank, &g->comm) != MPI_SUCCESS) {
        free(g);
        free(colours);
        return sl_fail(ctx, SL_ERR_MPI, "MPI_Comm_split for a mask failed");
    }
    g->colours = colours;
    g->next = ctx->mask_groups;
    ctx->mask_groups = g;
    *comm = g->comm;
    return SL_OK;
}
