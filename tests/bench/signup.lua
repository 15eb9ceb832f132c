-- wrk script: one signup per request, POST /api/webinars/{id}/registrations.
-- Every request gets a unique email: run tag + wrk thread id + per-thread counter.
--   wrk -t2 -c64 -d10s --latency -s tests/bench/signup.lua http://127.0.0.1:PORT -- WEBINAR_ID
-- The webinar id may also come from the environment (COHORT_WEBINAR_ID); default 1.

local thread_count = 0

-- Runs in the main Lua state once per thread before the run: hands each thread its id.
function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
end

-- Runs in each thread's own Lua state.
function init(args)
  webinar_id = tonumber(args[1] or os.getenv("COHORT_WEBINAR_ID") or "1")
  -- Seconds since the epoch, so reruns against the same database do not collide with old emails.
  run_tag = os.getenv("COHORT_BENCH_TAG") or tostring(os.time())
  counter = 0
  path = "/api/webinars/" .. webinar_id .. "/registrations"
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"name":"Bench Signup %d-%d","email":"bench-%s-t%d-%d@example.com","profession":"Occupational therapist","consent":true}',
    thread_id, counter, run_tag, thread_id, counter)
  return wrk.format("POST", path, headers, body)
end

-- Runs in the main state after the run: a machine-readable summary for run.sh.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "signup.lua: requests=%d duration_us=%d non2xx=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
