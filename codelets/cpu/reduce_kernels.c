/* Reduction tile kernels: partial sums in double precision (also for float data, which keeps
 * float32 dot products close to numpy's pairwise sums), folded into the accumulator. */
#include <complex.h>
#include <math.h>

#include "cpu/kernels.h"

#define ROWS(T)                                                   \
    for (size_t r = 0; r < s.ny; r++) {                           \
        const T *x = (const T *)a + r * s.ld;                     \
        const T *y = b ? (const T *)b + r * s.ld : NULL;          \
        (void)y;                                                  \
        for (size_t i = 0; i < s.nx; i++)

#define END_ROWS }

/* Real types: |v| = fabs, conj is the identity. */
#define DEFINE_REAL_REDUCE(NAME, T)                                                        \
    static void NAME(sl_reduce_kind kind, sl_tile_shape s, const void *a, const void *b,   \
                     double p, double acc[2])                                              \
    {                                                                                      \
        double sum = 0.0;                                                                  \
        switch (kind) {                                                                    \
        case SL_RED_DOT:                                                                   \
        case SL_RED_VDOT: ROWS(T) sum += (double)x[i] * (double)y[i]; END_ROWS break;      \
        case SL_RED_SUM_ABS2: ROWS(T) sum += (double)x[i] * (double)x[i]; END_ROWS break;  \
        case SL_RED_SUM_ABS: ROWS(T) sum += fabs((double)x[i]); END_ROWS break;            \
        case SL_RED_SUM_ABSP: ROWS(T) sum += pow(fabs((double)x[i]), p); END_ROWS break;   \
        case SL_RED_COUNT_NZ: ROWS(T) sum += x[i] != 0; END_ROWS break;                    \
        case SL_RED_MAX_ABS:                                                               \
            ROWS(T) acc[0] = fmax(acc[0], fabs((double)x[i])); END_ROWS return;            \
        case SL_RED_MIN_ABS:                                                               \
            ROWS(T) acc[0] = fmin(acc[0], fabs((double)x[i])); END_ROWS return;            \
        default: return;                                                                   \
        }                                                                                  \
        acc[0] += sum;                                                                     \
    }

#define DEFINE_COMPLEX_REDUCE(NAME, T, CONJ, ABS)                                          \
    static void NAME(sl_reduce_kind kind, sl_tile_shape s, const void *a, const void *b,   \
                     double p, double acc[2])                                              \
    {                                                                                      \
        double _Complex sum = 0.0;                                                         \
        double rsum = 0.0;                                                                 \
        switch (kind) {                                                                    \
        case SL_RED_DOT: ROWS(T) sum += (double _Complex)x[i] * y[i]; END_ROWS break;      \
        case SL_RED_VDOT: ROWS(T) sum += (double _Complex)CONJ(x[i]) * y[i]; END_ROWS break; \
        case SL_RED_SUM_ABS2:                                                              \
            ROWS(T) {                                                                      \
                double re = creal(x[i]), im = cimag(x[i]);                                 \
                rsum += re * re + im * im;                                                 \
            }                                                                              \
            END_ROWS break;                                                                \
        case SL_RED_SUM_ABS: ROWS(T) rsum += ABS(x[i]); END_ROWS break;                    \
        case SL_RED_SUM_ABSP: ROWS(T) rsum += pow(ABS(x[i]), p); END_ROWS break;           \
        case SL_RED_COUNT_NZ: ROWS(T) rsum += x[i] != 0; END_ROWS break;                   \
        case SL_RED_MAX_ABS: ROWS(T) acc[0] = fmax(acc[0], ABS(x[i])); END_ROWS return;    \
        case SL_RED_MIN_ABS: ROWS(T) acc[0] = fmin(acc[0], ABS(x[i])); END_ROWS return;    \
        default: return;                                                                   \
        }                                                                                  \
        acc[0] += creal(sum) + rsum;                                                       \
        acc[1] += cimag(sum);                                                              \
    }

/* |z| of a float complex evaluated in double, as numpy's float32 abs is accurate to float. */
static double abs_c64(float _Complex z) { return hypot((double)crealf(z), (double)cimagf(z)); }

DEFINE_REAL_REDUCE(red_f32, float)
DEFINE_REAL_REDUCE(red_f64, double)
DEFINE_COMPLEX_REDUCE(red_c64, float _Complex, conjf, abs_c64)
DEFINE_COMPLEX_REDUCE(red_c128, double _Complex, conj, cabs)

void sl_kernel_reduce(sl_reduce_kind kind, sl_dtype dtype, sl_tile_shape s, const void *a,
                      const void *b, double p, double acc[2])
{
    switch (dtype) {
    case SL_F32: red_f32(kind, s, a, b, p, acc); break;
    case SL_F64: red_f64(kind, s, a, b, p, acc); break;
    case SL_C64: red_c64(kind, s, a, b, p, acc); break;
    case SL_C128: red_c128(kind, s, a, b, p, acc); break;
    }
}
