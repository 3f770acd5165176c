#!/usr/bin/env bash
# The progress-thread sweep: bench/progress_busy (how soon a completion is noticed while every
# worker runs a 20 ms task) for both backends with the thread off, at 200 us and at the default
# 1000 us; then what the thread costs a solver when nothing is long: CGLS per iteration (SUMMA
# 200x150, 1D 2000x1500) with the thread off and at 1000 us, 3 runs each, interleaved.
# Usage: run_progress_busy.sh BUILD_DIR OUT.csv   (writes OUT.csv, OUT_cgls.csv, OUT.png)
set -euo pipefail
build=$1; csv=$2
cgls=${csv%.csv}_cgls.csv
export STARPU_NCPU=1 STARPU_SILENT=1 STARPU_WORKERS_NOBIND=1 OMPI_MCA_mpi_yield_when_idle=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
run() { mpiexec -n 2 --oversubscribe --bind-to none "$@"; }
rm -f "$csv" "$cgls"
for pu in 0 200 1000; do
  for comm in mpi rma; do
    STARLOPS_COMM=$comm STARLOPS_PROGRESS_US=$pu run "$build/bench/progress_busy" "$csv" 20
  done
done
echo "progress_us,backend,kind,n,k,seconds_per_iteration" > "$cgls"
for rep in 1 2 3; do
  for pu in 0 1000; do
    for comm in mpi rma; do
      for case in "200 150 200 summa" "2000 1500 50 row"; do
        read -r n k it kind <<< "$case"
        line=$(STARLOPS_COMM=$comm STARLOPS_PROGRESS_US=$pu run \
               "$build/bench/cgls_matrixmult_bench" "$n" "$k" "$it" /dev/null "$kind" |
               grep -o '[0-9.]* ms/iteration')
        echo "$pu,$comm,$kind,$n,$k,$(awk '{print $1 / 1000}' <<< "$line")" >> "$cgls"
      done
    done
  done
done
"$build/starlops-python" "$(dirname "$0")/plot_progress_busy.py" "$csv" "$cgls" "${csv%.csv}.png"
