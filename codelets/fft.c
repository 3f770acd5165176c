/* The FFT codelet (see fft.h) and its insert helper. */
#include <stdalign.h>
#include <stddef.h>
#include <string.h>

#include "fft.h"
#ifdef STARLOPS_USE_CUDA
#include "cuda/cuda_scratch.h"
#include "cuda/fft_cuda.h"
#endif

/* The argument block: header, calls, segments, each part aligned for any member. */
static size_t round_up(size_t n)
{
    size_t a = alignof(max_align_t);
    return (n + a - 1) / a * a;
}

static size_t calls_at(void)
{
    return round_up(sizeof(sl_fft_task_args));
}

static size_t segments_at(int ncalls)
{
    return calls_at() + round_up((size_t)ncalls * sizeof(sl_fft_task_call));
}

static size_t kernel_segments_at(int ncalls, int nsegs)
{
    return segments_at(ncalls) + round_up((size_t)nsegs * sizeof(sl_fft_task_segment));
}

static size_t args_bytes(int ncalls, int nsegs)
{
    return kernel_segments_at(ncalls, nsegs) + (size_t)nsegs * sizeof(sl_fft_segment);
}

sl_fft_task_args *sl_fft_task_args_new(int ncalls, int nsegs)
{
    size_t bytes = args_bytes(ncalls, nsegs);
    sl_fft_task_args *a = calloc(1, bytes);
    if (a) {
        a->ncalls = ncalls;
        a->nsegs = nsegs;
    }
    return a;
}

sl_fft_task_call *sl_fft_task_calls(sl_fft_task_args *a)
{
    return (sl_fft_task_call *)((char *)a + calls_at());
}

sl_fft_task_segment *sl_fft_task_segments(sl_fft_task_args *a)
{
    return (sl_fft_task_segment *)((char *)a + segments_at(a->ncalls));
}

sl_fft_segment *sl_fft_task_kernel_segments(sl_fft_task_args *a)
{
    return (sl_fft_segment *)((char *)a + kernel_segments_at(a->ncalls, a->nsegs));
}

/* A side's stride in this task: against the row stride of the buffer its first segment lies
 * in (in main memory every tile of a block has the block's). */
static size_t stride_of(void *buffers[], const sl_fft_task_segment *where, int seg,
                        sl_fft_stride st)
{
    return sl_fft_stride_at(st, STARPU_MATRIX_GET_LD(buffers[where[seg].buffer]));
}

/* Resolves the segments' base pointers in this task's buffers (destination tiles, then
 * source tiles), then runs the calls on this worker's workspace. */
static void fft_cpu(void *buffers[], void *cl_arg)
{
    sl_fft_task_args *a = cl_arg;
    const sl_fft_task_call *calls = sl_fft_task_calls(a);
    const sl_fft_task_segment *where = sl_fft_task_segments(a);
    sl_fft_segment *segs = sl_fft_task_kernel_segments(a);
    for (int c = 0; c < a->ncalls; c++)
        for (int s = 0; s < 2; s++)
            for (int g = calls[c].seg0[s]; g < calls[c].seg0[s] + calls[c].nseg[s]; g++)
                segs[g].base = (char *)STARPU_MATRIX_GET_PTR(buffers[where[g].buffer]) +
                               where[g].offset * a->esize[s];
    int worker = starpu_worker_get_id_check();
    void *win = a->workspaces[2 * worker], *wout = a->workspaces[2 * worker + 1];
    for (int c = 0; c < a->ncalls; c++) {
        const sl_fft_task_call *call = &calls[c];
        sl_fft_side side[2];
        for (int s = 0; s < 2; s++) {
            int g0 = call->seg0[s];
            side[s] = (sl_fft_side){stride_of(buffers, where, g0, call->s1[s]),
                                    stride_of(buffers, where, g0, call->s2[s]),
                                    stride_of(buffers, where, g0, call->sk[s]), call->nseg[s],
                                    segs + g0};
        }
        sl_kernel_fft(a->engine, &call->lines, &side[0], &side[1], win, wout);
    }
}

#ifdef STARLOPS_USE_CUDA
/* A call's side on this device: each segment with its own buffer's pointer and row stride
 * (tiles are separate, packed allocations here). */
static void device_side(void *buffers[], const sl_fft_task_args *a, const sl_fft_task_call *c,
                        int s, sl_fft_place *out)
{
    const sl_fft_task_segment *where = sl_fft_task_segments((sl_fft_task_args *)a);
    const sl_fft_segment *segs = sl_fft_task_kernel_segments((sl_fft_task_args *)a);
    for (int i = 0; i < c->nseg[s]; i++) {
        int g = c->seg0[s] + i;
        void *buf = buffers[where[g].buffer];
        size_t ld = STARPU_MATRIX_GET_LD(buf);
        out[i] = (sl_fft_place){(char *)STARPU_MATRIX_GET_PTR(buf) + where[g].offset * a->esize[s],
                                segs[g].k0, segs[g].len, sl_fft_stride_at(c->s1[s], ld),
                                sl_fft_stride_at(c->s2[s], ld), sl_fft_stride_at(c->sk[s], ld)};
    }
}

/* The calls with cuFFT on this worker's plan and work buffers (made with the operator, see
 * cuda/fft_cuda.h), queued on its stream. Failures are noted, never fatal. */
static void fft_cuda(void *buffers[], void *cl_arg)
{
    sl_fft_task_args *a = cl_arg;
    const sl_fft_engine *e = a->engine;
    const sl_fft_cuda_worker *w = sl_fft_cuda_local(a->cuda);
    if (!w) { /* cannot happen: the operator is not made without every worker's plans */
        sl_cuda_note_failure((int)cudaErrorInvalidResourceHandle, __FILE__, __LINE__);
        return;
    }
    sl_fft_cuda_exec x = {w->plan[!e->forward], w->win, w->wout, a->cuda->batch, e->single,
                          e->r2c, e->forward};
    sl_fft_move mv[2];
    sl_fft_engine_moves(e, &mv[0], &mv[1]);
    const sl_fft_task_call *calls = sl_fft_task_calls(a);
    sl_fft_place *places = malloc((size_t)(a->nsegs ? a->nsegs : 1) * sizeof *places);
    if (!places) {
        sl_cuda_note_failure((int)cudaErrorMemoryAllocation, __FILE__, __LINE__);
        return;
    }
    cudaStream_t stream = starpu_cuda_get_local_stream();
    for (int c = 0; c < a->ncalls; c++) {
        const sl_fft_task_call *call = &calls[c];
        sl_fft_cuda_side side[2];
        for (int s = 0; s < 2; s++) {
            device_side(buffers, a, call, s, places + call->seg0[s]);
            side[s] = (sl_fft_cuda_side){call->nseg[s], places + call->seg0[s]};
        }
        if (sl_cuda_fft_lines(&x, &mv[0], &mv[1], &call->lines, &side[0], &side[1], stream))
            break; /* noted; the outputs are not to be trusted */
    }
    free(places);
}
#endif

SL_HISTORY_MODEL(fft_model, "sl_fft");
static struct starpu_codelet fft_cl = {
    .cpu_funcs = {fft_cpu},
    SL_CUDA_FUNCS(fft_cuda) /* cuFFT: plans per engine and worker, the worker's stream */
    .model = &fft_model,
    .nbuffers = STARPU_VARIABLE_NBUFFERS,
    .name = "fft",
};

int sl_task_fft(sl_fft_task_args *args, const starpu_data_handle_t *dst,
                const starpu_data_handle_t *src, starpu_data_handle_t guard)
{
    sl_task_buffers tb;
    if (sl_task_buffers_init(&tb, args->ndst + args->nsrc + 1) != 0) {
        free(args);
        return -ENOMEM;
    }
    sl_task_buffers_add_all(&tb, dst, args->ndst, STARPU_W);
    sl_task_buffers_add_all(&tb, src, args->nsrc, STARPU_R);
    sl_task_buffers_add(&tb, guard, STARPU_R);
    size_t bytes = args_bytes(args->ncalls, args->nsegs);
    int ret = starpu_task_insert(&fft_cl, STARPU_CL_ARGS, args, bytes,
                                 STARPU_DATA_MODE_ARRAY, tb.d, tb.n, 0);
    /* StarPU 1.3 destroys the task, freeing the arguments, only on -ENODEV */
    if (ret != 0 && ret != -ENODEV)
        free(args);
    sl_task_buffers_free(&tb);
    return ret;
}
