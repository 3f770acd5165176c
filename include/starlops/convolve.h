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

/* PyLops NonStationaryConvolve1D along `axis` of arrays laid out like `like`: nfilters real
 * filters of nh samples (nh odd; hs row-major, nfilters x nh), centred, given at the regularly
 * spaced, increasing positions ih (0 <= ih < dims[axis]); the filter of every other position
 * is linearly interpolated between the two nearest (the nearest one outside them). Forward
 * y[j] = sum_i x[i] h_i[j - i + nh/2], adjoint x[i] = sum_j h_i[j - i + nh/2] y[j].
 * When `like` is cut along `axis` over several ranks (it must then have the balanced split,
 * PyLops-MPI's), the operator is PyLops-MPI's MPINonStationaryConvolve1D, Halo^H . Local .
 * Halo, with an nh/2 halo (every rank holds all the filters) and the local part writing only
 * the rows its rank owns: any length works (PyLops-MPI needs dims[axis] % P == 0), as long as
 * a rank with a neighbour holds nh/2 samples. Otherwise (split along another axis, replicated,
 * one rank) it is local: one task per rank, no communication. Collective; argument
 * differences between ranks fail on every rank. */
sl_status sl_op_nonstationary_convolve1d(const sl_darray *like, int axis, const double *hs,
                                         size_t nfilters, size_t nh, const size_t *ih,
                                         sl_op **out);

#ifdef __cplusplus
}
#endif
#endif
