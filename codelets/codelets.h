/* StarPU codelets of starlops (CPU functions now; CUDA variants come with the GPU issue).
 * Families moved to codelets/<family>.c + .h (codelets, performance models and sl_task_*
 * insert helpers) are included here; the others are still declared below. */
#ifndef STARLOPS_CODELETS_H
#define STARLOPS_CODELETS_H

#include "codelet_common.h"
#include "cpu/kernels.h"
#include "cpu/stencil_kernels.h"
#include "cpu/box_kernels.h"
#include "elementwise.h"
#include "reduce.h"
#include "scalar.h"
#include "lsqr.h"
#include "tile.h"
#include "matrixmult.h"
#include "summa.h"
#include "stencil.h"

/* Box copies for the halo operator (CPU only): dst box (=, or +=) src box. Each side is a
 * whole rank block given as its buffers in order — every tile of a 1-d array, whose block is
 * contiguous from the first tile on (so the first tile's pointer is the block's), or one
 * vector — the dst side first. zero_dst: the whole dst block is zeroed first (nbytes_dst
 * bytes); zero_src: the src box is zeroed after the copy (the src side is then RW). */
typedef struct sl_box_args {
    int ndst, nsrc;             /* buffers per side */
    int dst_vector, src_vector; /* interface of the side's first buffer */
    sl_box db, sb;
    size_t count[SL_BOX_MAX_NDIM];
    size_t esize, nbytes_dst;
    int add, single, zero_dst, zero_src;
} sl_box_args;
extern struct starpu_codelet sl_cl_box;

#endif
