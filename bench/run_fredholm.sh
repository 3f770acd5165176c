#!/usr/bin/env bash
# bench/fredholm at 1, 2 and 4 ranks (one StarPU worker per rank) for float64 and complex128,
# gemm-sized (nz = 32, 16) and gemv-sized (nz = 1) slices, saveGt on and off; RUNS runs of each
# (the host is shared: the table in bench/results/README.md takes the median run).
# Usage: bench/run_fredholm.sh BUILD_DIR OUT.csv [RUNS]   (from the repository root)
set -euo pipefail
build=$1; csv=$2; runs=${3:-3}
export STARPU_NCPU=1 STARPU_WORKERS_NOBIND=1 STARPU_SILENT=1 OMPI_MCA_mpi_yield_when_idle=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
configs=(
  "64 256 256 32 d 1" "64 256 256 32 d 0"
  "64 256 256 32 z 1" "64 256 256 32 z 0"
  "64 128 128 16 z 1"
  "64 512 512 1 d 1"
)
for run in $(seq "$runs"); do
  for np in 1 2 4; do
    for c in "${configs[@]}"; do
      # shellcheck disable=SC2086
      mpirun -np "$np" --oversubscribe --bind-to none "$build/bench/fredholm_bench" $c "$csv"
    done
  done
done
