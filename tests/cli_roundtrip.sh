#!/usr/bin/env bash
# The starlops CLI at NP ranks on .npy files, checked against serial references, plus error
# paths (missing file, wrong dtype, unknown flag) that must fail with a message, not hang.
# Usage: cli_roundtrip.sh MPIEXEC NP STARLOPS_BIN CLI_CHECK_BIN
set -euo pipefail
mpiexec=$1; np=$2; cli=$3; checker=$4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
run() { "$mpiexec" -n "$np" --oversubscribe --bind-to none "$cli" "$@"; }
"$checker" gen "$dir" > /dev/null
run apply --op matrixmult --matrix "$dir/A.npy" --in "$dir/x.npy" --out "$dir/Ax.npy"
run apply --op matrixmult --matrix "$dir/A.npy" --in "$dir/y.npy" --out "$dir/ATy.npy" --adjoint
run apply --op matrixmult --matrix "$dir/Az.npy" --in "$dir/xz.npy" --out "$dir/Azx.npy"
out=$(run solve --op matrixmult --matrix "$dir/A.npy" --data "$dir/y.npy" --solver cgls \
      --niter 50 --tol 1e-26 --out "$dir/sol.npy")
echo "$out"
echo "$out" | grep -q '"iterations"' || { echo "no JSON line"; exit 1; }
run solve --op matrixmult --matrix "$dir/A.npy" --data "$dir/y.npy" --solver lsqr \
      --niter 50 --atol 1e-15 --btol 1e-15 --out "$dir/sol_lsqr.npy"
# The same with the 2D SUMMA kind (natural matrices in the files, packed tiles inside).
s="--kind summa"
run apply --op matrixmult $s --matrix "$dir/A.npy" --in "$dir/x.npy" --out "$dir/Ax_summa.npy"
run apply --op matrixmult $s --matrix "$dir/A.npy" --in "$dir/y.npy" --out "$dir/ATy_summa.npy" \
      --adjoint
run apply --op matrixmult $s --matrix "$dir/Az.npy" --in "$dir/xz.npy" --nrhs 3 \
      --out "$dir/Azx_summa.npy"
run solve --op matrixmult $s --matrix "$dir/A.npy" --data "$dir/y.npy" --solver cgls \
      --niter 50 --tol 1e-26 --out "$dir/sol_summa.npy" > /dev/null
run solve --op matrixmult $s --matrix "$dir/A.npy" --data "$dir/y.npy" --solver lsqr \
      --niter 50 --atol 1e-15 --btol 1e-15 --out "$dir/sol_lsqr_summa.npy"
run apply --op laplacian --dims 6,7,8 --axes 0,1,2 --weights 1,2,3 --sampling 1,0.5,2 \
      --in "$dir/vol.npy" --out "$dir/lap.npy"
run apply --op gradient --dims 6,7,8 --edge --in "$dir/vol.npy" --out "$dir/grad.npy"
run apply --op poststack --dims 6,7,8 --wavelet "$dir/wav.npy" --in "$dir/vol.npy" \
      --out "$dir/post.npy"
f="--op fft --dims 6,7,8 --axis 1 --nfft 9 --real --norm none --fftshift-after"
run apply $f --in "$dir/vol.npy" --out "$dir/fft.npy"
run apply $f --adjoint --in "$dir/fft.npy" --out "$dir/fft_adj.npy"
f="--op fftnd --dims 6,7,8 --axes 0,2 --real"
run apply $f --in "$dir/vol.npy" --out "$dir/fftnd.npy"
run apply $f --adjoint --in "$dir/fftnd.npy" --out "$dir/fftnd_adj.npy"
run apply --op fft2d --dims 6,7,8 --real --in "$dir/vol.npy" --out "$dir/fft2d.npy"
run apply --op nonstatconvolve1d --dims 6,7,8 --axis 1 --hs "$dir/hs.npy" --ih 1,5 \
      --in "$dir/vol.npy" --out "$dir/nsc.npy"
m="--op mdc --G $dir/mdcG.npy --nt 5 --dt 0.004 --dr 10"
run apply $m --in "$dir/mdc_x.npy" --out "$dir/mdc_Mx.npy"
run apply $m --adjoint --in "$dir/mdc_y.npy" --out "$dir/mdc_MHy.npy"
"$checker" check "$dir"
fails=0
expect_failure() {
  if run "$@" > "$dir/err.log" 2>&1; then echo "should have failed: $*"; fails=$((fails+1));
  elif ! grep -q "starlops" "$dir/err.log"; then echo "no message: $*"; fails=$((fails+1)); fi
}
expect_failure apply --op matrixmult --matrix "$dir/missing.npy" --in "$dir/x.npy" --out "$dir/o.npy"
expect_failure apply --op matrixmult --matrix "$dir/A.npy" --in "$dir/xz.npy" --out "$dir/o.npy"
expect_failure apply --op matrixmult --matrix "$dir/A.npy" --in "$dir/y.npy" --out "$dir/o.npy"
expect_failure apply --op nosuchop --matrix "$dir/A.npy" --in "$dir/x.npy" --out "$dir/o.npy"
expect_failure solve --op matrixmult --matrix "$dir/A.npy" --data "$dir/y.npy" --solver qr --niter 3 --out "$dir/o.npy"
expect_failure apply --bogus 1
expect_failure apply --op matrixmult --kind diagonal --matrix "$dir/A.npy" --in "$dir/x.npy" --out "$dir/o.npy"
expect_failure apply --op matrixmult --kind summa --nrhs 2 --matrix "$dir/Az.npy" --in "$dir/xz.npy" --out "$dir/o.npy"
expect_failure apply --op laplacian --dims 6,7 --in "$dir/vol.npy" --out "$dir/o.npy"
expect_failure apply --op firstderivative --dims 6,7,8 --kind sideways --in "$dir/vol.npy" --out "$dir/o.npy"
expect_failure apply --op poststack --dims 6,7,8 --in "$dir/vol.npy" --out "$dir/o.npy"
expect_failure apply --op fft --dims 6,7,8 --norm backward --in "$dir/vol.npy" --out "$dir/o.npy"
expect_failure apply --op fft --dims 6,7,8 --adjoint --in "$dir/vol.npy" --out "$dir/o.npy"
[ ! -e "$dir/o.npy" ] || { echo "a failed run left o.npy"; fails=$((fails+1)); }
echo "cli_roundtrip ($np ranks): $((12 + 13 - fails)) passed, $fails failed"
[ "$fails" = 0 ]
