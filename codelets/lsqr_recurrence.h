/* LSQR's scalar recurrences (Paige & Saunders 1982; the update order follows scipy's lsqr) on
 * a per-rank state vector: written once, compiled for the CPU codelets (lsqr.c, C) and for the
 * single-thread CUDA kernels (cuda/lsqr.cu, nvcc), so both kinds of worker compute bit for bit
 * the same recurrence. Plain C with no library or StarPU dependency. */
#ifndef STARLOPS_LSQR_RECURRENCE_H
#define STARLOPS_LSQR_RECURRENCE_H

#include <float.h>
#include <math.h>

#include "guard_codes.h" /* SL_GUARD_*, SL_HOST_DEVICE */

/* State vector slots. The recurrences, all of scipy's stopping tests and the guards run in the
 * tasks: once STOPPED is set (ISTOP: scipy's code; GUARD: SL_GUARD_*; ITN: the iterations x
 * holds) later steps are no-ops, so a solve that the host does not watch still stops where
 * scipy's would. ATOL, BTOL, CTOL (1/conlim) and NITER are set by the host before the first
 * task (a test switched off is 0: scipy's exact-zero behaviour). */
enum {
    SL_LSQR_ALFA, SL_LSQR_BETA, SL_LSQR_RHOBAR, SL_LSQR_PHIBAR, SL_LSQR_ANORM, SL_LSQR_DDNORM,
    SL_LSQR_RES2, SL_LSQR_XNORM, SL_LSQR_XXNORM, SL_LSQR_Z, SL_LSQR_CS2, SL_LSQR_SN2,
    SL_LSQR_RNORM, SL_LSQR_ARNORM, SL_LSQR_ACOND, SL_LSQR_R1NORM, SL_LSQR_DAMP,
    SL_LSQR_ATOL, SL_LSQR_BTOL, SL_LSQR_CTOL, SL_LSQR_NITER, SL_LSQR_ITN, SL_LSQR_STOPPED,
    SL_LSQR_ISTOP, SL_LSQR_GUARD, SL_LSQR_NSTATE
};

/* Records the first stop only: scipy's istop, a guard code, the iterations x holds. */
static inline SL_HOST_DEVICE void sl_lsqr_stop(double *s, int istop, int guard, double itn)
{
    if (s[SL_LSQR_STOPPED] != 0)
        return;
    s[SL_LSQR_STOPPED] = 1;
    s[SL_LSQR_ISTOP] = istop;
    s[SL_LSQR_GUARD] = guard;
    s[SL_LSQR_ITN] = itn;
}

/* One norm stage: from the squared norm n2 of u (which = SL_LSQR_BETA) or v (SL_LSQR_ALFA),
 * value = sqrt(n2) and inverse = 1/value (0 for 0), as (re, im) pairs. In the loop the beta
 * stage also updates anorm with the alfa of the previous step, as scipy does; the initial
 * stages instead start phibar = beta and rhobar = alfa. */
static inline SL_HOST_DEVICE void sl_lsqr_norm_stage(double *s, int which, int initial,
                                                     double n2, double *value, double *inverse)
{
    double v = sqrt(fmax(n2, 0.0));
    if (!isfinite(n2)) {
        v = 0;
        sl_lsqr_stop(s, 0, SL_GUARD_NONFINITE, s[SL_LSQR_ITN]); /* x not touched yet */
    }
    if (initial) {
        s[which == SL_LSQR_BETA ? SL_LSQR_PHIBAR : SL_LSQR_RHOBAR] = v;
        if (which == SL_LSQR_BETA)
            s[SL_LSQR_RNORM] = s[SL_LSQR_R1NORM] = v;
    } else if (which == SL_LSQR_BETA && v > 0) {
        s[SL_LSQR_ANORM] = sqrt(s[SL_LSQR_ANORM] * s[SL_LSQR_ANORM] +
                                s[SL_LSQR_ALFA] * s[SL_LSQR_ALFA] + v * v +
                                s[SL_LSQR_DAMP] * s[SL_LSQR_DAMP]);
    }
    s[which] = v;
    /* scipy: alfa * beta == 0 at the start means x0 already solves the problem (istop 0) */
    if (initial && which == SL_LSQR_ALFA && v * s[SL_LSQR_BETA] == 0)
        sl_lsqr_stop(s, 0, SL_GUARD_OK, 0);
    value[0] = v;
    value[1] = 0;
    inverse[0] = v > 0 ? 1.0 / v : 0.0;
    inverse[1] = 0;
}

/* scipy's _sym_ortho: a stable Givens rotation (c, s, r) with r = hypot(a, b). */
static inline SL_HOST_DEVICE void sl_lsqr_sym_ortho(double a, double b, double *c, double *s,
                                                    double *r)
{
    if (b == 0) { *c = a >= 0 ? 1 : -1; *s = 0; *r = fabs(a); return; }
    if (a == 0) { *c = 0; *s = b >= 0 ? 1 : -1; *r = fabs(b); return; }
    if (fabs(b) > fabs(a)) {
        double tau = a / b;
        *s = (b >= 0 ? 1 : -1) / sqrt(1 + tau * tau);
        *c = *s * tau;
        *r = b / *s;
    } else {
        double tau = b / a;
        *c = (a >= 0 ? 1 : -1) / sqrt(1 + tau * tau);
        *s = *c * tau;
        *r = a / *c;
    }
}

/* scipy's stopping tests after iteration itn, in scipy's order (the last that holds wins);
 * 0: go on. bnorm = ||y||. */
static inline SL_HOST_DEVICE int sl_lsqr_stopping_test(const double *s, double bnorm, double itn)
{
    const double eps = DBL_EPSILON;
    double anorm = s[SL_LSQR_ANORM], xnorm = s[SL_LSQR_XNORM], rnorm = s[SL_LSQR_RNORM];
    double test1 = bnorm > 0 ? rnorm / bnorm : 0;
    double test2 = s[SL_LSQR_ARNORM] / (anorm * rnorm + eps);
    double test3 = 1 / (s[SL_LSQR_ACOND] + eps);
    double t1 = test1 / (1 + (bnorm > 0 ? anorm * xnorm / bnorm : 0));
    double rtol = s[SL_LSQR_BTOL] + s[SL_LSQR_ATOL] * (bnorm > 0 ? anorm * xnorm / bnorm : 0);
    int istop = 0;
    if (itn >= s[SL_LSQR_NITER]) istop = 7;
    if (1 + test3 <= 1) istop = 6;
    if (1 + test2 <= 1) istop = 5;
    if (1 + t1 <= 1) istop = 4;
    if (test3 <= s[SL_LSQR_CTOL]) istop = 3;
    if (test2 <= s[SL_LSQR_ATOL]) istop = 2;
    if (test1 <= rtol) istop = 1;
    return istop;
}

/* Everything the rotation and the tests read or wrote is finite. */
static inline SL_HOST_DEVICE int sl_lsqr_state_finite(const double *s, double t1, double t2)
{
    for (int i = 0; i < SL_LSQR_ATOL; i++)
        if (!isfinite(s[i]))
            return 0;
    return isfinite(t1) && isfinite(t2);
}

/* The two rotations of one iteration, the norm and condition estimates and the stopping tests;
 * writes the step coefficients t1, t2 as (re, im) pairs (0 once stopped: a zero coefficient
 * drops its term, so a stopped solve leaves x alone). ww = ||w||^2, bnorm = ||y||. */
static inline SL_HOST_DEVICE void sl_lsqr_rotate(double *s, double ww, double bnorm,
                                                 double *out1, double *out2)
{
    out1[0] = out1[1] = out2[0] = out2[1] = 0;
    if (s[SL_LSQR_STOPPED] != 0)
        return;
    double itn = s[SL_LSQR_ITN] + 1, saved[SL_LSQR_NSTATE];
    for (int i = 0; i < SL_LSQR_NSTATE; i++)
        saved[i] = s[i];
    double damp = s[SL_LSQR_DAMP], alfa = s[SL_LSQR_ALFA], beta = s[SL_LSQR_BETA];
    double rhobar = s[SL_LSQR_RHOBAR], phibar = s[SL_LSQR_PHIBAR], rhobar1 = rhobar, psi = 0;
    if (damp > 0) {
        rhobar1 = sqrt(rhobar * rhobar + damp * damp);
        double cs1 = rhobar / rhobar1, sn1 = damp / rhobar1;
        psi = sn1 * phibar;
        phibar = cs1 * phibar;
    }
    double cs, sn, rho;
    sl_lsqr_sym_ortho(rhobar1, beta, &cs, &sn, &rho);
    if (rho == 0) { /* rhobar = beta = damp = 0: no direction left to step along */
        sl_lsqr_stop(s, 0, SL_GUARD_BREAKDOWN, itn - 1);
        return;
    }
    double theta = sn * alfa, phi = cs * phibar, tau;
    s[SL_LSQR_RHOBAR] = -cs * alfa;
    phibar = sn * phibar;
    tau = sn * phi;
    s[SL_LSQR_PHIBAR] = phibar;
    double t1 = phi / rho, t2 = -theta / rho;
    s[SL_LSQR_DDNORM] += ww / (rho * rho);
    /* estimate ||x|| (scipy's xnorm recurrence) */
    double delta = s[SL_LSQR_SN2] * rho, gambar = -s[SL_LSQR_CS2] * rho;
    double rhs = phi - delta * s[SL_LSQR_Z], zbar = gambar != 0 ? rhs / gambar : 0;
    s[SL_LSQR_XNORM] = sqrt(s[SL_LSQR_XXNORM] + zbar * zbar);
    double gamma = sqrt(gambar * gambar + theta * theta);
    s[SL_LSQR_CS2] = gamma != 0 ? gambar / gamma : 1;
    s[SL_LSQR_SN2] = gamma != 0 ? theta / gamma : 0;
    s[SL_LSQR_Z] = gamma != 0 ? rhs / gamma : 0;
    s[SL_LSQR_XXNORM] += s[SL_LSQR_Z] * s[SL_LSQR_Z];
    s[SL_LSQR_ACOND] = s[SL_LSQR_ANORM] * sqrt(s[SL_LSQR_DDNORM]);
    s[SL_LSQR_RES2] += psi * psi;
    double rnorm = sqrt(phibar * phibar + s[SL_LSQR_RES2]);
    s[SL_LSQR_RNORM] = rnorm;
    s[SL_LSQR_ARNORM] = alfa * fabs(tau);
    double r1sq = rnorm * rnorm - damp * damp * s[SL_LSQR_XXNORM];
    s[SL_LSQR_R1NORM] = r1sq < 0 ? -sqrt(-r1sq) : sqrt(r1sq);
    if (!isfinite(ww) || !sl_lsqr_state_finite(s, t1, t2)) { /* keep the last finite state */
        for (int i = 0; i < SL_LSQR_NSTATE; i++)
            s[i] = saved[i];
        sl_lsqr_stop(s, 0, SL_GUARD_NONFINITE, itn - 1);
        return;
    }
    s[SL_LSQR_ITN] = itn;
    int istop = sl_lsqr_stopping_test(s, bnorm, itn);
    if (istop)
        sl_lsqr_stop(s, istop, SL_GUARD_OK, itn);
    out1[0] = t1;
    out2[0] = t2;
}

#endif
