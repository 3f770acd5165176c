/* Scalar-future kernels, one thread each: the same arithmetic as scalar.c's CPU functions. */
#include <math.h>

#include "cuda/scalar_cuda.h"

#include "guard_codes.h"

/* Must match scalar.h's sl_combine_how, which C++ cannot include here. */
enum { COMBINE_SUM, COMBINE_MAX, COMBINE_MIN, COMBINE_PNORM };

namespace {

__global__ void set_kernel(double *s, double re, double im)
{
    s[0] = re;
    s[1] = im;
}

/* At most SL_CUDA_COMBINE_MAX_PARTS pointers travel by value; more parts take several launches
 * that carry the running (re, im) in out (first: start from the identity; last: finish). */
struct parts {
    const double *p[SL_CUDA_COMBINE_MAX_PARTS];
};

__global__ void combine_kernel(double *out, parts in, int n, int how, double p, int first,
                               int last)
{
    double re = first ? (how == COMBINE_MAX ? -INFINITY : how == COMBINE_MIN ? INFINITY : 0.0)
                      : out[0];
    double im = first ? 0.0 : out[1];
    for (int i = 0; i < n; i++) {
        const double *v = in.p[i];
        switch (how) {
        case COMBINE_SUM: re += v[0]; im += v[1]; break;
        case COMBINE_MAX: re = fmax(re, v[0]); break;
        case COMBINE_MIN: re = fmin(re, v[0]); break;
        case COMBINE_PNORM: re += pow(v[0], p); break;
        }
    }
    out[0] = last && how == COMBINE_PNORM ? pow(re, 1.0 / p) : re;
    out[1] = im;
}

__global__ void ratio_kernel(double *out, const double *num_p, const double *den1,
                             const double *den2, double w, double *guard, double completed)
{
    double den = den1[0] + (den2 ? w * den2[0] : 0.0);
    out[0] = sl_guarded_ratio(num_p[0], den, guard, completed); /* as scalar.c */
    out[1] = 0.0;
}

} // namespace

extern "C" cudaError_t sl_cuda_scalar_set(double *s, double re, double im, cudaStream_t stream)
{
    set_kernel<<<1, 1, 0, stream>>>(s, re, im);
    return cudaGetLastError();
}

extern "C" cudaError_t sl_cuda_scalar_combine(double *out, const double *const *in, int n,
                                              int how, double p, cudaStream_t stream)
{
    int done = 0;
    do {
        parts chunk = {};
        int m = n - done < SL_CUDA_COMBINE_MAX_PARTS ? n - done : SL_CUDA_COMBINE_MAX_PARTS;
        for (int i = 0; i < m; i++)
            chunk.p[i] = in[done + i];
        combine_kernel<<<1, 1, 0, stream>>>(out, chunk, m, how, p, done == 0, done + m == n);
        done += m;
    } while (done < n);
    return cudaGetLastError();
}

extern "C" cudaError_t sl_cuda_scalar_ratio(double *out, const double *num, const double *den1,
                                            const double *den2, double w, double *guard,
                                            double completed, cudaStream_t stream)
{
    ratio_kernel<<<1, 1, 0, stream>>>(out, num, den1, den2, w, guard, completed);
    return cudaGetLastError();
}
