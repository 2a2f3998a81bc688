#!/usr/bin/env bash
# The whole suite: installs what is missing, builds the plain tree and runs every test through ctest,
# then does the same in the AddressSanitizer + UndefinedBehaviorSanitizer tree.
# Usage: scripts/test.sh [plain|asan|all]   (default all)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
scripts/install-deps.sh
# image:run (test/image) builds and runs the container image with podman, which install-deps.sh just
# installed: here a podman that cannot run fails the test instead of skipping it. SMA_REQUIRE_IMAGE=0
# lets it skip.
export SMA_REQUIRE_IMAGE="${SMA_REQUIRE_IMAGE:-1}"

run_tree() {
  local kind="$1" dir="$2"
  echo "=== $kind build ($dir) ==="
  scripts/build.sh "$kind"
  echo "=== $kind tests ==="
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=0" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    LSAN_OPTIONS="suppressions=$PWD/test/lsan_suppressions.txt" \
    ctest --test-dir "$dir" --output-on-failure -j 2 --timeout 300
  if [[ "$kind" == asan ]]; then echo "=== fuzzing ==="; scripts/fuzz.sh 20; fi
}

case "$what" in
  plain) run_tree plain build ;;
  asan) run_tree asan build-asan ;;
  all) run_tree plain build; run_tree asan build-asan ;;
  *) echo "usage: $0 [plain|asan|all]" >&2; exit 2 ;;
esac
