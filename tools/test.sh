#!/usr/bin/env bash
# One command: install, build, and run every test at 1-4 ranks, then again under
# AddressSanitizer + UBSan (set STARLOPS_SKIP_SANITIZE=1 to skip that second pass).
# Every test runs with a python3 first on PATH that refuses to run (tests/CMakeLists.txt), so a
# script that relies on the wrong interpreter fails here rather than on a user's machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export STARLOPS_STARPU_PREFIX=${STARLOPS_STARPU_PREFIX:-$root/build/starpu}
jobs=${STARLOPS_TEST_JOBS:-1} # 2 cores: ranks of concurrent tests would compete
start=$SECONDS

# run_pass NAME BUILD_DIR: ctest in BUILD_DIR; on failure, names the failed tests.
run_pass() {
  local name=$1 dir=$2
  if ctest --test-dir "$dir" --output-on-failure -j"$jobs"; then
    echo "test.sh: $name pass: all tests passed"
    return 0
  fi
  echo "test.sh: $name pass FAILED; failed tests:"
  sed 's/^[0-9]*:/  /' "$dir/Testing/Temporary/LastTestsFailed.log" 2>/dev/null || true
  return 1
}

bash "$root/tools/build.sh" "$root/build"
if ! run_pass plain "$root/build"; then
  if [ "${STARLOPS_SKIP_SANITIZE:-0}" != 1 ]; then
    echo "test.sh: the sanitizer pass (ASan + UBSan) was SKIPPED because the plain pass failed"
  fi
  echo "test.sh: FAILED after $((SECONDS - start)) s"
  exit 1
fi

if [ "${STARLOPS_SKIP_SANITIZE:-0}" != 1 ]; then
  bash "$root/tools/build.sh" "$root/build-sanitize" -DSTARLOPS_SANITIZE=ON \
    -DCMAKE_BUILD_TYPE=Debug -DSTARLOPS_BUILD_BENCH=OFF
  if ! run_pass sanitizer "$root/build-sanitize"; then
    echo "test.sh: FAILED after $((SECONDS - start)) s"
    exit 1
  fi
else
  echo "test.sh: sanitizer pass skipped (STARLOPS_SKIP_SANITIZE=1)"
fi
echo "test.sh: all passes succeeded in $((SECONDS - start)) s"
