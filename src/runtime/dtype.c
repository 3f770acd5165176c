/* Element type facts. */
#include <complex.h>

#include <starlops/dtype.h>

size_t sl_dtype_size(sl_dtype dtype)
{
    switch (dtype) {
    case SL_F32: return sizeof(float);
    case SL_F64: return sizeof(double);
    case SL_C64: return sizeof(float _Complex);
    case SL_C128: return sizeof(double _Complex);
    }
    return 0;
}

const char *sl_dtype_name(sl_dtype dtype)
{
    switch (dtype) {
    case SL_F32: return "float32";
    case SL_F64: return "float64";
    case SL_C64: return "complex64";
    case SL_C128: return "complex128";
    }
    return "invalid";
}

int sl_dtype_is_complex(sl_dtype dtype)
{
    return dtype == SL_C64 || dtype == SL_C128;
}
