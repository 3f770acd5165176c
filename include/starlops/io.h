/* .npy files (NumPy format versions 1.0, 2.0 and 3.0), little-endian float32, float64,
 * complex64 and complex128, C or Fortran order. Anything else is refused with a message. */
#ifndef STARLOPS_IO_H
#define STARLOPS_IO_H

#include <stddef.h>
#include <starlops/context.h>
#include <starlops/darray.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_npy_array {
    sl_dtype dtype;
    int ndim;
    size_t shape[SL_MAX_NDIM];
    void *data; /* C order, malloc'ed (free with sl_npy_free) */
} sl_npy_array;

/* Reads a whole file (Fortran-order files are transposed to C order). On failure nothing is
 * allocated and, when ctx is not NULL, sl_last_error(ctx) says what was wrong. */
sl_status sl_npy_read(sl_context *ctx, const char *path, sl_npy_array *out);
/* Writes a C-order array (version 1.0, or 2.0 for very long headers). The file is written to a
 * temporary name and renamed, so a failure never leaves a partial file at `path`. An existing
 * target that is not a regular file, or whose owner has no write permission, is refused (the
 * rename would ignore its permissions); a replaced file keeps its mode; a symbolic link to a
 * file keeps its name and the file it points to is replaced. */
sl_status sl_npy_write(sl_context *ctx, const char *path, sl_dtype dtype, int ndim,
                       const size_t *shape, const void *data);
void sl_npy_free(sl_npy_array *a);

#ifdef __cplusplus
}
#endif
#endif
