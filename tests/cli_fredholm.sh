#!/usr/bin/env bash
# `starlops --op fredholm1` at NP ranks: forward, adjoint (with and without --saveGt) and a CGLS
# solve on .npy files, checked against serial references; then argument errors that must fail
# on every rank with a message and leave no output.
# Usage: cli_fredholm.sh MPIEXEC NP STARLOPS_BIN CHECK_BIN
set -euo pipefail
mpiexec=$1; np=$2; cli=$3; checker=$4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
run() { "$mpiexec" -n "$np" --oversubscribe --bind-to none "$cli" "$@"; }
"$checker" gen "$dir" > /dev/null
f="--op fredholm1 --G $dir/G.npy --nz 2"
run apply $f --in "$dir/x.npy" --out "$dir/Gx.npy"
run apply $f --in "$dir/y.npy" --out "$dir/GHy.npy" --adjoint
run apply $f --saveGt --in "$dir/y.npy" --out "$dir/GHy_saveGt.npy" --adjoint
run solve $f --saveGt --data "$dir/y.npy" --solver cgls --niter 60 --tol 1e-28 \
    --out "$dir/sol.npy" > /dev/null
"$checker" check "$dir"
fails=0
expect_failure() {
  if run "$@" > "$dir/err.log" 2>&1; then echo "should have failed: $*"; fails=$((fails+1));
  elif ! grep -q "starlops" "$dir/err.log"; then echo "no message: $*"; fails=$((fails+1)); fi
}
expect_failure apply --op fredholm1 --in "$dir/x.npy" --out "$dir/o.npy"
expect_failure apply --op fredholm1 --G "$dir/G2.npy" --in "$dir/x.npy" --out "$dir/o.npy"
expect_failure apply --op fredholm1 --G "$dir/G.npy" --in "$dir/x.npy" --out "$dir/o.npy"
expect_failure apply $f --in "$dir/y.npy" --out "$dir/o.npy"
expect_failure apply $f --nz 0 --in "$dir/x.npy" --out "$dir/o.npy"
expect_failure apply $f --saveGt yes --in "$dir/x.npy" --out "$dir/o.npy"
[ ! -e "$dir/o.npy" ] || { echo "a failed run left o.npy"; fails=$((fails+1)); }
echo "cli_fredholm ($np ranks): $((6 - fails)) error cases passed, $fails failed"
[ "$fails" = 0 ]
