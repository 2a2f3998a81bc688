#!/usr/bin/env bash
# Configures and builds one tree. Usage: scripts/build.sh [plain|asan]
#   plain: g++, warnings as errors, into build/
#   asan:  clang++ with AddressSanitizer and UndefinedBehaviorSanitizer, into build-asan/, with the
#          libFuzzer targets of test/fuzz
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-plain}"
jobs="$(nproc)"
case "$kind" in
  plain)
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMA_WERROR=ON
    cmake --build build -j "$jobs"
    ;;
  asan)
    cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSMA_WERROR=ON -DSMA_SANITIZE=ON -DSMA_FUZZ=ON \
      -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang
    cmake --build build-asan -j "$jobs"
    ;;
  *)
    echo "usage: $0 [plain|asan]" >&2
    exit 2
    ;;
esac
