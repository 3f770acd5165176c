/* Convolution along an axis and post-stack seismic modelling (PyLops Convolve1D and
 * PoststackLinearModelling), on arrays laid out like `like`. Collective constructors; filters
 * are real and at most 129 samples long. */
#ifndef STARLOPS_CONVOLVE_H
#define STARLOPS_CONVOLVE_H

#include <starlops/op.h>

#ifdef __cplusplus
extern "C" {
#endif

/* y[i] = sum_k h[k] x[i + offset - k] along `axis`, zero outside the array (PyLops
 * Convolve1D with method "direct": the output has x's length and the filter is centred at
 * `offset`, so offset = nh / 2 is zero phase). Adjoint: the correlation. 0 <= offset < nh. */
sl_status sl_op_convolve1d(const sl_darray *like, int axis, const double *h, size_t nh,
                           size_t offset, sl_op **out);

/* PyLops PoststackLinearModelling: d = W D m with D the centered first derivative along
 * time_axis (order 3, edge off: D's own 0.5 is the formula's 1/2) and W the convolution with
 * the wavelet centred at nwav / 2; m is the log acoustic impedance. The result owns its
 * parts. */
sl_status sl_op_poststack(const sl_darray *like, int time_axis, const double *wavelet,
                          size_t nwav, sl_op **out);

#ifdef __cplusplus
}
#endif
#endif
