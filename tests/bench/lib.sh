# Shell helpers the bench scripts share (hls.sh, mail.sh, signups_capacity.sh): sourced, not run.

# True while the process exists and is not a zombie waiting to be reaped.
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1; [[ -n $s && $s != Z* ]]; }

# SIGTERM, up to 5 s for a graceful exit, then SIGKILL; reaps it. Empty pid: nothing to do.
stop_pid() {
  local pid=$1 i
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
  alive "$pid" && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}

# Only as `pin CORE cmd... &`: the background subshell becomes cmd (exec), so $! is cmd's own pid.
pin() { if command -v taskset >/dev/null && (($(nproc) > 1)); then exec taskset -c "$1" "${@:2}"; else exec "${@:2}"; fi; }

# The caller's cleanup function runs on every way out; a signal exits with its conventional status.
trap_cleanup() {
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
