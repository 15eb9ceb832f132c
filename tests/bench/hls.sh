#!/usr/bin/env bash
# HLS benchmark (run by hand, not a timed test; see tests/bench/README.md, section "HLS").
#
# 1. Time to live: a real RTMP publish (ffmpeg, a pre-encoded FLV sent with -re, like OBS) with
#    audio, then one without audio; the time from the publisher's start to the first 200 of the
#    live playlist, polled every 50 ms.
# 2. Segments per CPU-second: while a publish runs, wrk fetches one signed live segment URL
#    (server pinned to core 0, wrk to core 1); then a minimal nginx (one worker, sendfile on,
#    pinned to core 0) serves the same bytes from tmpfs to the same wrk. For each: requests/s,
#    p99, and requests per server CPU-second (utime+stime from /proc, all the server's processes).
# Writes tests/bench/results/hls.json (format: tests/bench/README.md) and prints a markdown table.
#
# Environment: COHORT_BIN (default build/cohort), COHORT_BASE_BIN (optional: a second Cohort
# binary measured the same way, row "cohort-base", for before/after), BENCH_CONNECTIONS (50),
# BENCH_DURATION (10s), BENCH_SEGMENT_KBIT (800: the video bit rate, ~100 KB per 1 s segment),
# BENCH_SKIP_TTL=1 skips the time-to-live part, BENCH_SKIP_NGINX=1 skips nginx, BENCH_PERF_DIR=dir
# records `perf record -g` of each server during its wrk run into dir/perf-<server>.data,
# COHORT_WRAP="valgrind --tool=callgrind ..." runs Cohort under that command; with callgrind the
# counts are zeroed before the wrk run and dumped after it (user-space instructions per request).
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$script_dir/lib.sh"
repo_root=$(cd "$script_dir/../.." && pwd)
cohort_bin=${COHORT_BIN:-$repo_root/build/cohort}
base_bin=${COHORT_BASE_BIN:-}
connections=${BENCH_CONNECTIONS:-50}
duration=${BENCH_DURATION:-10s}
kbit=${BENCH_SEGMENT_KBIT:-800}
results_dir=${BENCH_RESULTS:-$repo_root/tests/bench/results}  # tests/bench/run passes its own

die() { echo "hls.sh: $*" >&2; exit 1; }
for tool in wrk curl ffmpeg taskset awk; do command -v "$tool" >/dev/null || die "$tool is not installed"; done
[[ ${BENCH_SKIP_NGINX:-0} == 1 ]] || command -v nginx >/dev/null || die "nginx is not installed (or BENCH_SKIP_NGINX=1)"
[[ -x $cohort_bin ]] || die "$cohort_bin not found: build the server first (or set COHORT_BIN)"

work=$(mktemp -d "${TMPDIR:-/tmp}/cohort-hls-bench.XXXXXX")
shm=$(mktemp -d /dev/shm/cohort-hls-bench.XXXXXX)
server_pid="" publisher_pid="" nginx_pid=""
tck=$(getconf CLK_TCK)
rows=() notes=()

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$publisher_pid"; stop_pid "$server_pid"; stop_pid "$nginx_pid"
  rm -rf "$work" "$shm"
  exit "$rc"
}
trap_cleanup

# utime+stime in ticks of a process and its direct children (nginx: master + worker).
cpu_ticks() {
  local total=0 p
  for p in "$1" $(pgrep -P "$1" 2>/dev/null || true); do
    [[ -r /proc/$p/stat ]] || continue
    # Fields after the ")" of the command name: utime is the 12th, stime the 13th.
    total=$((total + $(sed 's/.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }')))
  done
  echo "$total"
}
now_ms() { date +%s%3N; }

# --- the publisher's input, encoded once: 1 s GOPs like an OBS "keyframe interval 1" ---------------
echo "hls.sh: encoding the test input (${kbit} kbit/s video)"
ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440 -t 120 \
  -pix_fmt yuv420p -c:v libx264 -preset ultrafast -tune zerolatency -g 30 -b:v "${kbit}k" -maxrate "${kbit}k" \
  -bufsize "${kbit}k" -c:a aac -b:a 64k -f flv "$work/av.flv"
ffmpeg -hide_banner -loglevel error -i "$work/av.flv" -c copy -an -f flv "$work/video.flv"

start_cohort() {  # $1 binary; sets server_pid, base_url, rtmp_url, admin_token
  admin_token=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
  rm -rf "$work/data" && mkdir -p "$work/data"
  # One io thread (pinned: one core, like nginx's one worker); a window of 60 s so the segment
  # under test stays in memory through the wrk run.
  printf '[server]\nio_threads = 1\n[streaming]\nlive_segments = 60\nsegment_seconds = 1\n' >"$work/bench.toml"
  taskset -c 0 ${COHORT_WRAP:-} "$1" --config "$work/bench.toml" --listen 127.0.0.1:0 --rtmp 127.0.0.1:0 --data-dir "$work/data" \
    --admin-token "$admin_token" >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  base_url="" rtmp_url=""
  for ((i = 0; i < 600; i++)); do
    base_url=$(sed -n 's|.*listening on \(http://[^[:space:]]*\).*|\1|p' "$work/server.out" | head -n1)
    rtmp_url=$(sed -n 's|.*rtmp ingest on \(rtmp://[^[:space:]]*\).*|\1|p' "$work/server.out" | head -n1)
    [[ -n $base_url && -n $rtmp_url ]] && break
    alive "$server_pid" || { cat "$work/server.err" >&2; die "cohort exited before listening"; }
    sleep 0.1
  done
  [[ -n $base_url ]] || die "cohort did not print 'listening on' within 60 s"
}

# A webinar with a session running now and its stream key; sets webinar_id, stream_key.
new_live_webinar() {
  local starts body resp
  starts=$(date -u -d '-5 minutes' +%Y-%m-%dT%H:%M:%SZ)
  body=$(printf '{"title":"HLS bench","description":"","capacity":null,"sessions":[{"starts_at":"%s","duration_minutes":60}]}' "$starts")
  resp=$(curl -sS -X POST "$base_url/api/webinars" -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' --data-binary "$body")
  webinar_id=$(printf '%s' "$resp" | grep -oE '"id"[[:space:]]*:[[:space:]]*[0-9]+' | head -n1 | grep -oE '[0-9]+$') || die "no webinar: $resp"
  resp=$(curl -sS -X POST "$base_url/api/webinars/$webinar_id/stream-key" -H "Authorization: Bearer $admin_token" -H 'Content-Length: 0')
  stream_key=$(printf '%s' "$resp" | sed -n 's/.*"stream_key"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')
  [[ -n $stream_key ]] || die "no stream key: $resp"
}

# Publishes $1 (looped, real time) and prints the ms until the live playlist first answers 200.
publish_and_time() {
  local input=$1 t0 code
  t0=$(now_ms)
  taskset -c 1 ffmpeg -hide_banner -loglevel error -re -stream_loop -1 -i "$input" -c copy -f flv "$rtmp_url/$stream_key" \
    </dev/null >/dev/null 2>"$work/publisher.err" &
  publisher_pid=$!
  for ((i = 0; i < 400; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base_url/live/$webinar_id/index.m3u8?token=$admin_token")
    [[ $code == 200 ]] && { echo $(($(now_ms) - t0)); return 0; }
    alive "$publisher_pid" || { cat "$work/publisher.err" >&2; die "the publisher exited"; }
    sleep 0.05
  done
  die "not live within 20 s"
}

# wrk against $1 (URL); the server's pid is $2. Appends rows for server label $3.
measure() {
  local url=$1 pid=$2 label=$3 before after out rps p99 total cpu_s
  taskset -c 1 wrk -t1 -c"$connections" -d2s "$url" >/dev/null  # warm-up
  local perf_pid=""
  if [[ -n ${BENCH_PERF_DIR:-} ]]; then
    perf record -F 999 -g -o "$BENCH_PERF_DIR/perf-$label.data" -p "$pid" 2>/dev/null &
    perf_pid=$!
  fi
  [[ ${COHORT_WRAP:-} == *callgrind* && $label != nginx ]] && callgrind_control -z "$pid" >/dev/null
  before=$(cpu_ticks "$pid")
  out=$(taskset -c 1 wrk -t1 -c"$connections" -d"$duration" --latency "$url")
  after=$(cpu_ticks "$pid")
  [[ ${COHORT_WRAP:-} == *callgrind* && $label != nginx ]] && callgrind_control -d "$pid" >/dev/null
  [[ -n $perf_pid ]] && { kill -INT "$perf_pid"; wait "$perf_pid" || true; }
  echo "$out" >"$work/wrk-$label.txt"
  grep -qE 'Non-2xx|Socket errors' <<<"$out" && { echo "$out" >&2; die "$label: wrk saw errors or non-2xx answers"; }
  rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  total=$(awk '/requests in/ { print $1 }' <<<"$out")
  pct_ms() { awk -v p="$1" '$1 == p { v = $2; if (v ~ /us$/) x = v / 1000; else if (v ~ /ms$/) x = v + 0; else if (v ~ /m$/) x = v * 60000; else x = v * 1000; printf "%.3f", x }' <<<"$out"; }
  p50=$(pct_ms 50%)
  p99=$(pct_ms 99%)
  cpu_s=$(awk -v t="$((after - before))" -v hz="$tck" 'BEGIN { printf "%.2f", t / hz }')
  local per_cpu
  per_cpu=$(awk -v n="$total" -v c="$cpu_s" 'BEGIN { if (c > 0) printf "%.0f", n / c; else print 0 }')
  printf '| %s | %s | %s ms | %s ms | %s | %s s | %s |\n' "$label" "$rps" "$p50" "$p99" "$total" "$cpu_s" "$per_cpu" >>"$work/table.md"
  rows+=("{\"server\":\"$label\",\"figure\":\"requests_per_s\",\"value\":$rps,\"unit\":\"1/s\"}"
         "{\"server\":\"$label\",\"figure\":\"p50_ms\",\"value\":$p50,\"unit\":\"ms\"}"
         "{\"server\":\"$label\",\"figure\":\"p99_ms\",\"value\":$p99,\"unit\":\"ms\"}"
         "{\"server\":\"$label\",\"figure\":\"requests_per_cpu_s\",\"value\":$per_cpu,\"unit\":\"1/cpu-s\"}"
         "{\"server\":\"$label\",\"figure\":\"server_cpu_s\",\"value\":$cpu_s,\"unit\":\"s\"}")
}

segment_bytes=0
run_cohort() {  # $1 binary, $2 label
  local bin=$1 label=$2 ttl_av ttl_v playlist uri url
  start_cohort "$bin"
  echo "hls.sh: $label ($bin) listening on $base_url, rtmp $rtmp_url"
  if [[ ${BENCH_SKIP_TTL:-0} != 1 ]]; then
    new_live_webinar
    ttl_av=$(publish_and_time "$work/av.flv")
    stop_pid "$publisher_pid"; publisher_pid=""
    new_live_webinar
    ttl_v=$(publish_and_time "$work/video.flv")
    stop_pid "$publisher_pid"; publisher_pid=""
    echo "hls.sh: $label time to live: ${ttl_av} ms with audio, ${ttl_v} ms without"
    printf '| %s | %s ms | %s ms |\n' "$label" "$ttl_av" "$ttl_v" >>"$work/ttl.md"
    rows+=("{\"server\":\"$label\",\"figure\":\"time_to_live_audio_video_ms\",\"value\":$ttl_av,\"unit\":\"ms\"}"
           "{\"server\":\"$label\",\"figure\":\"time_to_live_video_only_ms\",\"value\":$ttl_v,\"unit\":\"ms\"}")
  fi
  new_live_webinar
  publish_and_time "$work/av.flv" >/dev/null
  sleep 2  # a few full-size segments
  playlist=$(curl -sS "$base_url/live/$webinar_id/index.m3u8?token=$admin_token")
  uri=$(grep -v '^#' <<<"$playlist" | grep -v '^$' | tail -n1)
  [[ -n $uri ]] || die "no segment in the playlist: $playlist"
  url="$base_url/live/$webinar_id/$uri"
  curl -sS -o "$shm/segment.m4s" "$url"
  segment_bytes=$(stat -c %s "$shm/segment.m4s")
  echo "hls.sh: $label: wrk on $uri ($segment_bytes bytes)"
  [[ -n ${BENCH_SHOW_HEADERS:-} ]] && curl -sS -D - -o /dev/null "$url"
  measure "$url" "$server_pid" "$label"
  stop_pid "$publisher_pid"; publisher_pid=""
  stop_pid "$server_pid"; server_pid=""
}

: >"$work/table.md"; : >"$work/ttl.md"
run_cohort "$cohort_bin" cohort
[[ -n $base_bin ]] && run_cohort "$base_bin" cohort-base

if [[ ${BENCH_SKIP_NGINX:-0} != 1 ]]; then
  # The same bytes (the last segment fetched from Cohort) from tmpfs.
  mkdir -p "$work/nginx"
  cat >"$work/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
user $(id -un);
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx/tmp; proxy_temp_path $work/nginx/tmp; fastcgi_temp_path $work/nginx/tmp;
  uwsgi_temp_path $work/nginx/tmp; scgi_temp_path $work/nginx/tmp;
  types { video/mp4 m4s; }
  server {
    listen 127.0.0.1:0;
    root $shm;
    add_header Cache-Control "public, max-age=3600, immutable";
  }
}
EOF
  # nginx cannot listen on port 0: pick a free port.
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  sed -i "s/listen 127.0.0.1:0;/listen 127.0.0.1:$port;/" "$work/nginx/nginx.conf"
  taskset -c 0 nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>"$work/nginx/stderr" &
  nginx_pid=$!
  for ((i = 0; i < 50; i++)); do curl -sf -o /dev/null "http://127.0.0.1:$port/segment.m4s" && break; sleep 0.1; done
  curl -sf -o /dev/null "http://127.0.0.1:$port/segment.m4s" || { cat "$work/nginx/stderr" "$work/nginx/error.log" >&2; die "nginx did not start"; }
  echo "hls.sh: nginx on port $port"
  measure "http://127.0.0.1:$port/segment.m4s" "$nginx_pid" nginx
  stop_pid "$nginx_pid"; nginx_pid=""
fi

echo
echo "## HLS: one ${segment_bytes}-byte segment, wrk -t1 -c$connections -d$duration (core 1), server on core 0"
echo
echo "| server | requests/s | p50 | p99 | requests | server CPU | requests per server CPU-second |"
echo "|---|---|---|---|---|---|---|"
cat "$work/table.md"
if [[ -s $work/ttl.md ]]; then
  echo
  echo "## Time to live (publisher start to the first 200 of the live playlist)"
  echo
  echo "| server | with audio | without audio |"
  echo "|---|---|---|"
  cat "$work/ttl.md"
fi

mkdir -p "$results_dir"
commit=$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)
{
  printf '{"workload":"hls","commit":"%s","date":"%s","rows":[' "$commit" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  (IFS=,; printf '%s' "${rows[*]}")
  printf '],"notes":["one %s-byte live segment (signed URL) vs the same bytes from nginx (1 worker, sendfile, tmpfs)",' "$segment_bytes"
  printf '"wrk -t1 -c%s -d%s on core 1, server on core 0; CPU = utime+stime of the server processes during the run",' "$connections" "$duration"
  printf '"time to live: publisher (ffmpeg -re, pre-encoded FLV, 1 s GOP) start to the first 200 of index.m3u8"]}\n'
} >"$results_dir/hls.json"
echo
echo "hls.sh: wrote $results_dir/hls.json"
