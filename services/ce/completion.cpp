#include "ce/completion.hpp"

#include <algorithm>

namespace cohort::ce {

std::string_view to_string(state s) {
  switch (s) {
    case state::upcoming: return "upcoming";
    case state::in_progress: return "in_progress";
    case state::complete: return "complete";
    case state::failed: return "failed";
  }
  return "in_progress";
}

std::string_view to_string(credit_kind k) {
  switch (k) {
    case credit_kind::live: return "live";
    case credit_kind::recorded: return "recorded";
    case credit_kind::none: return "none";
  }
  return "none";
}

std::int64_t live_threshold(int min_percent, int duration_minutes) {
  const std::int64_t scaled = std::int64_t{min_percent} * duration_minutes;
  return (scaled + 99) / 100;
}

bool replay_met(int min_percent, std::int64_t seen, std::int64_t total) {
  return total > 0 && seen * 100 >= std::int64_t{min_percent} * total;
}

namespace {

std::string minutes_of(const session_facts& f) {
  return "attended " + std::to_string(f.live_minutes) + " of " + std::to_string(f.duration_minutes) + " minutes";
}

std::string watch_rule(const rule& r, const progress& p, const session_facts& f) {
  if (f.replay_segments_total == 0) return "once it is published (watch " + std::to_string(r.min_percent) + " % of it)";
  return "(watch " + std::to_string(r.min_percent) + " % of it; " + std::to_string(p.replay_percent) + " % watched so far)";
}

// What the viewing rule still asks for once the session has ended without credit.
missing_item viewing_missing(const rule& r, const progress& p, const session_facts& f) {
  const auto needed = std::to_string(p.live_threshold);
  if (r.live_credit && r.recorded_credit)
    return {"attendance", minutes_of(f) + " — the replay can still earn recorded credit " + watch_rule(r, p, f)};
  if (r.live_credit)
    return {"attendance", minutes_of(f) + " — " + needed + " were needed for live credit, and this series offers no recorded credit"};
  if (r.recorded_credit) return {"replay", "watch the replay for recorded credit " + watch_rule(r, p, f)};
  return {"attendance", "this series offers neither live nor recorded credit"};
}

void add_test_missing(const rule& r, const session_facts& f, progress& p, bool ended, bool& exhausted) {
  if (!r.test_required || f.test_passed) return;
  if (f.questions == 0) {
    p.missing.push_back({"test_unpublished", "post-test not published yet"});
    return;
  }
  const auto mark = "pass mark " + std::to_string(r.pass_percent) + " %";
  if (f.attempts_used >= r.attempts_max) {
    exhausted = true;
    p.missing.push_back({"test", "post-test: not passed — all " + std::to_string(r.attempts_max) + " attempts used (" + mark + ")"});
    return;
  }
  auto text = "post-test: not passed yet (" + std::to_string(f.attempts_used) + " of " + std::to_string(r.attempts_max) +
              " attempts used, " + mark + ")";
  if (!p.test_open) text += ended ? " — it opens once the viewing rule above is met" : " — it opens when the session ends";
  p.missing.push_back({"test", std::move(text)});
}

}  // namespace

progress evaluate(const rule& r, const session_facts& f) {
  progress p;
  p.live_threshold = live_threshold(r.min_percent, f.duration_minutes);
  if (f.replay_segments_total > 0)
    p.replay_percent = static_cast<int>(std::min<std::int64_t>(100, f.replay_segments_seen * 100 / f.replay_segments_total));
  const bool started = f.now >= f.starts_at;
  const bool ended = f.now >= f.ends_at();
  const bool live_met = f.live_minutes >= p.live_threshold;
  const bool recorded_met = replay_met(r.min_percent, f.replay_segments_seen, f.replay_segments_total);

  if (r.live_credit && live_met) p.kind = credit_kind::live;
  else if (ended && r.recorded_credit && recorded_met) p.kind = credit_kind::recorded;
  p.test_open = ended && (live_met || (r.recorded_credit && recorded_met));

  if (!started) p.missing.push_back({"upcoming", "the session has not started yet"});
  else if (!ended && p.kind == credit_kind::none)
    p.missing.push_back({"attendance", minutes_of(f) + " so far (" + std::to_string(p.live_threshold) + " needed for live credit)"});
  else if (!ended)
    p.missing.push_back({"in_session", minutes_of(f) + " so far — enough for live credit; the session is still running"});
  else if (ended && p.kind == credit_kind::none)
    p.missing.push_back(viewing_missing(r, p, f));

  bool exhausted = false;
  add_test_missing(r, f, p, ended, exhausted);
  if (r.evaluation_required && f.evaluation_items > 0 && !f.evaluation_submitted)
    p.missing.push_back({"evaluation", "evaluation not submitted"});
  if (r.attestation_required && !f.attested) p.missing.push_back({"attestation", "attestation not ticked"});

  if (!started) p.where = state::upcoming;
  else if (exhausted) p.where = state::failed;
  else if (ended && p.kind != credit_kind::none && p.missing.empty()) p.where = state::complete;
  else p.where = state::in_progress;
  return p;
}

}  // namespace cohort::ce
