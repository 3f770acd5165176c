/* bench/gpu: the CUDA codelets on one GPU, each figure next to its ceiling measured by the same
 * process just before (raw CUDA / cuBLAS, before StarPU starts, so nothing competes with it):
 *
 *   vector     axpy, dot, norm GB/s (codelets pinned to the CUDA worker) vs a device-to-device
 *              cudaMemcpy (counted as STREAM does: copy 16 B, axpy 24, dot 16, norm 8 per element)
 *   stencil    FirstDerivative and Laplacian GB/s vs the same copy, pinned to the GPU (target)
 *              and to the CPU workers (reference, with the same GPU-sized tiles)
 *   gemm       MatrixMult 1D and SUMMA (1 x 1 grid, GPU-sized tiles) forward and adjoint Gflop/s
 *              vs cuBLAS dgemm alone on the same sizes
 *   cgls       CGLS ms per iteration, 8000 x 6000 and 20000 x 20000 float64, pinned to the GPU,
 *              vs the floor: cuBLAS gemv + gemv^T of the same matrix
 *   cgls-cpu   the same CGLS pinned to the CPU workers (smaller tiles: two per CPU worker)
 *   sched      one 8000 x 6000 CGLS pinned to the CPU, to the GPU, and free (STARPU_SCHED, dmdas
 *              unless set), after a calibration solve, with the tasks each kind of worker ran
 *   fft        sl_op_fft (complex128, 4096 x 4096) along the contiguous and the strided axis,
 *              forward and adjoint, pinned to the GPU, ms per application vs cuFFT alone
 *              (one batched Z2Z of the same lines, contiguous, no gather/scale/scatter)
 *   allreduce  the library's reduction round trip and an adjoint's vector allreduce with the
 *              backend STARLOPS_COMM selects, vs MPI_Allreduce on host buffers; under
 *              STARLOPS_COMM=nccl a build without the NCCL backend writes a "not built" row
 *
 * Each mode is its own process (the tile size is a context setting and each mode wants its own;
 * a failure in one mode loses nothing measured by the others). Every mode appends rows to the
 * CSV: section,case,size,placement,value,unit,ceiling_name,ceiling,ratio,target,status,note.
 * status is met / not met against the target (ratio >= target for bandwidths and
 * Gflop/s, ratio <= target for times), n/a without a target, or what kept a row from measuring.
 * Without a CUDA device every mode prints "skipped: no CUDA device" and exits 0.
 * STARLOPS_BENCH_GPU_DRYRUN=1 checks the bench itself on a machine without a GPU: the library
 * cases at toy sizes with "cuda" placements mapped to the CPU, no ceilings (rows say "dry run");
 * its figures mean nothing.
 *
 * Usage: mpirun -n 1 gpu MODE [out.csv]   (allreduce also at -n 2; tools/device-check.sh runs
 * them all; plot: bench/plot_gpu.py). STARLOPS_TILE, if set, overrides each mode's tile. */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cufft.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <starlops.h>
#include <starpu.h>
#include <starpu_profiling.h>

#include "bench_common.h"
#include "cuda/cuda_workers.h"

/* ---- output ---- */

static FILE *csv;
static int rank0;
static int dry; /* STARLOPS_BENCH_GPU_DRYRUN: no GPU, toy sizes */

/* A size of the real run, or its toy version in a dry run. */
static size_t sz(size_t real, size_t toy)
{
    return dry ? toy : real;
}

typedef enum target_kind { TARGET_NONE, TARGET_AT_LEAST, TARGET_AT_MOST } target_kind;

typedef struct row {
    const char *section, *name;
    const char *size;
    const char *placement;
    double value;
    const char *unit;
    const char *ceiling_name;
    double ceiling;
    target_kind kind;
    double target;
    const char *status; /* NULL: met / not met / n/a from the target */
    const char *note;
} row;

/* CSV fields are free text without commas or newlines. */
static void csv_text(const char *s)
{
    for (; s && *s; s++)
        fputc(*s == ',' || *s == '\n' ? ';' : *s, csv);
}

static void emit(const row *r)
{
    if (!rank0)
        return;
    double ratio = r->ceiling > 0 && r->value > 0 ? r->value / r->ceiling : NAN;
    const char *status = r->status;
    if (!status && dry)
        status = "dry run";
    if (!status) {
        if (r->kind == TARGET_NONE)
            status = "n/a";
        else if (isnan(ratio))
            status = "failed";
        else
            status = (r->kind == TARGET_AT_LEAST ? ratio >= r->target : ratio <= r->target)
                         ? "met" : "not met";
    }
    char target[32] = "";
    if (r->kind != TARGET_NONE)
        snprintf(target, sizeof target, "%s%.2f", r->kind == TARGET_AT_LEAST ? ">=" : "<=",
                 r->target);
    printf("%-9s %-28s %-14s %-5s %10.3f %-6s | %-22s %10.3f | ratio %6.3f %-7s %s%s%s\n",
           r->section, r->name, r->size, r->placement, r->value, r->unit, r->ceiling_name,
           r->ceiling, ratio, target, status, r->note && *r->note ? "  -- " : "",
           r->note ? r->note : "");
    if (!csv)
        return;
    const char *f[] = {r->section, r->name, r->size, r->placement};
    for (int i = 0; i < 4; i++) {
        csv_text(f[i]);
        fputc(',', csv);
    }
    fprintf(csv, "%.6g,", r->value);
    csv_text(r->unit);
    fputc(',', csv);
    csv_text(r->ceiling_name);
    fprintf(csv, ",%.6g,%.4f,%s,", r->ceiling, ratio, target);
    csv_text(status);
    fputc(',', csv);
    csv_text(r->note);
    fputc('\n', csv);
    fflush(csv);
}

/* A row for a case that could not be measured (the reason goes in the note). */
static void emit_failed(const char *section, const char *name, const char *size,
                        const char *status, const char *why)
{
    emit(&(row){section, name, size, "-", NAN, "-", "-", NAN, TARGET_NONE, 0, status, why});
}

static const char *fmt_size(char *buf, size_t len, size_t a, size_t b, size_t c)
{
    if (c)
        snprintf(buf, len, "%zux%zux%zu", a, b, c);
    else if (b)
        snprintf(buf, len, "%zux%zu", a, b);
    else
        snprintf(buf, len, "%zu", a);
    return buf;
}

/* ---- raw CUDA ceilings (before StarPU starts) ---- */

/* A failing CUDA call in a ceiling leaves no figure to compare with: end the mode (the device
 * check reports the exit status and goes on with the next mode). */
#define CUDA_OK(call)                                                                          \
    do {                                                                                       \
        cudaError_t e_ = (call);                                                               \
        if (e_ != cudaSuccess) {                                                               \
            fprintf(stderr, "gpu: %s failed: %s\n", #call, cudaGetErrorString(e_));            \
            exit(2);                                                                           \
        }                                                                                      \
    } while (0)
#define CUBLAS_OK(call)                                                                        \
    do {                                                                                       \
        cublasStatus_t s_ = (call);                                                            \
        if (s_ != CUBLAS_STATUS_SUCCESS) {                                                     \
            fprintf(stderr, "gpu: %s failed: cuBLAS status %d\n", #call, (int)s_);             \
            exit(2);                                                                           \
        }                                                                                      \
    } while (0)

typedef void (*cuda_fn)(void *arg);

/* Median seconds of BENCH_REPS runs of fn (CUDA events on the default stream), after two
 * warm-up runs (clocks ramp up, cuBLAS picks its kernels). */
static double cuda_time(cuda_fn fn, void *arg)
{
    cudaEvent_t a, b;
    CUDA_OK(cudaEventCreate(&a));
    CUDA_OK(cudaEventCreate(&b));
    for (int w = 0; w < 2; w++)
        fn(arg);
    double t[BENCH_REPS];
    for (int r = 0; r < BENCH_REPS; r++) {
        CUDA_OK(cudaEventRecord(a, 0));
        fn(arg);
        CUDA_OK(cudaEventRecord(b, 0));
        CUDA_OK(cudaEventSynchronize(b));
        float ms = 0;
        CUDA_OK(cudaEventElapsedTime(&ms, a, b));
        t[r] = ms * 1e-3;
    }
    CUDA_OK(cudaEventDestroy(a));
    CUDA_OK(cudaEventDestroy(b));
    qsort(t, BENCH_REPS, sizeof t[0], bench_cmp_double);
    return t[BENCH_REPS / 2];
}

typedef struct copy_arg {
    void *dst, *src;
    size_t bytes;
} copy_arg;

static void copy_run(void *p)
{
    copy_arg *c = p;
    CUDA_OK(cudaMemcpyAsync(c->dst, c->src, c->bytes, cudaMemcpyDeviceToDevice, 0));
}

/* Device-to-device copy bandwidth, GB/s counting the bytes read and written. */
static double copy_gbps(size_t bytes)
{
    copy_arg c = {NULL, NULL, bytes};
    CUDA_OK(cudaMalloc(&c.dst, bytes));
    CUDA_OK(cudaMalloc(&c.src, bytes));
    CUDA_OK(cudaMemset(c.src, 0x3f, bytes));
    double sec = cuda_time(copy_run, &c);
    CUDA_OK(cudaFree(c.dst));
    CUDA_OK(cudaFree(c.src));
    return 2.0 * (double)bytes / sec / 1e9;
}

/* The matrix every library case uses (as bench/cgls_matrixmult): entry (i, j). */
static double entry(size_t i, size_t j)
{
    return (double)((i * 31 + j * 17) % 97) / 97.0 + (i == j ? 10.0 : 0.0);
}

static void fill_block(size_t row0, size_t col0, size_t rows, size_t cols, void *block,
                       void *user)
{
    (void)user;
    double *b = block;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            b[i * cols + j] = entry(row0 + i, col0 + j);
}

/* A device copy of the rows x cols matrix of entry() (non-trivial values: a GPU multiplying
 * constant data draws less power and can clock higher). */
static double *device_matrix(size_t rows, size_t cols)
{
    double *h = malloc(rows * cols * sizeof *h), *d = NULL;
    if (!h) {
        fprintf(stderr, "gpu: no host memory for a %zu x %zu matrix\n", rows, cols);
        exit(2);
    }
    fill_block(0, 0, rows, cols, h, NULL);
    CUDA_OK(cudaMalloc((void **)&d, rows * cols * sizeof *d));
    CUDA_OK(cudaMemcpy(d, h, rows * cols * sizeof *d, cudaMemcpyHostToDevice));
    free(h);
    return d;
}

typedef struct blas_arg {
    cublasHandle_t h;
    const double *a, *b;
    double *c, *x, *y;
    int m, n, k;
    cublasOperation_t op;
} blas_arg;

static void gemm_run(void *p)
{
    blas_arg *g = p;
    const double one = 1.0, zero = 0.0;
    CUBLAS_OK(cublasDgemm(g->h, g->op, CUBLAS_OP_N, g->m, g->n, g->k, &one, g->a,
                          g->op == CUBLAS_OP_N ? g->m : g->k, g->b, g->k, &zero, g->c, g->m));
}

/* cuBLAS dgemm alone, C (m x n) = op(A) B with B k x n: Gflop/s (2 m n k flops). op T is
 * what an adjoint does. */
static double cublas_gemm_gflops(size_t m, size_t n, size_t k, cublasOperation_t op)
{
    blas_arg g = {.m = (int)m, .n = (int)n, .k = (int)k, .op = op};
    CUBLAS_OK(cublasCreate(&g.h));
    g.a = device_matrix(m, k);
    g.b = device_matrix(k, n);
    CUDA_OK(cudaMalloc((void **)&g.c, m * n * sizeof(double)));
    double sec = cuda_time(gemm_run, &g);
    CUDA_OK(cudaFree((void *)g.a));
    CUDA_OK(cudaFree((void *)g.b));
    CUDA_OK(cudaFree(g.c));
    CUBLAS_OK(cublasDestroy(g.h));
    return 2.0 * (double)m * (double)n * (double)k / sec / 1e9;
}

static void gemv_pair_run(void *p)
{
    blas_arg *g = p;
    const double one = 1.0, zero = 0.0;
    /* The row-major n x k matrix is the column-major k x n one: A x is its transposed gemv,
     * A^T y its plain one. */
    CUBLAS_OK(cublasDgemv(g->h, CUBLAS_OP_T, g->k, g->n, &one, g->a, g->k, g->x, 1, &zero, g->y,
                          1));
    CUBLAS_OK(cublasDgemv(g->h, CUBLAS_OP_N, g->k, g->n, &one, g->a, g->k, g->y, 1, &zero, g->x,
                          1));
}

/* The CGLS floor: seconds of one cuBLAS gemv plus one gemv^T of an n x k float64 matrix. */
static double cublas_gemv_pair_seconds(size_t n, size_t k)
{
    blas_arg g = {.n = (int)n, .k = (int)k};
    CUBLAS_OK(cublasCreate(&g.h));
    double *a = NULL;
    CUDA_OK(cudaMalloc((void **)&a, n * k * sizeof *a));
    CUDA_OK(cudaMemset(a, 0x3f, n * k * sizeof *a)); /* memory-bound: values do not matter */
    CUDA_OK(cudaMalloc((void **)&g.x, k * sizeof(double)));
    CUDA_OK(cudaMalloc((void **)&g.y, n * sizeof(double)));
    CUDA_OK(cudaMemset(g.x, 0, k * sizeof(double)));
    g.a = a;
    double sec = cuda_time(gemv_pair_run, &g);
    CUDA_OK(cudaFree(a));
    CUDA_OK(cudaFree(g.x));
    CUDA_OK(cudaFree(g.y));
    CUBLAS_OK(cublasDestroy(g.h));
    return sec;
}

/* ---- the library side ---- */

typedef struct cufft_arg {
    cufftHandle plan;
    void *in, *out;
} cufft_arg;

static void cufft_run(void *p)
{
    cufft_arg *f = p;
    cufftResult r = cufftExecZ2Z(f->plan, f->in, f->out, CUFFT_FORWARD);
    if (r != CUFFT_SUCCESS) {
        fprintf(stderr, "gpu: cufftExecZ2Z failed: cuFFT status %d\n", (int)r);
        exit(2);
    }
}

/* Seconds of cuFFT alone on `lines` contiguous lines of n complex128 (out of place). */
static double cufft_seconds(size_t lines, size_t n)
{
    cufft_arg f;
    size_t bytes = lines * n * 16;
    int ni = (int)n;
    CUDA_OK(cudaMalloc(&f.in, bytes));
    CUDA_OK(cudaMalloc(&f.out, bytes));
    CUDA_OK(cudaMemset(f.in, 0x3f, bytes));
    if (cufftPlanMany(&f.plan, 1, &ni, NULL, 1, 0, NULL, 1, 0, CUFFT_Z2Z, (int)lines) !=
        CUFFT_SUCCESS) {
        fprintf(stderr, "gpu: cufftPlanMany failed\n");
        exit(2);
    }
    double sec = cuda_time(cufft_run, &f);
    cufftDestroy(f.plan);
    CUDA_OK(cudaFree(f.in));
    CUDA_OK(cudaFree(f.out));
    return sec;
}

static sl_context *ctx;

/* Tasks each kind of worker executed since the last call (StarPU's profiling, reset on read):
 * the notes show where a case really ran. */
typedef struct worker_counts {
    long cpu, cuda;
} worker_counts;

static worker_counts take_counts(void)
{
    worker_counts c = {0, 0};
    for (unsigned w = 0; w < starpu_worker_get_count(); w++) {
        struct starpu_profiling_worker_info info;
        if (starpu_profiling_worker_get_info((int)w, &info) != 0)
            continue;
        if (starpu_worker_get_type((int)w) == STARPU_CUDA_WORKER)
            c.cuda += info.executed_tasks;
        else if (starpu_worker_get_type((int)w) == STARPU_CPU_WORKER)
            c.cpu += info.executed_tasks;
    }
    return c;
}

static const char *place_name(sl_cuda_placement p)
{
    return p == SL_PLACE_CUDA ? "cuda" : p == SL_PLACE_CPU ? "cpu" : "auto";
}

/* Changes the placement between cases (no task may be in flight). */
static int place(sl_cuda_placement p)
{
    sl_wait(ctx);
    if (dry && p == SL_PLACE_CUDA)
        p = SL_PLACE_CPU;
    if (sl_cuda_set_placement(p) != SL_OK) {
        fprintf(stderr, "gpu: placement %s refused\n", place_name(p));
        return 0;
    }
    take_counts();
    return 1;
}

/* Evaluates a starlops call inside a case; on failure writes a failed row naming the error
 * and leaves the case (its function returns). */
#define CASE_OK(call, section, name, size)                                                     \
    do {                                                                                       \
        if ((call) != SL_OK) {                                                                 \
            emit_failed(section, name, size, "failed", sl_last_error(ctx));                   \
            return;                                                                            \
        }                                                                                      \
    } while (0)

static double ceiling_copy;

/* ---- vector ---- */

typedef struct vec_arg {
    sl_darray *x, *y;
    int op; /* 0 axpy, 1 dot, 2 norm */
} vec_arg;

static void vec_run(void *p)
{
    vec_arg *v = p;
    sl_scalar *s = NULL;
    double d;
    if (v->op == 0) {
        /* y += 1e-9 x: stays finite however many times it runs */
        sl_darray_axpy(1e-9, v->x, v->y);
        sl_wait(ctx);
        return;
    }
    if (v->op == 1)
        sl_darray_dot(v->x, v->y, &s);
    else
        sl_darray_norm(v->x, 2, &s);
    if (s) {
        sl_scalar_get_real(s, &d);
        sl_scalar_destroy(s);
    }
}

static void mode_vector(void)
{
    const size_t n = sz((size_t)1 << 27, (size_t)1 << 16); /* 1 GiB per float64 array */
    char size[64], note[160];
    fmt_size(size, sizeof size, n, 0, 0);
    sl_darray *x = NULL, *y = NULL;
    CASE_OK(sl_darray_create(ctx, SL_F64, 1, &n, SL_SCATTER, 0, NULL, NULL, &x), "vector",
            "create", size);
    CASE_OK(sl_darray_create_like(x, &y), "vector", "create", size);
    if (!place(SL_PLACE_CUDA))
        return;
    /* filled on the device: the arrays never travel to the host */
    sl_darray_fill(x, 1.0);
    sl_darray_fill(y, 2.0);
    static const char *names[3] = {"axpy", "dot", "norm2"};
    static const double bytes[3] = {24, 16, 8};
    sl_darray_info info;
    sl_darray_get_info(x, &info);
    for (int op = 0; op < 3; op++) {
        vec_arg a = {x, y, op};
        for (int w = 0; w < 3; w++)
            vec_run(&a);
        take_counts();
        double sec = bench_time(vec_run, &a, MPI_COMM_WORLD);
        worker_counts c = take_counts();
        snprintf(note, sizeof note, "%zu tiles; tasks cuda %ld cpu %ld (cpu: reductions' "
                 "combine/comm)", info.ntiles, c.cuda, c.cpu);
        emit(&(row){"vector", names[op], size, "cuda", bytes[op] * (double)n / sec / 1e9,
                    "GB/s", "cudaMemcpy D2D", ceiling_copy, TARGET_AT_LEAST, 0.80, NULL, note});
    }
    sl_darray_destroy(x);
    sl_darray_destroy(y);
}

/* ---- stencil ---- */

typedef struct apply_arg {
    const sl_op *op;
    sl_darray *x, *y;
    int adjoint;
} apply_arg;

static void apply_run(void *p)
{
    apply_arg *a = p;
    if (a->adjoint)
        sl_op_rmatvec(a->op, a->y, a->x);
    else
        sl_op_matvec(a->op, a->x, a->y);
    sl_wait(ctx);
}

/* One stencil operator timed under one placement: a row (the CUDA one carries the target). */
static void stencil_row(const sl_op *op, sl_darray *x, sl_darray *y, const char *name,
                        const char *size, size_t n, sl_cuda_placement where)
{
    if (!place(where))
        return;
    sl_darray_fill(x, 1.0); /* where the operator will read it: no transfer in the timing */
    apply_arg a = {op, x, y, 0};
    for (int w = 0; w < 2; w++)
        apply_run(&a);
    take_counts();
    double sec = bench_time(apply_run, &a, MPI_COMM_WORLD);
    worker_counts c = take_counts();
    sl_darray_info info;
    sl_darray_get_info(x, &info);
    char note[160];
    snprintf(note, sizeof note, "16 B/element; %zu tiles; tasks cuda %ld cpu %ld%s", info.ntiles,
             c.cuda, c.cpu, where == SL_PLACE_CPU ? " (GPU-sized tiles)" : "");
    int gpu = where == SL_PLACE_CUDA;
    emit(&(row){"stencil", name, size, gpu ? "cuda" : "cpu", 16.0 * (double)n / sec / 1e9,
                "GB/s", "cudaMemcpy D2D", ceiling_copy, gpu ? TARGET_AT_LEAST : TARGET_NONE,
                gpu ? 0.60 : 0, NULL, note});
}

static void mode_stencil(void)
{
    size_t dims[3] = {sz(512, 32), sz(512, 32), sz(256, 16)}; /* 2^26 float64, 512 MiB */
    char size[64];
    fmt_size(size, sizeof size, dims[0], dims[1], dims[2]);
    sl_darray *x = NULL, *y = NULL;
    CASE_OK(sl_darray_create(ctx, SL_F64, 3, dims, SL_SCATTER, 0, NULL, NULL, &x), "stencil",
            "create", size);
    CASE_OK(sl_darray_create_like(x, &y), "stencil", "create", size);
    const size_t n = dims[0] * dims[1] * dims[2];
    const int axes[3] = {0, 1, 2};
    for (int which = 0; which < 2; which++) {
        const char *name = which == 0 ? "FirstDerivative axis 0" : "Laplacian 3 axes";
        sl_op *op = NULL;
        sl_status st = which == 0
                           ? sl_op_first_derivative(x, 0, SL_DERIV_CENTERED, 3, 0, 1.0, &op)
                           : sl_op_laplacian(x, 3, axes, NULL, NULL, 0, SL_DERIV_CENTERED, &op);
        CASE_OK(st, "stencil", name, size);
        stencil_row(op, x, y, name, size, n, SL_PLACE_CUDA);
        stencil_row(op, x, y, name, size, n, SL_PLACE_CPU); /* the reference, untargeted */
        sl_op_destroy(op);
    }
    place(SL_PLACE_AUTO);
    sl_darray_destroy(x);
    sl_darray_destroy(y);
}

/* ---- gemm ---- */

static void mode_gemm(void)
{
    const size_t n = sz(8192, 256), k = n, m = n;
    char size[64];
    fmt_size(size, sizeof size, n, k, m);
    const double flops = 2.0 * (double)n * (double)k * (double)m;
    double fwd_ceiling = dry ? NAN : cublas_gemm_gflops(n, m, k, CUBLAS_OP_N);
    double adj_ceiling = dry ? NAN : cublas_gemm_gflops(k, m, n, CUBLAS_OP_T);
    emit(&(row){"gemm", "cuBLAS dgemm NN", size, "cuda", fwd_ceiling, "Gflop/s", "-", NAN,
                TARGET_NONE, 0, "ceiling", "alone; before StarPU started"});
    emit(&(row){"gemm", "cuBLAS dgemm TN", size, "cuda", adj_ceiling, "Gflop/s", "-", NAN,
                TARGET_NONE, 0, "ceiling", "alone; the adjoint's product"});

    for (int kind = 0; kind < 2; kind++) {
        const char *label = kind == 0 ? "MatrixMult 1D" : "SUMMA 1x1";
        sl_op *op = NULL;
        sl_summa_opts o = {.grid_p = 1, .grid_q = 1, .mb = sz(4096, 128), .kb = sz(2048, 64),
                           .nb = sz(4096, 128),
                           .lookahead = 2, .verbose = 1};
        if (kind == 0) {
            double *a = malloc(n * k * sizeof *a);
            fill_block(0, 0, n, k, a, NULL);
            sl_status st = sl_op_matrixmult(ctx, SL_F64, n, k, m, a, NULL, &op);
            free(a);
            CASE_OK(st, "gemm", label, size);
        } else {
            CASE_OK(sl_op_matrixmult_summa(ctx, SL_F64, n, k, m, fill_block, NULL, &o, &op),
                    "gemm", label, size);
        }
        sl_darray *x = NULL, *y = NULL;
        CASE_OK(sl_op_create_model(op, &x), "gemm", label, size);
        CASE_OK(sl_op_create_data(op, &y), "gemm", label, size);
        sl_darray_random(x, 3);
        sl_darray_random(y, 4);
        if (!place(SL_PLACE_CUDA))
            return;
        for (int adjoint = 0; adjoint < 2; adjoint++) {
            char name[64], note[200];
            snprintf(name, sizeof name, "%s %s", label, adjoint ? "adjoint" : "forward");
            apply_arg a = {op, x, y, adjoint};
            for (int w = 0; w < 2; w++) /* the first moves A, X and Y to the device */
                apply_run(&a);
            take_counts();
            double sec = bench_time(apply_run, &a, MPI_COMM_WORLD);
            worker_counts c = take_counts();
            if (kind == 0) {
                sl_darray_info yi;
                sl_darray_get_info(y, &yi);
                snprintf(note, sizeof note, "%zu data tiles; tasks cuda %ld cpu %ld", yi.ntiles,
                         c.cuda, c.cpu);
            } else {
                snprintf(note, sizeof note, "tiles mb %zu kb %zu nb %zu; tasks cuda %ld cpu %ld",
                         o.mb, o.kb, o.nb, c.cuda, c.cpu);
            }
            emit(&(row){"gemm", name, size, "cuda", flops / sec / 1e9, "Gflop/s",
                        adjoint ? "cuBLAS dgemm TN" : "cuBLAS dgemm NN",
                        adjoint ? adj_ceiling : fwd_ceiling, TARGET_AT_LEAST, 0.85, NULL, note});
        }
        sl_darray_destroy(x);
        sl_darray_destroy(y);
        sl_op_destroy(op);
    }
}

/* ---- cgls ---- */

typedef struct cgls_case {
    size_t n, k;
    double floor; /* cuBLAS gemv + gemv^T seconds */
} cgls_case;

/* Best seconds per iteration of `reps` solves of `niter` iterations (tol none: no host wait
 * inside the loop), after a 2-iteration warm-up that moves the matrix where it runs. */
static double cgls_seconds(const sl_op *op, const sl_darray *y, sl_darray *x, int niter,
                           int reps, sl_solve_result *res)
{
    sl_solver_opts warm = {.niter = 2, .tol = SL_TOL_NONE};
    if (sl_cgls(op, y, x, &warm, res) != SL_OK)
        return NAN;
    double best = INFINITY;
    for (int r = 0; r < reps; r++) {
        sl_wait(ctx);
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        if (sl_cgls(op, y, x, &(sl_solver_opts){.niter = niter, .tol = SL_TOL_NONE}, res) !=
            SL_OK)
            return NAN;
        sl_wait(ctx);
        double dt = (MPI_Wtime() - t0) / niter;
        best = dt < best ? dt : best;
    }
    return best;
}

/* The matrix of a CGLS case as a 1D MatrixMult (one rank holds all rows). */
static sl_status cgls_operator(size_t n, size_t k, sl_op **op, sl_darray **x, sl_darray **y)
{
    double *a = malloc(n * k * sizeof *a);
    if (!a)
        return SL_ERR_NOMEM;
    fill_block(0, 0, n, k, a, NULL);
    sl_status st = sl_op_matrixmult(ctx, SL_F64, n, k, 0, a, NULL, op);
    free(a);
    if (st == SL_OK && (st = sl_op_create_model(*op, x)) == SL_OK &&
        (st = sl_op_create_data(*op, y)) == SL_OK)
        st = sl_darray_random(*y, 7);
    return st;
}

static void mode_cgls(sl_cuda_placement p, cgls_case *cases, int ncases, size_t tile)
{
    for (int i = 0; i < ncases; i++) {
        char size[64], note[200];
        fmt_size(size, sizeof size, cases[i].n, cases[i].k, 0);
        sl_op *op = NULL;
        sl_darray *x = NULL, *y = NULL;
        CASE_OK(cgls_operator(cases[i].n, cases[i].k, &op, &x, &y), "cgls", "CGLS", size);
        if (!place(p))
            return;
        /* The CPU run does fewer iterations: it is the reference, not the target. */
        int cpu = p == SL_PLACE_CPU;
        sl_solve_result res = {0};
        double sec = cgls_seconds(op, y, x, cpu ? 5 : 20, cpu ? 2 : 3, &res);
        worker_counts c = take_counts();
        if (isnan(sec)) {
            emit_failed("cgls", "CGLS", size, "failed", sl_last_error(ctx));
        } else {
            snprintf(note, sizeof note, "tile %zu; %s; r1norm %.6g; tasks cuda %ld cpu %ld",
                     tile, cpu ? "cpu-only reference at the GPU run's size; 5 iterations"
                               : "pinned to the GPU; 20 iterations", res.r1norm,
                     c.cuda, c.cpu);
            emit(&(row){"cgls", "CGLS iteration", size, place_name(p), sec * 1e3, "ms",
                        "cuBLAS gemv+gemv^T", cases[i].floor * 1e3,
                        cpu ? TARGET_NONE : TARGET_AT_MOST, 1.30, NULL, note});
        }
        sl_darray_destroy(x);
        sl_darray_destroy(y);
        sl_op_destroy(op);
    }
}

/* ---- sched ---- */

static void mode_sched(cgls_case *c, size_t tile)
{
    char size[64], note[200];
    fmt_size(size, sizeof size, c->n, c->k, 0);
    const char *sched = getenv("STARPU_SCHED") ? getenv("STARPU_SCHED") : "default";
    sl_op *op = NULL;
    sl_darray *x = NULL, *y = NULL;
    CASE_OK(cgls_operator(c->n, c->k, &op, &x, &y), "sched", "CGLS", size);
    /* The history-based models need samples on both kinds of worker before dm* can choose:
     * one long free solve calibrates them (not timed). */
    sl_solve_result res = {0};
    if (!place(SL_PLACE_AUTO))
        return;
    CASE_OK(sl_cgls(op, y, x, &(sl_solver_opts){.niter = 30, .tol = SL_TOL_NONE}, &res), "sched",
            "calibration", size);
    static const sl_cuda_placement order[3] = {SL_PLACE_CPU, SL_PLACE_CUDA, SL_PLACE_AUTO};
    static const char *names[3] = {"CGLS cpu-only", "CGLS gpu-only", "CGLS mixed"};
    for (int i = 0; i < 3; i++) {
        if (!place(order[i]))
            return;
        double sec = cgls_seconds(op, y, x, 20, 2, &res);
        worker_counts w = take_counts();
        if (isnan(sec)) {
            emit_failed("sched", names[i], size, "failed", sl_last_error(ctx));
            continue;
        }
        snprintf(note, sizeof note, "STARPU_SCHED=%s; tile %zu; tasks cuda %ld cpu %ld; "
                 "r1norm %.6g", sched, tile, w.cuda, w.cpu, res.r1norm);
        emit(&(row){"sched", names[i], size, place_name(order[i]), sec * 1e3, "ms",
                    "cuBLAS gemv+gemv^T", c->floor * 1e3, TARGET_NONE, 0, NULL, note});
    }
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    sl_op_destroy(op);
}

/* ---- allreduce ---- */

typedef struct chain_arg {
    sl_darray *v;
    int iterations;
} chain_arg;

/* d = <v, v> (tile partial + allreduce task), then a task reading d, which the next dot waits
 * for: each iteration is one dependent reduction round trip (as bench/msg_roofline). */
static void chain_run(void *p)
{
    chain_arg *c = p;
    for (int it = 0; it < c->iterations; it++) {
        sl_scalar *d = NULL;
        sl_darray_vdot(c->v, c->v, &d);
        sl_darray_axpby_scalars(d, 0.0, c->v, NULL, 1.0, c->v);
        sl_scalar_destroy(d);
    }
    sl_wait(ctx);
}

typedef struct mpi_arg {
    double *send, *recv;
    int count;
} mpi_arg;

static void mpi_allreduce_run(void *p)
{
    mpi_arg *a = p;
    MPI_Allreduce(a->send, a->recv, a->count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

static double mpi_allreduce_seconds(size_t count)
{
    mpi_arg a = {calloc(count, sizeof(double)), calloc(count, sizeof(double)), (int)count};
    mpi_allreduce_run(&a);
    double sec = bench_time(mpi_allreduce_run, &a, MPI_COMM_WORLD);
    free(a.send);
    free(a.recv);
    return sec;
}

/* The adjoint of a MatrixMult with one row per rank and `cols` columns: one product per rank
 * and the allreduce of a cols-vector, the library's vector allreduce from the GPU. */
static void adjoint_allreduce(const char *backend, int size, size_t cols, double mpi_sec)
{
    char bytes[64], note[200], name[64];
    fmt_size(bytes, sizeof bytes, cols * sizeof(double), 0, 0);
    snprintf(name, sizeof name, "adjoint allreduce %s", backend);
    double *a = malloc(cols * sizeof *a);
    fill_block(0, 0, 1, cols, a, NULL);
    sl_op *op = NULL;
    sl_status st = sl_op_matrixmult(ctx, SL_F64, (size_t)size, cols, 0, a, NULL, &op);
    free(a);
    CASE_OK(st, "allreduce", name, bytes);
    sl_darray *x = NULL, *y = NULL;
    CASE_OK(sl_op_create_model(op, &x), "allreduce", name, bytes);
    CASE_OK(sl_op_create_data(op, &y), "allreduce", name, bytes);
    sl_darray_fill(y, 1.0);
    apply_arg arg = {op, x, y, 1};
    for (int w = 0; w < 3; w++)
        apply_run(&arg);
    double sec = bench_time(apply_run, &arg, MPI_COMM_WORLD);
    snprintf(note, sizeof note, "%d rank(s); whole adjoint (product + allreduce + copies); "
             "ceiling: host MPI_Allreduce of the same bytes", size);
    emit(&(row){"allreduce", name, bytes, "cuda", sec * 1e6, "us", "MPI_Allreduce host",
                mpi_sec * 1e6, TARGET_NONE, 0, NULL, note});
    sl_darray_destroy(x);
    sl_darray_destroy(y);
    sl_op_destroy(op);
}

static void mode_allreduce(const char *backend, int size)
{
    char note[200], name[64];
    size_t n = 64;
    sl_darray *v = NULL;
    CASE_OK(sl_darray_create(ctx, SL_F64, 1, &n, SL_SCATTER, 0, NULL, NULL, &v), "allreduce",
            "reduction", "16");
    sl_darray_fill(v, 1.0);
    if (!place(SL_PLACE_CUDA))
        return;
    chain_arg c = {v, 100};
    chain_run(&c);
    double sec = bench_time(chain_run, &c, MPI_COMM_WORLD) / c.iterations;
    double mpi8 = mpi_allreduce_seconds(1);
    snprintf(name, sizeof name, "reduction round trip %s", backend);
    snprintf(note, sizeof note, "%d rank(s); vdot on the GPU -> allreduce task -> a GPU task "
             "reading it", size);
    emit(&(row){"allreduce", name, "8", "cuda", sec * 1e6, "us", "MPI_Allreduce host",
                mpi8 * 1e6, TARGET_NONE, 0, NULL, note});
    sl_darray_destroy(v);
    for (size_t cols = sz((size_t)1 << 17, 1024); cols <= sz((size_t)1 << 23, 65536); cols <<= 6)
        adjoint_allreduce(backend, size, cols, mpi_allreduce_seconds(cols));
}

/* ---- fft ---- */

static double ceiling_fft;

static void mode_fft(void)
{
    size_t dims[2] = {sz(4096, 64), sz(4096, 64)}; /* 2^24 complex128: 256 MiB */
    char size[64];
    fmt_size(size, sizeof size, dims[0], dims[1], 0);
    sl_darray *x = NULL;
    CASE_OK(sl_darray_create(ctx, SL_C128, 2, dims, SL_SCATTER, 0, NULL, NULL, &x), "fft",
            "create", size);
    if (!place(SL_PLACE_CUDA))
        return;
    sl_darray_fill(x, 1.0);
    for (int axis = 1; axis >= 0; axis--) {
        char name[64];
        sl_fft_opts o = {0, 0, SL_FFT_NORM_ORTHO, 0, 0, 1};
        sl_op *op = NULL;
        sl_darray *y = NULL;
        snprintf(name, sizeof name, "FFT axis %d", axis);
        CASE_OK(sl_op_fft(x, axis, &o, &op), "fft", name, size);
        CASE_OK(sl_op_create_data(op, &y), "fft", name, size);
        for (int adjoint = 0; adjoint < 2; adjoint++) {
            apply_arg a = {op, x, y, adjoint};
            for (int w = 0; w < 2; w++)
                apply_run(&a);
            take_counts();
            double sec = bench_time(apply_run, &a, MPI_COMM_WORLD);
            worker_counts c = take_counts();
            char case_name[80], note[160];
            snprintf(case_name, sizeof case_name, "%s %s", name,
                     adjoint ? "adjoint" : "forward");
            snprintf(note, sizeof note, "%s lines; tasks cuda %ld cpu %ld",
                     axis == 1 ? "contiguous" : "strided", c.cuda, c.cpu);
            emit(&(row){"fft", case_name, size, "cuda", sec * 1e3, "ms", "cuFFT Z2Z alone",
                        ceiling_fft * 1e3, TARGET_NONE, 0, NULL, note});
        }
        sl_op_destroy(op);
        sl_darray_destroy(y);
    }
    sl_darray_destroy(x);
}

/* ---- main ---- */

static void usage(void)
{
    fprintf(stderr, "usage: mpirun -n 1 gpu MODE [out.csv]\n  MODE: vector stencil gemm cgls "
                    "cgls-cpu sched fft allreduce (allreduce also at -n 2)\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return 2;
    }
    const char *mode = argv[1];
    const char *csv_path = argc > 2 ? argv[2] : "gpu_bench.csv";
    static const char *modes[] = {"vector", "stencil", "gemm", "cgls", "cgls-cpu", "sched",
                                  "fft", "allreduce"};
    int known = 0;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        known |= strcmp(mode, modes[i]) == 0;
    if (!known) {
        usage();
        return 2;
    }
    int provided, rank, size;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    rank0 = rank == 0;

    dry = getenv("STARLOPS_BENCH_GPU_DRYRUN") && atoi(getenv("STARLOPS_BENCH_GPU_DRYRUN"));
    int ndev = 0;
    cudaError_t ce = cudaGetDeviceCount(&ndev);
    if (!dry && (ce != cudaSuccess || ndev == 0)) {
        if (rank0)
            printf("gpu %s: skipped: no CUDA device (%s)\n", mode,
                   ce != cudaSuccess ? cudaGetErrorString(ce) : "no device");
        MPI_Finalize();
        return 0;
    }
    if (rank0) {
        csv = fopen(csv_path, "a");
        if (!csv) {
            fprintf(stderr, "gpu: cannot open %s\n", csv_path);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        if (ftell(csv) == 0)
            fprintf(csv, "section,case,size,placement,value,unit,ceiling_name,ceiling,ratio,"
                         "target,status,note\n");
        struct cudaDeviceProp prop;
        if (dry)
            printf("gpu %s: DRY RUN (STARLOPS_BENCH_GPU_DRYRUN): toy sizes on the CPU, no "
                   "ceilings; the figures mean nothing\n", mode);
        else if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
            printf("gpu %s: %s, %d SMs, %.1f GiB\n", mode, prop.name, prop.multiProcessorCount,
                   (double)prop.totalGlobalMem / (1u << 30));
    }

    /* Ceilings first, while StarPU is not running (allreduce, the one mode that may run at two
     * ranks, has no device ceiling: the ranks would measure each other). */
    size_t tile = (size_t)1 << 24; /* GPU tiles: 128 MiB of float64, microseconds per task */
    cgls_case cases[2] = {{sz(8000, 800), sz(6000, 600), NAN},
                          {sz(20000, 2000), sz(20000, 2000), NAN}};
    if (dry)
        tile = 4096;
    ceiling_copy = NAN;
    if (!dry && (strcmp(mode, "vector") == 0 || strcmp(mode, "stencil") == 0))
        ceiling_copy = copy_gbps((size_t)1 << 30);
    if (strcmp(mode, "stencil") == 0)
        tile = sz((size_t)1 << 23, 1024); /* 8 tiles, 128 MiB moved per task */
    ceiling_fft = NAN;
    if (!dry && strcmp(mode, "fft") == 0)
        ceiling_fft = cufft_seconds(4096, 4096);
    if (!dry && (strncmp(mode, "cgls", 4) == 0 || strcmp(mode, "sched") == 0))
        for (int i = 0; i < 2; i++)
            cases[i].floor = cublas_gemv_pair_seconds(cases[i].n, cases[i].k);
    if (strcmp(mode, "cgls-cpu") == 0) {
        /* two data tiles per CPU worker on the small case (the large one gets more) */
        long ncpu = getenv("STARPU_NCPU") ? atol(getenv("STARPU_NCPU"))
                                          : sysconf(_SC_NPROCESSORS_ONLN);
        tile = cases[0].n / (size_t)(2 * (ncpu > 0 ? ncpu : 1));
    }
    if (strcmp(mode, "sched") == 0) {
        tile = cases[0].n / 8; /* 8 data tiles: work for both kinds of worker */
        setenv("STARPU_SCHED", "dmdas", 0);
    }
    if (strcmp(mode, "allreduce") == 0)
        tile = sz((size_t)1 << 23, 4096);
    char tile_text[32];
    snprintf(tile_text, sizeof tile_text, "%zu", tile);
    setenv("STARLOPS_TILE", tile_text, 0); /* the user's value wins */
    tile = strtoull(getenv("STARLOPS_TILE"), NULL, 10);

    const char *backend = getenv("STARLOPS_COMM") ? getenv("STARLOPS_COMM") : "mpi";
    if (sl_init_comm(MPI_COMM_WORLD, &ctx) != SL_OK) {
        int nccl = strcmp(backend, "nccl") == 0;
        if (strcmp(mode, "allreduce") == 0 && nccl) {
            /* The NCCL backend is a later slice: its rows say why they are empty. */
            emit_failed("allreduce", "reduction round trip nccl", "8", "not built",
                        sl_init_error());
            emit_failed("allreduce", "adjoint allreduce nccl", "-", "not built",
                        sl_init_error());
        } else {
            fprintf(stderr, "gpu %s: sl_init_comm failed: %s\n", mode, sl_init_error());
        }
        if (csv)
            fclose(csv);
        MPI_Finalize();
        return nccl ? 0 : 1;
    }
    if (!dry && starpu_cuda_worker_get_count() == 0) {
        if (rank0)
            printf("gpu %s: skipped: no CUDA device (StarPU started no CUDA worker: "
                   "STARPU_NCUDA=0?)\n", mode);
    } else {
        starpu_profiling_status_set(STARPU_PROFILING_ENABLE);
        if (rank0)
            printf("gpu %s: %u CPU + %u CUDA workers, tile %zu, backend %s, %d rank(s)\n", mode,
                   starpu_cpu_worker_get_count(), starpu_cuda_worker_get_count(), tile, backend,
                   size);
        if (strcmp(mode, "vector") == 0)
            mode_vector();
        else if (strcmp(mode, "stencil") == 0)
            mode_stencil();
        else if (strcmp(mode, "gemm") == 0)
            mode_gemm();
        else if (strcmp(mode, "cgls") == 0)
            mode_cgls(SL_PLACE_CUDA, cases, 2, tile);
        else if (strcmp(mode, "cgls-cpu") == 0)
            mode_cgls(SL_PLACE_CPU, cases, 2, tile);
        else if (strcmp(mode, "sched") == 0)
            mode_sched(&cases[0], tile);
        else if (strcmp(mode, "fft") == 0)
            mode_fft();
        else
            mode_allreduce(backend, size);
    }
    sl_wait(ctx);
    sl_cuda_set_placement(SL_PLACE_AUTO);
    sl_finalize(ctx);
    if (csv)
        fclose(csv);
    MPI_Finalize();
    return 0;
}
