/* Minimal program built against the installed library: a dot product on 1 rank. */
#include <stdio.h>
#include <starlops.h>

int main(int argc, char **argv)
{
    sl_context *ctx;
    if (sl_init(&argc, &argv, &ctx) != SL_OK) {
        fprintf(stderr, "sl_init: %s\n", sl_init_error());
        return 1;
    }
    size_t n = 100;
    sl_darray *x;
    sl_scalar *d;
    double v = 0;
    int ok = sl_darray_create(ctx, SL_F64, 1, &n, SL_SCATTER, 0, NULL, NULL, &x) == SL_OK &&
             sl_darray_fill(x, 2.0) == SL_OK && sl_darray_dot(x, x, &d) == SL_OK &&
             sl_scalar_get_real(d, &v) == SL_OK;
    printf("consumer: dot = %g (expected 400)\n", v);
    sl_scalar_destroy(d);
    sl_darray_destroy(x);
    sl_finalize(ctx);
    return ok && v == 400.0 ? 0 : 1;
}
