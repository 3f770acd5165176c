/* Block-cyclic geometry and grid choice of the SUMMA MatrixMult (see summa_plan.h). */
#include "ops/summa_plan.h"

static size_t ceil_div(size_t a, size_t b)
{
    return (a + b - 1) / b;
}

sl_tiled sl_tiled_make(size_t rows, size_t cols, size_t rb, size_t cb)
{
    sl_tiled t = {rows, cols, rb, cb, ceil_div(rows, rb), ceil_div(cols, cb)};
    return t;
}

size_t sl_tiled_tile_rows(const sl_tiled *t, size_t ti)
{
    size_t left = t->rows - ti * t->rb;
    return left < t->rb ? left : t->rb;
}

size_t sl_tiled_tile_cols(const sl_tiled *t, size_t tj)
{
    size_t left = t->cols - tj * t->cb;
    return left < t->cb ? left : t->cb;
}

size_t sl_summa_pack_offsets(const sl_summa_plan *plan, const sl_tiled *t, int rank,
                             size_t *offsets)
{
    size_t count = 0;
    for (size_t ti = 0; ti < t->rt; ti++)
        for (size_t tj = 0; tj < t->ct; tj++) {
            int mine = sl_summa_owner(plan, ti, tj) == rank;
            if (offsets)
                offsets[ti * t->ct + tj] = mine ? count : SIZE_MAX;
            if (mine)
                count += sl_tiled_tile_rows(t, ti) * sl_tiled_tile_cols(t, tj);
        }
    return count;
}

double sl_summa_volume(size_t n, size_t k, size_t m, int p, int q)
{
    double N = (double)n, K = (double)k, M = (double)m, P = p, Q = q;
    double forward = N / P * K * (Q - 1) / Q + K * M / Q * (P - 1) / P;
    double adjoint = N / P * M * (Q - 1) / Q + K / Q * M * (P - 1) / P;
    return forward + adjoint;
}

void sl_summa_choose_grid(size_t n, size_t k, size_t m, int size, int want_p, int want_q,
                          int *p, int *q)
{
    if (want_p > 0 && want_q > 0) {
        *p = want_p;
        *q = want_q;
        return;
    }
    double best = -1;
    *p = *q = 0;
    for (int d = 1; d <= size; d++) {
        if (size % d)
            continue;
        int e = size / d;
        double v = sl_summa_volume(n, k, m, d, e);
        int squarer = best >= 0 && (d > e ? d - e : e - d) < (*p > *q ? *p - *q : *q - *p);
        if (best < 0 || v < best * (1 - 1e-12) || (v <= best * (1 + 1e-12) && squarer)) {
            best = v;
            *p = d;
            *q = e;
        }
    }
}

static size_t pick(size_t extent, int procs, size_t cap)
{
    size_t per = ceil_div(extent, (size_t)procs);
    return per < cap ? per : cap;
}

void sl_summa_default_tiles(size_t n, size_t k, size_t m, int p, int q, size_t *mb, size_t *kb,
                            size_t *nb)
{
    *mb = pick(n, p, 512);
    *nb = pick(m, q, 512);
    /* >= 4 panels along K so that transfers overlap products, but panels of >= 128 columns
     * (or K in equal parts of at least that): below, every panel's handful of tasks (copy,
     * send, receive, completion, gemm) costs more than the product it carries */
    size_t panel = ceil_div(k, 4);
    if (panel < 128) {
        size_t npanels = ceil_div(k, 128);
        panel = ceil_div(k, npanels ? npanels : 1);
    }
    *kb = panel > 512 ? 512 : panel;
}
