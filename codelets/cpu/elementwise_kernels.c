/* Elementwise tile kernels. Complex products use the textbook formula (as numpy does): this
 * file is compiled with -fcx-limited-range so gcc does not call the C99 Annex G helpers. */
#include <complex.h>

#include "cpu/kernels.h"

/* One loop nest per operation; BODY sees o_row[i] (out element), x_row[i] (a element), y_row[i]
 * (b element). OUT_QUAL is `restrict` where out cannot alias a or b, empty where it may (the
 * in-place operations): the only difference between the two loops. */
#define TILE_LOOP_Q(T, OUT_QUAL, BODY)                                        \
    for (size_t r = 0; r < s.ny; r++) {                                       \
        T *OUT_QUAL o_row = (T *)out + r * s.ld;                              \
        const T *x_row = a ? (const T *)a + r * s.ld : NULL;                  \
        const T *y_row = b ? (const T *)b + r * s.ld : NULL;                  \
        (void)x_row;                                                          \
        (void)y_row;                                                          \
        for (size_t i = 0; i < s.nx; i++) {                                   \
            BODY;                                                             \
        }                                                                     \
    }
#define TILE_LOOP(T, BODY) TILE_LOOP_Q(T, restrict, BODY)
#define TILE_LOOP_ALIAS(T, BODY) TILE_LOOP_Q(T, , BODY)

#define DEFINE_ELEMENTWISE(NAME, T, CONJ)                                                 \
    static void NAME(sl_ew_op op, sl_tile_shape s, void *out, const void *a, const void *b, \
                     T alpha, T beta)                                                     \
    {                                                                                     \
        switch (op) {                                                                     \
        case SL_EW_FILL: TILE_LOOP(T, o_row[i] = alpha) break;                            \
        case SL_EW_COPY:                                                                  \
            if (out != a)                                                                 \
                TILE_LOOP(T, o_row[i] = x_row[i])                                         \
            break;                                                                        \
        case SL_EW_SCALE: TILE_LOOP_ALIAS(T, o_row[i] = alpha * x_row[i]) break;          \
        case SL_EW_AXPBY:                                                                 \
            TILE_LOOP_ALIAS(T, o_row[i] = alpha * x_row[i] + beta * o_row[i]) break;      \
        case SL_EW_AXPY: TILE_LOOP_ALIAS(T, o_row[i] += alpha * x_row[i]) break;          \
        case SL_EW_ADD: TILE_LOOP_ALIAS(T, o_row[i] = x_row[i] + y_row[i]) break;         \
        case SL_EW_SUB: TILE_LOOP_ALIAS(T, o_row[i] = x_row[i] - y_row[i]) break;         \
        case SL_EW_MUL: TILE_LOOP_ALIAS(T, o_row[i] = x_row[i] * y_row[i]) break;         \
        case SL_EW_CONJ: TILE_LOOP_ALIAS(T, o_row[i] = CONJ(x_row[i])) break;             \
        case SL_EW_CMUL: TILE_LOOP_ALIAS(T, o_row[i] = CONJ(x_row[i]) * y_row[i]) break;  \
        default: break;                                                                   \
        }                                                                                 \
    }

#define REAL_CONJ(v) (v)
DEFINE_ELEMENTWISE(ew_f32, float, REAL_CONJ)
DEFINE_ELEMENTWISE(ew_f64, double, REAL_CONJ)
DEFINE_ELEMENTWISE(ew_c64, float _Complex, conjf)
DEFINE_ELEMENTWISE(ew_c128, double _Complex, conj)

void sl_kernel_elementwise(sl_ew_op op, sl_dtype dtype, sl_tile_shape s, void *out,
                           const void *a, const void *b, const double alpha[2],
                           const double beta[2])
{
    double _Complex al = CMPLX(alpha[0], alpha[1]), be = CMPLX(beta[0], beta[1]);
    switch (dtype) {
    case SL_F32: ew_f32(op, s, out, a, b, (float)alpha[0], (float)beta[0]); break;
    case SL_F64: ew_f64(op, s, out, a, b, alpha[0], beta[0]); break;
    case SL_C64: ew_c64(op, s, out, a, b, (float _Complex)al, (float _Complex)be); break;
    case SL_C128: ew_c128(op, s, out, a, b, al, be); break;
    }
}
