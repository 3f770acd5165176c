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
#include "box.h"

#endif
