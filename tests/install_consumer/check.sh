#!/usr/bin/env bash
# Installs the build tree into a scratch prefix, then builds a consumer with find_package and
# with pkg-config, and runs both. Usage: check.sh BUILD_DIR SOURCE_DIR MPIEXEC
set -euo pipefail
build=$1; src=$2; mpiexec=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" > /dev/null
cmake -S "$src/tests/install_consumer" -B "$work/cmake-build" \
      -DCMAKE_PREFIX_PATH="$work/prefix" > /dev/null
cmake --build "$work/cmake-build" > /dev/null
"$mpiexec" -n 1 "$work/cmake-build/consumer"

pc_starpu=$(sed -n 's/.*StarPU in \(.*\))$/\1/p' "$work/prefix/lib/pkgconfig/starlops.pc")
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig:$pc_starpu:${PKG_CONFIG_PATH:-}"
cflags=$(pkg-config --cflags starlops)
libs=$(pkg-config --libs starlops)
mpicc $cflags $(pkg-config --cflags-only-I starlops | sed 's/-I/-isystem /g') \
      -isystem /usr/local/cuda/include "$src/tests/install_consumer/consumer.c" -o "$work/pc" \
      $libs -Wl,-rpath,"$work/prefix/lib" -Wl,-rpath,"${pc_starpu%/pkgconfig}"
"$mpiexec" -n 1 "$work/pc"
echo "install_consumer: 2 passed, 0 failed"
