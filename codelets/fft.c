/* The FFT codelet (see fft.h) and its insert helper. */
#include <stdalign.h>
#include <stddef.h>
#include <string.h>

#include "fft.h"

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
        for (int s = 0; s < 2; s++)
            side[s] = (sl_fft_side){call->s1[s], call->s2[s], call->sk[s], call->nseg[s],
                                    segs + call->seg0[s]};
        sl_kernel_fft(a->engine, &call->lines, &side[0], &side[1], win, wout);
    }
}

SL_HISTORY_MODEL(fft_model, "sl_fft");
static struct starpu_codelet fft_cl = {
    .cpu_funcs = {fft_cpu},
    SL_CUDA_PENDING(fft_cuda) /* cuFFT: a plan per engine and the worker's stream */
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
