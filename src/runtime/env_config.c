/* Reading STARLOPS_* environment variables into an sl_config. Invalid values are errors (never
 * silently replaced by defaults): a typo in a tuning variable should not go unnoticed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/context_internal.h"

#define DEFAULT_TILE_ELEMENTS ((size_t)1 << 20)

static int parse_positive(const char *s, long long max, long long *value)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0' || v <= 0 || v > max)
        return 0;
    *value = v;
    return 1;
}

static sl_status parse_tile(sl_config *c, char *msg, size_t len)
{
    const char *s = getenv("STARLOPS_TILE");
    long long v;
    if (!s)
        return SL_OK;
    if (!parse_positive(s, (long long)1 << 40, &v)) {
        snprintf(msg, len, "STARLOPS_TILE='%s' is not a positive integer number of elements", s);
        return SL_ERR_ENV;
    }
    c->tile_elements = (size_t)v;
    return SL_OK;
}

static sl_status parse_grid(sl_config *c, char *msg, size_t len)
{
    const char *s = getenv("STARLOPS_GRID");
    if (!s)
        return SL_OK;
    char buf[64];
    const char *x = strchr(s, 'x');
    long long p, q;
    if (!x || (size_t)(x - s) >= sizeof buf) {
        snprintf(msg, len, "STARLOPS_GRID='%s' is not of the form PxQ (e.g. 2x3)", s);
        return SL_ERR_ENV;
    }
    memcpy(buf, s, (size_t)(x - s));
    buf[x - s] = '\0';
    if (!parse_positive(buf, 1 << 20, &p) || !parse_positive(x + 1, 1 << 20, &q)) {
        snprintf(msg, len, "STARLOPS_GRID='%s': P and Q must be positive integers", s);
        return SL_ERR_ENV;
    }
    c->grid_p = (int)p;
    c->grid_q = (int)q;
    return SL_OK;
}

static sl_status parse_comm(sl_config *c, char *msg, size_t len)
{
    const char *s = getenv("STARLOPS_COMM");
    if (!s || strcmp(s, "mpi") == 0)
        return SL_OK;
    if (strcmp(s, "rma") == 0) {
        c->comm_kind = SL_COMM_RMA;
        return SL_OK;
    }
    if (strcmp(s, "nccl") == 0) {
#ifdef STARLOPS_HAVE_NCCL
        c->comm_kind = SL_COMM_NCCL;
        return SL_OK;
#else
        snprintf(msg, len, "STARLOPS_COMM='%s': this build has no NCCL backend (it needs CUDA, "
                 "a StarPU with CUDA and NCCL at build time; use mpi)", s);
        return SL_ERR_UNSUPPORTED;
#endif
    }
    snprintf(msg, len, "STARLOPS_COMM='%s' is not one of mpi, rma, nccl", s);
    return SL_ERR_ENV;
}

/* Bytes of each source's ring in the one-sided backend's window (rma_engine.h). */
static sl_status parse_rma_ring(sl_config *c, char *msg, size_t len)
{
    const char *s = getenv("STARLOPS_RMA_RING");
    long long v;
    if (!s)
        return SL_OK;
    if (!parse_positive(s, (long long)1 << 30, &v) || v < 4096) {
        snprintf(msg, len, "STARLOPS_RMA_RING='%s' is not a number of bytes in [4096, 2^30]", s);
        return SL_ERR_ENV;
    }
    c->rma_ring_bytes = (size_t)v;
    return SL_OK;
}

/* Microseconds between two polls of the progress thread while communication is pending
 * (request_poller.h); 0 turns the thread off. */
static sl_status parse_progress(sl_config *c, char *msg, size_t len)
{
    const char *s = getenv("STARLOPS_PROGRESS_US");
    long long v;
    if (!s)
        return SL_OK;
    if (strcmp(s, "0") == 0) {
        c->progress_us = 0;
        return SL_OK;
    }
    if (!parse_positive(s, 1000000, &v)) {
        snprintf(msg, len, "STARLOPS_PROGRESS_US='%s' is not a number of microseconds in "
                 "[0, 1000000] (0: no progress thread)", s);
        return SL_ERR_ENV;
    }
    c->progress_us = (int)v;
    return SL_OK;
}

/* 1: operators build their transfers as ordered collectives and exchanges (the graph NCCL
 * needs) under every backend; 0: only where the backend needs it. */
static sl_status parse_ordered(sl_config *c, char *msg, size_t len)
{
    const char *s = getenv("STARLOPS_ORDERED_TRANSFERS");
    if (!s)
        return SL_OK;
    if (strcmp(s, "0") != 0 && strcmp(s, "1") != 0) {
        snprintf(msg, len, "STARLOPS_ORDERED_TRANSFERS='%s' is not 0 or 1", s);
        return SL_ERR_ENV;
    }
    c->ordered_transfers = s[0] == '1';
    return SL_OK;
}

/* Whether stencils store their output past the caches (codelets/cpu/stencil_kernels.h):
 * auto (outputs of a task beyond SL_STENCIL_STREAM_BYTES), on, off. A local choice: results
 * agree to rounding either way, so ranks need not agree on it. */
static sl_status parse_stream(sl_config *c, char *msg, size_t len)
{
    const char *s = getenv("STARLOPS_STREAM_STORES");
    if (!s || strcmp(s, "auto") == 0)
        return SL_OK;
    if (strcmp(s, "on") != 0 && strcmp(s, "off") != 0) {
        snprintf(msg, len, "STARLOPS_STREAM_STORES='%s' is not one of auto, on, off", s);
        return SL_ERR_ENV;
    }
    c->stream_stores = strcmp(s, "on") == 0;
    return SL_OK;
}

static sl_status parse_trace(sl_config *c, char *msg, size_t len)
{
    const char *s = getenv("STARLOPS_TRACE");
    if (!s)
        return SL_OK;
    if (*s == '\0' || strlen(s) >= sizeof c->trace_dir) {
        snprintf(msg, len, "STARLOPS_TRACE must be a directory path of 1 to %zu characters",
                 sizeof c->trace_dir - 1);
        return SL_ERR_ENV;
    }
    strcpy(c->trace_dir, s);
    return SL_OK;
}

sl_status sl_config_from_env(sl_config *c, char *msg, size_t len)
{
    memset(c, 0, sizeof *c);
    c->tile_elements = DEFAULT_TILE_ELEMENTS;
    c->comm_kind = SL_COMM_MPI;
    c->progress_us = -1; /* context.c decides from the cores */
    c->stream_stores = -1;
    sl_status st;
    if ((st = parse_tile(c, msg, len)) != SL_OK) return st;
    if ((st = parse_grid(c, msg, len)) != SL_OK) return st;
    if ((st = parse_comm(c, msg, len)) != SL_OK) return st;
    if ((st = parse_rma_ring(c, msg, len)) != SL_OK) return st;
    if ((st = parse_progress(c, msg, len)) != SL_OK) return st;
    if ((st = parse_ordered(c, msg, len)) != SL_OK) return st;
    if ((st = parse_stream(c, msg, len)) != SL_OK) return st;
    return parse_trace(c, msg, len);
}
