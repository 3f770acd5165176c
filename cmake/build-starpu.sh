#!/usr/bin/env bash
# Builds StarPU 1.3 + StarPU-MPI from Debian's own source package (apt-get source starpu) with FxT
# tracing, up to 64 CPU workers and, when requested, CUDA (with the project's CUDA 13 patches).
# Usage: build-starpu.sh PREFIX WORKDIR CUDA_DIR|none
# The result is cached: PREFIX/.starlops-stamp records version+options and a matching stamp skips
# the build. Needs a deb-src entry and dpkg-dev (tools/install-deps.sh provides both).
set -euo pipefail

prefix=$1; workdir=$2; cuda_dir=${3:-none}
here=$(cd "$(dirname "$0")" && pwd)
patches="$here/patches"

opts="--enable-mpi --with-fxt --enable-maxcpus=64 --disable-opencl --disable-build-doc \
--disable-build-examples --disable-build-tests --disable-socl --disable-starpufft \
--disable-fortran --disable-openmp --disable-starpurm --disable-mlr"
if [ "$cuda_dir" != none ]; then
  opts="$opts --enable-cuda --with-cuda-dir=$cuda_dir"
else
  opts="$opts --disable-cuda"
fi
patch_sum=$(cat "$patches"/starpu-1.3.10-*.patch | sha256sum | cut -c1-16)
stamp="starpu-1.3.10 $opts patches=$patch_sum"

if [ -f "$prefix/.starlops-stamp" ] && [ "$(cat "$prefix/.starlops-stamp")" = "$stamp" ]; then
  echo "build-starpu.sh: cached StarPU in $prefix"
  exit 0
fi

mkdir -p "$workdir"
cd "$workdir"
if [ ! -d starpu-src ]; then
  rm -rf download && mkdir download && cd download
  # Debian's source package: the upstream tarball plus Debian's own patches.
  apt-get source --download-only starpu >/dev/null
  dsc=$(ls starpu_1.3.*.dsc | head -n 1)
  dpkg-source --no-check -x "$dsc" ../starpu-src >/dev/null
  cd ..
  echo "${dsc#starpu_}" | sed 's/\.dsc$//' > starpu-src/.debian-version
  # The CUDA 13 patches touch only CUDA driver files: applied always, harmless without CUDA.
  for p in "$patches"/starpu-1.3.10-*.patch; do
    patch -d starpu-src -p1 --forward --quiet < "$p"
  done
fi
version=$(cat starpu-src/.debian-version)
case "$version" in 1.3.10*) ;; *) echo "build-starpu.sh: expected StarPU 1.3.10, got '$version'" >&2; exit 1;; esac

rm -rf build && mkdir build && cd build
# CUDA 13's headers emit deprecation warnings that StarPU's -Werror-free build tolerates.
../starpu-src/configure --prefix="$prefix" $opts CFLAGS="-O2 -g" > configure.log 2>&1 || {
  tail -n 40 configure.log >&2; exit 1; }
make -j"$(nproc)" > make.log 2>&1 || { tail -n 60 make.log >&2; exit 1; }
make install > install.log 2>&1 || { tail -n 40 install.log >&2; exit 1; }
echo "$stamp" > "$prefix/.starlops-stamp"
echo "build-starpu.sh: StarPU $version installed in $prefix ($opts)"
