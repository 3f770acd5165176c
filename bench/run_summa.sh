#!/usr/bin/env bash
# The bench/summa sweep: float64 MatrixMult at 1, 2 and 4 ranks (oversubscribed beyond the
# cores), N = K and M as given, appended to one CSV, then plotted.
# Usage: run_summa.sh BUILD_DIR OUT.csv ["N K M" ...]   (default: the sweep in the README)
set -euo pipefail
build=$1; csv=$2; shift 2
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=("4096 4096 64" "4096 4096 512" "4096 4096 2048")
export STARPU_NCPU=1 STARPU_SILENT=1 STARPU_WORKERS_NOBIND=1 OMPI_MCA_mpi_yield_when_idle=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
for np in ${STARLOPS_BENCH_RANKS:-1 2 4}; do
  for s in "${sizes[@]}"; do
    # shellcheck disable=SC2086
    mpiexec -n "$np" --oversubscribe --bind-to none "$build/bench/summa_bench" $s 3 "$csv"
  done
done
"$build/starlops-python" "$(dirname "$0")/plot_summa.py" "$csv" "${csv%.csv}.png"
