/* .npy reader and writer. Format: "\x93NUMPY", major, minor, header length (uint16 for 1.x,
 * uint32 for 2.x/3.x, little-endian), then a Python dict literal
 * {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), } padded with spaces and '\n' so
 * that the data starts on a 64-byte boundary (NumPy's NEP 1 description of the format). */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <starlops/io.h>

#include "runtime/context_internal.h"

#define MAX_HEADER (1u << 20)

static sl_status io_fail(sl_context *ctx, sl_status st, const char *path, const char *fmt,
                         const char *detail)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, detail ? detail : "");
    return sl_fail(ctx, st, "%s: %s", path, msg);
}

/* Finds 'key': in the header and returns a pointer just past the colon. */
static const char *find_key(const char *h, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(h, pat);
    if (!p) {
        snprintf(pat, sizeof pat, "\"%s\"", key);
        p = strstr(h, pat);
    }
    if (!p)
        return NULL;
    p += strlen(pat);
    while (isspace((unsigned char)*p)) p++;
    return *p == ':' ? p + 1 : NULL;
}

static int parse_descr(const char *h, sl_dtype *dt, const char **why)
{
    const char *p = find_key(h, "descr");
    if (!p) { *why = "no 'descr'"; return 0; }
    while (isspace((unsigned char)*p)) p++;
    char q = *p;
    if (q != '\'' && q != '"') { *why = "'descr' is not a simple type string"; return 0; }
    char d[16];
    size_t n = 0;
    for (p++; *p && *p != q && n + 1 < sizeof d; p++) d[n++] = *p;
    d[n] = '\0';
    /* '<' little-endian; '=' native (little on the machines we support); '|' not applicable */
    if (d[0] == '>') { *why = "big-endian data is not supported"; return 0; }
    const char *t = (d[0] == '<' || d[0] == '=' || d[0] == '|') ? d + 1 : d;
    if (!strcmp(t, "f4")) *dt = SL_F32;
    else if (!strcmp(t, "f8")) *dt = SL_F64;
    else if (!strcmp(t, "c8")) *dt = SL_C64;
    else if (!strcmp(t, "c16")) *dt = SL_C128;
    else { *why = "unsupported dtype (float32, float64, complex64, complex128 only)"; return 0; }
    return 1;
}

static int parse_fortran(const char *h, int *fortran, const char **why)
{
    const char *p = find_key(h, "fortran_order");
    if (!p) { *why = "no 'fortran_order'"; return 0; }
    while (isspace((unsigned char)*p)) p++;
    if (!strncmp(p, "True", 4)) *fortran = 1;
    else if (!strncmp(p, "False", 5)) *fortran = 0;
    else { *why = "'fortran_order' is neither True nor False"; return 0; }
    return 1;
}

static int parse_shape(const char *h, int *ndim, size_t *shape, const char **why)
{
    const char *p = find_key(h, "shape");
    if (!p) { *why = "no 'shape'"; return 0; }
    while (isspace((unsigned char)*p)) p++;
    if (*p++ != '(') { *why = "'shape' is not a tuple"; return 0; }
    *ndim = 0;
    for (;;) {
        while (isspace((unsigned char)*p)) p++;
        if (*p == ')') break;
        if (*p == '-') { *why = "'shape' holds a negative dimension"; return 0; }
        if (!isdigit((unsigned char)*p)) { *why = "'shape' holds a non-integer"; return 0; }
        errno = 0;
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno || v > ((size_t)1 << 48)) { *why = "a dimension is too large"; return 0; }
        if (*ndim == SL_MAX_NDIM) { *why = "too many dimensions"; return 0; }
        shape[(*ndim)++] = (size_t)v;
        p = end;
        while (isspace((unsigned char)*p)) p++;
        if (*p == ',') p++;
        else if (*p != ')') { *why = "'shape' is malformed"; return 0; }
    }
    if (*ndim == 0) { *why = "0-d arrays are not supported"; return 0; }
    return 1;
}

/* Element count, or 0 with *why set on overflow / empty arrays. */
static size_t element_count(int ndim, const size_t *shape, const char **why)
{
    size_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] == 0) { *why = "empty arrays are not supported"; return 0; }
        if (n > SIZE_MAX / 16 / shape[d]) { *why = "the shape overflows"; return 0; }
        n *= shape[d];
    }
    return n;
}

/* Fortran order -> C order (reversed strides). */
static void fortran_to_c(const char *src, char *dst, int ndim, const size_t *shape, size_t es)
{
    size_t n = 1, idx[SL_MAX_NDIM] = {0};
    for (int d = 0; d < ndim; d++) n *= shape[d];
    for (size_t i = 0; i < n; i++) { /* i runs over C order; idx is its multi-index */
        size_t f = 0;
        for (int d = ndim - 1; d >= 0; d--) f = f * shape[d] + idx[d];
        memcpy(dst + i * es, src + f * es, es);
        for (int d = ndim - 1; d >= 0; d--) {
            if (++idx[d] < shape[d]) break;
            idx[d] = 0;
        }
    }
}

static long file_size(FILE *f)
{
    if (fseek(f, 0, SEEK_END) != 0) return -1;
    long n = ftell(f);
    return fseek(f, 0, SEEK_SET) == 0 ? n : -1;
}

static sl_status read_header(sl_context *ctx, const char *path, FILE *f, char **header,
                             size_t *data_offset)
{
    unsigned char pre[12];
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0)
        return io_fail(ctx, SL_ERR_ARG, path, "not a .npy file (bad magic)%s", NULL);
    int major = pre[6];
    size_t hlen;
    if (major == 1) {
        hlen = pre[8] | (size_t)pre[9] << 8;
        *data_offset = 10 + hlen;
    } else if (major == 2 || major == 3) {
        if (fread(pre + 10, 1, 2, f) != 2)
            return io_fail(ctx, SL_ERR_ARG, path, "truncated header%s", NULL);
        hlen = pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
        *data_offset = 12 + hlen;
    } else {
        return io_fail(ctx, SL_ERR_UNSUPPORTED, path, "format version %s is not 1, 2 or 3",
                       major == 0 ? "0" : ">3");
    }
    if (hlen == 0 || hlen > MAX_HEADER)
        return io_fail(ctx, SL_ERR_ARG, path, "implausible header length%s", NULL);
    *header = malloc(hlen + 1);
    if (!*header)
        return sl_fail(ctx, SL_ERR_NOMEM, "%s: out of memory", path);
    if (fread(*header, 1, hlen, f) != hlen) {
        free(*header);
        *header = NULL;
        return io_fail(ctx, SL_ERR_ARG, path, "truncated header%s", NULL);
    }
    (*header)[hlen] = '\0';
    return SL_OK;
}

sl_status sl_npy_read(sl_context *ctx, const char *path, sl_npy_array *out)
{
    /* zeroed first, on every path: callers may then free it whatever happened */
    if (out)
        memset(out, 0, sizeof *out);
    if (!path || !out)
        return sl_null_error(__func__);
    FILE *f = fopen(path, "rb");
    if (!f)
        return io_fail(ctx, SL_ERR_ARG, path, "cannot open (%s)", strerror(errno));
    char *h = NULL;
    size_t offset = 0;
    long fsize = file_size(f);
    sl_status st = read_header(ctx, path, f, &h, &offset);
    const char *why = NULL;
    int fortran = 0;
    size_t n = 0, es = 0;
    if (st == SL_OK && (!parse_descr(h, &out->dtype, &why) || !parse_fortran(h, &fortran, &why) ||
                        !parse_shape(h, &out->ndim, out->shape, &why) ||
                        !(n = element_count(out->ndim, out->shape, &why))))
        st = io_fail(ctx, why && strstr(why, "supported") ? SL_ERR_UNSUPPORTED : SL_ERR_ARG, path,
                     "%s", why);
    if (st == SL_OK) {
        es = sl_dtype_size(out->dtype);
        /* the file must hold exactly the data the header announces: checked before allocating */
        if (fsize < 0 || (size_t)fsize < offset || ((size_t)fsize - offset) / es != n ||
            ((size_t)fsize - offset) % es != 0)
            st = io_fail(ctx, SL_ERR_ARG, path, "file size does not match the header's shape "
                         "(truncated or trailing data)%s", NULL);
    }
    char *raw = NULL;
    if (st == SL_OK && !(raw = malloc(n * es)))
        st = sl_fail(ctx, SL_ERR_NOMEM, "%s: out of memory for %zu elements", path, n);
    if (st == SL_OK && (fseek(f, (long)offset, SEEK_SET) != 0 || fread(raw, es, n, f) != n))
        st = io_fail(ctx, SL_ERR_ARG, path, "cannot read the data%s", NULL);
    if (st == SL_OK && fortran && out->ndim > 1) {
        char *c = malloc(n * es);
        if (!c)
            st = sl_fail(ctx, SL_ERR_NOMEM, "%s: out of memory", path);
        else {
            fortran_to_c(raw, c, out->ndim, out->shape, es);
            free(raw);
            raw = c;
        }
    }
    free(h);
    fclose(f);
    if (st != SL_OK) {
        free(raw);
        memset(out, 0, sizeof *out);
        return st;
    }
    out->data = raw;
    return SL_OK;
}

void sl_npy_free(sl_npy_array *a)
{
    if (a) {
        free(a->data);
        a->data = NULL;
    }
}

static const char *descr_of(sl_dtype dt)
{
    switch (dt) {
    case SL_F32: return "<f4";
    case SL_F64: return "<f8";
    case SL_C64: return "<c8";
    case SL_C128: return "<c16";
    }
    return NULL;
}

/* The file the data replaces, and the mode to give it. The write is a rename over `path`,
 * which ignores the old file's permissions (and root passes every access() test): a file its
 * owner may not write, or that is not a regular file, is refused; a replaced file keeps its
 * mode (*mode < 0 for a new file); a symbolic link keeps its name and its target is replaced. */
static sl_status write_target(sl_context *ctx, const char *path, char *target, size_t len,
                              long *mode)
{
    struct stat s, l;
    *mode = -1;
    if (stat(path, &s) != 0) { /* a new file (or a dangling link, replaced by the file) */
        if (snprintf(target, len, "%s", path) >= (int)len)
            return sl_fail(ctx, SL_ERR_ARG, "%s: path too long", path);
        return SL_OK;
    }
    if (!S_ISREG(s.st_mode))
        return sl_fail(ctx, SL_ERR_ARG, "%s: exists and is not a regular file", path);
    if (!(s.st_mode & S_IWUSR))
        return sl_fail(ctx, SL_ERR_ARG, "%s: read-only (no write permission for its owner), "
                       "not replaced", path);
    *mode = (long)(s.st_mode & 07777);
    char *real = lstat(path, &l) == 0 && S_ISLNK(l.st_mode) ? realpath(path, NULL) : NULL;
    int n = snprintf(target, len, "%s", real ? real : path);
    free(real);
    return n < (int)len ? SL_OK : sl_fail(ctx, SL_ERR_ARG, "%s: path too long", path);
}

sl_status sl_npy_write(sl_context *ctx, const char *path, sl_dtype dtype, int ndim,
                       const size_t *shape, const void *data)
{
    if (!path || !shape || !data)
        return sl_null_error(__func__);
    const char *why = NULL, *descr = descr_of(dtype);
    if (!descr)
        return sl_fail(ctx, SL_ERR_DTYPE, "%s: dtype %d cannot be written", path, (int)dtype);
    if (ndim < 1 || ndim > SL_MAX_NDIM)
        return sl_fail(ctx, SL_ERR_SHAPE, "%s: ndim=%d is outside [1, %d]", path, ndim,
                       SL_MAX_NDIM);
    size_t n = element_count(ndim, shape, &why);
    if (!n)
        return io_fail(ctx, SL_ERR_SHAPE, path, "%s", why);
    char dict[512];
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                       descr);
    for (int d = 0; d < ndim; d++)
        len += snprintf(dict + len, sizeof dict - (size_t)len, "%zu%s", shape[d],
                        ndim == 1 ? "," : d + 1 < ndim ? ", " : "");
    len += snprintf(dict + len, sizeof dict - (size_t)len, "), }");
    size_t total = 10 + (size_t)len + 1, padded = (total + 63) / 64 * 64;
    size_t hlen = padded - 10;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    char target[4096], tmp[4096 + 32];
    long mode;
    sl_status st = write_target(ctx, path, target, sizeof target, &mode);
    if (st != SL_OK)
        return st;
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", target, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return io_fail(ctx, SL_ERR_ARG, path, "cannot create (%s)", strerror(errno));
    int ok = mode < 0 || fchmod(fileno(f), (mode_t)mode) == 0;
    ok = ok && fwrite(pre, 1, 10, f) == 10 && fwrite(dict, 1, (size_t)len, f) == (size_t)len;
    for (size_t i = (size_t)len; ok && i < hlen - 1; i++)
        ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    ok = ok && fwrite(data, sl_dtype_size(dtype), n, f) == n;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, target) != 0) {
        int err = errno;
        remove(tmp);
        return io_fail(ctx, SL_ERR_ARG, path, "write failed (%s)", strerror(err));
    }
    return SL_OK;
}
