/* Messages over MPI one-sided communication: the transport of the rma backend (comm_rma.c).
 *
 * One window per context, from MPI_Win_allocate, collectively, locked with lock_all for its
 * whole life (passive target: no rank ever waits for another to open an epoch). Each rank's
 * window holds one ring buffer per source rank plus two counters per peer. A message from s to
 * d is a 32-byte header (kind, group key, id, size) followed by its bytes, written by s with
 * MPI_Put into s's ring at d; after an MPI_Win_flush, s publishes how many bytes it has written
 * (an MPI_Accumulate/MPI_REPLACE into d's counter), which is the completion notice: d reads it
 * with an atomic fetch (MPI_NO_OP) in its progress call, never waiting. d copies the bytes to
 * the matching receive (or, when no receive is posted yet, to an "unexpected" buffer, as MPI
 * does for early messages) and publishes how far it has read into s's window, which gives s
 * room to write again. Messages larger than the ring stream through it in pieces.
 *
 * Staggering: the rings start 64 B past page boundaries, and differently per source, because
 * copies between page-aligned buffers ran at 3.5 GB/s instead of ~40 GB/s on this machine kind
 * (../shared/research/msg_roofline.md).
 *
 * Thread safety: every call takes the engine's lock; progress only tries it. */
#ifndef STARLOPS_RMA_ENGINE_H
#define STARLOPS_RMA_ENGINE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>
#include <starlops/status.h>

typedef struct sl_rma_engine sl_rma_engine;

/* What several messages of one operation share: the engine decrements `remaining` once per
 * message when it has left (send: all its bytes are in the target's ring and flushed) or
 * arrived (receive), and sets `failed` when one failed (MPI error, size or kind mismatch). */
typedef struct sl_rma_completion {
    int remaining;
    int failed;
} sl_rma_completion;

/* Identifies a message between two ranks; a receive matches the message with the same key
 * and id. kind and the size are then checked: a mismatch fails the receive, never hangs. */
typedef struct sl_rma_match {
    uint32_t kind, key;
    uint64_t id;
} sl_rma_match;

/* Collective over comm. ring_bytes: bytes of each source's ring (>= 4096). */
sl_status sl_rma_engine_create(MPI_Comm comm, size_t ring_bytes, sl_rma_engine **out);
/* Collective: unlocks and frees the window (messages still queued fail). Progress calls made
 * later return at once; free the engine when no thread can make one any more. */
void sl_rma_engine_destroy(sl_rma_engine *e);
void sl_rma_engine_free(sl_rma_engine *e);

/* Both return at once; the bytes must stay valid (send) / untouched (receive) until the
 * completion counts the message. peer: a rank of the engine's communicator, not this one.
 * On an error (returned and counted) the message is counted as failed, so the completion
 * still reaches zero. */
sl_status sl_rma_send(sl_rma_engine *e, int peer, sl_rma_match m, const void *buf, size_t bytes,
                      sl_rma_completion *c);
sl_status sl_rma_recv(sl_rma_engine *e, int peer, sl_rma_match m, void *buf, size_t bytes,
                      sl_rma_completion *c);

/* Moves what can move without waiting; nonzero while sends, receives or a partly arrived
 * message are pending (or another thread holds the engine). */
int sl_rma_progress(sl_rma_engine *e);

/* MPI calls that failed, messages that did not match, memory that was missing. */
unsigned long sl_rma_failures(const sl_rma_engine *e);

/* Bytes of the window per rank for `nranks` ranks and rings of ring_bytes (for messages). */
size_t sl_rma_window_bytes(int nranks, size_t ring_bytes);

#endif
