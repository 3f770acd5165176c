#!/usr/bin/env bash
# Builds the relocatable bundle the GPU machine runs (tools/device-check.sh, docs/gpu.md):
# starlops and StarPU built with CUDA, the GPU tests and a few CPU tests, bench/gpu, the
# starlops CLI, and the runtime libraries the GPU machine's image lacks (Open MPI with its
# components, help files and PMIx, OpenBLAS/LAPACKE, hwloc, FxT, gfortran, ...), copied from
# this machine's Debian packages. CUDA's own libraries are left out: the GPU machine has CUDA
# 13 in /usr/local/cuda, and the driver must match the machine anyway.
#
# Usage: tools/device-bundle.sh [BUILD_DIR]
#   BUILD_DIR  a CUDA build of starlops (default: build-device/build, configured here when it
#              does not exist; STARLOPS_STARPU_PREFIX names the StarPU to use, as tools/build.sh)
#   BUNDLE_DIR where the bundle goes (default: build-device, ignored by git); the result is
#              $BUNDLE_DIR/starlops-device/ and $BUNDLE_DIR/starlops-device.tar.gz, the file to
#              carry to the GPU machine
#   BUNDLE_LIMIT_MIB  the size the tar.gz must stay under (default 60)
#
# Relocation: bundle/env.sh sets LD_LIBRARY_PATH (bundle lib/ first, then CUDA's lib64), PATH,
# and Open MPI's and PMIx's installation directories (OPAL_PREFIX and the OPAL_*DIR / PMIX_*DIR
# variables they honour: Debian's Open MPI keeps its components in a libdir that OPAL_PREFIX
# alone would not move). Nothing is downloaded: every file comes from this machine.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-device/build}
out=${BUNDLE_DIR:-$root/build-device}
limit_mib=${BUNDLE_LIMIT_MIB:-60}
name=starlops-device
B=$out/$name
jobs=${BUNDLE_JOBS:-2}

say() { printf 'device-bundle: %s\n' "$*"; }
die() { printf 'device-bundle: ERROR: %s\n' "$*" >&2; exit 1; }

for tool in cmake ctest python3 ldd strip dpkg tar readelf; do
  command -v "$tool" >/dev/null || die "$tool is required"
done

# ---- 1. the build ----------------------------------------------------------------------------
# The CPU tests that travel with the GPU ones: the placement's host side, reductions, a solver
# and SUMMA at 2 ranks (through the bundled mpirun, as everything there).
cpu_tests=(test_gpu_placement_np1 test_darray_reduce_np2 test_solvers_np2 test_summa_np2)
targets=(starlops starlops_cli bench_gpu test_gpu_kernels test_gpu_fft test_gpu_stencil
         test_gpu_halo_fredholm test_darray_reduce
         test_solvers test_summa)
if [ ! -f "$build/CMakeCache.txt" ]; then
  say "configuring $build"
  extra=()
  if [ -n "${STARLOPS_STARPU_PREFIX:-}" ]; then
    extra+=("-DSTARLOPS_STARPU_PREFIX=$STARLOPS_STARPU_PREFIX")
  fi
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "${extra[@]}"
fi
# the NCCL backend's tests exist when the build found NCCL
if cmake --build "$build" --target help 2>/dev/null | grep -q 'test_gpu_nccl'; then
  targets+=(test_gpu_nccl)
fi
say "building ${targets[*]} in $build (-j$jobs)"
cmake --build "$build" -j"$jobs" --target "${targets[@]}" \
  || die "build failed (is $build a CUDA build? bench_gpu exists only with the CUDA codelets)"
build=$(cd "$build" && pwd)
[ -x "$build/bench/gpu" ] || die "$build/bench/gpu missing: not a build with the CUDA codelets"
starpu_prefix=$(sed -n 's/^STARLOPS_STARPU_PREFIX:[A-Z]*=//p' "$build/CMakeCache.txt")
starpu_lib=${starpu_prefix:+$starpu_prefix/lib}
[ -f "$starpu_lib/libstarpu-1.3.so" ] || die "cannot find StarPU's lib directory (got '$starpu_lib')"
grep -q '^#define STARPU_USE_CUDA 1' "$starpu_lib/../include/starpu/1.3/starpu_config.h" \
  || die "the StarPU in $starpu_lib was built without CUDA"

# ---- 2. layout -------------------------------------------------------------------------------
say "assembling $B"
rm -rf "$B" "$out/$name.tar.gz"
mkdir -p "$B"/{bin,lib/openmpi3,lib/pmix,lib/hwloc,tests,share/openmpi,share/pmix,etc}

# take SRC DEST: copies (following links) and records where the file came from, for MANIFEST.txt
origins=$out/origins.tsv
: > "$origins"
take() {
  cp -L "$1" "$2"
  chmod u+w "$2"
  local dest=${2%/}
  [ -d "$dest" ] && dest=$dest/$(basename "$1")
  printf '%s\t%s\n' "${dest#"$B"/}" "$(readlink -f "$1")" >> "$origins"
}
copy_exe() { take "$1" "$2"; }
copy_exe "$build/bench/gpu" "$B/bin/gpu"
copy_exe "$build/tools/starlops" "$B/bin/starlops"
copy_exe "$starpu_lib/../bin/starpu_machine_display" "$B/bin/starpu_machine_display"
cp "$root/bench/plot_gpu.py" "$root/tools/device-check.sh" "$B/"
chmod +x "$B/device-check.sh"
# mpirun is orterun in Debian's Open MPI; orted and ompi_info help when something goes wrong.
copy_exe "$(readlink -f /usr/bin/orterun)" "$B/bin/mpirun"
copy_exe "$(readlink -f /usr/bin/orted)" "$B/bin/orted"
copy_exe "$(readlink -f /usr/bin/ompi_info)" "$B/bin/ompi_info"

# Open MPI's and PMIx's components, help files and configuration, found through dpkg -L.
ompi_pkglib=$(dirname "$(dpkg -L libopenmpi3 | grep '/mca_pml_ob1\.so$')")
pmix_pkglib=$(dirname "$(dpkg -L libpmix2 | grep '/pmix_mca_.*\.so$' | head -1)")
[ -d "$ompi_pkglib" ] && [ -d "$pmix_pkglib" ] || die "Open MPI / PMIx components not found"
# Components whose libraries are absent there or useless on one node (InfiniBand, UCX, OFI,
# PSM; OpenSHMEM) are left out, by their needs rather than by name: see deny_libs.
deny_libs='libuc[pmst]\.|libpsm|libfabric|libibverbs|librdmacm|libinfinipath|liboshmem|libefa'
skipped=()
for c in "$ompi_pkglib"/*.so "$pmix_pkglib"/*.so; do
  # (ldd's output captured first: with pipefail, grep -q closing the pipe early would make
  # ldd's SIGPIPE look like "no match")
  deps=$(ldd "$c" 2>/dev/null || true)
  if grep -Eq "$deny_libs" <<< "$deps"; then
    skipped+=("$(basename "$c")")
    continue
  fi
  case $c in
    "$ompi_pkglib"/*) take "$c" "$B/lib/openmpi3/" ;;
    *) take "$c" "$B/lib/pmix/" ;;
  esac
done
say "left out ${#skipped[@]} components needing network stacks absent there: ${skipped[*]}"
while read -r f; do
  case $f in
    /usr/share/openmpi/help-*.txt|/usr/share/openmpi/*.txt) cp "$f" "$B/share/openmpi/" ;;
  esac
done < <(dpkg -L openmpi-common libopenmpi3 openmpi-bin)
while read -r f; do
  case $f in */share/pmix/help-*.txt) cp "$f" "$B/share/pmix/" ;; esac
done < <(dpkg -L libpmix2)
cp /etc/openmpi/openmpi-mca-params.conf /etc/openmpi/openmpi-default-hostfile "$B/etc/"
# PMIx's own parameter file names Debian's component path: point it at the bundle's instead
# (env.sh sets the same through PMIX_MCA_mca_base_component_path).
echo "# component path: set by env.sh (PMIX_MCA_mca_base_component_path)" \
  > "$B/etc/pmix-mca-params.conf"

# Tests: the gpu label and the CPU tests above, with their ctest arguments and environment
# written to tests.tsv (ctest's files hold this machine's absolute paths).
(cd "$build" && ctest --show-only=json-v1) > "$out/ctest.json"
python3 - "$out/ctest.json" "$B/tests.tsv" "${cpu_tests[@]}" > "$out/test-exes.txt" <<'PY'
import json, os, sys
data = json.load(open(sys.argv[1]))
out, cpu = sys.argv[2], set(sys.argv[3:])
# test settings that name this machine's paths or only concern the sanitizer builds
drop = ("STARPU_HOME=", "LSAN_OPTIONS=", "UBSAN_OPTIONS=", "ASAN_OPTIONS=")
rows, exes, seen = [], set(), set()
for t in data["tests"]:
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    labels = props.get("LABELS", [])
    if "gpu" not in labels and t["name"] not in cpu:
        continue
    cmd = t["command"]
    # timeout --signal=KILL SECONDS MPIEXEC -n NP --oversubscribe --bind-to none EXE ARGS...
    i = next(k for k, a in enumerate(cmd) if os.path.basename(a) in ("mpiexec", "mpirun"))
    np_ = cmd[i + 2]
    j = i + 3
    while cmd[j].startswith("--"):
        j += 1 if cmd[j] == "--oversubscribe" else 2
    exe, args = cmd[j], cmd[j + 1:]
    env = [e for e in props.get("ENVIRONMENT", []) if not e.startswith(drop)]
    label = "gpu" if "gpu" in labels else "cpu"
    skip = str(props.get("SKIP_RETURN_CODE", ""))
    # "-" for an empty field: bash's read merges adjacent tabs
    rows.append("\t".join([t["name"], label, np_, skip or "-", os.path.basename(exe),
                           " ".join(args) or "-", " ".join(env) or "-"]))
    exes.add(exe)
    seen.add(t["name"])
missing = cpu - seen
if missing:
    sys.exit("tests not found in ctest: " + " ".join(sorted(missing)))
if not any(r.split("\t")[1] == "gpu" for r in rows):
    sys.exit("no test labelled gpu")
with open(out, "w") as f:
    f.write("# name\tlabel\tranks\tskip_code\texe\targs\tenvironment\n")
    f.write("\n".join(rows) + "\n")
print("\n".join(sorted(exes)))
PY
while read -r exe; do copy_exe "$exe" "$B/tests/$(basename "$exe")"; done < "$out/test-exes.txt"

# starlops and StarPU (the exact files the binaries name, under the names they ask for)
for f in "$build"/src/libstarlops.so.[0-9]* "$starpu_lib"/libstarpu-1.3.so.[0-9]* \
         "$starpu_lib"/libstarpumpi-1.3.so.[0-9]*; do
  [ -L "$f" ] || [ -f "$f" ] || continue
  case $(basename "$f") in *.so.[0-9]|*.so.[0-9][0-9]) take "$f" "$B/lib/" ;; esac
done

# ---- 3. the closure of shared libraries ------------------------------------------------------
# Everything the bundle's ELF files load, except the C library (every Linux has its own, and it
# must match the kernel's loader) and CUDA's (the GPU machine's own, matching its driver).
is_system() {
  case $1 in
    libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*|libresolv.so.*|libutil.so.*) return 0 ;;
    ld-linux*|linux-vdso*) return 0 ;;
    libcuda.so*|libcudart.so*|libcublas*|libcusparse*|libnvJitLink*|libnvidia-*|libnvrtc*) return 0 ;;
    libcufft*|libcurand*|libcusolver*|libnccl*|libnvToolsExt*) return 0 ;;
  esac
  return 1
}
elf_files() {
  find "$B/bin" "$B/tests" "$B/lib" -type f | while read -r f; do
    [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] && echo "$f"
  done
}
round=0
while :; do
  round=$((round + 1))
  added=0
  unresolved=()
  while read -r lib arrow path _; do
    [ "$arrow" = "=>" ] || continue
    is_system "$lib" && continue
    if [ "$path" = "not" ]; then
      unresolved+=("$lib")
      continue
    fi
    if [ ! -e "$B/lib/$lib" ]; then
      take "$path" "$B/lib/$lib"
      added=$((added + 1))
    fi
  done < <(elf_files | while read -r f; do LD_LIBRARY_PATH="$B/lib" ldd "$f" 2>/dev/null; done \
           | sort -u)
  [ ${#unresolved[@]} -eq 0 ] || die "libraries not found here: ${unresolved[*]}"
  [ "$added" -gt 0 ] || break
  [ "$round" -lt 10 ] || die "library closure did not converge"
done

# ---- 4. strip, describe, pack ----------------------------------------------------------------
# --strip-unneeded keeps the dynamic symbols (the components are dlopen'ed by name).
elf_files | while read -r f; do strip --strip-unneeded "$f" 2>/dev/null || true; done

cat > "$B/env.sh" <<'ENV'
# Source this (bash or sh) to run the bundle's programs: its libraries first, then CUDA's (the
# machine's own CUDA 13; CUDA_HOME overrides /usr/local/cuda), and Open MPI / PMIx / hwloc
# pointed at the bundle's components, help files and configuration instead of Debian's paths.
if [ -n "${BASH_SOURCE:-}" ]; then
  SL_BUNDLE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
else
  SL_BUNDLE=${SL_BUNDLE:?set SL_BUNDLE to the bundle directory before sourcing env.sh}
fi
export SL_BUNDLE
sl_cuda=${CUDA_HOME:-/usr/local/cuda}
sl_ld="$SL_BUNDLE/lib"
for d in "$sl_cuda/lib64" "$sl_cuda/lib" "$sl_cuda/targets/x86_64-linux/lib"; do
  [ -d "$d" ] && sl_ld="$sl_ld:$d"
done
export LD_LIBRARY_PATH="$sl_ld${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$SL_BUNDLE/bin:${PATH:-/usr/bin:/bin}"
export OPAL_PREFIX="$SL_BUNDLE" OPAL_EXEC_PREFIX="$SL_BUNDLE" OPAL_BINDIR="$SL_BUNDLE/bin"
export OPAL_LIBDIR="$SL_BUNDLE/lib" OPAL_PKGLIBDIR="$SL_BUNDLE/lib/openmpi3"
export OPAL_DATAROOTDIR="$SL_BUNDLE/share" OPAL_DATADIR="$SL_BUNDLE/share"
export OPAL_PKGDATADIR="$SL_BUNDLE/share/openmpi" OPAL_SYSCONFDIR="$SL_BUNDLE/etc"
export OMPI_MCA_mca_base_component_path="$SL_BUNDLE/lib/openmpi3"
export OMPI_MCA_mca_base_param_files="$SL_BUNDLE/etc/openmpi-mca-params.conf"
export OMPI_MCA_orte_default_hostfile="$SL_BUNDLE/etc/openmpi-default-hostfile"
export PMIX_PREFIX="$SL_BUNDLE" PMIX_EXEC_PREFIX="$SL_BUNDLE" PMIX_LIBDIR="$SL_BUNDLE/lib"
export PMIX_PKGLIBDIR="$SL_BUNDLE/lib/pmix" PMIX_DATADIR="$SL_BUNDLE/share"
export PMIX_PKGDATADIR="$SL_BUNDLE/share/pmix" PMIX_SYSCONFDIR="$SL_BUNDLE/etc"
export PMIX_MCA_mca_base_component_path="$SL_BUNDLE/lib/pmix"
# hwloc's plugins (PCI, CUDA, ...) are not bundled: without this it would load the host's.
export HWLOC_PLUGINS_PATH="$SL_BUNDLE/lib/hwloc"
unset sl_cuda sl_ld d
ENV

{
  echo "starlops device bundle"
  echo "made: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname) ($(. /etc/os-release; echo "$PRETTY_NAME"))"
  echo "source: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet 2>/dev/null || echo ' (modified)')"
  echo "build: $build"
  echo "StarPU: $starpu_lib"
  echo "max GLIBC symbol version needed: $(elf_files | xargs -r objdump -T 2>/dev/null \
        | grep -o 'GLIBC_[0-9.]*' | sort -t. -k2,2n -k3,3n -u | tail -1)"
  echo
  echo "file <- source (Debian package, or built here)"
  # one dpkg -S for every source path: package of each real file
  cut -f2 "$origins" | sort -u | xargs -r dpkg -S 2>/dev/null | sed 's/^\([^:]*\)\(:[a-z0-9]*\)\?: /\1\t/' \
    > "$out/packages.tsv" || true
  sort "$origins" | while IFS=$'\t' read -r dest src; do
    pkg=$(awk -F'\t' -v s="$src" '$2 == s { print $1; exit }' "$out/packages.tsv")
    printf '%s\t<- %s (%s)\n' "$dest" "$src" "${pkg:-built here}"
  done
} > "$B/MANIFEST.txt"

tar -C "$out" -czf "$out/$name.tar.gz" "$name"
dir_kib=$(du -sk "$B" | cut -f1)
tgz_bytes=$(stat -c %s "$out/$name.tar.gz")
tgz_mib=$(awk -v b="$tgz_bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
say "bundle: $B ($((dir_kib / 1024)) MiB unpacked, $(find "$B" -type f | wc -l) files)"
say "carry:  $out/$name.tar.gz ($tgz_mib MiB; limit $limit_mib MiB)"
if [ "$tgz_bytes" -ge $((limit_mib * 1048576)) ]; then
  die "the bundle is $tgz_mib MiB, over the $limit_mib MiB limit"
fi
