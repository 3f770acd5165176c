/* A communication buffer as rows of bytes, from the StarPU interface of a running task's
 * handle: a vector is one row; a matrix tile has ny rows of nx elements, ld elements apart
 * (strided when ld > nx). Shared by the backends. */
#ifndef STARLOPS_COMM_BUFFER_H
#define STARLOPS_COMM_BUFFER_H

#include <starpu.h>

typedef struct sl_comm_buffer {
    char *ptr;
    size_t rows, row_bytes, ld_bytes;
} sl_comm_buffer;

static inline sl_comm_buffer sl_comm_buffer_of(void *iface)
{
    /* every StarPU 1.3 interface starts with its id */
    if (*(const enum starpu_data_interface_id *)iface == STARPU_MATRIX_INTERFACE_ID) {
        size_t es = STARPU_MATRIX_GET_ELEMSIZE(iface);
        return (sl_comm_buffer){(char *)STARPU_MATRIX_GET_PTR(iface), STARPU_MATRIX_GET_NY(iface),
                                STARPU_MATRIX_GET_NX(iface) * es, STARPU_MATRIX_GET_LD(iface) * es};
    }
    size_t bytes = STARPU_VECTOR_GET_NX(iface) * STARPU_VECTOR_GET_ELEMSIZE(iface);
    return (sl_comm_buffer){(char *)STARPU_VECTOR_GET_PTR(iface), 1, bytes, bytes};
}

/* Rows not side by side: the bytes are not one contiguous run. */
static inline int sl_comm_buffer_strided(sl_comm_buffer b)
{
    return b.rows > 1 && b.ld_bytes != b.row_bytes;
}

#endif
