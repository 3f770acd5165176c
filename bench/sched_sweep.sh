#!/usr/bin/env bash
# Scheduler sweep for docs/tuning.md: CGLS on a float64 1D MatrixMult (ms per iteration, from
# cgls_matrixmult_bench) and the post-stack inversion driver (seconds of each CGLS run) under
# each STARPU_SCHED at 1 and 2 ranks, one CSV row per run, then a plot.
# Usage: sched_sweep.sh BUILD_DIR OUT.csv   (env SCHEDS, RANKS, MM="N K niter", PS="--nt ...")
set -euo pipefail
build=$1; csv=$2
scheds=${SCHEDS:-eager lws ws dmda dmdas prio}
ranks=${RANKS:-1 2}
mm=${MM:-4000 3000 20}
ps=${PS:---nt 120 --nx 60 --ny 60 --niter 20}
export STARPU_NCPU=${STARPU_NCPU:-1} STARPU_SILENT=1 STARPU_WORKERS_NOBIND=1
export OMPI_MCA_mpi_yield_when_idle=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export STARPU_HOME=${STARPU_HOME:-$(mktemp -d)}  # fresh performance models for the dm* runs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "sched,ranks,ncpu,case,seconds" > "$csv"
for np in $ranks; do
  for s in $scheds; do
    # shellcheck disable=SC2086
    STARPU_SCHED=$s mpiexec -n "$np" --oversubscribe --bind-to none \
      "$build/bench/cgls_matrixmult_bench" $mm "$tmp/mm.csv" > "$tmp/mm.txt"
    ms=$(sed -n 's/.*: \([0-9.]*\) ms\/iteration.*/\1/p' "$tmp/mm.txt")
    echo "$s,$np,$STARPU_NCPU,cgls_matrixmult_ms_per_iteration,$ms" >> "$csv"
    # shellcheck disable=SC2086
    STARPU_SCHED=$s mpiexec -n "$np" --oversubscribe --bind-to none \
      "$build/examples/poststack3d" $ps --out "$tmp" > "$tmp/ps.txt"
    a=$(sed -n 's/.*(a) CGLS: .*, \([0-9.]*\) s$/\1/p' "$tmp/ps.txt")
    b=$(sed -n 's/.*(b) CGLS regularised: .*, \([0-9.]*\) s$/\1/p' "$tmp/ps.txt")
    echo "$s,$np,$STARPU_NCPU,poststack_cgls_s,$a" >> "$csv"
    echo "$s,$np,$STARPU_NCPU,poststack_regularised_cgls_s,$b" >> "$csv"
    echo "$s np=$np: cgls_matrixmult $ms ms/it, poststack (a) $a s (b) $b s"
  done
done
"$build/starlops-python" "$(dirname "$0")/plot_sched.py" "$csv" "${csv%.csv}.png"
