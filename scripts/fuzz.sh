#!/usr/bin/env bash
# Fuzzes every libFuzzer target of test/fuzz for a while, one after the other, each against a
# scratch copy of its seed corpus (the checked-in corpus is never written). Fails if any target
# finds a crash, a violated property, a leak or a timeout; the input that did it is kept.
# Usage: scripts/fuzz.sh [seconds per target]   (default 20; `scripts/fuzz.sh 600` is the long run)
# Needs the fuzz targets of the sanitizer tree: scripts/build.sh asan.
# Environment: SMA_FUZZ_TARGETS="route_fuzzer quantity_fuzzer" runs only those;
#              SMA_FUZZ_OUT=dir keeps the grown corpora and crash inputs there (default: a temporary
#              directory, removed unless something was found).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
case "$seconds" in
  '' | *[!0-9]*) echo "usage: $0 [seconds per target]" >&2; exit 2 ;;
esac
build=build-asan/test/fuzz
targets="${SMA_FUZZ_TARGETS:-route_fuzzer label_selector_fuzzer quantity_fuzzer promql_response_fuzzer data_api_response_fuzzer config_fuzzer push_body_fuzzer identity_headers_fuzzer metric_expression_fuzzer}"
for target in $targets; do
  if [[ ! -x "$build/$target" ]]; then
    echo "fuzz: $build/$target is missing; run scripts/build.sh asan first" >&2
    exit 2
  fi
done

out="${SMA_FUZZ_OUT:-}"
keep_out=1
if [[ -z "$out" ]]; then
  out="$(mktemp -d "${TMPDIR:-/tmp}/sma-fuzz.XXXXXX")"
  keep_out=0
fi
mkdir -p "$out"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/test/lsan_suppressions.txt}"

failed=()
summary=()
for target in $targets; do
  corpus="$out/corpus/$target"
  artifacts="$out/artifacts/$target"
  rm -rf "$corpus"
  mkdir -p "$corpus" "$artifacts"
  cp test/fuzz/corpus/"$target"/* "$corpus"/
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/" "$corpus")
  dict="test/fuzz/dict/$target.dict"
  [[ -f "$dict" ]] && args=(-dict="$dict" "${args[@]}")
  echo "=== fuzz $target (${seconds}s) ==="
  log="$out/$target.log"
  status=0
  "$build/$target" "${args[@]}" >"$log" 2>&1 || status=$?
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  if [[ $status -ne 0 ]]; then
    failed+=("$target")
    summary+=("$target: FAILED (exit $status) after ${runs:-?} runs; inputs in $artifacts")
    tail -n 60 "$log"
  else
    summary+=("$target: ok, ${runs:-?} runs, corpus $(ls "$corpus" | wc -l) inputs")
  fi
done

echo "=== fuzz summary (${seconds}s per target) ==="
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -ne 0 ]]; then
  echo "fuzz: ${failed[*]} found problems; logs and inputs are in $out" >&2
  echo "reproduce with: $build/<target> <input file>" >&2
  exit 1
fi
if [[ $keep_out -eq 0 ]]; then rm -rf "$out"; fi
