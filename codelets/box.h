/* The box-copy codelet of the halo operator (box.c). */
#ifndef STARLOPS_CL_BOX_H
#define STARLOPS_CL_BOX_H

#include "codelet_common.h"
#include "cpu/box_kernels.h"

/* Box copies: dst box (=, or +=) src box. Each side is a whole rank block given as its buffers
 * in order — every tile of a 1-d array, whose block is contiguous from the first tile on in main
 * memory (so the CPU function takes the first tile's pointer as the block's; on a device the
 * tiles are separate allocations and the CUDA function addresses each element through its own
 * tile, box_point.h), or one vector of bytes — the dst side first. zero_dst: the
 * whole dst block is zeroed first (nbytes_dst bytes); zero_src: the src box is zeroed after the
 * copy (the src side is then RW). */
typedef struct sl_box_args {
    int ndst, nsrc;             /* buffers per side */
    int dst_vector, src_vector; /* interface of the side's first buffer */
    sl_box db, sb;
    size_t count[SL_BOX_MAX_NDIM];
    size_t esize, nbytes_dst;
    int add, single, zero_dst, zero_src;
} sl_box_args;

/* The args->ndst handles of dst (dst_mode) then the args->nsrc of src (src_mode). Returns
 * -ENOMEM when the helper cannot allocate. */
int sl_task_box(const sl_box_args *args, const starpu_data_handle_t *dst,
                enum starpu_data_access_mode dst_mode, const starpu_data_handle_t *src,
                enum starpu_data_access_mode src_mode);

#endif
