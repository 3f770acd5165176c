/* The process-wide CUDA side of starlops (cuda_workers.c): StarPU's cuBLAS handles, each CUDA
 * worker's reduction scratch, and where the codelets that have a CUDA version may run. The
 * placement part exists in every build (a build without CUDA has no CUDA worker, so only
 * SL_PLACE_AUTO and SL_PLACE_CPU are accepted there). */
#ifndef STARLOPS_CUDA_WORKERS_H
#define STARLOPS_CUDA_WORKERS_H

#include <stddef.h>

#include <starlops/status.h>

/* Which workers may run a codelet that has both a CPU and a CUDA function (codelets without a
 * CUDA version, e.g. the communication tasks, always run on CPU workers):
 *  AUTO: any (the scheduler picks, from the performance models under dm*);
 *  CPU:  CPU workers only (as if the GPU were absent);
 *  CUDA: CUDA workers only (what the GPU tests compare against CPU, and GPU-only runs). */
typedef enum sl_cuda_placement { SL_PLACE_AUTO, SL_PLACE_CPU, SL_PLACE_CUDA } sl_cuda_placement;

/* At context initialisation, after StarPU started: the placement from STARLOPS_CUDA_PLACEMENT
 * (auto, cpu or cuda; default auto), and with CUDA workers their cuBLAS handles (bound to each
 * worker's stream) and reduction scratch. SL_OK, or SL_ERR_ENV / SL_ERR_NOMEM with a sentence
 * in msg; on failure nothing is left to stop. */
sl_status sl_cuda_start(char *msg, size_t len);

/* Frees what sl_cuda_start made: with no task in flight, before StarPU shuts down. */
void sl_cuda_stop(void);

/* Changes the placement for the tasks submitted from now on; call it with no task in flight
 * (after sl_wait). SL_ERR_ARG for SL_PLACE_CUDA without a CUDA worker (no task could run). */
sl_status sl_cuda_set_placement(sl_cuda_placement placement);
sl_cuda_placement sl_cuda_get_placement(void);

/* CUDA calls that failed inside tasks since sl_cuda_start (0 in a build without CUDA), and a
 * sentence on the first one (error name, file:line) into msg. */
unsigned long sl_cuda_failures(char *msg, size_t len);

#endif
