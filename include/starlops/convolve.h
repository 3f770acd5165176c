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

/* PyLops NonStationaryConvolve1D along `axis` of an N-d array of global shape dims: nfilters
 * real filters of nh samples (nh odd; hs row-major, nfilters x nh), centred, given at the
 * regularly spaced, increasing positions ih (0 <= ih < dims[axis]); the filter of every other
 * position is linearly interpolated between the two nearest (the nearest one outside them).
 * Forward y[j] = sum_i x[i] h_i[j - i + nh/2], adjoint x[i] = sum_j h_i[j - i + nh/2] y[j].
 * Distributed as PyLops-MPI's MPINonStationaryConvolve1D, Halo^H . Local . Halo with the array
 * cut along `axis` over all ranks (PyLops-MPI's split: uneven splits work; each rank must hold
 * at least nh/2 samples along the axis when it has a neighbour). Model and data are the halo
 * operator's model: 1-d scattered arrays holding each rank's block (C order); for axis 0 that
 * is the C-order global array. Collective; argument differences between ranks fail on every
 * rank. */
sl_status sl_op_nonstationary_convolve1d(sl_context *ctx, sl_dtype dtype, int ndim,
                                         const size_t *dims, int axis, const double *hs,
                                         size_t nfilters, size_t nh, const size_t *ih,
                                         sl_op **out);

#ifdef __cplusplus
}
#endif
#endif
