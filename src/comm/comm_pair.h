/* The two tasks of every communication operation (comm.h): a post task (with the backend's
 * token first when posting must follow submission order) and a completion task over the same
 * buffers, which runs after the post by an explicit dependency. For backends whose posting is
 * ordered by a token (mpi): the token is released with the post, the buffers with the
 * completion. (The rma backend needs no token and uses one task per operation.) */
#ifndef STARLOPS_COMM_PAIR_H
#define STARLOPS_COMM_PAIR_H

#include <starpu.h>
#include <starlops/status.h>

typedef struct sl_comm_pair {
    struct starpu_codelet *post, *complete;
    void *op;                   /* both tasks receive this pointer as their argument */
    starpu_data_handle_t token; /* NULL: posting needs no order */
    void (*free_op)(void *op);  /* when nothing could be submitted */
    unsigned long *failures;    /* counted when the post was submitted but not the completion */
} sl_comm_pair;

/* d[0..n): the operation's buffers and the post task's modes; the completion task keeps R
 * for what is only read and takes RW for the rest (received values stay). On failure nothing
 * is left behind and op is freed. */
sl_status sl_comm_submit_pair(const sl_comm_pair *p, const struct starpu_data_descr *d, int n);

#endif
