/* What the host-only tests of device index logic share (test_box_point, test_fredholm_walk,
 * test_fft_index: one process, no MPI, no StarPU): a CHECK that counts checks and failures
 * and prints the first 20 failures, a reproducible random generator, and the exit status. */
#ifndef STARLOPS_TEST_UNIT_HARNESS_H
#define STARLOPS_TEST_UNIT_HARNESS_H

#include <stdint.h>
#include <stdio.h>

static long unit_checks, unit_failures;

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        unit_checks++;                                                                         \
        if (!(cond)) {                                                                         \
            unit_failures++;                                                                   \
            if (unit_failures <= 20) {                                                         \
                fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);       \
                fprintf(stderr, __VA_ARGS__);                                                  \
                fprintf(stderr, "\n");                                                         \
            }                                                                                  \
        }                                                                                      \
    } while (0)

/* xorshift64 (G. Marsaglia, "Xorshift RNGs", 2003): the same sequence on every machine */
static uint64_t unit_rng = 0x9E3779B97F4A7C15ull;

static inline size_t rnd(size_t n) /* uniform enough in [0, n); 0 when n == 0 */
{
    unit_rng ^= unit_rng << 13, unit_rng ^= unit_rng >> 7, unit_rng ^= unit_rng << 17;
    return n ? (size_t)(unit_rng % n) : 0;
}

/* The test's exit status, after its summary line (what: the test's name and what it ran). */
static inline int unit_end(const char *name, const char *what)
{
    if (unit_failures) {
        fprintf(stderr, "%s: %ld of %ld checks failed\n", name, unit_failures, unit_checks);
        return 1;
    }
    printf("%s: %ld checks passed (%s)\n", name, unit_checks, what);
    return 0;
}

#endif
