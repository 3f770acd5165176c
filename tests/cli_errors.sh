#!/usr/bin/env bash
# The starlops CLI's failure paths at NP ranks (issue 12): every bad input must end with a
# message naming the problem, the right exit status, no crash, no hang, and no output file left
# or replaced; ranks that disagree must all say why. Also: the JSON line stays valid JSON when a
# solve meets a NaN, and the tolerance flags' defaults.
# Usage: cli_errors.sh MPIEXEC NP STARLOPS_BIN CLI_CHECK_BIN [quick]
# quick (the sanitizer pass, where each launch takes ~5 s): one case of each kind only.
set -uo pipefail
mpiexec=$1; np=$2; cli=$3; checker=$4; quick=${5:-}
full() { [ "$quick" != quick ]; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$checker" gen "$dir" > /dev/null || { echo "cli_check gen failed"; exit 1; }
cd "$dir"
cases=0; fails=0; case=; failed_case=
begin() { case=$1; cases=$((cases + 1)); rm -f o.npy; }
# A case fails once, whatever the number of its checks that fail.
fail() {
  echo "FAILED: $case: $*"; sed 's/^/    /' err.log | head -8
  [ "$failed_case" = "$case" ] || fails=$((fails + 1))
  failed_case=$case
}

# mpirun of `prog args...`, bounded; stdout in out.log, stderr in err.log, status in $rc.
launch() {
  timeout --signal=KILL 60 "$mpiexec" -n "$np" --oversubscribe --bind-to none "$@" \
    > out.log 2> err.log
  rc=$?
}

# expect CASE RC WORD args...: exit status RC, WORD (an extended regex) in stderr, no crash
# (signal, sanitizer report), and no o.npy left behind. Usage errors (RC 2) are found before
# MPI starts, the same on every rank: they run as one process, without mpirun's second of
# failed-job handling.
expect() {
  begin "$1"; local want=$2 word=$3
  shift 3
  if [ "$want" = 2 ]; then
    timeout --signal=KILL 60 "$cli" "$@" > out.log 2> err.log
    rc=$?
  else
    launch "$cli" "$@"
  fi
  if [ "$rc" -ge 124 ] || grep -Eq "Segmentation|signal [0-9]|core dumped|Sanitizer|runtime error" err.log; then
    fail "crashed or hung (status $rc)"
  elif [ "$rc" != "$want" ]; then fail "exit status $rc, $want expected"
  elif ! grep -Eq -- "$word" err.log; then fail "stderr does not say '$word'"
  fi
  [ ! -e o.npy ] || fail "a failed run left o.npy"
}

# Every rank 0..NP-1 printed "starlops: rank R: <status>: <non-empty reason>".
every_rank_says() {
  for ((r = 0; r < np; r++)); do
    grep -Eq "^starlops: rank $r: [^:]+: .*[^ ]" err.log || { fail "rank $r gave no reason"; return; }
  done
}

# A .npy file written by hand: npy_raw FILE DICT DATA_BYTES.
npy_raw() {
  local len=${#2}
  { printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x "$len")\\x00"; printf '%s' "$2"
    head -c "$3" /dev/zero; } > "$1"
}

# 1. Early failures in the builders (an uninitialised array was freed: SIGSEGV).
npy_raw w_empty.npy "{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }" 0
npy_raw w_f32.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }" 20
"$checker" fill w_2d.npy 1 2,3 > /dev/null
expect no-wavelet 1 "needs --wavelet" apply --op convolve --dims 6,7,8 --in vol.npy --out o.npy
full && expect empty-wavelet 1 "empty" apply --op convolve --dims 6,7,8 --wavelet w_empty.npy \
  --in vol.npy --out o.npy
expect 2d-wavelet 1 "1-D float64" apply --op poststack --dims 6,7,8 --wavelet w_2d.npy \
  --in vol.npy --out o.npy
full && expect f32-wavelet 1 "1-D float64" apply --op convolve --dims 6,7,8 --wavelet w_f32.npy \
  --in vol.npy --out o.npy
expect bad-kind 1 "--kind bogus" apply --op firstderivative --dims 6,7,8 --kind bogus \
  --in vol.npy --out o.npy
full && expect missing-matrix 1 "cannot open" apply --op matrixmult --matrix nothere.npy --in x.npy \
  --out o.npy

# 2. The JSON line is valid JSON: null for a non-finite norm, a status and a stop reason.
json_ok() { # the single line on stdout, with its strings removed, is JSON's grammar
  [ "$(grep -c . out.log)" = 1 ] || { fail "not one JSON line on stdout"; return; }
  sed 's/"[^"]*"//g' out.log |
    grep -Eq '^\{( *: *(null|true|false|-?[0-9][0-9.eE+-]*)? *,?)*\}$' ||
    fail "not valid JSON: $(cat out.log)"
  grep -q "\"status\": \"$1\"" out.log || fail "no \"status\": \"$1\""
  grep -Eq '"reason": "[a-z]+"' out.log || fail "no stop reason"
}
"$checker" fill y_zero.npy 0 13 > /dev/null
"$checker" fill y_nan.npy nan 13 > /dev/null
begin zero-data
launch "$cli" solve --op matrixmult --matrix A.npy --data y_zero.npy --solver cgls --niter 5 \
  --out o.npy
[ "$rc" = 0 ] || fail "exit status $rc"
json_ok ok
[ -e o.npy ] || fail "no o.npy"
for solver in cgls $(full && echo lsqr); do
  expect "nan-data-$solver" 1 "NaN" solve --op matrixmult --matrix A.npy --data y_nan.npy \
    --solver $solver --niter 5 --out o.npy
  json_ok nonfinite
  grep -q '"r1norm": null' out.log || fail "r1norm is not null"
done

# 3. Tolerances: absent = the library's default (CGLS 1e-4: converges before niter); an
# explicit 0 or `none` = no test (runs niter); negative or NaN = usage error.
solve_cgls() {
  begin "$1"; shift
  launch "$cli" solve --op matrixmult --matrix A.npy --data y.npy --solver cgls --niter 8 \
    --out o.npy "$@"
}
solve_cgls tol-default
grep -q '"reason": "converged"' out.log || fail "did not converge: $(cat out.log)"
for t in 0 $(full && echo none); do
  solve_cgls "tol-$t" --tol $t
  grep -q '"iterations": 8, .*"reason": "iterations"' out.log ||
    fail "the test was not off: $(cat out.log)"
done
expect tol-negative 2 "--tol -1" solve --op matrixmult --matrix A.npy --data y.npy \
  --solver cgls --niter 8 --tol -1 --out o.npy
expect conlim-nan 2 "--conlim nan" solve --op matrixmult --matrix A.npy --data y.npy \
  --solver lsqr --niter 8 --conlim nan --out o.npy

# 5. --out: a read-only file is neither replaced nor re-moded; a replaced file keeps its mode;
# not a regular file / no such directory fail before any work. npy.c refuses on its own too.
cp x.npy ro.npy; chmod 0444 ro.npy
expect out-read-only 1 "read-only" apply --op matrixmult --matrix A.npy --in x.npy --out ro.npy
cmp -s x.npy ro.npy || fail "ro.npy was replaced"
[ "$(stat -c %a ro.npy)" = 444 ] || fail "ro.npy's mode changed"
begin npy-read-only
"$checker" fill ro.npy 0 3 > /dev/null 2>&1 && fail "sl_npy_write replaced a read-only file"
cmp -s x.npy ro.npy || fail "ro.npy was replaced"
mkdir -p adir
full && expect out-directory 1 "not a regular file" apply --op matrixmult --matrix A.npy --in x.npy \
  --out adir
expect out-no-directory 1 "does not exist" apply --op matrixmult --matrix A.npy --in x.npy \
  --out nodir/o.npy
begin out-keeps-mode; cp x.npy rw.npy; chmod 0640 rw.npy
launch "$cli" apply --op matrixmult --matrix A.npy --in x.npy --out rw.npy
[ "$rc" = 0 ] && [ "$(stat -c %a rw.npy)" = 640 ] && ! cmp -s x.npy rw.npy ||
  fail "status $rc, mode $(stat -c %a rw.npy)"

# 6. Messages.
expect stray-argument 2 "unexpected argument 'yes'.*take no value" apply --op laplacian \
  --dims 6,7,8 --edge yes --in vol.npy --out o.npy
npy_raw neg.npy "{'descr': '<f8', 'fortran_order': False, 'shape': (-3, 5), }" 0
expect negative-dim 1 "negative dimension" apply --op matrixmult --matrix neg.npy --in x.npy \
  --out o.npy
expect nrhs-zero 2 "--nrhs 0 is too small" apply --op matrixmult --matrix A.npy --in x.npy \
  --nrhs 0 --out o.npy
expect nrhs-huge 2 "too large" apply --op matrixmult --kind summa --matrix A.npy --in x.npy \
  --nrhs 9223372036854775807 --out o.npy
expect nrhs-1e18 2 "too large" apply --op matrixmult --kind summa --matrix A.npy --in x.npy \
  --nrhs 1e18 --out o.npy
# 2^53 right-hand sides of 256 float64 rows: 2^64 bytes, past size_t (was "out of memory")
"$checker" fill A256.npy 0 256,1 > /dev/null
"$checker" fill y256.npy 0 256 > /dev/null
expect nrhs-overflow 1 "too large" solve --op matrixmult --kind summa --matrix A256.npy \
  --data y256.npy --nrhs 9007199254740992 --solver cgls --niter 1 --out o.npy
expect cg-matrixmult 2 "square operator" solve --op matrixmult --matrix A.npy --data y.npy \
  --solver cg --niter 3 --out o.npy
expect axis-huge 2 "--axis 1e300 is too large" apply --op firstderivative --dims 6,7,8 \
  --axis 1e300 --in vol.npy --out o.npy
expect dims-huge 2 "bad value for --dims" apply --op laplacian --dims 6,1e300 --in vol.npy \
  --out o.npy

# 4 and 7: ranks that disagree (rank 0 against the others), from a wrapper.
if [ "$np" -gt 1 ]; then
  # 4. The same command line, different files (per-rank working directories): every rank
  # says why, the ranks where nothing failed quoting rank 1.
  mkdir -p r0 r1; cp A.npy y.npy vol.npy r0/; cp A.npy r1/
  "$checker" fill r1/y.npy 1 14 > /dev/null
  "$checker" fill r1/vol.npy 1 6,7,9 > /dev/null
  cat > by_dir.sh <<EOF
#!/bin/bash
cd "$dir/r\$([ "\$OMPI_COMM_WORLD_RANK" = 0 ] && echo 0 || echo 1)" && exec "$cli" "\$@"
EOF
  chmod +x by_dir.sh
  for op in matrixmult $(full && echo laplacian); do
    if [ $op = matrixmult ]; then set -- solve --op matrixmult --matrix A.npy --data y.npy \
      --solver cgls --niter 3 --out o.npy
    else set -- apply --op laplacian --dims 6,7,8 --in vol.npy --out o.npy; fi
    begin files-differ-$op
    launch ./by_dir.sh "$@"
    [ "$rc" = 1 ] || fail "exit status $rc"
    every_rank_says
    grep -q "^starlops: rank 0: .*rank 1: " err.log || fail "rank 0 does not quote rank 1"
    [ ! -e r0/o.npy ] || fail "o.npy written"
  done
  # 7. Different command lines: refused on every rank before any work, never a hang.
  cat > by_args.sh <<EOF
#!/bin/bash
[ "\$OMPI_COMM_WORLD_RANK" = 0 ] && exec "$cli" "\$@"
exec "$cli" "\$@" \$EXTRA_ARGS
EOF
  chmod +x by_args.sh
  extras=("--solver lsqr"); full && extras+=("--adjoint")
  for extra in "${extras[@]}"; do
    if [ "$extra" = --adjoint ]; then set -- apply --op matrixmult --matrix A.npy --in x.npy \
      --out o.npy
    else set -- solve --op matrixmult --matrix A.npy --data y.npy --solver cgls --niter 3 \
      --out o.npy; fi
    begin "argv-differs-${extra// /-}"
    EXTRA_ARGS=$extra launch -x EXTRA_ARGS ./by_args.sh "$@"
    [ "$rc" = 1 ] || fail "exit status $rc"
    grep -q "different command lines" err.log || fail "no 'different command lines'"
    every_rank_says
    [ ! -e o.npy ] || fail "o.npy written"
  done
fi

echo "cli_errors ($np ranks): $((cases - fails)) passed, $fails failed"
[ "$fails" = 0 ]
