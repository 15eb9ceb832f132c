#!/usr/bin/env bash
# Runs every libFuzzer target of a COHORT_FUZZ build for a bounded time and fails on any crash, leak,
# timeout or sanitizer report.
#   tests/fuzz/run.sh [BUILD_DIR] [SECONDS_PER_TARGET] [TARGET...]
#   defaults: build-asan, 30 s (CI); e.g. `tests/fuzz/run.sh build-asan 3600 rtmp` fuzzes the RTMP
#   parser for an hour. FUZZ_JOBS (default 2) targets run at once.
# Each target starts from its seed corpus (tests/fuzz/corpus/<name>) and its regression cases
# (tests/fuzz/regressions/<name>); what it discovers goes to BUILD_DIR/fuzz-corpus/<name>, so a
# longer run resumes from there. A crashing input is saved as BUILD_DIR/fuzz-artifacts/<name>/crash-*:
# fix the bug, then copy it into tests/fuzz/regressions/<name>/ so the unit tests replay it.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
build=${1:-build-asan}
seconds=${2:-30}
shift $(( $# < 2 ? $# : 2 ))
jobs=${FUZZ_JOBS:-2}
[[ $build = /* ]] || build=$root/$build

targets=()
if (($#)); then
  for t in "$@"; do targets+=("$build/fuzz/fuzz_$t"); done
else
  targets=("$build"/fuzz/fuzz_*)
fi
if [[ ! -x ${targets[0]} ]]; then
  echo "no fuzz targets in $build/fuzz: configure with CXX=clang++-14 -DCOHORT_FUZZ=ON" >&2
  exit 2
fi

# The fuzzers report on stderr, not into run_all.sh's sanitizer log files.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

run_one() {  # run_one BINARY: fuzzes it, prints one summary line, exit status = the fuzzer's
  local bin=$1 name=${1##*/fuzz_}
  local corpus=$build/fuzz-corpus/$name artifacts=$build/fuzz-artifacts/$name/ log=$build/fuzz-logs/$name.log
  mkdir -p "$corpus" "$artifacts" "${log%/*}"
  local args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1
              -artifact_prefix="$artifacts")
  [[ -f tests/fuzz/dict/$name.dict ]] && args+=(-dict="tests/fuzz/dict/$name.dict")
  local dirs=("$corpus")
  for d in "tests/fuzz/corpus/$name" "tests/fuzz/regressions/$name"; do [[ -d $d ]] && dirs+=("$d"); done
  "$bin" "${args[@]}" "${dirs[@]}" >"$log" 2>&1
  local rc=$?
  local runs cov
  runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
  if ((rc == 0)); then
    echo "ok   $name: ${runs:-?} runs in ${seconds}s, ${cov:-cov: ?}, corpus $(find "$corpus" -type f | wc -l) files"
  else
    echo "FAIL $name (exit $rc): log $log, input in $artifacts"
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -20 | sed 's/^/     /'
  fi
  return $rc
}

passed=0
failed=0
running=0
for bin in "${targets[@]}"; do
  if ((running >= jobs)); then
    wait -n -p done_pid && passed=$((passed + 1)) || failed=$((failed + 1))
    running=$((running - 1))
  fi
  run_one "$bin" &
  running=$((running + 1))
done
while ((running > 0)); do
  wait -n -p done_pid && passed=$((passed + 1)) || failed=$((failed + 1))
  running=$((running - 1))
done
echo "# pass $passed"
echo "# fail $failed"
((failed == 0))
