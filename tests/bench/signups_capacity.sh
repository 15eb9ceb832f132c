#!/usr/bin/env bash
# Signups into a series WITH a capacity, confirmation mail on (benchmark, run by hand; see
# tests/bench/README.md, "Signups with a capacity").
#
# Starts COHORT_BIN pinned to core 0 (taskset) on a free loopback port with a temp data dir,
# `registration.confirm_email = true` and the signup limits lifted, creates a series with
# capacity BENCH_CAPACITY (100,000), and drives POST /api/webinars/{id}/registrations with wrk
# (signup.lua, unique emails) pinned to core 1 until BENCH_SIGNUPS (20,000) signups are committed.
# A sampler reads the committed row count from the database every 0.1 s, so the rate of each
# quarter of the signups (first 25 %, second...) is the server's, not the client's. Then the
# SQLite ceiling as run.sh measures it: the same rows inserted in ONE transaction by the
# sqlite3 CLI into a copy of the schema (same triggers and indexes, synchronous=FULL).
# Writes tests/bench/results/signups_capacity.json (BENCH_RESULT) and prints a table.
#
# Environment: COHORT_BIN (build/cohort), BENCH_SIGNUPS (20000), BENCH_CAPACITY (100000),
# BENCH_CONNECTIONS (64), BENCH_THREADS (1), BENCH_RESULT, BENCH_COMMIT (the commit to name in
# the result; default: this checkout's HEAD), BENCH_MAX_SECONDS (300: give up after),
# BENCH_CONFIRM_EMAIL (true), BENCH_KEEP (1: leave the temp dir; delete it yourself later).
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$script_dir/lib.sh"
repo_root=$(cd "$script_dir/../.." && pwd)
cohort_bin=${COHORT_BIN:-$repo_root/build/cohort}
signups=${BENCH_SIGNUPS:-20000}
capacity=${BENCH_CAPACITY:-100000}
connections=${BENCH_CONNECTIONS:-64}
threads=${BENCH_THREADS:-1}
max_seconds=${BENCH_MAX_SECONDS:-300}
result_file=${BENCH_RESULT:-${BENCH_RESULTS:-$repo_root/tests/bench/results}/signups_capacity.json}
commit=${BENCH_COMMIT:-$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)}

die() { echo "signups_capacity.sh: $*" >&2; exit 1; }
for tool in wrk sqlite3 curl awk; do command -v "$tool" >/dev/null || die "$tool is not installed"; done
[[ -x $cohort_bin ]] || die "$cohort_bin not found or not executable (set COHORT_BIN)"

work=$(mktemp -d "${TMPDIR:-/tmp}/cohort-signups.XXXXXX")
server_pid="" wrk_pid="" sampler_pid=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$sampler_pid"; stop_pid "$wrk_pid"; stop_pid "$server_pid"
  # BENCH_KEEP=1 leaves the files for later: deleting many files slows file creation (the .eml
  # files of the next run) on ext4 for a while.
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "signups_capacity.sh: kept $work" >&2; else rm -rf "$work"; fi
  exit "$rc"
}
trap_cleanup

# --- the server -----------------------------------------------------------------------------------
admin_token=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$work/data"
confirm_email=${BENCH_CONFIRM_EMAIL:-true}
printf '[registration]\nip_per_minute = 0\nseries_per_minute = 0\nconfirm_email = %s\n' "$confirm_email" >"$work/bench.toml"
pin 0 "$cohort_bin" --config "$work/bench.toml" --listen 127.0.0.1:0 --rtmp 127.0.0.1:0 --data-dir "$work/data" \
  --admin-token "$admin_token" >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
base_url=""
for ((i = 0; i < 150; i++)); do
  base_url=$(sed -n 's|.*listening on \(http://[^[:space:]]*\).*|\1|p' "$work/server.out" | head -n1)
  [[ -n $base_url ]] && break
  alive "$server_pid" || { cat "$work/server.err" >&2; die "cohort exited before listening"; }
  sleep 0.1
done
[[ -n $base_url ]] || die "cohort did not print 'listening on' within 15 s"

starts=$(date -u -d '+7 days' +%Y-%m-%dT18:00:00Z)
create=$(curl -sS -X POST "$base_url/api/webinars" -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
  --data-binary "{\"title\":\"Capacity benchmark\",\"description\":\"\",\"capacity\":$capacity,\"weekly\":{\"first_starts_at\":\"$starts\",\"count\":5,\"duration_minutes\":60}}")
webinar_id=$(printf '%s' "$create" | grep -oE '"id"[[:space:]]*:[[:space:]]*[0-9]+' | head -n1 | grep -oE '[0-9]+$') ||
  die "cannot create the series: $create"
db=$work/data/cohort.db
count_sql="SELECT count(*) FROM registrations WHERE webinar_id = $webinar_id"
echo "signups_capacity.sh: $cohort_bin on $base_url, series $webinar_id (capacity $capacity), $signups signups, confirm_email $confirm_email"

# --- wrk until `signups` rows are committed, sampled every 0.1 s -----------------------------------
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }
cpu_before=$(cpu_ticks)
(
  while :; do
    printf '%s %s %s\n' "$(date +%s.%N)" "$(sqlite3 -cmd '.timeout 1000' "$db" "$count_sql" 2>/dev/null || echo -1)" "$(cpu_ticks)"
    sleep 0.1
  done
) >"$work/samples.txt" &
sampler_pid=$!
COHORT_BENCH_TAG=$(date +%s%N) pin 1 wrk -t"$threads" -c"$connections" -d"${max_seconds}s" --latency -s "$script_dir/signup.lua" \
  "$base_url" -- "$webinar_id" >"$work/wrk.txt" 2>&1 &
wrk_pid=$!
deadline=$((SECONDS + max_seconds))
while :; do
  last=$(tail -n1 "$work/samples.txt" 2>/dev/null | awk '{ print $2 }')
  [[ -n $last ]] && ((last >= signups)) && break
  ((SECONDS < deadline)) || die "fewer than $signups signups within $max_seconds s"
  alive "$wrk_pid" || { cat "$work/wrk.txt" >&2; die "wrk ended early"; }
  sleep 0.05
done
kill -INT "$wrk_pid" 2>/dev/null || true  # wrk prints its summary on SIGINT
wait "$wrk_pid" 2>/dev/null || true
wrk_pid=""
cpu_after=$(cpu_ticks)
stop_pid "$sampler_pid"; sampler_pid=""
rows=$(sqlite3 -cmd '.timeout 5000' "$db" "$count_sql")
cpu_us_per_signup=$(awk -v a="$cpu_before" -v b="$cpu_after" -v hz="$(getconf CLK_TCK)" -v n="$rows" 'BEGIN { printf "%.1f", (b - a) / hz * 1e6 / n }')
queued_mail=$(sqlite3 -cmd '.timeout 5000' "$db" "SELECT count(*) FROM outbox")

# Per quarter: the time the count first reached k/4 of `signups`, by interpolation between samples.
read -r q1 q2 q3 q4 overall cpu1 cpu2 cpu3 cpu4 < <(awk -v n="$signups" -v hz="$(getconf CLK_TCK)" '
  $2 >= 0 { t[NR] = $1; c[NR] = $2; u[NR] = $3; m = NR }
  END {
    k = 0; prev_t = ""; prev_c = 0
    for (i = 1; i <= m; i++) {
      if (start == "" && c[i] > 0) {
        start = (i > 1 ? t[i - 1] : t[i]); base = (i > 1 ? c[i - 1] : 0); mark[0] = start
        cpu[0] = (i > 1 ? u[i - 1] : u[i]); rows_at[0] = base
      }
      while (start != "" && k < 4 && c[i] >= (k + 1) * n / 4) {
        goal = (k + 1) * n / 4
        at = (i > 1 && c[i] > c[i - 1]) ? t[i - 1] + (t[i] - t[i - 1]) * (goal - c[i - 1]) / (c[i] - c[i - 1]) : t[i]
        k++; mark[k] = at; cpu[k] = u[i]; rows_at[k] = c[i]
      }
    }
    for (q = 1; q <= 4; q++) printf "%.0f ", (n / 4 - (q == 1 ? base : 0)) / (mark[q] - mark[q - 1])
    printf "%.0f", (n - base) / (mark[4] - mark[0])
    # Server CPU per signup in each quarter (at the sample that crossed its end; 1/hz s resolution).
    for (q = 1; q <= 4; q++) printf " %.0f", (cpu[q] - cpu[q - 1]) / hz * 1e6 / (rows_at[q] - rows_at[q - 1])
    printf "\n"
  }' "$work/samples.txt")
p99_ms=$(awk '/^ +99%/ { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.2f", v }' "$work/wrk.txt")
non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$work/wrk.txt"); non2xx=${non2xx:-0}
# Where a signup's time goes: the group commit (rows per transaction, time to run and commit one).
metrics=$(curl -sS "$base_url/metrics" || true)
metric() { printf '%s\n' "$metrics" | awk -v m="$1" '$1 == m { print $2; exit }'; }
avg() { awk -v s="$(metric "$1_sum")" -v c="$(metric "$1_count")" -v k="$2" 'BEGIN { if (s == "" || c == "" || c == 0) print "null"; else printf "%.2f", s / c * k }'; }
avg_batch=$(avg cohort_sqlite_commit_batch_size 1)
avg_commit_ms=$(avg cohort_sqlite_commit_duration_seconds 1000)
stop_pid "$server_pid"; server_pid=""

# --- the SQLite ceiling: the same rows in one transaction (as run.sh) ------------------------------
ceiling_db=$work/ceiling.db
{
  echo 'PRAGMA journal_mode=WAL;'
  sqlite3 "$db" '.schema --nosys'
  for table in $(sqlite3 "$db" "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('registrations', 'outbox')"); do
    sqlite3 "$db" -cmd ".mode insert $table" "SELECT * FROM \"$table\""
  done
} | sqlite3 "$ceiling_db" >/dev/null
{
  echo 'PRAGMA synchronous=FULL;'
  echo 'PRAGMA foreign_keys=ON;'
  echo 'BEGIN;'
  sqlite3 "$db" -cmd '.mode insert registrations' "SELECT * FROM registrations WHERE webinar_id = $webinar_id ORDER BY id"
  echo 'COMMIT;'
} >"$work/ceiling.sql"
t0=$(date +%s.%N)
sqlite3 "$ceiling_db" <"$work/ceiling.sql"
t1=$(date +%s.%N)
ceiling=$(awk -v n="$rows" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
ratio=$(awk -v s="$overall" -v c="$ceiling" 'BEGIN { printf "%.2f", s / c }')

# --- report ------------------------------------------------------------------------------------------
cat <<MD

| $commit, $(date -u +%Y-%m-%dT%H:%M:%SZ) | value |
| --- | ---: |
| signups/s (server CPU µs per signup), 1st quarter of $signups | $q1 ($cpu1) |
| signups/s (server CPU µs per signup), 2nd quarter | $q2 ($cpu2) |
| signups/s (server CPU µs per signup), 3rd quarter | $q3 ($cpu3) |
| signups/s (server CPU µs per signup), 4th quarter | $q4 ($cpu4) |
| signups/s, all ($rows rows, $non2xx non-2xx) | $overall |
| p99 latency (wrk, whole run) | $p99_ms ms |
| server CPU per signup | $cpu_us_per_signup µs |
| group commit: avg rows / avg commit time | $avg_batch / $avg_commit_ms ms |
| SQLite ceiling (one transaction, same rows) | $ceiling rows/s |
| ratio signups / ceiling | $ratio |
| mails queued | $queued_mail |
MD
mkdir -p "$(dirname "$result_file")"
cat >"$result_file" <<JSON
{"workload": "signups_capacity", "commit": "$commit", "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
 "rows": [
  {"server": "cohort", "figure": "signups_per_s_q1", "value": $q1, "unit": "1/s"},
  {"server": "cohort", "figure": "signups_per_s_q2", "value": $q2, "unit": "1/s"},
  {"server": "cohort", "figure": "signups_per_s_q3", "value": $q3, "unit": "1/s"},
  {"server": "cohort", "figure": "signups_per_s_q4", "value": $q4, "unit": "1/s"},
  {"server": "cohort", "figure": "cpu_us_per_signup_q1", "value": $cpu1, "unit": "us"},
  {"server": "cohort", "figure": "cpu_us_per_signup_q2", "value": $cpu2, "unit": "us"},
  {"server": "cohort", "figure": "cpu_us_per_signup_q3", "value": $cpu3, "unit": "us"},
  {"server": "cohort", "figure": "cpu_us_per_signup_q4", "value": $cpu4, "unit": "us"},
  {"server": "cohort", "figure": "signups_per_s", "value": $overall, "unit": "1/s"},
  {"server": "cohort", "figure": "p99_ms", "value": $p99_ms, "unit": "ms"},
  {"server": "cohort", "figure": "cpu_us_per_signup", "value": $cpu_us_per_signup, "unit": "us"},
  {"server": "cohort", "figure": "commit_batch_rows", "value": $avg_batch, "unit": ""},
  {"server": "cohort", "figure": "commit_ms", "value": $avg_commit_ms, "unit": "ms"},
  {"server": "sqlite", "figure": "ceiling_rows_per_s", "value": $ceiling, "unit": "1/s"},
  {"server": "cohort", "figure": "ratio_to_ceiling", "value": $ratio, "unit": ""}
 ],
 "notes": ["$signups signups into a series with capacity $capacity, registration.confirm_email = $confirm_email (true: each signup queues a mail)",
           "server pinned to core 0, wrk -t$threads -c$connections on core 1; quarter rates from the committed row count sampled every 0.1 s",
           "ceiling: the same $rows rows in one transaction by the sqlite3 CLI, synchronous=FULL, same schema and triggers"]}
JSON
echo "signups_capacity.sh: written to $result_file"
