#!/usr/bin/env bash
# The GPU machine's check, run from the bundle tools/device-bundle.sh makes (docs/gpu.md): that
# machine has CUDA 13, CMake and Python but no Open MPI, OpenBLAS, hwloc or FxT, and a short
# lease, so everything comes from the bundle and the whole run stays under 8 minutes.
#
#   1. the environment: nvidia-smi, CPU and memory, the bundle, StarPU's view of the machine,
#      and every bundled program's libraries (each must come from the bundle, libc or CUDA)
#   2. the tests: every test labelled gpu (CUDA codelets vs the CPU ones, 1e-12 double / 1e-5
#      single) and a few CPU tests, through the bundled mpirun; then the starlops CLI end to
#      end (MatrixMult apply, adjoint, CGLS solve on .npy files, pinned to the GPU) vs NumPy
#   3. bench/gpu, mode by mode, into one CSV (and its plot when matplotlib is there)
#   4. one summary line per target of issue 15: met / not met / no data
#
# Each step runs under `timeout` and inside an overall budget; a failing step is reported in
# capitals and the check goes on to collect what it can. Exit status: 0 when every step ran and
# every test passed or was skipped for want of a device, 1 otherwise.
#
# Usage: device-check.sh [BUNDLE]
#   BUNDLE  the bundle directory or its .tar.gz (default: the directory holding this script,
#           i.e. run it as starlops-device/device-check.sh)
#   OUT     where the results go (default ./device-out): device-check.log, tests.log,
#           bench.log, gpu_bench.csv, gpu_bench.png, summary.txt
#   DEVICE_CHECK_BUDGET_S  seconds for the whole script (default 420: 8 minutes minus the
#           machine's start-up)
set -euo pipefail

t_start=$(date +%s)
budget=${DEVICE_CHECK_BUDGET_S:-420}
out=${OUT:-$PWD/device-out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
: > "$out/device-check.log"
exec > >(tee -a "$out/device-check.log") 2>&1

failures=()
note_failure() { failures+=("$1"); printf '\n*** FAILED: %s ***\n\n' "$1"; }
elapsed() { echo $(($(date +%s) - t_start)); }
left() { echo $((budget - $(elapsed))); }
section() { printf '\n===== %s (t = %ss) =====\n' "$1" "$(elapsed)"; }

# run_step NAME SECONDS CMD...: CMD under timeout (capped by the budget left); returns its
# status (124/137: it ran out of time). Never stops the script.
run_step() {
  local name=$1 limit=$2
  shift 2
  local remaining
  remaining=$(($(left) - 15))
  if [ "$remaining" -lt 10 ]; then
    note_failure "$name: not run, the ${budget}s budget is spent"
    return 125
  fi
  [ "$limit" -le "$remaining" ] || limit=$remaining
  local rc=0
  timeout --signal=TERM --kill-after=10 "$limit" "$@" || rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    note_failure "$name: TIMED OUT after ${limit}s"
  fi
  return "$rc"
}

# ---- the bundle ------------------------------------------------------------------------------
bundle=${1:-$(cd "$(dirname "$0")" && pwd)}
if [ -f "$bundle" ]; then
  case $bundle in
    *.tar.gz|*.tgz)
      dest=${TMPDIR:-/tmp}/starlops-device-$$
      mkdir -p "$dest"
      tar -C "$dest" -xzf "$bundle"
      bundle=$dest/starlops-device ;;
    *) echo "device-check: $bundle is neither a bundle directory nor a .tar.gz" >&2; exit 2 ;;
  esac
fi
[ -f "$bundle/env.sh" ] || { echo "device-check: no env.sh in $bundle: not a bundle" >&2; exit 2; }
B=$(cd "$bundle" && pwd)
# shellcheck source=/dev/null
. "$B/env.sh"

# Settings for every run: root is allowed (the machine runs commands as root), no cross-memory
# attach between ranks (sandboxed kernels refuse process_vm_readv), one StarPU home for all
# runs (the bus is calibrated once), no tracing.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
export STARPU_HOME=${STARPU_HOME:-${TMPDIR:-/tmp}/starlops-device-home}
export STARPU_SILENT=1 STARPU_FXT_TRACE=0 STARPU_WORKERS_NOBIND=1
mkdir -p "$STARPU_HOME"
mpirun_cmd=(mpirun --oversubscribe --bind-to none)

# ---- 1. environment --------------------------------------------------------------------------
section "environment"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  host: $(hostname)  kernel: $(uname -r)"
echo "cpus: $(nproc)  memory: $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
sed -n '1,6p' "$B/MANIFEST.txt"
# The bundle uses the machine's C library: it must be at least the one it was built against.
need=$(sed -n 's/^max GLIBC symbol version needed: GLIBC_//p' "$B/MANIFEST.txt")
have=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{ print $2 }')
echo "glibc: ${have:-unknown} here, ${need:-?} needed"
if [ -n "$need" ] && [ -n "$have" ] \
   && [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]; then
  note_failure "glibc $have is older than the $need the bundle needs: programs will not load"
fi
if command -v nvidia-smi >/dev/null; then
  run_step "nvidia-smi" 30 nvidia-smi || note_failure "nvidia-smi failed"
  run_step "nvidia-smi query" 30 nvidia-smi \
    --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit \
    --format=csv || true
else
  echo "nvidia-smi: not found (no NVIDIA driver here)"
fi
for nvcc in "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" nvcc; do
  if command -v "$nvcc" >/dev/null; then "$nvcc" --version | tail -2; break; fi
done
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
mpirun --version 2>&1 | head -1 || note_failure "the bundled mpirun does not start"

# Every bundled ELF file's libraries must resolve into the bundle, the C library or CUDA:
# anything else would be missing on the GPU machine.
leaks=0
while read -r f; do
  while read -r lib arrow path _; do
    [ "$arrow" = "=>" ] || continue
    case $path in
      "$B"/*) ;;
      not) echo "  $f: $lib NOT FOUND"; leaks=$((leaks + 1)) ;;
      */libc.so.*|*/libm.so.*|*/libdl.so.*|*/libpthread.so.*|*/librt.so.*|*/libresolv.so.*|*/libutil.so.*|*/ld-linux*) ;;
      */cuda*/*|*/libcuda.so*|*/nvidia/*|*/libnvidia-*) ;;
      *) echo "  $f: $lib from $path (outside the bundle)"; leaks=$((leaks + 1)) ;;
    esac
  done < <(ldd "$f" 2>/dev/null)
done < <(find "$B/bin" "$B/tests" "$B/lib" -type f -name '*' \
           -exec sh -c 'head -c 4 "$1" | grep -q ELF && echo "$1"' _ {} \;)
if [ "$leaks" -eq 0 ]; then
  echo "libraries: every bundled program and library resolves into the bundle, libc or CUDA"
else
  note_failure "libraries: $leaks dependencies resolve outside the bundle or not at all"
fi

# StarPU's view (and its bus calibration, done once here for every later run)
run_step "starpu_machine_display" 90 env STARPU_NCUDA=1 starpu_machine_display \
  || note_failure "starpu_machine_display failed"
has_gpu=0
if command -v nvidia-smi >/dev/null && grep -q '^GPU' <<< "$(nvidia-smi -L 2>/dev/null || true)"; then
  has_gpu=1
fi

# ---- 2. tests --------------------------------------------------------------------------------
section "tests (label gpu, and CPU tests) through the bundled mpirun"
: > "$out/tests.log"
declare -A verdicts=()
while IFS=$'\t' read -r tname label np skip exe targs tenv; do
  case $tname in ''|'#'*) continue ;; esac
  [ "$skip" != - ] || skip=""
  [ "$targs" != - ] || targs=""
  [ "$tenv" != - ] || tenv=""
  echo "--- $tname ($label, $np rank(s)): $exe $targs" >> "$out/tests.log"
  rc=0
  # shellcheck disable=SC2086  # targs and tenv are word lists
  # (stdin from /dev/null: mpirun forwards its stdin, which here is the list being read)
  run_step "$tname" 240 env $tenv "${mpirun_cmd[@]}" -n "$np" "$B/tests/$exe" $targs \
    < /dev/null > "$out/test-output.tmp" 2>&1 || rc=$?
  cat "$out/test-output.tmp" >> "$out/tests.log"
  if [ "$rc" -eq 0 ]; then
    verdict=passed
  elif [ -n "$skip" ] && [ "$rc" = "$skip" ] \
       && grep -q 'skipped: no CUDA device' "$out/test-output.tmp"; then
    # mpirun passes on the rank's exit status: the test's skip code (ctest's SKIP_RETURN_CODE)
    verdict=skipped
  else
    verdict="FAILED (exit $rc)"
    note_failure "test $tname (exit $rc; see tests.log)"
  fi
  if [ "$verdict" = skipped ] && [ "$label" = gpu ] && [ "$has_gpu" = 1 ]; then
    verdict="FAILED (skipped although nvidia-smi lists a GPU)"
    note_failure "test $tname skipped on a machine with a GPU"
  fi
  verdicts[$tname]=$verdict
  printf '%-32s %-4s %s\n' "$tname" "$label" "$verdict"
done < "$B/tests.tsv"
rm -f "$out/test-output.tmp"

# ---- 2b. the CLI end to end -----------------------------------------------------------------
# The bundled starlops CLI on .npy files NumPy writes: MatrixMult forward, adjoint and a CGLS
# solve, pinned to the GPU when there is one (on the CPU otherwise), checked against NumPy.
section "starlops CLI (MatrixMult apply, adjoint, CGLS solve) vs NumPy"
cli_dir=${TMPDIR:-/tmp}/starlops-device-cli-$$
mkdir -p "$cli_dir"
cli_place=cpu
[ "$has_gpu" = 1 ] && cli_place=cuda
cli_env=(STARPU_NCPU=2 STARPU_NCUDA=$([ "$has_gpu" = 1 ] && echo 1 || echo 0)
         STARLOPS_CUDA_PLACEMENT=$cli_place STARLOPS_TILE=64)
cli_ok=1
if python3 -c 'import numpy' 2>/dev/null; then
  python3 - "$cli_dir" <<'PY' || cli_ok=0
import sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(5)
a = rng.standard_normal((300, 200))
np.save(f"{d}/A.npy", a)
np.save(f"{d}/x.npy", rng.standard_normal(200))
np.save(f"{d}/y.npy", rng.standard_normal(300))
PY
  for run in "apply --in x.npy --out ax.npy" "apply --adjoint --in y.npy --out aty.npy" \
             "solve --data y.npy --solver cgls --niter 100 --tol none --out xs.npy"; do
    # shellcheck disable=SC2086  # run is a word list
    (cd "$cli_dir" && run_step "starlops $run" 60 env "${cli_env[@]}" "${mpirun_cmd[@]}" -n 1 \
      "$B/bin/starlops" $run --op matrixmult --matrix A.npy < /dev/null) || cli_ok=0
  done
  python3 - "$cli_dir" <<'PY' || cli_ok=0
import sys
import numpy as np
d = sys.argv[1]
a, x, y = (np.load(f"{d}/{n}.npy") for n in ("A", "x", "y"))
def rel(u, v):
    return float(np.max(np.abs(u - v)) / np.max(np.abs(v)))
errs = {"A x": rel(np.load(f"{d}/ax.npy"), a @ x),
        "A^T y": rel(np.load(f"{d}/aty.npy"), a.T @ y),
        "CGLS x (vs lstsq)": rel(np.load(f"{d}/xs.npy"), np.linalg.lstsq(a, y, rcond=None)[0])}
tol = {"A x": 1e-12, "A^T y": 1e-12, "CGLS x (vs lstsq)": 1e-8}
bad = [k for k in errs if not errs[k] <= tol[k]]
for k in errs:
    print(f"  {k}: relative error {errs[k]:.2e} (tolerance {tol[k]:.0e})")
sys.exit(1 if bad else 0)
PY
else
  echo "python3 with numpy not found: CLI check not run"
  cli_ok=0
fi
rm -rf "$cli_dir"
if [ "$cli_ok" = 1 ]; then
  echo "CLI: passed (placement $cli_place)"
else
  note_failure "the starlops CLI check (placement $cli_place)"
fi

# ---- 3. bench/gpu ----------------------------------------------------------------------------
section "bench/gpu"
csv=$out/gpu_bench.csv
rm -f "$csv"
: > "$out/bench.log"
ncpu=$(( $(nproc) - 2 ))   # one core for the CUDA worker's driver thread, one for MPI
[ "$ncpu" -ge 1 ] || ncpu=1
bench_env=(STARPU_NCPU=$ncpu STARPU_NCUDA=1)
bench_skipped=0
# mode, seconds, ranks, extra environment
bench_runs=(
  "vector 60 1"
  "gemm 90 1"
  "cgls 90 1"
  "sched 90 1"
  "stencil 60 1"
  "fft 60 1"
  "cgls-cpu 90 1"
  "allreduce 45 1"
  "allreduce 45 2 STARPU_NCPU=$(( ncpu / 2 > 0 ? ncpu / 2 : 1 ))"
  "allreduce 45 1 STARLOPS_COMM=nccl"
)
for spec in "${bench_runs[@]}"; do
  read -r mode limit np extra <<< "$spec"
  label="bench/gpu $mode ($np rank(s)${extra:+, $extra})"
  echo "--- $label" | tee -a "$out/bench.log"
  rc=0
  # shellcheck disable=SC2086  # extra is a word list
  run_step "$label" "$limit" env "${bench_env[@]}" $extra "${mpirun_cmd[@]}" -n "$np" \
    "$B/bin/gpu" "$mode" "$csv" < /dev/null > "$out/bench-output.tmp" 2>&1 || rc=$?
  cat "$out/bench-output.tmp" | tee -a "$out/bench.log"
  if grep -q 'skipped: no CUDA device' "$out/bench-output.tmp"; then
    bench_skipped=1
  fi
  [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] || [ "$rc" -eq 125 ] \
    || note_failure "$label exited with $rc (see bench.log)"
done
rm -f "$out/bench-output.tmp"
if [ -s "$csv" ] && python3 -c 'import matplotlib' 2>/dev/null; then
  run_step "plot" 60 python3 "$B/plot_gpu.py" "$csv" "$out/gpu_bench.png" \
    || note_failure "plot_gpu.py failed"
fi

# ---- 4. summary ------------------------------------------------------------------------------
section "summary"
total=$(elapsed)
{
  gpu_total=0 gpu_passed=0 gpu_skipped=0 cpu_total=0 cpu_passed=0
  while IFS=$'\t' read -r tname label _; do
    case $tname in ''|'#'*) continue ;; esac
    v=${verdicts[$tname]:-not run}
    if [ "$label" = gpu ]; then
      gpu_total=$((gpu_total + 1))
      [ "$v" = passed ] && gpu_passed=$((gpu_passed + 1))
      [ "$v" = skipped ] && gpu_skipped=$((gpu_skipped + 1))
    else
      cpu_total=$((cpu_total + 1))
      [ "$v" = passed ] && cpu_passed=$((cpu_passed + 1))
    fi
  done < "$B/tests.tsv"
  echo "SUMMARY GPU tests (vs CPU, 1e-12 double / 1e-5 single): $gpu_passed/$gpu_total passed, $gpu_skipped skipped"
  echo "SUMMARY CPU tests through the bundled mpirun: $cpu_passed/$cpu_total passed"
  echo "SUMMARY starlops CLI (apply, adjoint, CGLS vs NumPy; placement $cli_place): $([ "$cli_ok" = 1 ] && echo passed || echo FAILED)"
  if [ "${STARLOPS_BENCH_GPU_DRYRUN:-0}" != 0 ]; then
    echo "SUMMARY bench/gpu: DRY RUN (STARLOPS_BENCH_GPU_DRYRUN): toy sizes on the CPU, the figures below mean nothing"
  fi
  if [ "$bench_skipped" = 1 ] && [ ! -s "$csv" ]; then
    echo "SUMMARY bench/gpu: skipped: no CUDA device (no figures, no target can be judged)"
  elif [ -s "$csv" ] && command -v python3 >/dev/null; then
    python3 - "$csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def judge(title, pick, note=""):
    sel = [r for r in rows if pick(r)]
    if not sel:
        print(f"SUMMARY {title}: no data")
        return
    judged = [r for r in sel if r["status"] in ("met", "not met")]
    detail = "; ".join(f'{r["case"]} {r["size"]} {r["status"]}'
                       + (f' ({float(r["ratio"]):.2f})' if r["ratio"] not in ("", "nan") else "")
                       for r in sel)
    if not judged:
        verdict = "not met (" + ", ".join(sorted({r["status"] for r in sel})) + ")"
    else:
        verdict = "met" if all(r["status"] == "met" for r in sel) else "not met"
    print(f"SUMMARY {title}: {verdict}{note} -- {detail}")
judge("vector kernels >= 80% of the device copy", lambda r: r["section"] == "vector")
judge("MatrixMult/SUMMA gemm >= 85% of cuBLAS dgemm",
      lambda r: r["section"] == "gemm" and r["target"])
judge("CGLS iteration <= 1.3x cuBLAS gemv + gemv^T",
      lambda r: r["section"] == "cgls" and r["placement"] == "cuda")
judge("stencils >= 60% of the device copy",
      lambda r: r["section"] == "stencil" and r["placement"] == "cuda")
for r in rows:
    if r["section"] in ("sched", "allreduce") or \
            (r["section"] in ("cgls", "stencil") and r["placement"] == "cpu"):
        v = r["value"]
        print(f'SUMMARY (no target) {r["section"]} {r["case"]} {r["size"]} {r["placement"]}: '
              f'{r["status"] if v in ("nan", "") else v + " " + r["unit"]}'
              + (f' vs {r["ceiling_name"]} {r["ceiling"]}' if r["ceiling"] not in ("nan", "") else "")
              + (f' ({r["note"]})' if r["note"] else ""))
PY
  else
    echo "SUMMARY bench/gpu: no figures (see bench.log)"
  fi
  verdict=$([ "$total" -lt 480 ] && echo met || echo "not met")
  echo "SUMMARY device check < 8 minutes: $verdict (${total}s for this script; add the machine's start-up)"
  if [ ${#failures[@]} -eq 0 ]; then
    echo "SUMMARY steps: all ran"
  else
    echo "SUMMARY steps: ${#failures[@]} FAILED:"
    printf 'SUMMARY   - %s\n' "${failures[@]}"
  fi
} | tee "$out/summary.txt"
[ ${#failures[@]} -eq 0 ]
