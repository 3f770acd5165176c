/* Fast Fourier transform along one axis of an N-d array (PyLops FFT), computed with FFTW on the
 * CPU. Collective constructor. */
#ifndef STARLOPS_FFT_H
#define STARLOPS_FFT_H

#include <stddef.h>

#include <starlops/op.h>

#ifdef __cplusplus
extern "C" {
#endif

/* PyLops' `norm`: how the forward and the adjoint are scaled (N = nfft). */
typedef enum sl_fft_norm {
    SL_FFT_NORM_ORTHO = 0, /* "ortho": both by 1/sqrt(N) (the operator is unitary) */
    SL_FFT_NORM_NONE,      /* "none": neither */
    SL_FFT_NORM_1_OVER_N   /* "1/n": both by 1/N */
} sl_fft_norm;

/* Options; a zeroed struct (or NULL) is PyLops' defaults: nfft = dims[axis], complex
 * transform, "ortho", no shifts. */
typedef struct sl_fft_opts {
    size_t nfft;          /* samples of the transform; 0 = dims[axis]; above: zero padding,
                           * below: the model is truncated (PyLops warns, allowed) */
    int real;             /* real model: rfft, nfft/2 + 1 bins, the bins other than DC and
                           * Nyquist multiplied by sqrt(2) so that the adjoint is exact */
    sl_fft_norm norm;
    int ifftshift_before; /* ifftshift the model along the axis before the transform */
    int fftshift_after;   /* fftshift the data along the axis after it */
    int estimate;         /* not PyLops': FFTW_ESTIMATE plans (made at once, transforms maybe
                           * slower) instead of FFTW_MEASURE (planning times a few) */
} sl_fft_opts;

/* "ortho", "none" or "1/n" (also "1/N", as PyLops lowers it) into *norm; SL_ERR_ARG
 * otherwise (no context: sl_last_error is not set). */
sl_status sl_fft_norm_from_name(const char *name, sl_fft_norm *norm);
const char *sl_fft_norm_name(sl_fft_norm norm);

/* y = FFT of x along `axis` (negative counts from the end) with PyLops' conventions:
 *   forward: x' = ifftshift(x) if ifftshift_before; y_k = s w_k sum_n x'_n e^{-2 pi i k n / N}
 *            (x' zero padded or truncated to N = nfft), then y = fftshift(y) if
 *            fftshift_after; s = 1/sqrt(N) ("ortho"), 1 ("none"), 1/N ("1/n"); w_k = sqrt(2)
 *            for 0 < k < N/2 when real, else 1;
 *   adjoint: its exact adjoint (for a real model, the real part: PyLops' irfft).
 * The model has `like`'s layout (float32/float64, or complex64/complex128 unless real); the
 * data is complex of the same precision, with dims[axis] replaced by nfft (nfft/2 + 1 when
 * real), distributed along the same axis: with the same local sizes when the transform runs
 * along another axis; along the distributed axis of a scattered array, with the balanced
 * split of the new length (or wholly on the one rank that holds the model, if only one does).
 * When the axis is the distributed axis of an array scattered over several ranks, each
 * application moves the values to arrays distributed along the longest other axis, transforms
 * there and moves the result back: two all-to-alls of packed boxes, submitted as tasks like the
 * rest (no host wait); the operator keeps those two arrays and the message buffers. A 1-d
 * array scattered over several ranks is refused (SL_ERR_ARG: gather or replicate it first).
 * FFTW plans are made once here (FFTW_MEASURE); applications run one task per tile. */
sl_status sl_op_fft(const sl_darray *like, int axis, const sl_fft_opts *opts, sl_op **out);

/* PyLops FFTND (FFT2D: two axes) over `naxes` distinct axes of `like` (negative counts from
 * the end): the product of sl_op_fft along each axis, the last listed axis transformed first
 * (with `real`, the rfft along it and complex FFTs along the others, numpy's rfftn order).
 * Per-axis options come from opts[k] for axes[k] (NULL: PyLops' defaults on every axis); the
 * norm and the real flag are the whole transform's, so they are taken from opts[0] (norm) and
 * opts[naxes - 1] (real: only the last axis may be real). The scaling multiplies over the axes:
 * "ortho" 1/sqrt(prod nfft), "1/n" 1/prod nfft, as PyLops' FFTND. A distributed axis among
 * them is handled as sl_op_fft handles it (tasks that move the values to another axis and
 * back). Collective. */
sl_status sl_op_fftnd(const sl_darray *like, int naxes, const int *axes,
                      const sl_fft_opts *opts, sl_op **out);

#ifdef __cplusplus
}
#endif
#endif
