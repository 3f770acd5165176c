/* Point-to-point transfers of whole handles through StarPU-MPI's detached requests, counted
 * in the communication layer's traffic counters. StarPU-MPI orders each request after the
 * handle's earlier tasks and progresses it on its own thread, so a transfer submitted early
 * overlaps the tasks submitted after it (what SUMMA's lookahead relies on). */
#include <starpu_mpi.h>

#include "comm/comm.h"

sl_status sl_comm_send(sl_comm *c, starpu_data_handle_t h, int dest, int64_t tag, MPI_Comm comm)
{
    if (starpu_mpi_isend_detached(h, dest, tag, comm, NULL, NULL) != 0)
        return SL_ERR_STARPU;
    sl_comm_count(c, starpu_data_get_size(h), 0);
    return SL_OK;
}

sl_status sl_comm_recv(sl_comm *c, starpu_data_handle_t h, int src, int64_t tag, MPI_Comm comm)
{
    if (starpu_mpi_irecv_detached(h, src, tag, comm, NULL, NULL) != 0)
        return SL_ERR_STARPU;
    sl_comm_count(c, 0, starpu_data_get_size(h));
    return SL_OK;
}
