#!/usr/bin/env bash
# Registration benchmark (run by hand, not a timed test; see tests/bench/README.md).
#
# Starts build/cohort on a free loopback port with a temp data dir, creates a webinar with no
# capacity, hammers POST /api/webinars/{id}/registrations with wrk (unique email per request),
# then GET /healthz, stops the server, and measures the SQLite ceiling: the same registration
# rows inserted in ONE transaction by the sqlite3 CLI into a copy of the schema.
# Prints a markdown table and writes it to build/bench/results.md.
#
# Environment: COHORT_BIN (default build/cohort), BENCH_THREADS (2), BENCH_CONNECTIONS (64),
# BENCH_DURATION (10s), BENCH_OUT (build/bench/results.md), BENCH_STRICT=1 exits 3 when a target is missed.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/../.." && pwd)
cohort_bin=${COHORT_BIN:-$repo_root/build/cohort}
threads=${BENCH_THREADS:-2}
connections=${BENCH_CONNECTIONS:-64}
duration=${BENCH_DURATION:-10s}
out_file=${BENCH_OUT:-$repo_root/build/bench/results.md}

die() { echo "run.sh: $*" >&2; exit 1; }
for tool in wrk sqlite3 curl awk; do command -v "$tool" >/dev/null || die "$tool is not installed"; done
[[ -x $cohort_bin ]] || die "$cohort_bin not found or not executable: build the server first (or set COHORT_BIN)"

work=$(mktemp -d "${TMPDIR:-/tmp}/cohort-bench.XXXXXX")
server_pid=""
server_status=""

# True while the process exists and is not a zombie waiting to be reaped.
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1; [[ -n $s && $s != Z* ]]; }

# SIGTERM, up to 5 s for a graceful exit, then SIGKILL. Sets server_status to the exit status.
stop_server() {
  [[ -n $server_pid ]] || return 0
  local pid=$server_pid i
  server_pid=""
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
  if alive "$pid"; then
    echo "run.sh: cohort did not exit within 5 s of SIGTERM; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  server_status=0
  wait "$pid" 2>/dev/null || server_status=$?
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_server || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- start the server ---------------------------------------------------------------------------
admin_token=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$work/data"
# The load comes from one address into one series: the signup limits would answer 429 at once.
printf '[registration]\nip_per_minute = 0\nseries_per_minute = 0\n' >"$work/bench.toml"
"$cohort_bin" --config "$work/bench.toml" --listen 127.0.0.1:0 --rtmp 127.0.0.1:0 --data-dir "$work/data" --admin-token "$admin_token" \
  >"$work/server.out" 2>"$work/server.err" &
server_pid=$!

base_url=""
for ((i = 0; i < 150; i++)); do
  base_url=$(sed -n 's|.*listening on \(http://[^[:space:]]*\).*|\1|p' "$work/server.out" | head -n1)
  [[ -n $base_url ]] && break
  if ! alive "$server_pid"; then
    cat "$work/server.err" >&2
    die "cohort exited before listening"
  fi
  sleep 0.1
done
[[ -n $base_url ]] || { cat "$work/server.err" >&2; die "cohort did not print 'listening on' within 15 s"; }
echo "run.sh: cohort listening on $base_url (data dir $work/data)"

# --- a webinar with no capacity -----------------------------------------------------------------
first_starts_at=$(date -u -d '+7 days' +%Y-%m-%dT18:00:00Z)
create_body=$(printf '{"title":"Benchmark webinar","description":"wrk signup benchmark","capacity":null,"weekly":{"first_starts_at":"%s","count":5,"duration_minutes":60}}' "$first_starts_at")
create_resp=$(curl -sS -w '\n%{http_code}' -X POST "$base_url/api/webinars" \
  -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' --data-binary "$create_body")
create_status=${create_resp##*$'\n'}
create_json=${create_resp%$'\n'*}
[[ $create_status == 201 ]] || die "POST /api/webinars answered $create_status: $create_json"
webinar_id=$(printf '%s' "$create_json" | grep -oE '"id"[[:space:]]*:[[:space:]]*[0-9]+' | head -n1 | grep -oE '[0-9]+$' || true)
[[ -n $webinar_id ]] || die "no id in the created webinar: $create_json"
echo "run.sh: webinar $webinar_id created"

# One signup by hand first, so a broken endpoint fails loudly instead of producing a fast table of errors.
probe_resp=$(curl -sS -w '\n%{http_code}' -X POST "$base_url/api/webinars/$webinar_id/registrations" \
  -H 'Content-Type: application/json' \
  --data-binary '{"name":"Probe","email":"probe@example.com","profession":"","consent":true}')
[[ ${probe_resp##*$'\n'} == 201 ]] || die "probe signup answered ${probe_resp##*$'\n'}: ${probe_resp%$'\n'*}"

# --- wrk: signups -------------------------------------------------------------------------------
echo
echo "## wrk -t$threads -c$connections -d$duration --latency -s signup.lua  (POST /api/webinars/$webinar_id/registrations)"
COHORT_BENCH_TAG=$(date +%s) wrk -t"$threads" -c"$connections" -d"$duration" --latency \
  -s "$script_dir/signup.lua" "$base_url" -- "$webinar_id" | tee "$work/signup.txt"

summary=$(grep '^signup.lua: ' "$work/signup.txt" | tail -n1) || die "signup.lua printed no summary"
field() { printf '%s\n' "$summary" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
sig_requests=$(field requests); sig_duration_us=$(field duration_us); sig_non2xx=$(field non2xx)
sig_p50_us=$(field p50_us); sig_p99_us=$(field p99_us)
sig_socket_errors=$(( $(field connect_errors) + $(field read_errors) + $(field write_errors) + $(field timeouts) ))
sig_ok=$((sig_requests - sig_non2xx))
signups_per_s=$(awk -v n="$sig_ok" -v us="$sig_duration_us" 'BEGIN { printf "%.0f", n / (us / 1e6) }')
sig_p50_ms=$(awk -v us="$sig_p50_us" 'BEGIN { printf "%.2f", us / 1000 }')
sig_p99_ms=$(awk -v us="$sig_p99_us" 'BEGIN { printf "%.2f", us / 1000 }')

# Group-commit figures from /metrics (sum/count of the histograms), to see where signup time goes.
metrics=$(curl -sS "$base_url/metrics" || true)
metric() { printf '%s\n' "$metrics" | awk -v m="$1" '$1 == m { print $2; exit }'; }
avg() { awk -v s="$(metric "$1_sum")" -v c="$(metric "$1_count")" -v k="$2" -v f="$3" \
  'BEGIN { if (s == "" || c == "" || c == 0) print "n/a"; else printf f, s / c * k }'; }
avg_batch=$(avg cohort_sqlite_commit_batch_size 1 '%.1f')
avg_commit_ms=$(avg cohort_sqlite_commit_duration_seconds 1000 '%.2f')

# --- wrk: healthz -------------------------------------------------------------------------------
echo
echo "## wrk -t$threads -c$connections -d$duration --latency  (GET /healthz)"
wrk -t"$threads" -c"$connections" -d"$duration" --latency "$base_url/healthz" | tee "$work/healthz.txt"
healthz_rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$work/healthz.txt")
healthz_non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$work/healthz.txt")
healthz_non2xx=${healthz_non2xx:-0}
[[ -n $healthz_rps ]] || die "no Requests/sec in wrk's healthz output"

# --- stop the server; count what it made durable ------------------------------------------------
stop_server
[[ $server_status == 0 ]] || echo "run.sh: WARNING: cohort exited with status $server_status after SIGTERM (contract: 0)" >&2

db=$work/data/cohort.db
[[ -f $db ]] || die "no database at $db"
journal_mode=$(sqlite3 "$db" 'PRAGMA journal_mode')
rows=$(sqlite3 "$db" "SELECT count(*) FROM registrations WHERE webinar_id = $webinar_id")
# The probe signup is one of the rows; every 2xx answer from wrk must be a row.
if ((rows < sig_ok + 1)); then
  echo "run.sh: WARNING: $sig_ok signups were acknowledged but only $((rows - 1)) are in the database" >&2
fi
((rows > 0)) || die "no registration rows in the database"

# --- SQLite ceiling: the same rows, one transaction, sqlite3 CLI -------------------------------
ceiling_db=$work/ceiling.db
{
  echo 'PRAGMA journal_mode=WAL;'
  sqlite3 "$db" '.schema --nosys'
  # Every other table's rows (webinars, sessions...), untimed, so the foreign keys hold.
  for table in $(sqlite3 "$db" "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'registrations'"); do
    sqlite3 "$db" -cmd ".mode insert $table" "SELECT * FROM \"$table\""
  done
} | sqlite3 "$ceiling_db" >/dev/null

# Same settings as the server's connection (WAL, synchronous=FULL by default, foreign keys on).
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
ceiling_rows=$(sqlite3 "$ceiling_db" 'SELECT count(*) FROM registrations')
[[ $ceiling_rows == "$rows" ]] || die "ceiling inserted $ceiling_rows rows, expected $rows"
ceiling_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
ceiling_rps=$(awk -v n="$rows" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
ratio=$(awk -v s="$signups_per_s" -v c="$ceiling_rps" 'BEGIN { printf "%.2f", s / c }')

# --- report -------------------------------------------------------------------------------------
verdict() { if awk "BEGIN { exit !($1) }"; then echo "met"; else echo "MISSED"; fi; }
p99_verdict=$(verdict "$sig_p99_ms <= 20")
ratio_verdict=$(verdict "$ratio >= 0.5")
commit=$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo "uncommitted")

report=$(cat <<MD
# Cohort registration benchmark

$(date -u +%Y-%m-%dT%H:%M:%SZ), commit $commit, $(nproc) CPUs, wrk -t$threads -c$connections -d$duration (keep-alive), journal_mode=$journal_mode, synchronous=FULL.

| metric | value | target |
| --- | ---: | --- |
| signups/s (201, durable) | $signups_per_s | |
| signup latency p50 | $sig_p50_ms ms | |
| signup latency p99 | $sig_p99_ms ms | ≤ 20 ms: $p99_verdict |
| avg group-commit batch (rows) / avg commit time | $avg_batch / $avg_commit_ms ms | |
| healthz req/s | $healthz_rps | |
| SQLite ceiling, rows/s (one transaction, $rows rows in $ceiling_s s) | $ceiling_rps | |
| ratio signups / ceiling | $ratio | ≥ 0.5: $ratio_verdict |

Signup requests: $sig_requests answered, $sig_non2xx non-2xx, $sig_socket_errors socket errors; $rows rows in the database (incl. 1 probe). Healthz non-2xx: $healthz_non2xx.
MD
)
echo
printf '%s\n' "$report"
mkdir -p "$(dirname "$out_file")"
printf '%s\n' "$report" >"$out_file"
echo
echo "run.sh: written to $out_file"

if [[ ${BENCH_STRICT:-0} == 1 && ($p99_verdict != met || $ratio_verdict != met) ]]; then exit 3; fi
