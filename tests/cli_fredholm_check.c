/* Helper of the CLI's Fredholm1 test (cli_fredholm.sh): `gen DIR` writes a complex128 G of
 * shape (NSL, NX, NY), a model (NSL, NY, NZ) and data (NSL, NX, NZ); `check DIR` compares the
 * CLI's outputs with per-slice products and per-slice least-squares solutions (zgels). */
#include <complex.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starlops.h>

enum { NSL = 5, NX = 6, NY = 4, NZ = 2, NG = NSL * NX * NY, NM = NSL * NY * NZ, ND = NSL * NX * NZ };

typedef double _Complex cplx;

static int failures;

static cplx val(size_t i, int seed)
{
    return CMPLX(sin(1.0 + 0.7 * (double)i + 1.3 * seed), cos(0.3 + 0.9 * (double)i + seed));
}

static void write(const char *dir, const char *name, int ndim, const size_t *shape,
                  const cplx *v)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    if (sl_npy_write(NULL, p, SL_C128, ndim, shape, v) != SL_OK) {
        printf("cannot write %s\n", p);
        failures++;
    }
}

static void gen(const char *dir)
{
    cplx g[NG], x[NM], y[ND];
    for (size_t i = 0; i < NG; i++) g[i] = val(i, 1);
    for (size_t i = 0; i < NM; i++) x[i] = val(i, 2);
    for (size_t i = 0; i < ND; i++) y[i] = val(i, 3);
    size_t sg[3] = {NSL, NX, NY}, sx[3] = {NSL, NY, NZ}, sy[1] = {ND};
    write(dir, "G.npy", 3, sg, g);
    write(dir, "x.npy", 3, sx, x);
    write(dir, "y.npy", 1, sy, y); /* flat: the CLI takes either form */
    write(dir, "G2.npy", 2, sg + 1, g);
}

static cplx *load(const char *dir, const char *name, size_t count)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    sl_npy_array a;
    if (sl_npy_read(NULL, p, &a) != SL_OK) {
        printf("cannot read %s\n", p);
        failures++;
        return calloc(count, sizeof(cplx));
    }
    size_t n = 1;
    for (int d = 0; d < a.ndim; d++) n *= a.shape[d];
    if (a.dtype != SL_C128 || n != count) {
        printf("%s: %s with %zu values, complex128 with %zu expected\n", p,
               sl_dtype_name(a.dtype), n, count);
        failures++;
        free(a.data);
        return calloc(count, sizeof(cplx));
    }
    return a.data;
}

static void expect(const char *what, const cplx *got, const cplx *want, size_t n, double tol)
{
    double e = 0, s = 1e-300;
    for (size_t i = 0; i < n; i++) {
        e = fmax(e, cabs(got[i] - want[i]));
        s = fmax(s, cabs(want[i]));
    }
    int ok = e / s <= tol;
    failures += !ok;
    printf("%-34s rel err %.3g %s\n", what, e / s, ok ? "ok" : "FAILED");
}

/* out[s] = G[s] in[s], or G[s]^H in[s]. */
static void products(const cplx *g, const cplx *in, cplx *out, int adjoint)
{
    size_t m = adjoint ? NY : NX, k = adjoint ? NX : NY;
    for (size_t s = 0; s < NSL; s++)
        for (size_t i = 0; i < m; i++)
            for (size_t c = 0; c < NZ; c++) {
                cplx acc = 0;
                for (size_t j = 0; j < k; j++) {
                    cplx gij = adjoint ? conj(g[(s * NX + j) * NY + i]) : g[(s * NX + i) * NY + j];
                    acc += gij * in[(s * k + j) * NZ + c];
                }
                out[(s * m + i) * NZ + c] = acc;
            }
}

static void lstsq(const cplx *g, const cplx *y, cplx *x)
{
    for (size_t s = 0; s < NSL; s++) {
        cplx a[NX * NY], b[NX * NZ];
        memcpy(a, g + s * NX * NY, sizeof a);
        memcpy(b, y + s * NX * NZ, sizeof b);
        LAPACKE_zgels(LAPACK_ROW_MAJOR, 'N', NX, NY, NZ, a, NY, b, NZ);
        memcpy(x + s * NY * NZ, b, NY * NZ * sizeof(cplx));
    }
}

static void check(const char *dir)
{
    cplx *g = load(dir, "G.npy", NG), *x = load(dir, "x.npy", NM), *y = load(dir, "y.npy", ND);
    cplx *gx = load(dir, "Gx.npy", ND), *ghy = load(dir, "GHy.npy", NM);
    cplx *ghy_saved = load(dir, "GHy_saveGt.npy", NM), *sol = load(dir, "sol.npy", NM);
    cplx want_d[ND], want_m[NM];
    products(g, x, want_d, 0);
    expect("apply fredholm1", gx, want_d, ND, 1e-13);
    products(g, y, want_m, 1);
    expect("apply fredholm1 --adjoint", ghy, want_m, NM, 1e-13);
    expect("apply fredholm1 --adjoint --saveGt", ghy_saved, want_m, NM, 1e-13);
    lstsq(g, y, want_m);
    expect("solve fredholm1 cgls", sol, want_m, NM, 1e-8);
    free(g), free(x), free(y), free(gx), free(ghy), free(ghy_saved), free(sol);
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "gen") && strcmp(argv[1], "check"))) {
        fprintf(stderr, "usage: cli_fredholm_check gen|check DIR\n");
        return 2;
    }
    if (!strcmp(argv[1], "gen"))
        gen(argv[2]);
    else
        check(argv[2]);
    printf("cli_fredholm_check: %d failed\n", failures);
    return failures ? 1 : 0;
}
