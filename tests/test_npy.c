/* .npy reader/writer: round trips for every dtype and rank 1..4 arrays, files written by hand
 * in versions 1.0/2.0/3.0 and Fortran order, and malformed files (truncated, wrong magic, huge
 * or non-integer shapes, unsupported dtypes, big-endian) that must fail cleanly. */
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"

/* A directory of this process's own: ctest runs the test's variants (ranks, backends) side by
 * side in one working directory, and files of the same name would be overwritten under a
 * reader (seen once in a -j2 run). */
static char dir[256];

static int make_private_dir(void)
{
    const char *base = getenv("STARLOPS_TEST_TMPDIR") ? getenv("STARLOPS_TEST_TMPDIR")
                                                      : getenv("TMPDIR") ? getenv("TMPDIR")
                                                                         : "/tmp";
    snprintf(dir, sizeof dir, "%s/starlops_test_npy_XXXXXX", base);
    return mkdtemp(dir) != NULL;
}

static void remove_private_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    if (d)
        closedir(d);
    rmdir(dir);
}

static void path_of(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/r%d_%s", dir, th_rank, name);
}

/* Writes a file with an arbitrary header dict and payload. */
static void write_raw(const char *path, int major, const char *dict, const void *data,
                      size_t bytes)
{
    FILE *f = fopen(path, "wb");
    size_t dlen = strlen(dict), pre = major == 1 ? 10 : 12;
    size_t hlen = ((pre + dlen + 1 + 63) / 64) * 64 - pre;
    unsigned char p[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', (unsigned char)major, 0};
    if (major == 1) { p[8] = (unsigned char)hlen; p[9] = (unsigned char)(hlen >> 8); }
    else { p[8] = (unsigned char)hlen; p[9] = (unsigned char)(hlen >> 8); p[10] = 0; p[11] = 0; }
    fwrite(p, 1, pre, f);
    fwrite(dict, 1, dlen, f);
    for (size_t i = dlen; i < hlen - 1; i++) fputc(' ', f);
    fputc('\n', f);
    if (bytes) fwrite(data, 1, bytes, f);
    fclose(f);
}

static void test_round_trip(sl_context *ctx, sl_dtype dt)
{
    size_t shapes[4][4] = {{7}, {3, 5}, {2, 3, 4}, {2, 1, 3, 2}};
    for (int nd = 1; nd <= 4; nd++) {
        size_t n = th_prod(shapes[nd - 1], nd);
        cplx *g = malloc(n * sizeof(cplx)), *back = malloc(n * sizeof(cplx));
        void *raw = malloc(n * sl_dtype_size(dt));
        th_random(g, n, sl_dtype_is_complex(dt), (uint64_t)nd);
        th_round(dt, g, n);
        th_to_dtype(dt, g, raw, n);
        char p[512];
        path_of(p, sizeof p, "rt.npy");
        CHECK_OK(sl_npy_write(ctx, p, dt, nd, shapes[nd - 1], raw), ctx);
        sl_npy_array a;
        CHECK_OK(sl_npy_read(ctx, p, &a), ctx);
        CHECK(a.dtype == dt && a.ndim == nd && !memcmp(a.shape, shapes[nd - 1], nd * sizeof(size_t)),
              "round trip header %s ndim=%d", sl_dtype_name(dt), nd);
        if (a.data) {
            th_from_dtype(dt, a.data, back, n);
            CHECK(th_rel_err(back, g, n) == 0, "round trip data %s ndim=%d", sl_dtype_name(dt), nd);
        }
        sl_npy_free(&a);
        free(g); free(back); free(raw);
    }
}

static void test_versions_and_order(sl_context *ctx)
{
    double v[6] = {1, 2, 3, 4, 5, 6}; /* Fortran order of [[1,3,5],[2,4,6]] */
    char p[512];
    path_of(p, sizeof p, "v.npy");
    for (int major = 1; major <= 3; major++) {
        write_raw(p, major, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", v,
                  sizeof v);
        sl_npy_array a;
        CHECK_OK(sl_npy_read(ctx, p, &a), ctx);
        const double c[6] = {1, 3, 5, 2, 4, 6};
        CHECK(a.data && a.ndim == 2 && !memcmp(a.data, c, sizeof c),
              "version %d Fortran order not transposed to C order", major);
        sl_npy_free(&a);
    }
}

static void expect_refused(sl_context *ctx, const char *name, int major, const char *dict,
                           const void *data, size_t bytes, const char *what)
{
    char p[512];
    path_of(p, sizeof p, name);
    write_raw(p, major, dict, data, bytes);
    sl_npy_array a;
    sl_status st = sl_npy_read(ctx, p, &a);
    CHECK(st != SL_OK && a.data == NULL, "%s accepted", what);
    CHECK(st == SL_OK || sl_last_error(ctx)[0], "%s: no message", what);
}

static void test_malformed(sl_context *ctx)
{
    double v[4] = {1, 2, 3, 4};
    expect_refused(ctx, "t.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }",
                   v, sizeof v, "truncated data");
    expect_refused(ctx, "x.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
                   v, sizeof v, "trailing data");
    expect_refused(ctx, "h.npy", 1,
                   "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999), }",
                   v, sizeof v, "huge shape");
    expect_refused(ctx, "i.npy", 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }",
                   v, sizeof v, "int32 dtype");
    expect_refused(ctx, "b.npy", 1, "{'descr': '>f8', 'fortran_order': False, 'shape': (4,), }",
                   v, sizeof v, "big-endian");
    expect_refused(ctx, "s.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (a,), }",
                   v, sizeof v, "non-integer shape");
    expect_refused(ctx, "n.npy", 1, "{'descr': '<f8', 'shape': (4,), }", v, sizeof v,
                   "missing fortran_order");
    expect_refused(ctx, "z.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
                   v, 8, "0-d array");
    expect_refused(ctx, "v.npy", 4, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }",
                   v, sizeof v, "version 4");
    char p[512];
    path_of(p, sizeof p, "m.npy");
    FILE *f = fopen(p, "wb");
    fputs("not a numpy file at all", f);
    fclose(f);
    sl_npy_array a;
    CHECK_STATUS(sl_npy_read(ctx, p, &a), SL_ERR_ARG, ctx);
    CHECK(strstr(sl_last_error(ctx), "magic") != NULL, "message: %s", sl_last_error(ctx));
    path_of(p, sizeof p, "e.npy");
    f = fopen(p, "wb");
    fwrite("\x93NUMPY\x01", 1, 7, f); /* cut inside the preamble */
    fclose(f);
    CHECK(sl_npy_read(ctx, p, &a) != SL_OK, "truncated preamble accepted");
    CHECK_STATUS(sl_npy_read(ctx, "/nonexistent/dir/file.npy", &a), SL_ERR_ARG, ctx);
    CHECK_STATUS(sl_npy_read(ctx, NULL, &a), SL_ERR_NULL, ctx);
    /* writing: bad arguments and an unwritable place leave no file behind */
    size_t shape[1] = {4};
    CHECK_STATUS(sl_npy_write(ctx, p, (sl_dtype)9, 1, shape, v), SL_ERR_DTYPE, ctx);
    CHECK_STATUS(sl_npy_write(ctx, p, SL_F64, 0, shape, v), SL_ERR_SHAPE, ctx);
    CHECK(sl_npy_write(ctx, "/nonexistent/dir/out.npy", SL_F64, 1, shape, v) != SL_OK,
          "write into a missing directory succeeded");
}

int main(int argc, char **argv)
{
    sl_context *ctx = th_init(&argc, &argv);
    CHECK(make_private_dir(), "cannot make a temporary directory from %s", dir);
    for (int d = 0; d < 4; d++)
        test_round_trip(ctx, th_dtypes[d]);
    test_versions_and_order(ctx);
    test_malformed(ctx);
    remove_private_dir();
    return th_end(ctx, "test_npy");
}
