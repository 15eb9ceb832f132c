#!/usr/bin/env bash
# Mail throughput of the outbox sender (benchmark, run by hand; see tests/bench/README.md, "Mail").
#
# 1. Starts COHORT_BIN with the signup limits lifted and makes BENCH_MAILS (5,000) signups with
#    wrk (signup.lua): each queues one confirmation mail (with its calendar invitation).
# 2. Stops it, puts every outbox row back to queued (due now, no attempts) and removes the .eml
#    files, so the next start finds BENCH_MAILS mails waiting.
# 3. Starts it again pinned to core 0 and samples the sent rows every 0.1 s until all are sent:
#    delivered/s (from the first to the last delivery) and server CPU per message. Transport:
#    .eml files under data/outbox (no relay configured).
# 4. If python3-aiosmtpd is installed (/usr/bin/python3 -m aiosmtpd), steps 2-3 again with
#    email.smtp_host set to a local aiosmtpd (Sink handler, core 1), smtp_tls = none.
# Writes tests/bench/results/mail.json (BENCH_RESULT) and prints a table.
#
# Environment: COHORT_BIN (build/cohort), BENCH_MAILS (5000), BENCH_RESULT, BENCH_COMMIT,
# BENCH_SMTP (1: also over SMTP when aiosmtpd is there; 0: .eml only), BENCH_MAX_SECONDS (300),
# BENCH_KEEP (1: leave the temp dir, e.g. between before/after runs; delete it yourself later).
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$script_dir/lib.sh"
repo_root=$(cd "$script_dir/../.." && pwd)
cohort_bin=${COHORT_BIN:-$repo_root/build/cohort}
mails=${BENCH_MAILS:-5000}
max_seconds=${BENCH_MAX_SECONDS:-300}
want_smtp=${BENCH_SMTP:-1}
result_file=${BENCH_RESULT:-${BENCH_RESULTS:-$repo_root/tests/bench/results}/mail.json}
commit=${BENCH_COMMIT:-$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)}

die() { echo "mail.sh: $*" >&2; exit 1; }
for tool in wrk sqlite3 curl awk; do command -v "$tool" >/dev/null || die "$tool is not installed"; done
[[ -x $cohort_bin ]] || die "$cohort_bin not found or not executable (set COHORT_BIN)"

work=$(mktemp -d "${TMPDIR:-/tmp}/cohort-mail.XXXXXX")
server_pid="" wrk_pid="" smtp_pid=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$wrk_pid"; stop_pid "$server_pid"; stop_pid "$smtp_pid"
  # BENCH_KEEP=1 leaves the files for later (the deletion slows file creation of the next run).
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "mail.sh: kept $work" >&2; else rm -rf "$work"; fi
  exit "$rc"
}
trap_cleanup

admin_token=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$work/data"
db=$work/data/cohort.db
base_url=""
start_server() {  # $1: the config file
  : >"$work/server.out"
  pin 0 "$cohort_bin" --config "$1" --listen 127.0.0.1:0 --rtmp 127.0.0.1:0 --data-dir "$work/data" \
    --admin-token "$admin_token" >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  base_url=""
  for ((i = 0; i < 150; i++)); do
    base_url=$(sed -n 's|.*listening on \(http://[^[:space:]]*\).*|\1|p' "$work/server.out" | head -n1)
    [[ -n $base_url ]] && return 0
    alive "$server_pid" || { cat "$work/server.err" >&2; die "cohort exited before listening"; }
    sleep 0.1
  done
  die "cohort did not print 'listening on' within 15 s"
}
sql() { sqlite3 -cmd '.timeout 5000' "$db" "$@"; }

# --- 1. the mails: one confirmation per signup --------------------------------------------------------
printf '[registration]\nip_per_minute = 0\nseries_per_minute = 0\n' >"$work/signup.toml"
start_server "$work/signup.toml"
starts=$(date -u -d '+7 days' +%Y-%m-%dT18:00:00Z)
create=$(curl -sS -X POST "$base_url/api/webinars" -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
  --data-binary "{\"title\":\"Mail benchmark\",\"description\":\"\",\"capacity\":null,\"weekly\":{\"first_starts_at\":\"$starts\",\"count\":5,\"duration_minutes\":60}}")
webinar_id=$(printf '%s' "$create" | grep -oE '"id"[[:space:]]*:[[:space:]]*[0-9]+' | head -n1 | grep -oE '[0-9]+$') ||
  die "cannot create the series: $create"
COHORT_BENCH_TAG=$(date +%s%N) pin 1 wrk -t1 -c64 -d"${max_seconds}s" -s "$script_dir/signup.lua" "$base_url" -- "$webinar_id" \
  >"$work/wrk.txt" 2>&1 &
wrk_pid=$!
deadline=$((SECONDS + max_seconds))
until (($(sql "SELECT count(*) FROM outbox") >= mails)); do
  ((SECONDS < deadline)) || die "fewer than $mails mails queued within $max_seconds s"
  sleep 0.2
done
stop_pid "$wrk_pid"; wrk_pid=""
stop_pid "$server_pid"; server_pid=""
queued=$(sql "SELECT count(*) FROM outbox")
echo "mail.sh: $queued confirmation mails queued by as many signups ($cohort_bin)"

# --- 2./3. deliver them all, sampled -----------------------------------------------------------------
# Prints "rate cpu_us_per_message": the sent count from its first rise to the total, and the
# server's CPU (utime + stime) over the same stretch.
deliver_all() {  # $1: the config file
  sql "UPDATE outbox SET state = 'queued', attempts = 0, next_attempt_at = 0, sent_at = NULL, last_error = NULL"
  # Moved aside, not deleted: ext4 makes file creation slow for a while after many deletions
  # (inode allocation skips recently deleted inodes), which would be measured instead of the sender.
  mv "$work/data/outbox" "$work/outbox.$SECONDS"
  start_server "$1"
  local deadline=$((SECONDS + max_seconds)) sent=0
  : >"$work/samples.txt"
  while ((sent < queued)); do
    ((SECONDS < deadline)) || die "only $sent of $queued mails sent within $max_seconds s"
    alive "$server_pid" || die "cohort exited while sending"
    sent=$(sql "SELECT count(*) FROM outbox WHERE state = 'sent'")
    printf '%s %s %s\n' "$(date +%s.%N)" "$sent" "$(awk '{ print $14 + $15 }' "/proc/$server_pid/stat")" >>"$work/samples.txt"
    sleep 0.1
  done
  stop_pid "$server_pid"; server_pid=""
  awk -v hz="$(getconf CLK_TCK)" '
    { t[NR] = $1; c[NR] = $2; u[NR] = $3 }
    END {
      for (i = 1; i <= NR && c[i] == 0; i++) {}
      first = (i > 1 ? i - 1 : 1)
      printf "%.0f %.0f\n", (c[NR] - c[first]) / (t[NR] - t[first]), (u[NR] - u[first]) / hz * 1e6 / (c[NR] - c[first])
    }' "$work/samples.txt"
}

printf '[registration]\nip_per_minute = 0\nseries_per_minute = 0\n' >"$work/eml.toml"
read -r eml_rate eml_cpu < <(deliver_all "$work/eml.toml")
eml_files=$(find "$work/data/outbox" -name '*.eml' | wc -l)
echo "mail.sh: .eml: $eml_rate messages/s, $eml_cpu µs server CPU per message ($eml_files files)"

smtp_rows="" smtp_line=""
if [[ $want_smtp == 1 ]] && /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
  smtp_port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  pin 1 /usr/bin/python3 -m aiosmtpd -n -c aiosmtpd.handlers.Sink -l "127.0.0.1:$smtp_port" >"$work/smtp.log" 2>&1 &
  smtp_pid=$!
  for ((i = 0; i < 100; i++)); do (echo >"/dev/tcp/127.0.0.1/$smtp_port") 2>/dev/null && break; sleep 0.1; done
  printf '[registration]\nip_per_minute = 0\nseries_per_minute = 0\n[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = %s\nsmtp_tls = "none"\n' \
    "$smtp_port" >"$work/smtp.toml"
  read -r smtp_rate smtp_cpu < <(deliver_all "$work/smtp.toml")
  stop_pid "$smtp_pid"; smtp_pid=""
  echo "mail.sh: SMTP (aiosmtpd Sink): $smtp_rate messages/s, $smtp_cpu µs server CPU per message"
  smtp_line="| SMTP to a local aiosmtpd (Sink): messages/s (server CPU µs per message) | $smtp_rate ($smtp_cpu) |"
  smtp_rows=",
  {\"server\": \"cohort\", \"figure\": \"smtp_messages_per_s\", \"value\": $smtp_rate, \"unit\": \"1/s\"},
  {\"server\": \"cohort\", \"figure\": \"smtp_cpu_us_per_message\", \"value\": $smtp_cpu, \"unit\": \"us\"}"
fi

cat <<MD

| $commit, $(date -u +%Y-%m-%dT%H:%M:%SZ), $queued confirmation mails | value |
| --- | ---: |
| .eml files (durable): messages/s (server CPU µs per message) | $eml_rate ($eml_cpu) |
$smtp_line
MD
mkdir -p "$(dirname "$result_file")"
cat >"$result_file" <<JSON
{"workload": "mail", "commit": "$commit", "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
 "rows": [
  {"server": "cohort", "figure": "eml_messages_per_s", "value": $eml_rate, "unit": "1/s"},
  {"server": "cohort", "figure": "eml_cpu_us_per_message", "value": $eml_cpu, "unit": "us"}$smtp_rows
 ],
 "notes": ["$queued confirmation mails (calendar invitation included) queued by as many signups, then all put back to queued and delivered after a restart",
           "delivered/s from the outbox's sent rows sampled every 0.1 s, first to last delivery; server pinned to core 0",
           ".eml: each file fsynced, renamed and its directory synced before its row is marked sent; SMTP: python3 -m aiosmtpd -c aiosmtpd.handlers.Sink on core 1, no TLS"]}
JSON
echo "mail.sh: written to $result_file"
