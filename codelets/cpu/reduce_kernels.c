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

/* Sum of EXPR(i) over a row with 8 independent partial sums: a single running sum is bound by
 * the add latency (~4 cycles), far below memory bandwidth; 8 chains keep the adds pipelined
 * (and the pairwise-like order is slightly more accurate). */
#define ROW_SUM8(acc, n, EXPR)                                                    \
    do {                                                                         \
        double p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0;   \
        size_t i = 0;                                                            \
        for (; i + 8 <= (n); i += 8) {                                           \
            p0 += EXPR(i); p1 += EXPR(i + 1); p2 += EXPR(i + 2); p3 += EXPR(i + 3); \
            p4 += EXPR(i + 4); p5 += EXPR(i + 5); p6 += EXPR(i + 6); p7 += EXPR(i + 7); \
        }                                                                        \
        for (; i < (n); i++)                                                     \
            p0 += EXPR(i);                                                       \
        (acc) += ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7));              \
    } while (0)

#define ROW_LOOP(T, STMT)                                         \
    for (size_t r = 0; r < s.ny; r++) {                           \
        const T *x = (const T *)a + r * s.ld;                     \
        const T *y = b ? (const T *)b + r * s.ld : NULL;          \
        (void)y;                                                  \
        STMT;                                                     \
    }

#define R_DOT(i) ((double)x[i] * (double)y[i])
#define R_ABS2(i) ((double)x[i] * (double)x[i])
#define R_ABS(i) fabs((double)x[i])
#define C_ABS2(i) (creal(x[i]) * creal(x[i]) + cimag(x[i]) * cimag(x[i]))
#define C_DOT_RE(i) (creal(x[i]) * creal(y[i]) - cimag(x[i]) * cimag(y[i]))
#define C_DOT_IM(i) (creal(x[i]) * cimag(y[i]) + cimag(x[i]) * creal(y[i]))
#define C_VDOT_RE(i) (creal(x[i]) * creal(y[i]) + cimag(x[i]) * cimag(y[i]))
#define C_VDOT_IM(i) (creal(x[i]) * cimag(y[i]) - cimag(x[i]) * creal(y[i]))

/* Real types: |v| = fabs, conj is the identity. */
#define DEFINE_REAL_REDUCE(NAME, T)                                                        \
    static void NAME(sl_reduce_kind kind, sl_tile_shape s, const void *a, const void *b,   \
                     double p, double acc[2])                                              \
    {                                                                                      \
        double sum = 0.0;                                                                  \
        switch (kind) {                                                                    \
        case SL_RED_DOT:                                                                   \
        case SL_RED_VDOT: ROW_LOOP(T, ROW_SUM8(sum, s.nx, R_DOT)) break;                   \
        case SL_RED_SUM_ABS2: ROW_LOOP(T, ROW_SUM8(sum, s.nx, R_ABS2)) break;              \
        case SL_RED_SUM_ABS: ROW_LOOP(T, ROW_SUM8(sum, s.nx, R_ABS)) break;                \
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

#define DEFINE_COMPLEX_REDUCE(NAME, T, ABS)                                          \
    static void NAME(sl_reduce_kind kind, sl_tile_shape s, const void *a, const void *b,   \
                     double p, double acc[2])                                              \
    {                                                                                      \
        double re_sum = 0.0, im_sum = 0.0, rsum = 0.0;                                     \
        switch (kind) {                                                                    \
        case SL_RED_DOT:                                                                   \
            ROW_LOOP(T, ROW_SUM8(re_sum, s.nx, C_DOT_RE); ROW_SUM8(im_sum, s.nx, C_DOT_IM)) \
            break;                                                                         \
        case SL_RED_VDOT:                                                                  \
            ROW_LOOP(T, ROW_SUM8(re_sum, s.nx, C_VDOT_RE);                                 \
                     ROW_SUM8(im_sum, s.nx, C_VDOT_IM))                                    \
            break;                                                                         \
        case SL_RED_SUM_ABS2: ROW_LOOP(T, ROW_SUM8(rsum, s.nx, C_ABS2)) break;             \
        case SL_RED_SUM_ABS: ROWS(T) rsum += ABS(x[i]); END_ROWS break;                    \
        case SL_RED_SUM_ABSP: ROWS(T) rsum += pow(ABS(x[i]), p); END_ROWS break;           \
        case SL_RED_COUNT_NZ: ROWS(T) rsum += x[i] != 0; END_ROWS break;                   \
        case SL_RED_MAX_ABS: ROWS(T) acc[0] = fmax(acc[0], ABS(x[i])); END_ROWS return;    \
        case SL_RED_MIN_ABS: ROWS(T) acc[0] = fmin(acc[0], ABS(x[i])); END_ROWS return;    \
        default: return;                                                                   \
        }                                                                                  \
        acc[0] += re_sum + rsum;                                                           \
        acc[1] += im_sum;                                                                  \
    }

/* |z| of a float complex evaluated in double, as numpy's float32 abs is accurate to float. */
static double abs_c64(float _Complex z) { return hypot((double)crealf(z), (double)cimagf(z)); }

DEFINE_REAL_REDUCE(red_f32, float)
DEFINE_REAL_REDUCE(red_f64, double)
DEFINE_COMPLEX_REDUCE(red_c64, float _Complex, abs_c64)
DEFINE_COMPLEX_REDUCE(red_c128, double _Complex, cabs)

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

/* |element|, or |element|^p for SUM_ABSP, as the value folded by a reduction along an axis. */
static double element_abs(sl_dtype dtype, const void *a, size_t i)
{
    switch (dtype) {
    case SL_F32: return fabs((double)((const float *)a)[i]);
    case SL_F64: return fabs(((const double *)a)[i]);
    case SL_C64: return abs_c64(((const float _Complex *)a)[i]);
    default: return cabs(((const double _Complex *)a)[i]);
    }
}

/* Not a hot path (norms along an axis are occasional): one index computation per element,
 * written once for every geometry and dtype. */
void sl_kernel_reduce_axis(sl_reduce_kind kind, sl_dtype dtype, sl_tile_shape s, const void *a,
                           double p, const sl_axis_geometry *g, double *acc)
{
    size_t esize = sl_dtype_size(dtype);
    for (size_t r = 0; r < s.ny; r++) {
        const char *row = (const char *)a + r * s.ld * esize;
        for (size_t i = 0; i < s.nx; i++) {
            size_t flat = g->tile_offset + r * s.ld + i;
            size_t pre = flat / (g->len * g->post), post = flat % g->post;
            double *dst = &acc[pre * g->post + post];
            double v = element_abs(dtype, row, i);
            switch (kind) {
            case SL_RED_SUM_ABS2: *dst += v * v; break;
            case SL_RED_SUM_ABS: *dst += v; break;
            case SL_RED_SUM_ABSP: *dst += pow(v, p); break;
            case SL_RED_COUNT_NZ: *dst += v != 0; break;
            case SL_RED_MAX_ABS: *dst = fmax(*dst, v); break;
            case SL_RED_MIN_ABS: *dst = fmin(*dst, v); break;
            default: break;
            }
        }
    }
}
