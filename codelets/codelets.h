/* StarPU codelets of starlops, one family per file (after Chameleon's runtime/starpu/codelets/):
 * codelets/<family>.c holds the codelets, their history-based performance models and the typed
 * insert helpers sl_task_<name>(...) declared in codelets/<family>.h; the algorithms in src/
 * submit tasks only through these helpers (and the communication layer, src/comm/). CPU
 * functions now, each codelet naming its CUDA slot (SL_CUDA_FUNCS, codelet_common.h) for the
 * GPU issue; plain kernels in codelets/cpu/. This header includes every family. */
#ifndef STARLOPS_CODELETS_H
#define STARLOPS_CODELETS_H

#include "codelet_common.h"
#include "elementwise.h" /* fill, copy, scale, axpby, add, multiply, conj, ... */
#include "reduce.h"      /* dot, vdot, norms, accumulators, norms along an axis */
#include "scalar.h"      /* scalar futures: set, combine, guarded ratio */
#include "tile.h"        /* generic tile/vector zero, add, slice copy, vector sums */
#include "lsqr.h"        /* LSQR's scalar recurrences */
#include "matrixmult.h"  /* 1D MatrixMult */
#include "fredholm.h"    /* Fredholm1 */
#include "summa.h"       /* 2D (SUMMA) MatrixMult */
#include "stencil.h"     /* stencil operators, ghost-slab packing */
#include "box.h"         /* the halo operator's box copies */
#include "user_op.h"     /* user-defined operators (callbacks, codelets) */
#include "fft.h"         /* line FFTs (FFTW) */

#endif
