#!/usr/bin/env bash
# One command: install, build, and run every test at 1-4 ranks, then again under
# AddressSanitizer + UBSan (set STARLOPS_SKIP_SANITIZE=1 to skip that second pass).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export STARLOPS_STARPU_PREFIX=${STARLOPS_STARPU_PREFIX:-$root/build/starpu}
jobs=${STARLOPS_TEST_JOBS:-1} # 2 cores: ranks of concurrent tests would compete

bash "$root/tools/build.sh" "$root/build"
ctest --test-dir "$root/build" --output-on-failure -j"$jobs"

if [ "${STARLOPS_SKIP_SANITIZE:-0}" != 1 ]; then
  bash "$root/tools/build.sh" "$root/build-sanitize" -DSTARLOPS_SANITIZE=ON \
    -DCMAKE_BUILD_TYPE=Debug -DSTARLOPS_BUILD_BENCH=OFF
  ctest --test-dir "$root/build-sanitize" --output-on-failure -j"$jobs"
fi
