/* Scalar recurrences of LSQR (Paige & Saunders 1982; the update order follows scipy's lsqr),
 * run as tasks on a per-rank state vector so the iterations never wait for the host. */
#include <math.h>

#include "codelets.h"

static double *vec(void *buffer)
{
    return (double *)STARPU_VECTOR_GET_PTR(buffer);
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
    if (a.initial) {
        s[which == SL_LSQR_BETA ? SL_LSQR_PHIBAR : SL_LSQR_RHOBAR] = v;
        if (which == SL_LSQR_BETA)
            s[SL_LSQR_RNORM] = s[SL_LSQR_R1NORM] = v;
    } else if (which == SL_LSQR_BETA && v > 0)
        s[SL_LSQR_ANORM] = sqrt(s[SL_LSQR_ANORM] * s[SL_LSQR_ANORM] +
                                s[SL_LSQR_ALFA] * s[SL_LSQR_ALFA] + v * v +
                                s[SL_LSQR_DAMP] * s[SL_LSQR_DAMP]);
    s[which] = v;
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

/* buffers: state (RW), ||w||^2 (R), t1 (W), t2 (W): the two rotations of one iteration and the
 * norm/condition estimates; x += t1 w and w = v + t2 w follow as vector tasks. */
static void lsqr_rotate_cpu(void *buffers[], void *cl_arg)
{
    (void)cl_arg;
    double *s = vec(buffers[0]), ww = vec(buffers[1])[0];
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
    double theta = sn * alfa, phi = cs * phibar, tau;
    s[SL_LSQR_RHOBAR] = -cs * alfa;
    phibar = sn * phibar;
    tau = sn * phi;
    s[SL_LSQR_PHIBAR] = phibar;
    double t1 = rho != 0 ? phi / rho : 0, t2 = rho != 0 ? -theta / rho : 0;
    s[SL_LSQR_DDNORM] += rho != 0 ? ww / (rho * rho) : 0;
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
    vec(buffers[2])[0] = t1;
    vec(buffers[2])[1] = 0;
    vec(buffers[3])[0] = t2;
    vec(buffers[3])[1] = 0;
}

SL_HISTORY_MODEL(norm_model, "lsqr_norm");
SL_HISTORY_MODEL(rotate_model, "lsqr_rotate");
struct starpu_codelet sl_cl_lsqr_norm_stage = {
    .cpu_funcs = {lsqr_norm_stage_cpu}, .nbuffers = 4,
    .modes = {STARPU_RW, STARPU_R, STARPU_W, STARPU_W}, .model = &norm_model,
    .name = "lsqr_norm"};
struct starpu_codelet sl_cl_lsqr_rotate = {
    .cpu_funcs = {lsqr_rotate_cpu}, .nbuffers = 4,
    .modes = {STARPU_RW, STARPU_R, STARPU_W, STARPU_W}, .model = &rotate_model,
    .name = "lsqr_rotate"};
