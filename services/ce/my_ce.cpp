#include "ce/my_ce.hpp"

#include "common/errors.hpp"
#include "common/rfc3339.hpp"

namespace cohort::ce {
namespace json = boost::json;

namespace {

json::value certificate_json(const std::optional<certificate_ref>& cert) {
  if (!cert || cert->revoked_at) return nullptr;
  return json::object{{"code", cert->code},
                      {"kind", cert->kind},
                      {"issued_at", common::format_rfc3339(cert->issued_at)},
                      {"pdf", "/api/me/certificates/" + cert->code + ".pdf"},
                      {"verify", "/verify/" + cert->code}};
}

json::value optional_int(const std::optional<int>& v) { return v ? json::value(*v) : json::value(nullptr); }

}  // namespace

json::object session_json(const settings& ce, std::int64_t webinar_id, const registration::session_slot& slot,
                          const session_facts& f, const progress& p, const std::optional<certificate_ref>& cert) {
  const auto* ss = ce.session(slot.number);
  const double hours = contact_hours(ce, slot);
  json::array missing;
  for (const auto& m : p.missing) missing.push_back(json::object{{"code", m.code}, {"text", m.text}});
  if (cert && cert->revoked_at)
    missing.push_back(json::object{{"code", "certificate_revoked"}, {"text", "the certificate for this session was revoked by the provider"}});
  return {{"webinar_id", webinar_id},
          {"number", slot.number},
          {"title", ss ? ss->title : std::string()},
          {"approval_number", ss ? ss->approval_number : std::string()},
          {"starts_at", common::format_rfc3339(slot.starts_at)},
          {"ends_at", common::format_rfc3339(slot.ends_at())},
          {"duration_minutes", slot.duration_minutes},
          {"contact_hours", round2(hours)},
          {"ceus", ceus(ce, hours)},
          {"minutes_attended", f.live_minutes},
          {"minutes_needed", p.live_threshold},
          {"replay_available", f.replay_segments_total > 0},
          {"replay_percent", p.replay_percent},
          {"state", to_string(p.where)},
          {"kind", to_string(p.kind)},
          {"missing", std::move(missing)},
          {"test",
           json::object{{"required", ce.test_required},
                        {"published", f.questions > 0},
                        {"open", p.test_open},
                        {"passed", f.test_passed},
                        {"best_score", optional_int(f.best_score)},
                        {"attempts_used", f.attempts_used},
                        {"attempts_max", ce.attempts_max},
                        {"pass_percent", ce.pass_percent}}},
          {"evaluation", json::object{{"required", ce.evaluation_required && f.evaluation_items > 0}, {"submitted", f.evaluation_submitted}}},
          {"attestation",
           json::object{{"text", ce.attestation}, {"ticked", f.attested}, {"can_tick", !ce.attestation.empty() && f.now >= f.ends_at()}}},
          {"certificate", certificate_json(cert)}};
}

my_ce build_my_ce(store::database& db, std::int64_t webinar_id, std::int64_t registration_id, std::int64_t now) {
  const auto w = registration::find_webinar(db, webinar_id);
  if (!w) throw common::not_found("no webinar " + std::to_string(webinar_id));
  const auto ce = load_settings(db, webinar_id);
  my_ce out;
  json::array sessions;
  if (ce.offered) {
    for (const auto& slot : w->sessions) {
      const auto f = load_facts(db, webinar_id, registration_id, slot, now);
      const auto p = evaluate(ce.completion_rule(), f);
      const auto cert = find_certificate(db, registration_id, slot.number);
      if (p.where == state::complete && !cert) out.to_settle.push_back(slot.number);
      sessions.push_back(session_json(ce, webinar_id, slot, f, p, cert));
    }
  }
  out.body = {{"webinar_id", webinar_id},
              {"title", w->title},
              {"registration_id", registration_id},
              {"ce", summary_json(ce, *w)},
              {"statement", ce.offered ? ce.statement : std::string()},
              {"sessions", std::move(sessions)}};
  return out;
}

}  // namespace cohort::ce
