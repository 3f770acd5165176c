/* Reduction kernels: a tile's dot/vdot/norm partials (two passes, deterministic), reductions
 * along an axis (atomics), and the accumulators' fill/combine/finish. Values are accumulated in
 * double for every element type, as the CPU kernels do. */
#include <math.h>

#include "cuda/cuda_scratch.h"
#include "cuda/device_math.cuh"
#include "cuda/reduce_cuda.h"

namespace {

constexpr unsigned kThreads = 256;

/* How partials combine: sums add, MAX/MIN fold (fmax/fmin ignore a NaN, as on the CPU). */
enum combine { C_SUM, C_MAX, C_MIN };

__host__ __device__ constexpr combine combine_of(int kind)
{
    return kind == SL_RED_MAX_ABS ? C_MAX : kind == SL_RED_MIN_ABS ? C_MIN : C_SUM;
}

__device__ __forceinline__ double identity(combine c)
{
    return c == C_MAX ? -INFINITY : c == C_MIN ? INFINITY : 0.0;
}

__device__ __forceinline__ void fold(combine c, double2 &acc, double2 v)
{
    if (c == C_SUM)
        acc.x += v.x, acc.y += v.y;
    else if (c == C_MAX)
        acc.x = fmax(acc.x, v.x);
    else
        acc.x = fmin(acc.x, v.x);
}

template <typename T> struct is_complex { static constexpr bool value = false; };
template <> struct is_complex<float2> { static constexpr bool value = true; };
template <> struct is_complex<double2> { static constexpr bool value = true; };

/* One element's contribution (re, im) to a reduction of `kind`: the CPU kernels' expressions
 * (a real type's dot leaves im alone, so an Inf in the data cannot make it NaN). */
template <typename T>
__device__ __forceinline__ double2 contribution(int kind, T x, T y, double p)
{
    if (kind == SL_RED_DOT || kind == SL_RED_VDOT) {
        if constexpr (!is_complex<T>::value)
            return make_double2(re_(x) * re_(y), 0.0);
        if (kind == SL_RED_DOT) /* sum x y */
            return make_double2(re_(x) * re_(y) - im_(x) * im_(y),
                                re_(x) * im_(y) + im_(x) * re_(y));
        return make_double2(re_(x) * re_(y) + im_(x) * im_(y), /* sum conj(x) y */
                            re_(x) * im_(y) - im_(x) * re_(y));
    }
    switch (kind) {
    case SL_RED_SUM_ABS2: return make_double2(re_(x) * re_(x) + im_(x) * im_(x), 0.0);
    case SL_RED_SUM_ABS: return make_double2(abs_(x), 0.0);
    case SL_RED_SUM_ABSP: return make_double2(pow(abs_(x), p), 0.0);
    case SL_RED_COUNT_NZ: return make_double2(nonzero(x) ? 1.0 : 0.0, 0.0);
    default: return make_double2(abs_(x), 0.0); /* MAX_ABS, MIN_ABS */
    }
}

/* An element's value in a reduction along an axis: from |x|, as sl_kernel_reduce_axis. */
template <typename T>
__device__ __forceinline__ double axis_value(int kind, T x, double p)
{
    double v = abs_(x);
    switch (kind) {
    case SL_RED_SUM_ABS2: return v * v;
    case SL_RED_SUM_ABSP: return pow(v, p);
    case SL_RED_COUNT_NZ: return v != 0 ? 1.0 : 0.0;
    default: return v; /* SUM_ABS, MAX_ABS, MIN_ABS */
    }
}

/* The block's threads' values combined in a fixed tree order; thread 0 holds the result. */
__device__ double2 block_combine(combine c, double2 v)
{
    __shared__ double2 part[kThreads];
    part[threadIdx.x] = v;
    __syncthreads();
    for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
        if (threadIdx.x < half)
            fold(c, part[threadIdx.x], part[threadIdx.x + half]);
        __syncthreads();
    }
    return part[0];
}

/* Pass 1: block b's partial of the tile into partials[b]. */
template <typename T>
__global__ void reduce_tile(sl_cuda_red r, double2 *partials)
{
    const combine c = combine_of(r.kind);
    double2 acc = make_double2(identity(c), 0.0);
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t row = 0; row < r.ny; row++) {
        const T *x = (const T *)r.a + row * r.ld_a;
        const T *y = r.b ? (const T *)r.b + row * r.ld_b : x;
        for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < r.nx; i += stride)
            fold(c, acc, contribution<T>(r.kind, x[i], y[i], r.p));
    }
    double2 total = block_combine(c, acc);
    if (threadIdx.x == 0)
        partials[blockIdx.x] = total;
}

/* Pass 2: the partials, in block order, folded into the accumulator. */
__global__ void reduce_partials(int kind, const double2 *partials, unsigned n, double *acc)
{
    const combine c = combine_of(kind);
    double2 v = make_double2(identity(c), 0.0);
    for (unsigned i = threadIdx.x; i < n; i += blockDim.x)
        fold(c, v, partials[i]);
    double2 total = block_combine(c, v);
    if (threadIdx.x == 0) {
        double2 a = make_double2(acc[0], acc[1]);
        fold(c, a, total);
        acc[0] = a.x;
        acc[1] = a.y;
    }
}

/* |x| >= 0 (or NaN, skipped) as a signed 64-bit integer orders like the double, and so do the
 * identities -inf (negative) and +inf: atomicMax/atomicMin on the bits are exact. */
__device__ __forceinline__ void atomic_fold(combine c, double *dst, double v)
{
    if (c == C_SUM) {
        atomicAdd(dst, v);
        return;
    }
    if (isnan(v))
        return;
    long long bits = __double_as_longlong(v);
    if (c == C_MAX)
        atomicMax((long long *)dst, bits);
    else
        atomicMin((long long *)dst, bits);
}

template <typename T>
__global__ void reduce_axis_kernel(int kind, size_t nx, size_t ny, const T *a, size_t ld_a,
                                   double p, sl_axis_geometry g, size_t block_ld, double *acc)
{
    const combine c = combine_of(kind);
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t row = blockIdx.y; row < ny; row += gridDim.y)
        for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < nx; i += stride) {
            size_t flat = g.tile_offset + row * block_ld + i;
            size_t pre = flat / (g.len * g.post), post = flat % g.post;
            atomic_fold(c, &acc[pre * g.post + post], axis_value<T>(kind, a[row * ld_a + i], p));
        }
}

__global__ void fill_kernel(double *acc, size_t n, double v)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)blockDim.x * gridDim.x)
        acc[i] = v;
}

__global__ void combine_kernel(double *dst, const double *src, size_t n, int how)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)blockDim.x * gridDim.x)
        dst[i] = how == 0 ? dst[i] + src[i] : how == 1 ? fmax(dst[i], src[i]) : fmin(dst[i], src[i]);
}

__global__ void finish_kernel(double *v, size_t n, int scalar, int root_p, double p)
{
    if (scalar) {
        if (blockIdx.x == 0 && threadIdx.x == 0)
            v[1] = 0.0;
        n = 1;
    }
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)blockDim.x * gridDim.x)
        v[i] = root_p ? pow(v[i], 1.0 / p) : sqrt(v[i]);
}

unsigned blocks_for(size_t n)
{
    size_t b = (n + kThreads - 1) / kThreads;
    return (unsigned)(b < 1 ? 1 : b > 4096 ? 4096 : b);
}

} // namespace

extern "C" cudaError_t sl_cuda_reduce(const sl_cuda_red *r, double *acc, double *scratch,
                                      cudaStream_t stream)
{
    sl_cuda_red q = *r;
    if (q.nx == 0 || q.ny == 0)
        return cudaSuccess;
    if (q.ld_a == q.nx && (!q.b || q.ld_b == q.nx) && q.ny > 1) { /* one long row */
        q.nx *= q.ny;
        q.ny = 1;
        q.ld_a = q.ld_b = q.nx;
    }
    /* Each thread folds >= 4 elements before the block combines: enough work per block, and a
     * block count that depends only on the tile's size (hence a reproducible sum order). */
    size_t nb = (q.nx + 4 * kThreads - 1) / (4 * kThreads);
    unsigned blocks = (unsigned)(nb < 1 ? 1 : nb > SL_CUDA_MAX_BLOCKS ? SL_CUDA_MAX_BLOCKS : nb);
    double2 *partials = (double2 *)scratch;
    switch (q.dtype) {
    case SL_F32: reduce_tile<float><<<blocks, kThreads, 0, stream>>>(q, partials); break;
    case SL_F64: reduce_tile<double><<<blocks, kThreads, 0, stream>>>(q, partials); break;
    case SL_C64: reduce_tile<float2><<<blocks, kThreads, 0, stream>>>(q, partials); break;
    case SL_C128: reduce_tile<double2><<<blocks, kThreads, 0, stream>>>(q, partials); break;
    }
    reduce_partials<<<1, kThreads, 0, stream>>>((int)q.kind, partials, blocks, acc);
    return cudaGetLastError();
}

extern "C" cudaError_t sl_cuda_reduce_axis(sl_reduce_kind kind, sl_dtype dtype, size_t nx,
                                           size_t ny, const void *a, size_t ld_a, double p,
                                           const sl_axis_geometry *g, size_t block_ld,
                                           double *acc, cudaStream_t stream)
{
    if (nx == 0 || ny == 0)
        return cudaSuccess;
    dim3 grid = tile_grid(nx, ny, kThreads, 1024);
    switch (dtype) {
    case SL_F32:
        reduce_axis_kernel<float><<<grid, kThreads, 0, stream>>>(
            kind, nx, ny, (const float *)a, ld_a, p, *g, block_ld, acc);
        break;
    case SL_F64:
        reduce_axis_kernel<double><<<grid, kThreads, 0, stream>>>(
            kind, nx, ny, (const double *)a, ld_a, p, *g, block_ld, acc);
        break;
    case SL_C64:
        reduce_axis_kernel<float2><<<grid, kThreads, 0, stream>>>(
            kind, nx, ny, (const float2 *)a, ld_a, p, *g, block_ld, acc);
        break;
    case SL_C128:
        reduce_axis_kernel<double2><<<grid, kThreads, 0, stream>>>(
            kind, nx, ny, (const double2 *)a, ld_a, p, *g, block_ld, acc);
        break;
    }
    return cudaGetLastError();
}

extern "C" cudaError_t sl_cuda_acc_fill(double *acc, size_t n, double v, cudaStream_t stream)
{
    if (n == 0)
        return cudaSuccess;
    fill_kernel<<<blocks_for(n), kThreads, 0, stream>>>(acc, n, v);
    return cudaGetLastError();
}

extern "C" cudaError_t sl_cuda_acc_combine(double *dst, const double *src, size_t n, int how,
                                           cudaStream_t stream)
{
    if (n == 0)
        return cudaSuccess;
    combine_kernel<<<blocks_for(n), kThreads, 0, stream>>>(dst, src, n, how);
    return cudaGetLastError();
}

extern "C" cudaError_t sl_cuda_acc_finish(double *v, size_t n, int scalar, int root_p, double p,
                                          cudaStream_t stream)
{
    if (n == 0)
        return cudaSuccess;
    finish_kernel<<<blocks_for(scalar ? 1 : n), kThreads, 0, stream>>>(v, n, scalar, root_p, p);
    return cudaGetLastError();
}
