#include "certificates/certificates_api.hpp"

#include "certificates/verification_code.hpp"
#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "common/text.hpp"
#include "registration/registration_store.hpp"

#include <boost/json.hpp>

#include <charconv>

namespace cohort::certificates {
namespace json = boost::json;
using http::api_error;
using http::response;

namespace {

json::value time_or_null(const std::optional<std::int64_t>& t) {
  return t ? json::value(common::format_rfc3339(*t)) : json::value(nullptr);
}

json::value text_or_null(const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); }

const char* status_of(const certificate& c) { return c.revoked() ? "revoked" : "valid"; }

// A code from a path segment; `suffix` (".pdf") must end it. Anything else is an unknown code.
std::string code_param(const http::request& req, std::size_t index, std::string_view suffix = {}) {
  std::string_view raw = req.params.at(index);
  if (!suffix.empty()) {
    if (raw.size() <= suffix.size() || raw.substr(raw.size() - suffix.size()) != suffix) throw common::not_found("no such certificate");
    raw.remove_suffix(suffix.size());
  }
  const auto code = normalize_code(raw);
  if (!code) throw common::not_found("no such certificate");
  return *code;
}


// Everything on record, for the organizer.
json::object organizer_json(const certificate& c) {
  return {{"code", c.code},
          {"status", status_of(c)},
          {"registration_id", c.registration_id},
          {"session_number", c.session_number},
          {"kind", c.kind},
          {"name", c.name},
          {"license_number", c.license_number},
          {"course_title", c.course_title},
          {"session_title", c.session_title},
          {"session_starts_at", common::format_rfc3339(c.session_starts_at)},
          {"contact_hours", c.contact_hours},
          {"ceus", c.ceus},
          {"provider_name", c.provider_name},
          {"provider_number", c.provider_number},
          {"approval_number", c.approval_number},
          {"instructional_level", c.instructional_level},
          {"score_percent", c.score_percent ? json::value(*c.score_percent) : json::value(nullptr)},
          {"issued_at", common::format_rfc3339(c.issued_at)},
          {"revoked_at", time_or_null(c.revoked_at)},
          {"revoked_reason", text_or_null(c.revoked_reason)},
          {"replaced_by", text_or_null(c.replaced_by)},
          {"personal_erased_at", time_or_null(c.personal_erased_at)},
          {"pdf_url", "/api/certificates/" + c.code + ".pdf"}};
}

}  // namespace

void certificates_api::add_routes(http::router& r) {
  using http::access;
  using http::verb;
  r.add(verb::get, "/api/me/certificates", {access::registrant, false}, &certificates_api::mine, this);
  r.add(verb::get, "/api/me/certificates/{code}.pdf", {access::registrant, false}, &certificates_api::my_pdf, this);
  r.add(verb::get, "/api/certificates/{code}.pdf", {access::organizer, false}, &certificates_api::organizer_pdf, this);
  r.add(verb::post, "/api/certificates/{code}/revoke", {access::organizer, true}, &certificates_api::revoke, this);
  r.add(verb::post, "/api/certificates/{code}/reissue", {access::organizer, false}, &certificates_api::reissue, this);
  r.add(verb::get, "/api/verify/{code}", {access::anyone, false}, &certificates_api::verify, this);
  r.add(verb::get, "/api/webinars/{id}/certificates", {access::organizer, false}, &certificates_api::series_json, this);
  r.add(verb::get, "/api/webinars/{id}/certificates.csv", {access::organizer, false}, &certificates_api::series_csv, this);
}

// The registrant's own certificates, every state (a replaced one points at its successor).
void certificates_api::mine(http::request& req, http::responder& respond) {
  auto db = ctx_.readers->acquire();
  if (!registration::find_by_token(*db, req.who.registration_id, req.who.token_nonce_hash))
    throw common::unauthorized("this registration no longer exists");
  json::array items;
  for (const auto& c : certificates_of(*db, req.who.registration_id))
    items.push_back(json::object{{"code", c.code},
                                 {"status", status_of(c)},
                                 {"session_number", c.session_number},
                                 {"session_title", c.session_title},
                                 {"course_title", c.course_title},
                                 {"session_starts_at", common::format_rfc3339(c.session_starts_at)},
                                 {"kind", c.kind},
                                 {"contact_hours", c.contact_hours},
                                 {"ceus", c.ceus},
                                 {"issued_at", common::format_rfc3339(c.issued_at)},
                                 {"revoked_at", time_or_null(c.revoked_at)},
                                 {"replaced_by", text_or_null(c.replaced_by)},
                                 {"pdf_url", c.revoked() ? json::value(nullptr) : json::value("/api/me/certificates/" + c.code + ".pdf")},
                                 {"verify_url", verify_url(c.code)}});
  respond(response::json(200, json::object{{"certificates", std::move(items)}}));
}

http::response certificates_api::pdf_of(const certificate& c) {
  if (c.revoked())
    throw common::gone("certificate " + c.code + " was revoked" + (c.replaced_by.empty() ? "" : "; it was replaced by " + c.replaced_by),
                       "revoked");
  struct render_slot {
    std::atomic<int>& count;
    ~render_slot() { --count; }
  } slot{renders_};
  if (++renders_ > max_renders) throw common::unavailable("certificates are being rendered for others; try again in a moment");
  auto res = response::text(200, ctx_.renderer->render(c, verify_url(c.code)), "application/pdf");
  res.headers.emplace_back("Content-Disposition", "attachment; filename=\"ce-certificate-" + c.code + ".pdf\"");
  res.headers.emplace_back("Cache-Control", "private, no-store");
  return res;
}

// Owner only: another registrant's code is answered like an unknown one.
void certificates_api::my_pdf(http::request& req, http::responder& respond) {
  const auto code = code_param(req, 0, ".pdf");
  std::optional<certificate> c;
  {
    auto db = ctx_.readers->acquire();
    if (!registration::find_by_token(*db, req.who.registration_id, req.who.token_nonce_hash))
      throw common::unauthorized("this registration no longer exists");
    c = find_certificate(*db, code);
  }
  if (!c || c->registration_id != req.who.registration_id) throw common::not_found("no such certificate");
  respond(pdf_of(*c));
}

void certificates_api::organizer_pdf(http::request& req, http::responder& respond) {
  const auto code = code_param(req, 0, ".pdf");
  std::optional<certificate> c;
  {
    auto db = ctx_.readers->acquire();
    c = find_certificate(*db, code);
  }
  if (!c) throw common::not_found("no such certificate");
  respond(pdf_of(*c));
}

// Public: what the certificate says about the credit, nothing that identifies beyond the name
// (no email, no license number), and no name once the records policy erased it.
void certificates_api::verify(http::request& req, http::responder& respond) {
  const auto code = code_param(req, 0);
  std::optional<certificate> c;
  {
    auto db = ctx_.readers->acquire();
    c = find_certificate(*db, code);
  }
  if (!c) throw common::not_found("no certificate has this code");
  json::object out{{"code", c->code},
                   {"status", status_of(*c)},
                   {"name", c->personal_erased_at ? json::value(nullptr) : json::value(c->name)},
                   {"course_title", c->course_title},
                   {"session_title", c->session_title},
                   {"date", c->session_date},
                   {"contact_hours", c->contact_hours},
                   {"ceus", c->ceus},
                   {"kind", c->kind},
                   {"issued_at", common::format_rfc3339(c->issued_at)}};
  if (c->revoked()) {
    out["revoked_at"] = common::format_rfc3339(*c->revoked_at);
    out["replaced_by"] = text_or_null(c->replaced_by);
  }
  if (c->personal_erased_at)
    out["note"] = "The provider's records policy keeps only the credit itself: the learner's personal details were erased.";
  auto res = response::json(200, out);
  res.headers.emplace_back("X-Robots-Tag", "noindex");
  res.headers.emplace_back("Cache-Control", "no-store");
  respond(std::move(res));
}

void certificates_api::series_json(http::request& req, http::responder& respond) {
  const int session = req.session_query().value_or(0);
  auto db = ctx_.readers->acquire();
  json::array items;
  for (const auto& c : certificates_of_series(*db, req.id_param(0), session)) items.push_back(organizer_json(c));
  respond(response::json(200, json::object{{"webinar_id", req.id_param(0)}, {"certificates", std::move(items)}}));
}

void certificates_api::series_csv(http::request& req, http::responder& respond) {
  const int session = req.session_query().value_or(0);
  auto db = ctx_.readers->acquire();
  const auto webinar_id = req.id_param(0);
  auto res = response::text(200, certificates_csv(certificates_of_series(*db, webinar_id, session)), "text/csv; charset=utf-8");
  res.headers.emplace_back("Content-Disposition", "attachment; filename=\"webinar-" + std::to_string(webinar_id) + "-certificates.csv\"");
  respond(std::move(res));
}

void certificates_api::revoke(http::request& req, http::responder& respond) {
  const auto code = code_param(req, 0);
  const auto* v = req.json.if_contains("reason");
  if (v && !v->is_string()) throw common::invalid("reason", "reason must be a string");
  const auto reason = common::required_text(v ? std::string_view(v->get_string()) : std::string_view(), "reason", 500);
  registration::queue_write<certificate>(
      ctx_.writes, respond,
      [code, reason](store::database& db) { return certificates::revoke(db, code, reason, common::unix_now()); },
      [](certificate& c) { return response::json(200, organizer_json(c)); });
}

void certificates_api::reissue(http::request& req, http::responder& respond) {
  const auto code = code_param(req, 0);
  registration::queue_write<certificate>(
      ctx_.writes, respond,
      [code, hook = ctx_.on_issued](store::database& db) { return certificates::reissue(db, code, common::unix_now(), hook); },
      [](certificate& c) { return response::json(201, organizer_json(c)); });
}

}  // namespace cohort::certificates
