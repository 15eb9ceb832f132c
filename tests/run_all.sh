#!/usr/bin/env bash
# Builds and runs the whole suite: Catch2 unit tests (ctest), node integration tests against the
# real binary, the browser test in Debian Chromium; then a clang AddressSanitizer + UBSan build that
# also holds the libFuzzer targets: the unit tests again (with every fuzz corpus and regression case),
# each fuzzer for FUZZ_SECONDS (default 30), the integration tests again; last, the unit tests of
# the concurrent parts on a gcc ThreadSanitizer build. The clang build compiles, at the lowest CPU
# priority, while the gcc build's integration and browser tests run. Any failure or sanitizer report
# makes it exit non-zero.
# Called by `bash config/cohort.sh test` (which installs the packages first).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
logs=$root/build/test-logs
failed_steps=()
passed=0
failed=0

count() {  # count NAME LOG RC: adds what the step's runner reported to the totals
  local name=$1 log=$2 rc=$3
  local p f
  if grep -q '^# pass ' "$log"; then  # node --test
    p=$(awk '/^# pass /{s+=$3} END{print s+0}' "$log")
    f=$(awk '/^# fail /{s+=$3} END{print s+0}' "$log")
  else  # ctest: "100% tests passed, 0 tests failed out of 42"
    f=$(sed -nE 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/p' "$log" | tail -1)
    local total
    total=$(sed -nE 's/.* tests failed out of ([0-9]+).*/\1/p' "$log" | tail -1)
    p=$(( ${total:-0} - ${f:-0} ))
    f=${f:-0}
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  if ((rc != 0)); then
    failed_steps+=("$name")
    ((f > 0)) || failed=$((failed + 1))
  fi
}

step() {  # step NAME COMMAND...: runs it, keeps its log, counts what its runner reports
  local name=$1
  shift
  echo "== $name"
  local log="$logs/$name.log"
  "$@" 2>&1 | tee "$log"
  count "$name" "$log" "${PIPESTATUS[0]}"
}

# The ASan build compiles while the tests of the gcc build run: those tests mostly wait (timers,
# ffmpeg, restarts), and at nice 19 a compiler only takes the CPU they leave idle.
declare -A background=()
step_in_background() {  # step_in_background NAME COMMAND...: starts it; step_join NAME waits and counts
  local name=$1
  shift
  echo "== $name (started in the background, nice 19)"
  (
    renice -n 19 -p "$BASHPID" >/dev/null
    export CMAKE_BUILD_PARALLEL_LEVEL=2
    "$@" >"$logs/$name.log" 2>&1
    echo $? >"$logs/$name.rc"
  ) &
  background[$name]=$!
}

step_join() {
  local name=$1
  wait "${background[$name]}"
  echo "== $name (finished in the background)"
  cat "$logs/$name.log"
  count "$name" "$logs/$name.log" "$(cat "$logs/$name.rc")"
}

build() {  # build DIR [cmake args...] [-- targets...]: every target unless some are named
  local dir=$1
  shift
  local args=() targets=()
  while (($#)) && [[ $1 != -- ]]; do args+=("$1"); shift; done
  (($#)) && shift && targets=(--target "$@")
  cmake -S . -B "$dir" -G Ninja "${args[@]}" >/dev/null && cmake --build "$dir" "${targets[@]}"
}

mkdir -p "$logs" build/test-artifacts
export CI=${CI:-}
node_tests=(tests/gateway/*.test.mjs tests/registration/*.test.mjs tests/store/*.test.mjs tests/chat/*.test.mjs tests/drops/*.test.mjs tests/qa/*.test.mjs tests/polls/*.test.mjs tests/streaming/*.test.mjs tests/accounts/*.test.mjs tests/attendance/*.test.mjs tests/ce/*.test.mjs tests/assessment/*.test.mjs tests/privacy/*.test.mjs tests/certificates/*.test.mjs tests/email/*.test.mjs tests/proto/*.test.mjs tests/deploy/*.test.mjs tests/authz/*.test.mjs tests/faults/*.test.mjs)

step build build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOHORT_TESTS=ON -DCOHORT_SANITIZE=OFF || true

# clang, because libFuzzer is part of it; a build dir configured with another compiler starts over.
if [[ -f build-asan/CMakeCache.txt ]] && ! grep -q '^CMAKE_CXX_COMPILER:.*clang++-14' build-asan/CMakeCache.txt; then
  rm -rf build-asan
fi
step_in_background build-asan build build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++-14 -DCOHORT_FUZZ=ON -DCOHORT_TESTS=ON

if [[ -x build/cohort ]]; then
  step unit ctest --test-dir build --output-on-failure --no-tests=error -j2
  (cd tests && { [[ -d node_modules/playwright-core ]] && [[ node_modules/.package-lock.json -nt package-lock.json ]] || npm ci --no-audit --no-fund --loglevel=error; })
  # Two test files at a time: most of their time is spent waiting (timers, ffmpeg, restarts), and
  # every test has its own ports, data dir and processes.
  step integration env COHORT_BIN="$root/build/cohort" node --test --test-concurrency=2 "${node_tests[@]}"
  step browser env COHORT_BIN="$root/build/cohort" node --test tests/browser/*.test.mjs
fi
step_join build-asan

# Sanitizers: reports go to files, so a report from a server process the tests started fails the run too.
asan_logs=$root/build-asan/sanitizer-logs
rm -rf "$asan_logs"
mkdir -p "$asan_logs"
export ASAN_OPTIONS="log_path=$asan_logs/asan:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$asan_logs/ubsan:print_stacktrace=1:halt_on_error=1"
if [[ -x build-asan/cohort ]]; then
  step unit-asan ctest --test-dir build-asan --output-on-failure --no-tests=error -j2
  step fuzz bash tests/fuzz/run.sh build-asan "${FUZZ_SECONDS:-30}"
  step integration-asan env COHORT_BIN="$root/build-asan/cohort" node --test --test-concurrency=2 "${node_tests[@]}"
fi
unset ASAN_OPTIONS UBSAN_OPTIONS
if compgen -G "$asan_logs/*" >/dev/null; then
  echo "== sanitizer reports"
  cat "$asan_logs"/*
  failed_steps+=("sanitizers")
  failed=$((failed + 1))
fi

# ThreadSanitizer: only the unit tests of the concurrent parts (tests/tsan/run.sh says which); run.sh
# fails on any report and prints them. Not compiled beside the ASan integration run: that run is slow
# enough already (a 4 s publish once went by without a playlist while the TSan build ran beside it).
step build-tsan build build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOHORT_TSAN=ON -DCOHORT_TESTS=ON \
  -- test_store test_bus tsan_live_room tsan_segment_store tsan_outbox_sender || true
step unit-tsan bash tests/tsan/run.sh build-tsan

echo
if ((${#failed_steps[@]})); then
  echo "FAILED steps: ${failed_steps[*]} (logs in build/test-logs/)"
fi
echo "total: $passed passed, $failed failed"
((${#failed_steps[@]} == 0))
