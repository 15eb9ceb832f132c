#!/usr/bin/env bash
# Runs the unit tests of Cohort's concurrent parts on a ThreadSanitizer build (cmake -DCOHORT_TSAN=ON)
# and fails on any test failure or any TSan report, from the tests or from a process they start.
#   bash tests/tsan/run.sh BUILD_DIR
# Prints the test cases that ran and the reports, and "# pass N" / "# fail N" lines that
# tests/run_all.sh counts. Reports are kept in BUILD_DIR/tsan-logs/.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
logs=$build/tsan-logs
rm -rf "$logs"
mkdir -p "$logs"

# Binary and Catch2 filter: the writer thread and group commit, the reader pool (test_store);
# the room on its strand fed by the local bus and by two nodes' Redis buses from several threads,
# and the primary's chat released from the writer's thread (tsan_live_room); the hiredis
# connection on the io_context (test_bus; without the case that copies 32 MiB into hiredis after
# a kill -9, single-threaded and half a minute under TSan); the segment store with concurrent
# writers and readers, and the outbox sender's thread against SMTP servers (tests/tsan/CMakeLists.txt).
runs=(
  "test_store|"
  "tsan_live_room|"
  "test_bus|~large writes queued*"
  "tsan_segment_store|"
  "tsan_outbox_sender|"
)
# halt_on_error: the first report fails the binary (exit 66) with the report in tsan-logs.
export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1:history_size=4:suppressions=$root/tests/tsan/suppressions.txt:log_path=$logs/tsan"
export COHORT_SOURCE_DIR=$root
# gcc 12's TSan needs the address layout it was built for; more mmap randomization than it
# expects (vm.mmap_rnd_bits 32 on recent kernels) breaks it ("unexpected memory mapping"), so
# ASLR is off for these runs where setarch may turn it off.
norandom=()
if setarch "$(uname -m)" -R true 2>/dev/null; then norandom=(setarch "$(uname -m)" -R); fi

cases=0
failed_cases=0
failed_bins=()
for run in "${runs[@]}"; do
  bin=${run%%|*}
  filter=${run#*|}
  exe=$build/tests/$bin
  if [[ ! -x $exe ]]; then
    echo "tsan: $exe is missing (build it with -DCOHORT_TSAN=ON)"
    failed_bins+=("$bin")
    continue
  fi
  out=$logs/$bin.out
  start=$SECONDS
  args=()
  [[ -n $filter ]] && args=("$filter")
  "${norandom[@]}" "$exe" "${args[@]}" >"$out" 2>&1
  rc=$?
  # Catch2: "All tests passed (12 assertions in 5 test cases)" or "test cases: 5 | 4 passed | 1 failed"
  n=$(sed -nE 's/^All tests passed \([0-9]+ assertions? in ([0-9]+) test cases?\).*/\1/p; s/^test cases: *([0-9]+) .*/\1/p' "$out" | tail -1)
  f=$(sed -nE 's/^test cases: .*\| *([0-9]+) failed.*/\1/p' "$out" | tail -1)
  cases=$((cases + ${n:-0}))
  failed_cases=$((failed_cases + ${f:-0}))
  echo "tsan: $bin ${filter:-(all)}: ${n:-?} test cases, ${f:-0} failed, exit $rc, $((SECONDS - start)) s"
  if ((rc != 0)) || [[ -z $n ]]; then
    failed_bins+=("$bin")
    tail -n 40 "$out"
  fi
done

reports=0
if compgen -G "$logs/tsan.*" >/dev/null; then
  reports=$(cat "$logs"/tsan.* | grep -c '^WARNING: ThreadSanitizer\|^ThreadSanitizer:\|^FATAL: ThreadSanitizer')
  cat "$logs"/tsan.*
fi
echo "tsan: $cases test cases ran, $failed_cases failed, $reports ThreadSanitizer reports"
echo "# pass $((cases - failed_cases))"
echo "# fail $((failed_cases + reports))"  # a binary that died counts in run_all.sh through the exit status
if ((${#failed_bins[@]} || reports || failed_cases)); then
  echo "tsan: FAILED ${failed_bins[*]}"
  exit 1
fi
