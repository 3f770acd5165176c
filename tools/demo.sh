#!/usr/bin/env bash
# One command for a newcomer: install, build, run the 3D post-stack inversion on 2 MPI ranks.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/tools/build.sh" "$root/build"
# Settings for a small machine (2 cores): one StarPU worker per rank, MPI yielding when idle.
export STARPU_NCPU=${STARPU_NCPU:-1} STARPU_WORKERS_NOBIND=${STARPU_WORKERS_NOBIND:-1}
export STARPU_SILENT=${STARPU_SILENT:-1} OMPI_MCA_mpi_yield_when_idle=1
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
out="$root/build/poststack3d-demo"
mkdir -p "$out"
mpirun -np 2 --oversubscribe --bind-to none "$root/build/examples/poststack3d" --out "$out" \
  --max-error 0.8 "$@"
