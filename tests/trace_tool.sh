#!/usr/bin/env bash
# A small traced solve at 2 ranks (CGLS on a SUMMA MatrixMult through the CLI), converted by
# starlops-trace: paje.trace must parse with pj_dump, tasks.rec must list the expected codelets
# (the panel transfers are the communication layer's post and completion tasks) and the
# solver's iteration markers, and the Gantt chart and codelet table must exist.
# Usage: trace_tool.sh MPIEXEC STARLOPS_CLI CLI_CHECK STARLOPS_TRACE_TOOL
set -euo pipefail
mpiexec=$1; cli=$2; checker=$3; tool=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$checker" gen "$work" > /dev/null
# The data: N x 3, the forward image of the generated model.
"$mpiexec" -n 2 --oversubscribe --bind-to none "$cli" apply --op matrixmult --kind summa \
  --matrix "$work/Az.npy" --in "$work/xz.npy" --nrhs 3 --out "$work/Azx_in.npy" > /dev/null
STARLOPS_TRACE="$work/trace" "$mpiexec" -n 2 --oversubscribe --bind-to none "$cli" solve \
  --op matrixmult --kind summa --matrix "$work/Az.npy" --data "$work/Azx_in.npy" --nrhs 3 \
  --solver cgls --niter 4 --tol 0 --out "$work/sol.npy" > /dev/null
"$tool" "$work/trace" > "$work/report.txt"
pass=0; fail=0
ok() { pass=$((pass+1)); }
ko() { fail=$((fail+1)); echo "trace_tool: $1"; }
n=$(ls "$work/trace" | grep -c '^prof_file_' || true)
[ "$n" = 2 ] && ok || ko "expected 2 prof files, got $n"
[ -s "$work/trace/paje.csv" ] && grep -q '^State' "$work/trace/paje.csv" && ok || ko "pj_dump output empty"
for name in summa_gemm_z summa_copy allreduce p2p_send p2p_recv comm_complete; do
  grep -q "^Name: $name\$" "$work/trace/tasks.rec" && ok || ko "tasks.rec lacks $name"
done
for it in 1 4; do
  grep -q "^Iteration: $it\$" "$work/trace/tasks.rec" && ok || ko "tasks.rec lacks iteration $it"
done
[ -s "$work/trace/gantt.png" ] && ok || ko "no gantt.png"
grep -q '^summa_gemm_z' "$work/trace/codelets.txt" && ok || ko "codelets.txt lacks summa_gemm_z"
[ -s "$work/trace/tasks.csv" ] && ok || ko "rec2csv wrote no tasks.csv"
echo "trace_tool: $pass passed, $fail failed"
[ "$fail" = 0 ]
