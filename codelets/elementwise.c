/* Elementwise codelets: one codelet (and performance model) per operation, one CPU function
 * and one CUDA function (codelets/cuda/elementwise.cu), and their insert helper. */
#include "elementwise.h"
#ifdef STARLOPS_USE_CUDA
#include "cuda/cuda_scratch.h"
#include "cuda/elementwise_cuda.h"
#endif

/* factor *= scalar (complex), the scalar being a future computed by earlier tasks */
static void multiply_by_scalar(double factor[2], void *scalar_buffer)
{
    const double *sc = (const double *)STARPU_VECTOR_GET_PTR(scalar_buffer);
    double re = factor[0] * sc[0] - factor[1] * sc[1];
    double im = factor[0] * sc[1] + factor[1] * sc[0];
    factor[0] = re;
    factor[1] = im;
}

static int is_zero(const double c[2])
{
    return c[0] == 0 && c[1] == 0;
}

/* A coefficient read from a scalar future that is exactly zero drops its term, BLAS's rule for
 * alpha = 0 or beta = 0 (the term's operand is not read): a solver step that its guard set to
 * 0 must leave the iterate unchanged even when the direction holds NaN or Inf. Rewrites the
 * operation; returns 0 when nothing is left to do. Host-given coefficients keep numpy's
 * arithmetic (0 * NaN = NaN). */
static int drop_zero_terms(sl_ew_args *args, const void **a, void *out)
{
    int alpha0 = args->ialpha >= 0 && is_zero(args->alpha);
    int beta0 = args->ibeta >= 0 && is_zero(args->beta);
    if (args->op == SL_EW_AXPY && alpha0)
        return 0;
    if (args->op == SL_EW_SCALE && alpha0)
        args->op = SL_EW_FILL; /* alpha = 0: out = 0 */
    if (args->op == SL_EW_AXPBY && alpha0 && beta0) {
        args->op = SL_EW_FILL;
    } else if (args->op == SL_EW_AXPBY && alpha0) { /* out = beta out */
        args->op = SL_EW_SCALE;
        args->alpha[0] = args->beta[0], args->alpha[1] = args->beta[1];
        *a = out;
    } else if (args->op == SL_EW_AXPBY && beta0) { /* out = alpha a */
        args->op = SL_EW_SCALE;
    }
    return 1;
}

static void elementwise_cpu(void *buffers[], void *cl_arg)
{
    sl_ew_args args;
    starpu_codelet_unpack_args(cl_arg, &args);
    void *out = buffers[0];
    sl_tile_shape s = {STARPU_MATRIX_GET_NX(out), STARPU_MATRIX_GET_NY(out),
                       STARPU_MATRIX_GET_LD(out)};
    const void *a = args.ia >= 0 ? (const void *)STARPU_MATRIX_GET_PTR(buffers[args.ia]) : NULL;
    const void *b = args.ib >= 0 ? (const void *)STARPU_MATRIX_GET_PTR(buffers[args.ib]) : NULL;
    if (args.ialpha >= 0)
        multiply_by_scalar(args.alpha, buffers[args.ialpha]);
    if (args.ibeta >= 0)
        multiply_by_scalar(args.beta, buffers[args.ibeta]);
    void *o = (void *)STARPU_MATRIX_GET_PTR(out);
    if (drop_zero_terms(&args, &a, o))
        sl_kernel_elementwise(args.op, args.dtype, s, o, a, b, args.alpha, args.beta);
}

#ifdef STARLOPS_USE_CUDA
/* The same operation on a CUDA worker: the coefficients' scalar futures stay on the device and
 * the kernel applies them (and the zero-term rule) itself, so no task waits for a scalar. */
static void elementwise_cuda(void *buffers[], void *cl_arg)
{
    sl_ew_args args;
    starpu_codelet_unpack_args(cl_arg, &args);
    void *out = buffers[0];
    sl_cuda_ew p = {
        .op = args.op, .dtype = args.dtype,
        .nx = STARPU_MATRIX_GET_NX(out), .ny = STARPU_MATRIX_GET_NY(out),
        .out = (void *)STARPU_MATRIX_GET_PTR(out), .ld_out = STARPU_MATRIX_GET_LD(out),
        .alpha = {args.alpha[0], args.alpha[1]}, .beta = {args.beta[0], args.beta[1]}};
    if (args.ia >= 0) {
        p.a = (const void *)STARPU_MATRIX_GET_PTR(buffers[args.ia]);
        p.ld_a = STARPU_MATRIX_GET_LD(buffers[args.ia]);
    }
    if (args.ib >= 0) {
        p.b = (const void *)STARPU_MATRIX_GET_PTR(buffers[args.ib]);
        p.ld_b = STARPU_MATRIX_GET_LD(buffers[args.ib]);
    }
    if (args.ialpha >= 0)
        p.alpha_dev = (const double *)STARPU_VECTOR_GET_PTR(buffers[args.ialpha]);
    if (args.ibeta >= 0)
        p.beta_dev = (const double *)STARPU_VECTOR_GET_PTR(buffers[args.ibeta]);
    SL_CUDA_CHECK(sl_cuda_elementwise(&p, starpu_cuda_get_local_stream()));
}
#endif

#define EW_MODEL(op, sym) \
    static struct starpu_perfmodel model_##op = {.type = STARPU_HISTORY_BASED, .symbol = sym}
EW_MODEL(fill, "sl_fill");
EW_MODEL(copy, "sl_copy");
EW_MODEL(scale, "sl_scale");
EW_MODEL(axpby, "sl_axpby");
EW_MODEL(axpy, "sl_axpy");
EW_MODEL(add, "sl_add");
EW_MODEL(sub, "sl_sub");
EW_MODEL(mul, "sl_multiply");
EW_MODEL(conj, "sl_conj");
EW_MODEL(cmul, "sl_conj_multiply");

#define EW_CODELET(op_enum, op, nm)                                                  \
    [op_enum] = {.cpu_funcs = {elementwise_cpu}, .cpu_funcs_name = {"elementwise_cpu"}, \
                 SL_CUDA_FUNCS(elementwise_cuda)                                      \
                 .nbuffers = STARPU_VARIABLE_NBUFFERS, .model = &model_##op, .name = nm}

static struct starpu_codelet cl_elementwise[SL_EW_OP_COUNT] = {
    EW_CODELET(SL_EW_FILL, fill, "fill"),     EW_CODELET(SL_EW_COPY, copy, "copy"),
    EW_CODELET(SL_EW_SCALE, scale, "scale"),  EW_CODELET(SL_EW_AXPBY, axpby, "axpby"),
    EW_CODELET(SL_EW_AXPY, axpy, "axpy"),     EW_CODELET(SL_EW_ADD, add, "add"),
    EW_CODELET(SL_EW_SUB, sub, "sub"),        EW_CODELET(SL_EW_MUL, mul, "multiply"),
    EW_CODELET(SL_EW_CONJ, conj, "conj"),     EW_CODELET(SL_EW_CMUL, cmul, "conj_multiply"),
};

const char *sl_elementwise_name(sl_ew_op op)
{
    return cl_elementwise[op].name;
}

/* The buffer of handle h, added with mode m unless h is already one (then the modes merge). */
static int add_buffer(sl_task_buffers *tb, starpu_data_handle_t h, enum starpu_data_access_mode m)
{
    for (int i = 0; i < tb->n; i++)
        if (tb->d[i].handle == h) {
            tb->d[i].mode = (enum starpu_data_access_mode)(tb->d[i].mode | m);
            return i;
        }
    sl_task_buffers_add(tb, h, m);
    return tb->n - 1;
}

int sl_task_elementwise(sl_ew_args args, starpu_data_handle_t out,
                        enum starpu_data_access_mode out_mode, starpu_data_handle_t a,
                        starpu_data_handle_t b, starpu_data_handle_t alpha,
                        starpu_data_handle_t beta)
{
    sl_task_buffers tb;
    sl_task_buffers_init(&tb, 5); /* inline: cannot fail */
    add_buffer(&tb, out, out_mode);
    args.ia = a ? add_buffer(&tb, a, STARPU_R) : -1;
    args.ib = b ? add_buffer(&tb, b, STARPU_R) : -1;
    args.ialpha = alpha ? add_buffer(&tb, alpha, STARPU_R) : -1;
    args.ibeta = beta ? add_buffer(&tb, beta, STARPU_R) : -1;
    return starpu_task_insert(&cl_elementwise[args.op], STARPU_VALUE, &args, sizeof args,
                              STARPU_DATA_MODE_ARRAY, tb.d, tb.n, 0);
}
