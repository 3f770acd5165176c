/* Device arithmetic on the four element types, shared by the kernels: float, double, and the
 * complex types as float2 / double2 (re, im), whose layout is C's float/double _Complex.
 * Complex products use the textbook formula, as the CPU kernels do (-fcx-limited-range), so
 * both kinds of worker compute the same expression. */
#ifndef STARLOPS_DEVICE_MATH_CUH
#define STARLOPS_DEVICE_MATH_CUH

#include <cuda_runtime.h>

/* A coefficient given as (re, im) in double, converted to the element type (real types keep
 * re, as the CPU kernels do). */
template <typename T> __device__ __forceinline__ T coef(const double c[2]);
template <> __device__ __forceinline__ float coef<float>(const double c[2]) { return (float)c[0]; }
template <> __device__ __forceinline__ double coef<double>(const double c[2]) { return c[0]; }
template <> __device__ __forceinline__ float2 coef<float2>(const double c[2])
{
    return make_float2((float)c[0], (float)c[1]);
}
template <> __device__ __forceinline__ double2 coef<double2>(const double c[2])
{
    return make_double2(c[0], c[1]);
}

__device__ __forceinline__ float mul(float a, float b) { return a * b; }
__device__ __forceinline__ double mul(double a, double b) { return a * b; }
__device__ __forceinline__ float2 mul(float2 a, float2 b)
{
    return make_float2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}
__device__ __forceinline__ double2 mul(double2 a, double2 b)
{
    return make_double2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

__device__ __forceinline__ float add(float a, float b) { return a + b; }
__device__ __forceinline__ double add(double a, double b) { return a + b; }
__device__ __forceinline__ float2 add(float2 a, float2 b) { return make_float2(a.x + b.x, a.y + b.y); }
__device__ __forceinline__ double2 add(double2 a, double2 b)
{
    return make_double2(a.x + b.x, a.y + b.y);
}

__device__ __forceinline__ float sub(float a, float b) { return a - b; }
__device__ __forceinline__ double sub(double a, double b) { return a - b; }
__device__ __forceinline__ float2 sub(float2 a, float2 b) { return make_float2(a.x - b.x, a.y - b.y); }
__device__ __forceinline__ double2 sub(double2 a, double2 b)
{
    return make_double2(a.x - b.x, a.y - b.y);
}

__device__ __forceinline__ float conj_(float a) { return a; }
__device__ __forceinline__ double conj_(double a) { return a; }
__device__ __forceinline__ float2 conj_(float2 a) { return make_float2(a.x, -a.y); }
__device__ __forceinline__ double2 conj_(double2 a) { return make_double2(a.x, -a.y); }

/* Real and imaginary parts in double (what reductions accumulate). */
__device__ __forceinline__ double re_(float a) { return (double)a; }
__device__ __forceinline__ double re_(double a) { return a; }
__device__ __forceinline__ double re_(float2 a) { return (double)a.x; }
__device__ __forceinline__ double re_(double2 a) { return a.x; }
__device__ __forceinline__ double im_(float) { return 0.0; }
__device__ __forceinline__ double im_(double) { return 0.0; }
__device__ __forceinline__ double im_(float2 a) { return (double)a.y; }
__device__ __forceinline__ double im_(double2 a) { return a.y; }

/* |a| in double: a float complex modulus is evaluated in double (as the CPU's hypot). */
__device__ __forceinline__ double abs_(float a) { return fabs((double)a); }
__device__ __forceinline__ double abs_(double a) { return fabs(a); }
__device__ __forceinline__ double abs_(float2 a) { return hypot((double)a.x, (double)a.y); }
__device__ __forceinline__ double abs_(double2 a) { return hypot(a.x, a.y); }

__device__ __forceinline__ bool nonzero(float a) { return a != 0; }
__device__ __forceinline__ bool nonzero(double a) { return a != 0; }
__device__ __forceinline__ bool nonzero(float2 a) { return a.x != 0 || a.y != 0; }
__device__ __forceinline__ bool nonzero(double2 a) { return a.x != 0 || a.y != 0; }

/* Grid shape of a loop over a tile of ny rows of nx elements: x covers a row (grid-stride),
 * y the rows. Capped so a huge tile is covered by strides rather than by a huge grid. */
static inline dim3 tile_grid(size_t nx, size_t ny, unsigned threads, unsigned max_x)
{
    size_t bx = (nx + threads - 1) / threads;
    if (bx < 1)
        bx = 1;
    if (bx > max_x)
        bx = max_x;
    size_t by = ny < 65535 ? ny : 65535;
    return dim3((unsigned)bx, (unsigned)(by ? by : 1), 1);
}

#endif
