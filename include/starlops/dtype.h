/* Element types of distributed arrays and operators. */
#ifndef STARLOPS_DTYPE_H
#define STARLOPS_DTYPE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sl_dtype {
    SL_F32 = 0, /* float */
    SL_F64 = 1, /* double */
    SL_C64 = 2, /* float _Complex */
    SL_C128 = 3 /* double _Complex */
} sl_dtype;

#define SL_DTYPE_COUNT 4

/* Bytes per element, or 0 for an invalid dtype. */
size_t sl_dtype_size(sl_dtype dtype);
/* numpy-style name ("float32", "complex128", ...), or "invalid". */
const char *sl_dtype_name(sl_dtype dtype);
/* 1 for SL_C64/SL_C128. */
int sl_dtype_is_complex(sl_dtype dtype);

#ifdef __cplusplus
}
#endif
#endif
