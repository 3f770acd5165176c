/* Elementwise kernel on one tile, for the four element types: the operation, the coefficients
 * read from scalar futures, and BLAS's rule for a zero future coefficient are resolved by every
 * thread (the same few loads from cache), then one grid-stride loop over the tile. */
#include "cuda/device_math.cuh"
#include "cuda/elementwise_cuda.h"

namespace {

/* The operation after the scalar futures are applied: mirrors elementwise.c's drop_zero_terms
 * (a zero future drops its term; host-given zeros keep numpy's arithmetic). */
struct resolved {
    int op;      /* an sl_ew_op, or -1: nothing to do */
    double al[2], be[2];
    const void *a;
    size_t ld_a;
};

__device__ __forceinline__ void times_future(double f[2], const double *s)
{
    double re = f[0] * s[0] - f[1] * s[1];
    double im = f[0] * s[1] + f[1] * s[0];
    f[0] = re;
    f[1] = im;
}

__device__ resolved resolve(const sl_cuda_ew &p)
{
    resolved r = {(int)p.op, {p.alpha[0], p.alpha[1]}, {p.beta[0], p.beta[1]}, p.a, p.ld_a};
    if (p.alpha_dev)
        times_future(r.al, p.alpha_dev);
    if (p.beta_dev)
        times_future(r.be, p.beta_dev);
    bool alpha0 = p.alpha_dev && r.al[0] == 0 && r.al[1] == 0;
    bool beta0 = p.beta_dev && r.be[0] == 0 && r.be[1] == 0;
    if (r.op == SL_EW_AXPY && alpha0)
        r.op = -1;
    else if (r.op == SL_EW_SCALE && alpha0)
        r.op = SL_EW_FILL; /* alpha is 0: out = 0 */
    else if (r.op == SL_EW_AXPBY && alpha0 && beta0)
        r.op = SL_EW_FILL;
    else if (r.op == SL_EW_AXPBY && alpha0) { /* out = beta out */
        r.op = SL_EW_SCALE;
        r.al[0] = r.be[0], r.al[1] = r.be[1];
        r.a = p.out, r.ld_a = p.ld_out;
    } else if (r.op == SL_EW_AXPBY && beta0) { /* out = alpha a */
        r.op = SL_EW_SCALE;
    }
    return r;
}

template <typename T>
__global__ void ew_kernel(sl_cuda_ew p)
{
    const resolved r = resolve(p);
    if (r.op < 0 || (r.op == SL_EW_COPY && r.a == p.out))
        return;
    const T alpha = coef<T>(r.al), beta = coef<T>(r.be);
    const size_t stride = (size_t)blockDim.x * gridDim.x;
    for (size_t row = blockIdx.y; row < p.ny; row += gridDim.y) {
        T *o = (T *)p.out + row * p.ld_out;
        const T *x = r.a ? (const T *)r.a + row * r.ld_a : nullptr;
        const T *y = p.b ? (const T *)p.b + row * p.ld_b : nullptr;
        for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < p.nx; i += stride) {
            switch (r.op) {
            case SL_EW_FILL: o[i] = alpha; break;
            case SL_EW_COPY: o[i] = x[i]; break;
            case SL_EW_SCALE: o[i] = mul(alpha, x[i]); break;
            case SL_EW_AXPBY: o[i] = add(mul(alpha, x[i]), mul(beta, o[i])); break;
            case SL_EW_AXPY: o[i] = add(o[i], mul(alpha, x[i])); break;
            case SL_EW_ADD: o[i] = add(x[i], y[i]); break;
            case SL_EW_SUB: o[i] = sub(x[i], y[i]); break;
            case SL_EW_MUL: o[i] = mul(x[i], y[i]); break;
            case SL_EW_CONJ: o[i] = conj_(x[i]); break;
            case SL_EW_CMUL: o[i] = mul(conj_(x[i]), y[i]); break;
            default: break;
            }
        }
    }
}

} // namespace

extern "C" cudaError_t sl_cuda_elementwise(const sl_cuda_ew *p, cudaStream_t stream)
{
    sl_cuda_ew q = *p;
    if (q.nx == 0 || q.ny == 0)
        return cudaSuccess;
    /* Rows back to back in every operand (always so for device copies): one long row. */
    bool packed = q.ld_out == q.nx && (!q.a || q.ld_a == q.nx) && (!q.b || q.ld_b == q.nx);
    if (packed && q.ny > 1) {
        q.nx *= q.ny;
        q.ny = 1;
        q.ld_out = q.ld_a = q.ld_b = q.nx;
    }
    const unsigned threads = 256;
    dim3 grid = tile_grid(q.nx, q.ny, threads, 4096);
    switch (q.dtype) {
    case SL_F32: ew_kernel<float><<<grid, threads, 0, stream>>>(q); break;
    case SL_F64: ew_kernel<double><<<grid, threads, 0, stream>>>(q); break;
    case SL_C64: ew_kernel<float2><<<grid, threads, 0, stream>>>(q); break;
    case SL_C128: ew_kernel<double2><<<grid, threads, 0, stream>>>(q); break;
    }
    return cudaGetLastError();
}
