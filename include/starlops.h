/* starlops: task-based distributed linear operators on StarPU. Umbrella header. */
#ifndef STARLOPS_H
#define STARLOPS_H

#include <starlops/status.h>
#include <starlops/dtype.h>
#include <starlops/context.h>
#include <starlops/scalar.h>
#include <starlops/darray.h>
#include <starlops/op.h>
#include <starlops/summa.h>
#include <starlops/fredholm.h>
#include <starlops/derivatives.h>
#include <starlops/convolve.h>
#include <starlops/halo.h>
#include <starlops/fft.h>
#include <starlops/mdc.h>
#include <starlops/solvers.h>
#include <starlops/io.h>

#endif
