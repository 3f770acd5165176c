/* Helper of the CLI tests: `gen DIR` writes input .npy files, `check DIR` compares the files
 * the starlops CLI wrote with serial references (LAPACKE zgels for the solve), `fill` writes a
 * constant array (cli_errors.sh). */
#include <complex.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starlops.h>

#define N 13
#define K 5
#define M 3

static double val(size_t i, int part) { return sin(1.0 + 0.7 * (double)i + 1.3 * part); }

static int failures;

/* A small volume for the stencil operators (nt x nx x ny, time first as in PyLops). */
#define V0 6
#define V1 7
#define V2 8
#define VN (V0 * V1 * V2)
static const size_t vdims[3] = {V0, V1, V2};
static const double wavelet[5] = {-0.1, 0.4, 1.0, 0.4, -0.1};

/* y = line operator along `axis` of the volume: kind 1 centered first derivative with edge,
 * 2 centered second derivative (zero end rows), 3 PyLops convolution with the wavelet. */
static void along(int kind, int axis, double scale, const double *x, double *y)
{
    size_t n = vdims[axis], inner = 1, outer = 1;
    for (int d = axis + 1; d < 3; d++) inner *= vdims[d];
    for (int d = 0; d < axis; d++) outer *= vdims[d];
    for (size_t o = 0; o < outer; o++)
        for (size_t in = 0; in < inner; in++) {
            const double *xl = x + o * n * inner + in;
            double *yl = y + o * n * inner + in;
            for (size_t i = 0; i < n; i++) {
                double r = 0;
                if (kind == 1)
                    r = i == 0 ? xl[inner] - xl[0]
                        : i == n - 1 ? xl[i * inner] - xl[(i - 1) * inner]
                                     : 0.5 * (xl[(i + 1) * inner] - xl[(i - 1) * inner]);
                else if (kind == 2)
                    r = i == 0 || i == n - 1 ? 0
                        : xl[(i + 1) * inner] - 2 * xl[i * inner] + xl[(i - 1) * inner];
                else
                    for (int k = 0; k < 5; k++) {
                        long j = (long)i + 2 - k;
                        if (j >= 0 && j < (long)n) r += wavelet[k] * xl[(size_t)j * inner];
                    }
                yl[i * inner] = scale * r;
            }
        }
}

/* nonstatconvolve1d --axis 1 --hs hs.npy --ih 1,5: two 3-sample filters at 1 and 5. */
static const double ns_filters[6] = {0.5, 1.0, -0.25, 2.0, -1.0, 0.75};
static const size_t ns_ih[2] = {1, 5};

static void gen(const char *dir)
{
    char p[512];
    double a[N * K], x[K], y[N];
    double _Complex az[N * K], xz[K * M];
    for (size_t i = 0; i < N * K; i++) {
        a[i] = val(i, 0) + ((i / K) == (i % K) ? 3.0 : 0.0);
        az[i] = CMPLX(a[i], val(i, 1));
    }
    for (size_t i = 0; i < K; i++) x[i] = val(i + 100, 0);
    for (size_t i = 0; i < N; i++) y[i] = val(i + 200, 0);
    for (size_t i = 0; i < K * M; i++) xz[i] = CMPLX(val(i + 300, 0), val(i + 300, 1));
    size_t sa[2] = {N, K}, sx[1] = {K}, sy[1] = {N}, sxz[2] = {K, M};
    snprintf(p, sizeof p, "%s/A.npy", dir); sl_npy_write(NULL, p, SL_F64, 2, sa, a);
    snprintf(p, sizeof p, "%s/x.npy", dir); sl_npy_write(NULL, p, SL_F64, 1, sx, x);
    snprintf(p, sizeof p, "%s/y.npy", dir); sl_npy_write(NULL, p, SL_F64, 1, sy, y);
    snprintf(p, sizeof p, "%s/Az.npy", dir); sl_npy_write(NULL, p, SL_C128, 2, sa, az);
    snprintf(p, sizeof p, "%s/xz.npy", dir); sl_npy_write(NULL, p, SL_C128, 2, sxz, xz);
    double v[VN];
    size_t sw[1] = {5};
    for (size_t i = 0; i < VN; i++) v[i] = val(i + 400, 0);
    snprintf(p, sizeof p, "%s/vol.npy", dir); sl_npy_write(NULL, p, SL_F64, 3, vdims, v);
    snprintf(p, sizeof p, "%s/wav.npy", dir); sl_npy_write(NULL, p, SL_F64, 1, sw, wavelet);
    size_t sh[2] = {2, 3};
    snprintf(p, sizeof p, "%s/hs.npy", dir); sl_npy_write(NULL, p, SL_F64, 2, sh, ns_filters);
    /* mdc: G (3 frequencies, 2 sources, 3 receivers), model (5, 3, 1), data (5, 2, 1) */
    double _Complex g[18];
    double mx[15], my[10];
    for (size_t i = 0; i < 18; i++) g[i] = CMPLX(val(i + 700, 0), val(i + 700, 1));
    for (size_t i = 0; i < 15; i++) mx[i] = val(i + 800, 0);
    for (size_t i = 0; i < 10; i++) my[i] = val(i + 900, 0);
    size_t sg[3] = {3, 2, 3}, smx[3] = {5, 3, 1}, smy[3] = {5, 2, 1};
    snprintf(p, sizeof p, "%s/mdcG.npy", dir); sl_npy_write(NULL, p, SL_C128, 3, sg, g);
    snprintf(p, sizeof p, "%s/mdc_x.npy", dir); sl_npy_write(NULL, p, SL_F64, 3, smx, mx);
    snprintf(p, sizeof p, "%s/mdc_y.npy", dir); sl_npy_write(NULL, p, SL_F64, 3, smy, my);
}

static double rel_err(const double *got, const double *want, size_t n)
{
    double e = 0, s = 1e-300;
    for (size_t i = 0; i < n; i++) {
        e = fmax(e, fabs(got[i] - want[i]));
        s = fmax(s, fabs(want[i]));
    }
    return e / s;
}

static void *load(const char *dir, const char *name, size_t count);
static void expect(const char *what, double err, double tol);

/* laplacian --axes 0,1,2 --weights 1,2,3 --sampling 1,0.5,2; gradient --edge; poststack. */
static void check_stencils(const char *dir)
{
    double *v = load(dir, "vol.npy", VN), *lap = load(dir, "lap.npy", VN);
    double *grad = load(dir, "grad.npy", 3 * VN), *post = load(dir, "post.npy", VN);
    double want[3 * VN], tmp[VN];
    const double weights[3] = {1, 2, 3}, sampling[3] = {1, 0.5, 2};
    memset(want, 0, sizeof want);
    for (int a = 0; a < 3; a++) {
        along(2, a, weights[a] / (sampling[a] * sampling[a]), v, tmp);
        for (size_t i = 0; i < VN; i++) want[i] += tmp[i];
    }
    expect("apply laplacian (3 axes)", rel_err(lap, want, VN), 1e-13);
    for (int a = 0; a < 3; a++) along(1, a, 1.0, v, want + a * VN);
    expect("apply gradient --edge", rel_err(grad, want, 3 * VN), 1e-13);
    double d[VN];
    for (size_t i = 0; i < VN; i++) d[i] = 0;
    along(1, 0, 1.0, v, d);
    for (size_t o = 0; o < VN / V0; o++) /* edge off: zero the first and last time samples */
        d[o] = d[(V0 - 1) * (VN / V0) + o] = 0;
    along(3, 0, 1.0, d, want);
    expect("apply poststack (time axis 0)", rel_err(post, want, VN), 1e-13);
    free(v);
    free(lap);
    free(grad);
    free(post);
}

static void *load(const char *dir, const char *name, size_t count)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    sl_npy_array arr;
    if (sl_npy_read(NULL, p, &arr) != SL_OK) {
        printf("cannot read %s\n", p);
        failures++;
        return calloc(count, 16);
    }
    return arr.data;
}

static void expect(const char *what, double err, double tol)
{
    int ok = err <= tol;
    failures += !ok;
    printf("%-32s rel err %.3g %s\n", what, err, ok ? "ok" : "FAILED");
}

/* The MatrixMult outputs of one kind: Ax<kind>.npy, ATy<kind>.npy, ... */
static void check_matrixmult(const char *dir, const char *kind)
{
    char f[5][64];
    const char *names[5] = {"Ax", "ATy", "sol", "sol_lsqr", "Azx"};
    for (int i = 0; i < 5; i++) snprintf(f[i], sizeof f[i], "%s%s.npy", names[i], kind);
    printf("MatrixMult kind '%s'\n", *kind ? kind + 1 : "row");
    double *a = load(dir, "A.npy", N * K), *x = load(dir, "x.npy", K), *y = load(dir, "y.npy", N);
    double *ax = load(dir, f[0], N), *aty = load(dir, f[1], K), *sol = load(dir, f[2], K);
    double *sol_lsqr = load(dir, f[3], K);
    double _Complex *az = load(dir, "Az.npy", N * K), *xz = load(dir, "xz.npy", K * M);
    double _Complex *azx = load(dir, f[4], N * M);
    double e = 0, s = 0;
    for (int i = 0; i < N; i++) {
        double r = 0;
        for (int j = 0; j < K; j++) r += a[i * K + j] * x[j];
        e = fmax(e, fabs(r - ax[i]));
        s = fmax(s, fabs(r));
    }
    expect("apply A x", e / s, 1e-13);
    e = s = 0;
    for (int j = 0; j < K; j++) {
        double r = 0;
        for (int i = 0; i < N; i++) r += a[i * K + j] * y[i];
        e = fmax(e, fabs(r - aty[j]));
        s = fmax(s, fabs(r));
    }
    expect("apply --adjoint A^T y", e / s, 1e-13);
    e = s = 0;
    for (int i = 0; i < N; i++)
        for (int c = 0; c < M; c++) {
            double _Complex r = 0;
            for (int j = 0; j < K; j++) r += az[i * K + j] * xz[j * M + c];
            e = fmax(e, cabs(r - azx[i * M + c]));
            s = fmax(s, cabs(r));
        }
    expect("apply complex, 3 right-hand sides", e / s, 1e-13);
    double acopy[N * K], b[N];
    memcpy(acopy, a, sizeof acopy);
    memcpy(b, y, sizeof b);
    LAPACKE_dgels(LAPACK_ROW_MAJOR, 'N', N, K, 1, acopy, K, b, 1);
    e = s = 0;
    for (int j = 0; j < K; j++) {
        e = fmax(e, fabs(b[j] - sol[j]));
        s = fmax(s, fabs(b[j]));
    }
    expect("solve --solver cgls vs dgels", e / s, 1e-8);
    e = 0;
    for (int j = 0; j < K; j++) e = fmax(e, fabs(b[j] - sol_lsqr[j]));
    expect("solve --solver lsqr vs dgels", e / s, 1e-8);
    free(a); free(x); free(y); free(ax); free(aty); free(sol); free(sol_lsqr);
    free(az); free(xz); free(azx);
}

/* `apply --op fft --axis 1 --nfft 9 --real --norm none --fftshift-after` and its adjoint
 * applied to that output, against a dense real DFT of the volume. */
#define FFT_N 9
#define FFT_M (FFT_N / 2 + 1)
static double _Complex fft_coef(size_t j, size_t t)
{
    size_t k = (j + FFT_M - FFT_M / 2) % FFT_M; /* fftshift: data j holds bin k */
    double w = k >= 1 && k <= (FFT_N - 1) / 2 ? sqrt(2.0) : 1.0;
    double ph = -2 * M_PI * (double)((k * t) % FFT_N) / FFT_N;
    return w * (cos(ph) + I * sin(ph));
}

static void check_fft(const char *dir)
{
    printf("FFT (real, nfft 9, norm none, fftshift)\n");
    double *vol = load(dir, "vol.npy", VN), *adj = load(dir, "fft_adj.npy", VN);
    double _Complex *y = load(dir, "fft.npy", V0 * FFT_M * V2);
    double e = 0, s = 0, ea = 0, sa = 0;
    for (size_t o = 0; o < V0; o++)
        for (size_t i = 0; i < V2; i++) {
            for (size_t j = 0; j < FFT_M; j++) {
                double _Complex r = 0;
                for (size_t t = 0; t < V1; t++) r += fft_coef(j, t) * vol[(o * V1 + t) * V2 + i];
                e = fmax(e, cabs(r - y[(o * FFT_M + j) * V2 + i]));
                s = fmax(s, cabs(r));
            }
            for (size_t t = 0; t < V1; t++) {
                double _Complex r = 0;
                for (size_t j = 0; j < FFT_M; j++) r += conj(fft_coef(j, t)) * y[(o * FFT_M + j) * V2 + i];
                ea = fmax(ea, fabs(creal(r) - adj[(o * V1 + t) * V2 + i]));
                sa = fmax(sa, fabs(creal(r)));
            }
        }
    expect("apply fft", e / s, 1e-13);
    expect("apply fft --adjoint", ea / sa, 1e-13);
    free(vol); free(adj); free(y);
}

/* `apply --op fftnd --axes 0,2 --real` (ortho, no padding: an isometry of real arrays, the
 * rfft's sqrt(2) bins included) and its adjoint bring the volume back; fft2d's data has the
 * shape of rfft2 over the last two axes. */
static void check_fftnd(const char *dir)
{
    printf("FFTND (axes 0, 2, real, ortho) and FFT2D\n");
    double *vol = load(dir, "vol.npy", VN), *adj = load(dir, "fftnd_adj.npy", VN);
    double e = 0, s = 0;
    for (size_t i = 0; i < VN; i++) {
        e = fmax(e, fabs(adj[i] - vol[i]));
        s = fmax(s, fabs(vol[i]));
    }
    expect("apply fftnd, then --adjoint: the volume back", e / s, 1e-13);
    /* fft2d (ortho, real) is an isometry too: Parseval, and rfft2's shape */
    char path[512];
    snprintf(path, sizeof path, "%s/fft2d.npy", dir);
    sl_npy_array y2;
    double ny = 0, nv = 0;
    if (sl_npy_read(NULL, path, &y2) == SL_OK) {
        int shape_ok = y2.dtype == SL_C128 && y2.ndim == 3 && y2.shape[0] == V0 &&
                       y2.shape[1] == V1 && y2.shape[2] == V2 / 2 + 1;
        expect("apply fft2d: (6, 7, 5) complex128", shape_ok ? 0 : 1, 0.5);
        size_t m = shape_ok ? V0 * V1 * (V2 / 2 + 1) : 0;
        for (size_t i = 0; i < m; i++)
            ny += creal(((double _Complex *)y2.data)[i] * conj(((double _Complex *)y2.data)[i]));
        for (size_t i = 0; i < VN; i++)
            nv += vol[i] * vol[i];
        expect("apply fft2d: ||y|| = ||x|| (ortho, real)", fabs(ny - nv) / nv, 1e-13);
        sl_npy_free(&y2);
    } else {
        expect("apply fft2d: output readable", 1, 0.5);
    }
    free(vol); free(adj);
}

/* PyLops' NonStationaryConvolve1D along axis 1 of the volume: row i's filter interpolated
 * between the two given (the nearest outside them), spread over rows i-1..i+1. */
static void check_nonstationary(const char *dir)
{
    printf("NonStationaryConvolve1D (axis 1, filters at 1 and 5)\n");
    double *vol = load(dir, "vol.npy", VN), *y = load(dir, "nsc.npy", VN);
    double want[VN];
    memset(want, 0, sizeof want);
    for (size_t i = 0; i < V1; i++) {
        double t = ((double)i - (double)ns_ih[0]) / (double)(ns_ih[1] - ns_ih[0]), h[3];
        double c = floor(t), wgt = t - c;
        for (int m = 0; m < 3; m++)
            h[m] = c < 0 ? ns_filters[m] : c >= 1 ? ns_filters[3 + m]
                                             : (1 - wgt) * ns_filters[m] + wgt * ns_filters[3 + m];
        for (size_t o = 0; o < V0; o++)
            for (size_t q = 0; q < V2; q++)
                for (int m = 0; m < 3; m++) {
                    long j = (long)i + m - 1;
                    if (j >= 0 && j < (long)V1)
                        want[(o * V1 + (size_t)j) * V2 + q] += h[m] * vol[(o * V1 + i) * V2 + q];
                }
    }
    expect("apply nonstatconvolve1d", rel_err(y, want, VN), 1e-13);
    free(vol); free(y);
}

/* mdc through the CLI: the files' plumbing (shapes, dtypes, the kernel handed frequency by
 * frequency): <y, M x> = <M^H y, x> and M x is not zero (the operator itself is checked against
 * a dense reference in test_mdc). */
static void check_mdc(const char *dir)
{
    printf("MDC (G 3 x 2 x 3, nt 5, twosided)\n");
    double *x = load(dir, "mdc_x.npy", 15), *y = load(dir, "mdc_y.npy", 10);
    double *mx = load(dir, "mdc_Mx.npy", 10), *mhy = load(dir, "mdc_MHy.npy", 15);
    double a = 0, b = 0, n = 0;
    for (size_t i = 0; i < 10; i++) a += y[i] * mx[i], n += mx[i] * mx[i];
    for (size_t i = 0; i < 15; i++) b += mhy[i] * x[i];
    expect("apply mdc / --adjoint: <y, M x> = <M^H y, x>", fabs(a - b) / fmax(fabs(a), 1e-300),
           1e-12);
    expect("apply mdc: M x is not zero", n > 0 ? 0 : 1, 0.5);
    free(x); free(y); free(mx); free(mhy);
}

static void check(const char *dir)
{
    check_fft(dir);
    check_mdc(dir);
    check_nonstationary(dir);
    check_fftnd(dir);
    check_matrixmult(dir, "");
    check_matrixmult(dir, "_summa");
    check_stencils(dir);
}

/* `fill FILE VALUE d0,d1,...`: a float64 array of that shape holding VALUE everywhere (0, nan,
 * inf: inputs for the CLI's error tests). */
static int fill(const char *path, const char *value, const char *dims)
{
    size_t shape[SL_MAX_NDIM], n = 1;
    int nd = 0;
    for (const char *p = dims; *p && nd < SL_MAX_NDIM; nd++) {
        char *end;
        shape[nd] = strtoul(p, &end, 10);
        n *= shape[nd];
        p = *end == ',' ? end + 1 : end;
    }
    double *v = malloc(n * sizeof *v), x = strtod(value, NULL);
    for (size_t i = 0; v && i < n; i++) v[i] = x;
    int ok = v && sl_npy_write(NULL, path, SL_F64, nd, shape, v) == SL_OK;
    free(v);
    if (!ok) fprintf(stderr, "cli_check fill: cannot write %s\n", path);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "fill"))
        return fill(argv[2], argv[3], argv[4]);
    if (argc != 3) {
        fprintf(stderr, "usage: cli_check gen|check DIR | fill FILE VALUE d0,d1,...\n");
        return 2;
    }
    if (!strcmp(argv[1], "gen"))
        gen(argv[2]);
    else
        check(argv[2]);
    printf("cli_check: %d failed\n", failures);
    return failures ? 1 : 0;
}
