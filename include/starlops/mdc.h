/* Multi-dimensional convolution (PyLops MDC, PyLops-MPI MPIMDC): the time-domain operator of
 * multi-dimensional deconvolution (MDD), y = F1^H I1^H Fredholm1(G) I F x with F, F1 real FFTs
 * along time, I the truncation to the nfmax frequencies G holds. */
#ifndef STARLOPS_MDC_H
#define STARLOPS_MDC_H

#include <stddef.h>

#include <starlops/op.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Options; NULL or a zeroed struct is PyLops' defaults (dt = dr = 1, twosided, saveGt, no
 * conjugation, not prescaled). */
typedef struct sl_mdc_opts {
    double dt, dr;  /* time and receiver sampling (0: 1) */
    int onesided;   /* PyLops twosided=False: the model's time axis starts at t = 0 (twosided:
                       nt odd, time centred, the model ifftshifted before the FFT) */
    int no_saveGt;  /* PyLops saveGt=False: no stored G^H (half the memory for the kernel) */
    int conj;       /* use conj(G) */
    int prescaled;  /* G is already multiplied by dr dt sqrt(nt) (else MDC does it) */
} sl_mdc_opts;

/* fill(f, block, user) writes G[f], the ns x nr kernel of frequency f (0 <= f < nfmax), row
 * major, complex of `dtype`'s precision, for the frequencies this rank holds (called during
 * construction only). */
typedef void (*sl_mdc_fill_fn)(size_t ifreq, void *block, void *user);

/* y (nt, ns, nv) = MDC x (nt, nr, nv), real arrays of `dtype` (float32 or float64) scattered
 * along axis 1 (receivers for the model, sources for the data; the balanced split), so the
 * FFTs along time are local; the frequencies are moved onto the distributed axis around the
 * per-frequency products (Fredholm1, scattered along the frequencies: no rank stores more than
 * its share of G) by two all-to-alls of tasks per application. PyLops-MPI replicates model and
 * data and computes the FFTs redundantly on every rank. nfmax larger than nt/2 + 1 is reduced
 * to it (PyLops warns). Collective; argument differences between ranks fail on every rank. */
sl_status sl_op_mdc(sl_context *ctx, sl_dtype dtype, size_t nt, size_t nv, size_t nfmax,
                    size_t ns, size_t nr, sl_mdc_fill_fn fill, void *user,
                    const sl_mdc_opts *opts, sl_op **out);

#ifdef __cplusplus
}
#endif
#endif
