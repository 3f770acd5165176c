/* One FFT call's lines on a CUDA worker: gather (a kernel), cuFFT, scatter (a kernel), batch by
 * batch on the worker's stream. Each thread of a move kernel moves one sample with
 * fft_index.h's sl_fft_move_one_{s,d}, the index logic the CPU kernel shares (its tests cover
 * it on the host: tests/test_fft_index.c). */
#include "cuda/cuda_scratch.h"
#include "cuda/fft_cuda.h"

namespace {

/* One launch: up to SL_FFT_CUDA_CHUNK consecutive segments of a side, indices [k0, k0+count)
 * of lines l0 .. l0 + nb - 1 (workspace lines 0 .. nb - 1). */
struct move_args {
    sl_fft_move mv;
    sl_fft_place seg[SL_FFT_CUDA_CHUNK];
    int nseg, k_fastest, to_buf;
    size_t n2, nq, l0, nb, k0, count;
    void *work;
};

__device__ __forceinline__ void move_one(const move_args &p, size_t b, size_t k, double *w)
{
    sl_fft_move_one_d(&p.mv, p.seg, p.nseg, p.n2, p.nq, p.l0 + b, b, k, w, p.to_buf);
}

__device__ __forceinline__ void move_one(const move_args &p, size_t b, size_t k, float *w)
{
    sl_fft_move_one_s(&p.mv, p.seg, p.nseg, p.n2, p.nq, p.l0 + b, b, k, w, p.to_buf);
}

template <typename T>
__global__ void move_kernel(const move_args p)
{
    const size_t total = p.nb * p.count, stride = (size_t)blockDim.x * gridDim.x;
    for (size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += stride) {
        size_t b, i;
        sl_fft_thread_elem(idx, p.nb, p.count, p.k_fastest, &b, &i);
        move_one(p, b, p.k0 + i, (T *)p.work);
    }
}

constexpr unsigned kThreads = 256;
constexpr size_t kMaxBlocks = 4096; /* grid-stride beyond: enough to fill the device */

/* Every chunk of a side's segments for nb lines from l0; failed launches noted and counted. */
int launch_moves(const sl_fft_move *mv, const sl_fft_cuda_side *side, const sl_fft_lines *ln,
                 size_t l0, size_t nb, void *work, int to_buf, int single, cudaStream_t stream)
{
    int failed = 0;
    for (int g0 = 0; g0 < side->nseg; g0 += SL_FFT_CUDA_CHUNK) {
        int n = side->nseg - g0 < SL_FFT_CUDA_CHUNK ? side->nseg - g0 : SL_FFT_CUDA_CHUNK;
        move_args p;
        p.mv = *mv;
        for (int g = 0; g < n; g++)
            p.seg[g] = side->seg[g0 + g];
        p.nseg = n, p.to_buf = to_buf, p.n2 = ln->n2, p.nq = ln->nq, p.l0 = l0, p.nb = nb;
        p.k0 = p.seg[0].k0;
        p.count = p.seg[n - 1].k0 + p.seg[n - 1].len - p.k0;
        p.k_fastest = p.seg[0].sk == 1;
        p.work = work;
        size_t total = nb * p.count;
        if (total == 0)
            continue;
        size_t blocks = (total + kThreads - 1) / kThreads;
        blocks = blocks < kMaxBlocks ? blocks : kMaxBlocks;
        if (single)
            move_kernel<float><<<(unsigned)blocks, kThreads, 0, stream>>>(p);
        else
            move_kernel<double><<<(unsigned)blocks, kThreads, 0, stream>>>(p);
        cudaError_t e = cudaGetLastError();
        SL_CUDA_CHECK(e);
        failed += e != cudaSuccess;
    }
    return failed;
}

cufftResult execute(const sl_fft_cuda_exec *x)
{
    if (x->single) {
        if (x->r2c && x->forward)
            return cufftExecR2C(x->plan, (cufftReal *)x->win, (cufftComplex *)x->wout);
        if (x->r2c)
            return cufftExecC2R(x->plan, (cufftComplex *)x->win, (cufftReal *)x->wout);
        return cufftExecC2C(x->plan, (cufftComplex *)x->win, (cufftComplex *)x->wout,
                            x->forward ? CUFFT_FORWARD : CUFFT_INVERSE);
    }
    if (x->r2c && x->forward)
        return cufftExecD2Z(x->plan, (cufftDoubleReal *)x->win, (cufftDoubleComplex *)x->wout);
    if (x->r2c)
        return cufftExecZ2D(x->plan, (cufftDoubleComplex *)x->win, (cufftDoubleReal *)x->wout);
    return cufftExecZ2Z(x->plan, (cufftDoubleComplex *)x->win, (cufftDoubleComplex *)x->wout,
                        x->forward ? CUFFT_FORWARD : CUFFT_INVERSE);
}

/* A failed cuFFT call, noted like a failed CUDA call (cuFFT's status has no CUDA error name:
 * the place says which call it was). */
int cufft_failed(cufftResult r, const char *file, int line)
{
    if (r == CUFFT_SUCCESS)
        return 0;
    sl_cuda_note_failure((int)cudaErrorUnknown, file, line);
    return 1;
}

} // namespace

int sl_cuda_fft_lines(const sl_fft_cuda_exec *x, const sl_fft_move *mv_src,
                      const sl_fft_move *mv_dst, const sl_fft_lines *lines,
                      const sl_fft_cuda_side *src, const sl_fft_cuda_side *dst,
                      cudaStream_t stream)
{
    int failed = cufft_failed(cufftSetStream(x->plan, stream), __FILE__, __LINE__);
    size_t real = x->single ? sizeof(float) : sizeof(double);
    size_t bf = mv_src->buf_cplx ? 2 : 1;
    for (size_t l0 = 0; l0 < lines->count && !failed; l0 += x->batch) {
        size_t nb = lines->count - l0 < x->batch ? lines->count - l0 : x->batch;
        /* bins no sample reaches (zero padding); lines beyond nb are transformed but never
         * scattered, whatever they hold */
        if (mv_src->len < mv_src->blen) {
            cudaError_t e = cudaMemsetAsync(x->win, 0, nb * mv_src->blen * bf * real, stream);
            SL_CUDA_CHECK(e);
            failed += e != cudaSuccess;
        }
        failed += launch_moves(mv_src, src, lines, l0, nb, x->win, 1, x->single, stream);
        failed += cufft_failed(execute(x), __FILE__, __LINE__);
        failed += launch_moves(mv_dst, dst, lines, l0, nb, x->wout, 0, x->single, stream);
    }
    return failed;
}
