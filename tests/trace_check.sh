#!/usr/bin/env bash
# STARLOPS_TRACE=dir writes one FxT prof_file per rank there; without it no trace is written
# (FxT is compiled into StarPU, whose own default would be to trace into /tmp).
# Usage: trace_check.sh MPIEXEC DEMO_BINARY
set -euo pipefail
mpiexec=$1; demo=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0; fail=0
STARLOPS_TRACE="$work/on" "$mpiexec" -n 2 --oversubscribe --bind-to none "$demo" 20000 > /dev/null
n=$(ls "$work/on" | grep -c '^prof_file_' || true)
if [ "$n" = 2 ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "expected 2 prof files, got $n"; fi
mkdir "$work/off"
# STARPU_FXT_PREFIX points at a directory StarPU would use if tracing were on by default.
env -u STARPU_FXT_TRACE STARPU_FXT_PREFIX="$work/off" \
    "$mpiexec" -n 2 --oversubscribe --bind-to none "$demo" 20000 > /dev/null
n=$(ls "$work/off" | wc -l)
if [ "$n" = 0 ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "tracing off wrote $n files"; fi
echo "trace_check: $pass passed, $fail failed"
[ "$fail" = 0 ]
