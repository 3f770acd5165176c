#!/usr/bin/env bash
# Installs the dependencies (when run as root), then configures and builds starlops.
# Usage: tools/build.sh [BUILD_DIR] [extra cmake arguments...]
# STARLOPS_STARPU_PREFIX (env) shares one StarPU build between several build trees.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
if [ "$(id -u)" = 0 ]; then
  bash "$root/tools/install-deps.sh"
else
  echo "build.sh: not root, skipping tools/install-deps.sh (dependencies must be present)"
fi
extra=()
if [ -n "${STARLOPS_STARPU_PREFIX:-}" ]; then
  extra+=("-DSTARLOPS_STARPU_PREFIX=$STARLOPS_STARPU_PREFIX")
fi
cmake -S "$root" -B "$build" "${extra[@]}" "$@"
cmake --build "$build" -j"$(nproc)"
