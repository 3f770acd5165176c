#!/usr/bin/env bash
# bench/fredholm at 1, 2 and 4 ranks (one StarPU worker per rank) for float64 and complex128,
# gemm-sized (nz = 32, 16) and gemv-sized (nz = 1) slices, saveGt on and off; RUNS runs of each
# (the host is shared: the table in bench/results/README.md takes the median run).
# SET blocked: both layouts on larger slices (16 of 1024 x 1024, 16 of 512 x 512), the
# 2D-blocked one with the grid the traffic model picks, in one batch group and in two.
# Usage: bench/run_fredholm.sh BUILD_DIR OUT.csv [RUNS [SET]]   (from the repository root)
set -euo pipefail
build=$1; csv=$2; runs=${3:-3}; set=${4:-slices}
export STARPU_NCPU=1 STARPU_WORKERS_NOBIND=1 STARPU_SILENT=1 OMPI_MCA_mpi_yield_when_idle=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
configs=(
  "64 256 256 32 d 1" "64 256 256 32 d 0"
  "64 256 256 32 z 1" "64 256 256 32 z 0"
  "64 128 128 16 z 1"
  "64 512 512 1 d 1"
)
if [ "$set" = blocked ]; then
  configs=()
  for c in "16 1024 1024 32 d 0" "16 512 512 16 z 0"; do
    configs+=("$c $csv slices" "$c $csv blocked" "$c $csv blocked 2")
  done
fi
for run in $(seq "$runs"); do
  for np in 1 2 4; do
    for c in "${configs[@]}"; do
      if [ "$set" = blocked ]; then args=($c); else args=($c "$csv"); fi
      [[ $np = 1 && "$c" = *"blocked 2" ]] && continue # 2 batch groups need 2 ranks
      mpirun -np "$np" --oversubscribe --bind-to none "$build/bench/fredholm_bench" "${args[@]}"
    done
  done
done
