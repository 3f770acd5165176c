/* Scalar recurrences of LSQR (Paige & Saunders 1982; the update order follows scipy's lsqr),
 * run as tasks on a per-rank state vector so the iterations never wait for the host. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "lsqr.h"
#include "scalar.h" /* SL_GUARD_* */

static double *vec(void *buffer)
{
    return (double *)STARPU_VECTOR_GET_PTR(buffer);
}

/* Records the first stop only: scipy's istop, a guard code, the iterations x holds. */
static void stop(double *s, int istop, int guard, double itn)
{
    if (s[SL_LSQR_STOPPED] != 0)
        return;
    s[SL_LSQR_STOPPED] = 1;
    s[SL_LSQR_ISTOP] = istop;
    s[SL_LSQR_GUARD] = guard;
    s[SL_LSQR_ITN] = itn;
}

/* buffers: state (RW), squared norm (R), value (W), inverse (W). which: SL_LSQR_BETA/ALFA.
 * In the loop the beta stage also updates anorm with the alfa of the previous step, as scipy
 * does; the initial stages instead start phibar = beta and rhobar = alfa. */
static void lsqr_norm_stage_cpu(void *buffers[], void *cl_arg)
{
    sl_lsqr_stage_args a;
    starpu_codelet_unpack_args(cl_arg, &a);
    int which = a.which;
    double *s = vec(buffers[0]), n2 = vec(buffers[1])[0], v = sqrt(fmax(n2, 0.0));
    if (!isfinite(n2)) {
        v = 0;
        stop(s, 0, SL_GUARD_NONFINITE, s[SL_LSQR_ITN]); /* x not touched yet this iteration */
    }
    if (a.initial) {
        s[which == SL_LSQR_BETA ? SL_LSQR_PHIBAR : SL_LSQR_RHOBAR] = v;
        if (which == SL_LSQR_BETA)
            s[SL_LSQR_RNORM] = s[SL_LSQR_R1NORM] = v;
    } else if (which == SL_LSQR_BETA && v > 0)
        s[SL_LSQR_ANORM] = sqrt(s[SL_LSQR_ANORM] * s[SL_LSQR_ANORM] +
                                s[SL_LSQR_ALFA] * s[SL_LSQR_ALFA] + v * v +
                                s[SL_LSQR_DAMP] * s[SL_LSQR_DAMP]);
    s[which] = v;
    /* scipy: alfa * beta == 0 at the start means x0 already solves the problem (istop 0) */
    if (a.initial && which == SL_LSQR_ALFA && v * s[SL_LSQR_BETA] == 0)
        stop(s, 0, SL_GUARD_OK, 0);
    vec(buffers[2])[0] = v;
    vec(buffers[2])[1] = 0;
    vec(buffers[3])[0] = v > 0 ? 1.0 / v : 0.0;
    vec(buffers[3])[1] = 0;
}

/* scipy's _sym_ortho: a stable Givens rotation (c, s, r) with r = hypot(a, b). */
static void sym_ortho(double a, double b, double *c, double *s, double *r)
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
static int stopping_test(const double *s, double bnorm, double itn)
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
static int state_finite(const double *s, double t1, double t2)
{
    for (int i = 0; i < SL_LSQR_ATOL; i++)
        if (!isfinite(s[i]))
            return 0;
    return isfinite(t1) && isfinite(t2);
}

/* buffers: state (RW), ||w||^2 (R), t1 (W), t2 (W), ||y|| (R): the two rotations of one
 * iteration, the norm/condition estimates and the stopping tests; x += t1 w and
 * w = v + t2 w follow as vector tasks (a zero coefficient drops its term: a stopped solve
 * leaves x alone). */
static void lsqr_rotate_cpu(void *buffers[], void *cl_arg)
{
    (void)cl_arg;
    double *s = vec(buffers[0]), ww = vec(buffers[1])[0], bnorm = vec(buffers[4])[0];
    double *out1 = vec(buffers[2]), *out2 = vec(buffers[3]);
    out1[0] = out1[1] = out2[0] = out2[1] = 0;
    if (s[SL_LSQR_STOPPED] != 0)
        return;
    double itn = s[SL_LSQR_ITN] + 1, saved[SL_LSQR_NSTATE];
    memcpy(saved, s, sizeof saved);
    double damp = s[SL_LSQR_DAMP], alfa = s[SL_LSQR_ALFA], beta = s[SL_LSQR_BETA];
    double rhobar = s[SL_LSQR_RHOBAR], phibar = s[SL_LSQR_PHIBAR], rhobar1 = rhobar, psi = 0;
    if (damp > 0) {
        rhobar1 = sqrt(rhobar * rhobar + damp * damp);
        double cs1 = rhobar / rhobar1, sn1 = damp / rhobar1;
        psi = sn1 * phibar;
        phibar = cs1 * phibar;
    }
    double cs, sn, rho;
    sym_ortho(rhobar1, beta, &cs, &sn, &rho);
    if (rho == 0) { /* rhobar = beta = damp = 0: no direction left to step along */
        stop(s, 0, SL_GUARD_BREAKDOWN, itn - 1);
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
    if (!isfinite(ww) || !state_finite(s, t1, t2)) { /* keep the last finite state */
        memcpy(s, saved, sizeof saved);
        stop(s, 0, SL_GUARD_NONFINITE, itn - 1);
        return;
    }
    s[SL_LSQR_ITN] = itn;
    int istop = stopping_test(s, bnorm, itn);
    if (istop)
        stop(s, istop, SL_GUARD_OK, itn);
    out1[0] = t1;
    out2[0] = t2;
}

SL_HISTORY_MODEL(norm_model, "lsqr_norm");
SL_HISTORY_MODEL(rotate_model, "lsqr_rotate");
static struct starpu_codelet cl_lsqr_norm_stage = {
    .cpu_funcs = {lsqr_norm_stage_cpu}, SL_CUDA_PENDING(lsqr_norm_stage_cuda) .nbuffers = 4,
    .modes = {STARPU_RW, STARPU_R, STARPU_W, STARPU_W}, .model = &norm_model,
    .name = "lsqr_norm"};
static struct starpu_codelet cl_lsqr_rotate = {
    .cpu_funcs = {lsqr_rotate_cpu}, SL_CUDA_PENDING(lsqr_rotate_cuda) .nbuffers = 5,
    .modes = {STARPU_RW, STARPU_R, STARPU_W, STARPU_W, STARPU_R}, .model = &rotate_model,
    .name = "lsqr_rotate"};

int sl_task_lsqr_norm_stage(sl_lsqr_stage_args args, starpu_data_handle_t state,
                            starpu_data_handle_t n2, starpu_data_handle_t value,
                            starpu_data_handle_t inverse)
{
    return starpu_task_insert(&cl_lsqr_norm_stage, STARPU_VALUE, &args, sizeof args, STARPU_RW,
                              state, STARPU_R, n2, STARPU_W, value, STARPU_W, inverse, 0);
}

int sl_task_lsqr_rotate(starpu_data_handle_t state, starpu_data_handle_t ww,
                        starpu_data_handle_t t1, starpu_data_handle_t t2,
                        starpu_data_handle_t bnorm)
{
    return starpu_task_insert(&cl_lsqr_rotate, STARPU_RW, state, STARPU_R, ww, STARPU_W, t1,
                              STARPU_W, t2, STARPU_R, bnorm, 0);
}
