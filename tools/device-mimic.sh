#!/usr/bin/env bash
# Runs tools/device-check.sh here the way the GPU machine will: from the bundle's tar.gz, in an
# empty environment (env -i: no LD_LIBRARY_PATH, PATH=/usr/bin:/bin), and in a private mount
# namespace where every file the bundle was copied from (MANIFEST.txt) is hidden under an empty
# file, with Debian's Open MPI / PMIx / hwloc directories and the StarPU build emptied: a library
# the bundle lacks then fails to load instead of being found on this machine. Only the base
# libraries every image has (libstdc++, libgcc_s, zlib, libudev) stay visible; the bundle
# carries them too. Needs root (unshare -m).
#
# Usage: tools/device-mimic.sh [BUNDLE_TGZ] [OUT]
#   (defaults: build-device/starlops-device.tar.gz, build-device/mimic-out)
#   STARLOPS_BENCH_GPU_DRYRUN=1 is passed through: bench/gpu then runs its library cases at toy
#   sizes on the CPU (bench/gpu.c), which exercises the bundled bench without a GPU.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tgz=$(readlink -f "${1:-$root/build-device/starlops-device.tar.gz}")
out=$(mkdir -p "${2:-$root/build-device/mimic-out}" && cd "${2:-$root/build-device/mimic-out}" && pwd)
[ -f "$tgz" ] || { echo "device-mimic: no bundle at $tgz (run tools/device-bundle.sh)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "device-mimic: needs root for its mount namespace" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/device-mimic.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xzf "$tgz"
# The sources to hide, from the bundle's manifest ("dest <- source (package)").
sed -n 's/^[^\t]*\t<- \(\/[^ ]*\) (.*/\1/p' "$work/starlops-device/MANIFEST.txt" \
  | grep -Ev '/(libstdc\+\+|libgcc_s|libz|libudev)\.so' | sort -u > "$work/hide.txt"
mkdir -p "$work/empty"

# Inside the namespace: hide, then start the check with nothing inherited, as the device
# command does: the unpacked bundle's own device-check.sh, no argument.
unshare -m --propagation private bash -s "$work" "$tgz" "$out" \
  "${STARLOPS_BENCH_GPU_DRYRUN:-0}" <<'NS'
set -euo pipefail
work=$1 tgz=$2 out=$3 dry=$4
n=0
while read -r f; do
  [ -e "$f" ] || continue
  mount --bind /dev/null "$f"
  n=$((n + 1))
done < "$work/hide.txt"
for d in /usr/lib/x86_64-linux-gnu/openmpi /usr/lib/x86_64-linux-gnu/pmix2 /usr/share/openmpi \
         /etc/openmpi /usr/lib/x86_64-linux-gnu/hwloc; do
  [ -d "$d" ] && mount --bind "$work/empty" "$d"
done
starpu_dir=$(sed -n 's/^StarPU: //p' "$work/starlops-device/MANIFEST.txt")
[ -d "$starpu_dir" ] && mount --bind "$work/empty" "$starpu_dir"
echo "device-mimic: $n source files hidden; Open MPI, PMIx, hwloc plugins and $starpu_dir emptied"
if command -v mpirun >/dev/null && mpirun --version >/dev/null 2>&1; then
  echo "device-mimic: the system mpirun still works: hiding failed" >&2
  exit 1
fi
echo "device-mimic: the system mpirun no longer starts (as on the GPU machine)"
cd "$work"
exec env -i PATH=/usr/bin:/bin HOME="$HOME" OUT="$out" TMPDIR="$work" \
  STARLOPS_BENCH_GPU_DRYRUN="$dry" \
  bash "$work/starlops-device/device-check.sh"
NS
