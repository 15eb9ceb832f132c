#include "registration/registration_api.hpp"

#include "common/bytes.hpp"
#include "common/csv.hpp"
#include "common/describe.hpp"
#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "common/text.hpp"
#include "common/time_zone.hpp"
#include "metrics/metrics.hpp"
#include "registration/api_support.hpp"
#include "registration/question_store.hpp"
#include "registration/registration_store.hpp"
#include "registration/validation.hpp"
#include "registration/webinar_store.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <iostream>

namespace cohort::registration {
namespace json = boost::json;
using http::api_error;
using common::append_csv_row;
using common::format_rfc3339;
using common::optional_text;
using common::parse_rfc3339;
using common::required_text;
using common::time_zone;
using common::trim;
using common::unix_now;
using http::response;

namespace {

// --- reading request bodies -------------------------------------------------------------

const json::value* member(const json::object& obj, std::string_view key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &it->value();
}

std::string string_member(const json::object& obj, std::string_view key, const std::string& field, bool required) {
  const auto* v = member(obj, key);
  if (!v || v->is_null()) {
    if (required) throw common::invalid(field, field + " is required");
    return {};
  }
  if (!v->is_string()) throw common::invalid(field, field + " must be a string");
  return std::string(v->get_string());
}

std::int64_t int_member(const json::value* v, const std::string& field, std::int64_t lo, std::int64_t hi) {
  if (!v) throw common::invalid(field, field + " is required");
  std::int64_t n;
  if (v->is_int64()) n = v->get_int64();
  else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(hi)) n = static_cast<std::int64_t>(v->get_uint64());
  else throw common::invalid(field, field + " must be an integer between " + std::to_string(lo) + " and " + std::to_string(hi));
  if (n < lo || n > hi)
    throw common::invalid(field, field + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return n;
}

std::int64_t time_member(const json::value* v, const std::string& field) {
  if (!v || !v->is_string()) throw common::invalid(field, field + " must be an RFC 3339 date-time string");
  auto t = parse_rfc3339(v->get_string());
  if (!t) throw common::invalid(field, field + " must be an RFC 3339 date-time such as 2026-12-03T18:00:00Z");
  return *t;
}

std::optional<std::int64_t> capacity_member(const json::value* v) {
  if (!v || v->is_null()) return std::nullopt;
  return int_member(v, "capacity", 1, 100000);
}

// Either "sessions": [...] or "weekly": {...}; nullopt when neither is present and !required.
std::optional<std::vector<session_slot>> sessions_member(const json::object& obj, bool required) {
  const auto* list = member(obj, "sessions");
  const auto* weekly = member(obj, "weekly");
  if (list && weekly) throw common::invalid("sessions", "give either sessions or weekly, not both");
  std::vector<session_slot> out;
  if (list) {
    if (!list->is_array() || list->get_array().empty() || list->get_array().size() > 100)
      throw common::invalid("sessions", "sessions must be a list of 1 to 100 sessions");
    std::size_t i = 0;
    for (const auto& item : list->get_array()) {
      const std::string prefix = "sessions[" + std::to_string(i++) + "]";
      if (!item.is_object()) throw common::invalid(prefix, prefix + " must be an object");
      const auto& s = item.get_object();
      session_slot slot;
      slot.starts_at = time_member(member(s, "starts_at"), prefix + ".starts_at");
      const auto* d = member(s, "duration_minutes");
      slot.duration_minutes = d ? static_cast<int>(int_member(d, prefix + ".duration_minutes", 1, 1440)) : 60;
      out.push_back(slot);
    }
    return out;
  }
  if (weekly) {
    if (!weekly->is_object()) throw common::invalid("weekly", "weekly must be an object");
    const auto& w = weekly->get_object();
    const auto first = time_member(member(w, "first_starts_at"), "weekly.first_starts_at");
    const auto count = int_member(member(w, "count"), "weekly.count", 1, 52);
    const auto* d = member(w, "duration_minutes");
    const int duration = d ? static_cast<int>(int_member(d, "weekly.duration_minutes", 1, 1440)) : 60;
    for (std::int64_t k = 0; k < count; ++k) out.push_back(session_slot{0, first + k * 7 * 86400, duration});
    return out;
  }
  if (required) throw common::invalid("sessions", "sessions (or weekly) is required");
  return std::nullopt;
}

webinar_input read_webinar_input(const json::object& body) {
  webinar_input in;
  in.title = required_text(string_member(body, "title", "title", true), "title", 200);
  in.description = optional_text(string_member(body, "description", "description", false), "description", 5000, true);
  in.capacity = capacity_member(member(body, "capacity"));
  in.sessions = *sessions_member(body, true);
  return in;
}

webinar_patch read_webinar_patch(const json::object& body) {
  webinar_patch p;
  if (member(body, "title")) p.title = required_text(string_member(body, "title", "title", true), "title", 200);
  if (member(body, "description"))
    p.description = optional_text(string_member(body, "description", "description", false), "description", 5000, true);
  if (member(body, "capacity")) p.capacity = capacity_member(member(body, "capacity"));
  p.sessions = sessions_member(body, false);
  return p;
}

signup_input read_signup(const json::object& body) {
  signup_input in;
  in.name = required_text(string_member(body, "name", "name", true), "name", 200);
  const auto email = string_member(body, "email", "email", true);
  auto key = email_key(email);
  if (!key) throw common::invalid("email", "email must be a valid address such as name@example.org");
  if (!mailable_address(*key))
    throw common::invalid("email", "email must be written in plain ASCII: this server cannot send mail to addresses with accents "
                                    "or non-Latin letters (for an international domain, use its xn-- form)");
  in.email = trim(email);
  in.email_key = std::move(*key);
  in.profession = optional_text(string_member(body, "profession", "profession", false), "profession", 200);
  // The browser's zone (Intl), for times in mail. One this server's tz database does not know
  // is dropped (UTC is used), never a reason to refuse the signup.
  const auto zone = string_member(body, "time_zone", "time_zone", false);
  if (zone.size() > 64) throw common::invalid("time_zone", "time_zone must be an IANA zone name such as America/Chicago");
  if (!zone.empty() && time_zone::find(zone)) in.time_zone = zone;
  const auto* consent = member(body, "consent");
  if (!consent || !consent->is_bool() || !consent->get_bool())
    throw common::invalid("consent", "consent must be true to register");
  return in;
}

// --- writing responses ---------------------------------------------------------------------

json::object webinar_json(const webinar& w, std::int64_t now) {
  json::array sessions;
  for (const auto& s : w.sessions)
    sessions.push_back(json::object{{"number", s.number},
                                    {"starts_at", format_rfc3339(s.starts_at)},
                                    {"ends_at", format_rfc3339(s.ends_at())},
                                    {"duration_minutes", s.duration_minutes}});
  json::object out{{"id", w.id},
                   {"title", w.title},
                   {"description", w.description},
                   {"capacity", nullptr},
                   {"registered", w.registered},
                   {"waitlisted", w.waitlisted},
                   {"seats_left", nullptr},
                   {"sessions", std::move(sessions)},
                   {"next_session_at", nullptr},
                   {"created_at", format_rfc3339(w.created_at)}};
  if (w.capacity) out["capacity"] = *w.capacity;
  if (auto left = w.seats_left()) out["seats_left"] = *left;
  if (auto next = w.next_session_at(now)) out["next_session_at"] = format_rfc3339(*next);
  return out;
}

json::object registration_json(const registration_record& r) {
  return json::object{{"id", r.id},
                      {"webinar_id", r.webinar_id},
                      {"name", r.name},
                      {"email", r.email},
                      {"profession", r.profession},
                      {"status", r.status},
                      {"created_at", format_rfc3339(r.created_at)},
                      {"time_zone", r.time_zone.empty() ? json::value(nullptr) : json::value(r.time_zone)},
                      {"confirmed", !r.confirm_by.has_value()}};
}

webinar load_webinar(store::database& db, std::int64_t id) {
  auto w = find_webinar(db, id);
  if (!w) throw api_error(404, "not_found", "no webinar " + std::to_string(id));
  return std::move(*w);
}

json::object me_json(store::database& db, const registration_record& r) {
  auto out = registration_json(r);
  const auto questions = questions_of(db, r.webinar_id);
  if (auto w = find_webinar(db, r.webinar_id)) {
    auto series = webinar_json(*w, unix_now());
    series["questions"] = questions_json(questions);
    out["webinar"] = std::move(series);
  }
  out["answers"] = answers_json(questions, answers_of(db, r.id));
  return out;
}

// In the signup's job, after create_signup (an unknown series is 404 first): the answers are
// checked against the series' questions as they are now, and stored with a new registration in
// the same transaction (a refused answer undoes the signup).
void answer_questions(store::database& db, const signup_outcome& out, std::int64_t webinar_id, const json::value& answers) {
  auto checked = read_answers(questions_of(db, webinar_id), &answers);
  if (out.created) store_answers(db, out.id, checked);
}

// With confirm_email every signup gets this answer, whatever the address's state (new, waiting
// for its link, already confirmed) or a filled honeypot: the caller learns nothing about who
// signed up; the mailbox learns the rest.
response pending_answer(std::int64_t webinar_id) {
  return response::json(201, json::object{{"webinar_id", webinar_id}, {"status", "pending"}});
}

response too_many_signups(std::string_view by, std::chrono::seconds wait) {
  const auto seconds = std::to_string(wait.count());
  auto res = http::error_response(429, "rate_limited",
                                  by == "ip" ? "too many signups from your address; try again in " + seconds + " s"
                                             : "this series is taking too many signups right now; try again in " + seconds + " s");
  res.headers.emplace_back("Retry-After", seconds);
  return res;
}

}  // namespace

registration_api::registration_api(api_context ctx)
    : ctx_(std::move(ctx)), by_ip_(ctx_.signups_per_ip_minute), by_series_(ctx_.signups_per_series_minute) {}

template <class Result, class Work, class Finish>
void registration_api::write(http::responder& respond, Work work, Finish finish) {
  auto notify = [this, finish = std::move(finish)](Result& r) mutable {
    if (events().mail.queued) events().mail.queued();
    return finish(r);
  };
  queue_write<Result>(write_path{ctx_.writer, ctx_.post_to_io}, respond, std::move(work), std::move(notify));
}

void registration_api::add_routes(http::router& r) {
  using http::access;
  using http::verb;
  const http::route_options organizer_json{access::organizer, true};
  r.add(verb::get, "/api/webinars", {}, &registration_api::list_webinars, this);
  r.add(verb::post, "/api/webinars", organizer_json, &registration_api::create_webinar, this);
  r.add(verb::get, "/api/webinars/{id}", {}, &registration_api::get_webinar, this);
  r.add(verb::patch, "/api/webinars/{id}", organizer_json, &registration_api::patch_webinar, this);
  r.add(verb::del, "/api/webinars/{id}", {access::organizer, false}, &registration_api::delete_webinar, this);
  r.add(verb::post, "/api/webinars/{id}/registrations", {access::anyone, true}, &registration_api::create_signup, this);
  r.add(verb::get, "/api/webinars/{id}/registrations", {access::organizer, false}, &registration_api::list_registrations, this);
  r.add(verb::get, "/api/webinars/{id}/registrations.csv", {access::organizer, false}, &registration_api::export_csv, this);
  r.add(verb::del, "/api/webinars/{id}/registrations/{registration_id}", {access::organizer, false},
        &registration_api::cancel_for, this);
  r.add(verb::get, "/api/me", {access::registrant, false}, &registration_api::get_me, this);
  r.add(verb::post, "/api/me/confirm", {access::registrant, false}, &registration_api::confirm_me, this);
  r.add(verb::del, "/api/me", {access::registrant, false}, &registration_api::cancel_me, this);
}

void registration_api::create_webinar(http::request& req, http::responder& respond) {
  auto input = read_webinar_input(req.json);
  write<webinar>(
      respond,
      [input = std::move(input)](store::database& db) mutable {
        const auto now = unix_now();
        return load_webinar(db, registration::create_webinar(db, std::move(input), now));
      },
      [](webinar& w) {
        auto body = webinar_json(w, unix_now());
        body["questions"] = json::array{};  // a new series asks nothing yet (PUT .../questions)
        return response::json(201, body);
      });
}

void registration_api::list_webinars(http::request&, http::responder& respond) {
  auto db = ctx_.readers->acquire();
  const auto now = unix_now();
  json::array items;
  const auto questions = questions_by_webinar(*db);
  for (const auto& w : registration::list_webinars(*db, now)) {
    auto item = webinar_json(w, now);
    const auto q = questions.find(w.id);
    item["questions"] = q == questions.end() ? json::array{} : questions_json(q->second);
    items.push_back(std::move(item));
  }
  respond(response::json(200, json::object{{"webinars", std::move(items)}}));
}

void registration_api::get_webinar(http::request& req, http::responder& respond) {
  auto db = ctx_.readers->acquire();
  auto out = webinar_json(load_webinar(*db, req.id_param(0)), unix_now());
  out["questions"] = questions_json(questions_of(*db, req.id_param(0)));
  respond(response::json(200, out));
}

void registration_api::patch_webinar(http::request& req, http::responder& respond) {
  auto patch = read_webinar_patch(req.json);
  struct patched {
    webinar after;
    std::vector<std::string> seated;  // nonce hashes of the promoted
    json::array warnings;
    json::array questions;
  };
  write<patched>(
      respond,
      [id = req.id_param(0), patch = std::move(patch), mail = &events().mail, warnings_of = events().warnings_of](store::database& db) mutable {
        const bool moved = patch.sessions.has_value();
        std::vector<std::int64_t> promoted;
        update_webinar(db, id, std::move(patch), unix_now(), &promoted);
        if (moved && mail->rescheduled) mail->rescheduled(db, id);
        mail->promoted_all(db, promoted);
        return patched{load_webinar(db, id), token_hashes_of(db, promoted), warnings_of ? warnings_of(db, id) : json::array{},
                       questions_json(questions_of(db, id))};
      },
      [this](patched& p) {
        seated(p.seated);
        events().emit(registration::series_changed{p.after.id});
        auto body = webinar_json(p.after, unix_now());
        body["questions"] = std::move(p.questions);
        if (!p.warnings.empty()) body["warnings"] = std::move(p.warnings);
        return response::json(200, body);
      });
}

void registration_api::delete_webinar(http::request& req, http::responder& respond) {
  write<bool>(
      respond,
      [id = req.id_param(0), mail = &events().mail](store::database& db) {
        if (mail->series_deleted) mail->series_deleted(db, id);
        registration::delete_webinar(db, id, unix_now());
        return true;
      },
      [this, id = req.id_param(0)](bool) {
        events().emit(registration::series_changed{id});
        events().emit(registration::series_deleted{id});
        return response::no_content();
      });
}

bool registration_api::signup_limited(http::request& req, http::responder& respond) {
  auto refuse = [&](std::string_view by, std::chrono::seconds wait) {
    if (ctx_.metrics) ctx_.metrics->signups_limited.with("by=\"" + std::string(by) + "\"").add();
    respond(too_many_signups(by, wait));
    return true;
  };
  if (const auto wait = by_ip_.take("ip:" + req.remote_address); wait.count() > 0) return refuse("ip", wait);
  if (const auto wait = by_series_.take("series:" + std::to_string(req.id_param(0))); wait.count() > 0) return refuse("series", wait);
  return false;
}

void registration_api::create_signup(http::request& req, http::responder& respond) {
  if (signup_limited(req, respond)) return;
  auto input = read_signup(req.json);
  const auto webinar_id = req.id_param(0);
  const auto* given = member(req.json, "answers");
  json::value answers = given ? *given : json::value(nullptr);
  // The form's hidden "website" field: people never see it, form-filling bots fill it in.
  if (const auto* trap = member(req.json, "website");
      trap && !trap->is_null() && !(trap->is_string() && trap->get_string().empty())) {
    if (ctx_.metrics) ctx_.metrics->signups_honeypot.add();
    return honeypot_answer(webinar_id, respond);
  }
  if (ctx_.confirm_email) {
    write<signup_outcome>(
        respond,
        [webinar_id, input = std::move(input), answers, tokens = ctx_.tokens, mail = &events().mail, hold = ctx_.confirm_seconds](store::database& db) {
          const auto now = unix_now();
          auto out = registration::create_signup(db, webinar_id, input, *tokens, now, now + hold);
          answer_questions(db, out, webinar_id, answers);
          // New, or the same unconfirmed address again (the hook allows one request an hour);
          // an address that confirmed already gets nothing.
          if (out.unconfirmed && mail->confirmation_requested)
            mail->confirmation_requested(db, out.id, out.created ? out.token : std::string());
          return out;
        },
        [this, webinar_id](signup_outcome& out) {
          if (out.created) {
            // Edges learn nothing of the database: until the link is opened the token is kept out
            // of the room the way the waitlist is.
            events().emit(registration::waitlisted{out.token_nonce_hash});
            if (ctx_.metrics) ctx_.metrics->registrations.with("status=\"pending\"").add();
          }
          return pending_answer(webinar_id);
        });
    return;
  }
  write<signup_outcome>(
      respond,
      [webinar_id, input = std::move(input), answers = std::move(answers), tokens = ctx_.tokens, mail = &events().mail](store::database& db) {
        auto out = registration::create_signup(db, webinar_id, input, *tokens, unix_now());
        answer_questions(db, out, webinar_id, answers);
        if (out.created && mail->signed_up) mail->signed_up(db, out.id, out.token);
        return out;
      },
      [this, webinar_id](signup_outcome& out) {
        if (!out.created) return response::json(200, json::object{{"status", "already_registered"}});
        if (out.status == "waitlisted") events().emit(registration::waitlisted{out.token_nonce_hash});
        if (ctx_.metrics) ctx_.metrics->registrations.with("status=\"" + out.status + "\"").add();
        const auto join_url = ctx_.public_url + "/live/" + std::to_string(webinar_id) + "#token=" + out.token;
        return response::json(201, json::object{{"id", out.id},
                                                {"webinar_id", webinar_id},
                                                {"status", out.status},
                                                {"token", out.token},
                                                {"join_url", join_url}});
      });
}

// A bot that filled the honeypot is answered as a person would be (201, the same fields), so it
// has no reason to try again differently; nothing is stored and nobody is mailed. Its token is
// random bytes in a token's shape: no node accepts it (the signature does not verify).
void registration_api::honeypot_answer(std::int64_t webinar_id, http::responder& respond) {
  auto db = ctx_.readers->acquire();
  const auto w = find_webinar(*db, webinar_id);
  if (!w) throw common::not_found("no webinar " + std::to_string(webinar_id));
  if (ctx_.confirm_email) return respond(pending_answer(webinar_id));
  auto next = db->prepare("SELECT coalesce(max(id), 0) + 1 FROM registrations");
  next.step();
  const auto id = next.int64(0);
  const auto token = "c1." + http::base64url(common::random_bytes(40 + w->title.size() % 8)) + "." + http::base64url(common::random_bytes(32));
  const auto left = w->seats_left();
  respond(response::json(201, json::object{{"id", id},
                                           {"webinar_id", webinar_id},
                                           {"status", left && *left == 0 ? "waitlisted" : "registered"},
                                           {"token", token},
                                           {"join_url", ctx_.public_url + "/live/" + std::to_string(webinar_id) + "#token=" + token}}));
}

// The page behind the link in the confirmation request posts here with the token the link
// carries (a GET would be followed by mail scanners). Idempotent for a confirmed registration.
void registration_api::confirm_me(http::request& req, http::responder& respond) {
  using confirmed = std::pair<json::object, std::vector<std::string>>;  // and the nonce hashes now seated
  write<confirmed>(
      respond,
      [who = req.who, this](store::database& db) {
        const auto me = find_by_token(db, who.registration_id, who.token_nonce_hash);
        if (!me) throw api_error(401, "unauthorized", "this registration no longer exists");
        if (me->status == "cancelled") {
          if (me->confirm_by) throw api_error(410, "expired", "this confirmation link has expired: sign up again");
          throw api_error(401, "unauthorized", "this registration is not active");
        }
        const bool was_unconfirmed = me->confirm_by.has_value();
        std::vector<std::int64_t> promoted;
        auto after = confirm_registration(db, me->id, unix_now(), &promoted);
        if (was_unconfirmed && events().mail.confirmed) events().mail.confirmed(db, after.id);
        events().mail.promoted_all(db, promoted);
        if (was_unconfirmed && after.status == "registered") promoted.push_back(after.id);
        return confirmed{me_json(db, after), token_hashes_of(db, promoted)};
      },
      [this](confirmed& c) {
        seated(c.second);
        return response::json(200, c.first);
      });
}

void registration_api::start_sweeps(boost::asio::io_context& ioc) {
  if (!ctx_.confirm_email) return;
  sweep_timer_ = std::make_unique<boost::asio::steady_timer>(ioc);
  lapse_unconfirmed();
  sweep_after(std::chrono::seconds(std::clamp<std::int64_t>(ctx_.confirm_seconds / 4, 1, 60)));
}

void registration_api::stop_sweeps() {
  if (sweep_timer_) sweep_timer_->cancel();
}

void registration_api::sweep_after(std::chrono::seconds delay) {
  sweep_timer_->expires_after(delay);
  sweep_timer_->async_wait([this, delay](boost::system::error_code ec) {
    if (ec) return;
    lapse_unconfirmed();
    sweep_after(delay);
  });
}

void registration_api::lapse_unconfirmed() {
  struct lapsed {
    std::vector<lapsed_hold> holds;
    std::vector<std::string> seated;
  };
  auto result = std::make_shared<lapsed>();
  auto told = [this, result] {
    for (const auto& hold : result->holds) {
      events().emit(registration::cancelled{hold.webinar_id, hold.id, hold.token_nonce_hash});
      if (ctx_.metrics) ctx_.metrics->signups_lapsed.add();
    }
    seated(result->seated);
    if (!result->seated.empty() && events().mail.queued) events().mail.queued();
  };
  ctx_.writer->submit(
      [this, result](store::database& db) {
        std::vector<std::int64_t> promoted;
        result->holds = registration::lapse_unconfirmed(db, unix_now(), &promoted);
        events().mail.promoted_all(db, promoted);
        result->seated = token_hashes_of(db, promoted);
      },
      [told = std::move(told), post = ctx_.post_to_io](std::exception_ptr ep) {
        if (ep) {
          std::cerr << "cohort: lapsing unconfirmed signups failed: " << common::describe(ep) << "\n";
          return;
        }
        if (post) post(told);
        else told();
      });
}

void registration_api::get_me(http::request& req, http::responder& respond) {
  auto db = ctx_.readers->acquire();
  auto me = find_by_token(*db, req.who.registration_id, req.who.token_nonce_hash);
  if (!me) throw api_error(401, "unauthorized", "this registration no longer exists");
  respond(response::json(200, me_json(*db, *me)));
}

// In the writer: cancels, promotes from the waitlist, and queues the mail both cause.
registration_api::cancel_outcome registration_api::cancel_with_mail(store::database& db, std::int64_t registration_id) const {
  auto status = db.prepare("SELECT status FROM registrations WHERE id = ?");
  status.bind(1, registration_id);
  const std::string before = status.step() ? status.text(0) : std::string("cancelled");
  const bool was_active = before != "cancelled";
  std::vector<std::int64_t> promoted;
  auto after = cancel_registration(db, registration_id, unix_now(), &promoted);
  if (was_active && events().mail.cancelled) events().mail.cancelled(db, registration_id, before == "waitlisted");
  events().mail.promoted_all(db, promoted);
  return {std::move(after), token_hashes_of(db, promoted)};
}

void registration_api::seated(const std::vector<std::string>& token_nonce_hashes) const {
  if (!token_nonce_hashes.empty()) events().emit(registration::seated{token_nonce_hashes});
}

void registration_api::cancel_me(http::request& req, http::responder& respond) {
  using cancelled = std::pair<json::object, std::vector<std::string>>;  // and the nonce hashes of the promoted
  write<cancelled>(
      respond,
      [who = req.who, this](store::database& db) {
        const auto before = find_by_token(db, who.registration_id, who.token_nonce_hash);
        if (!before) throw api_error(401, "unauthorized", "this registration no longer exists");
        auto outcome = cancel_with_mail(db, before->id);
        return cancelled{me_json(db, outcome.after), std::move(outcome.seated)};
      },
      [this, who = req.who](cancelled& c) {
        auto& me = c.first;
        events().emit(registration::cancelled{me.at("webinar_id").to_number<std::int64_t>(), who.registration_id, who.token_nonce_hash});
        seated(c.second);
        return response::json(200, me);
      });
}

// The organizer cancels someone's registration (a phone call, a duplicate): the same effects as
// the registrant's own cancellation, including the waitlist's promotion and the closed chat.
void registration_api::cancel_for(http::request& req, http::responder& respond) {
  struct cancelled {
    std::int64_t webinar;
    std::string token_hash;
    std::vector<std::string> seated;
  };
  write<cancelled>(
      respond,
      [webinar = req.id_param(0), id = req.id_param(1), this](store::database& db) {
        auto hash = token_hash_of(db, webinar, id);
        if (hash.empty()) throw common::not_found("webinar " + std::to_string(webinar) + " has no registration " + std::to_string(id));
        auto outcome = cancel_with_mail(db, id);
        return cancelled{webinar, std::move(hash), std::move(outcome.seated)};
      },
      [this, id = req.id_param(1)](cancelled& c) {
        events().emit(registration::cancelled{c.webinar, id, c.token_hash});
        seated(c.seated);
        return response::no_content();
      });
}

void registration_api::list_registrations(http::request& req, http::responder& respond) {
  int limit = 100;
  std::int64_t after = 0;
  std::string status;
  if (const auto* v = req.query_param("limit")) {
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), limit);
    if (ec != std::errc{} || p != v->data() + v->size() || limit < 1 || limit > 500)
      throw api_error(400, "bad_request", "limit must be an integer between 1 and 500", "limit");
  }
  if (const auto* v = req.query_param("after")) {
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), after);
    if (ec != std::errc{} || p != v->data() + v->size() || after < 0)
      throw api_error(400, "bad_request", "after must be a registration id", "after");
  }
  if (const auto* v = req.query_param("status")) {
    status = *v;
    if (status != "registered" && status != "waitlisted" && status != "cancelled")
      throw api_error(400, "bad_request", "status must be registered, waitlisted or cancelled", "status");
  }
  auto db = ctx_.readers->acquire();
  const auto id = req.id_param(0);
  load_webinar(*db, id);
  std::string search;
  if (const auto* v = req.query_param("q")) search = optional_text(*v, "q", 200);
  const auto page = registration::list_registrations(*db, id, status, after, limit, search);
  const auto questions = questions_of(*db, id);
  const auto answers = page.items.empty() ? decltype(answers_of_webinar(*db, id)){}
                                          : answers_of_webinar(*db, id, page.items.front().id, page.items.back().id);
  json::array items;
  for (const auto& r : page.items) {
    auto item = registration_json(r);
    const auto a = answers.find(r.id);
    item["answers"] = a == answers.end() ? json::array{} : answers_json(questions, a->second);
    items.push_back(std::move(item));
  }
  json::object out{{"registrations", std::move(items)}, {"total", page.total}, {"next_after", nullptr}};
  if (page.next_after) out["next_after"] = *page.next_after;
  respond(response::json(200, out));
}

void registration_api::export_csv(http::request& req, http::responder& respond) {
  auto db = ctx_.readers->acquire();
  const auto id = req.id_param(0);
  load_webinar(*db, id);
  std::string csv;
  // One column per signup question, headed by its label.
  const auto questions = questions_of(*db, id);
  const auto answers = answers_of_webinar(*db, id);
  std::vector<std::string> header{"id", "name", "email", "profession", "status", "registered_at"};
  for (const auto& q : questions) header.push_back(q.label);
  append_csv_row(csv, header);
  for_each_registration(*db, id, [&](const registration_record& r) {
    std::vector<std::string> row{std::to_string(r.id), r.name, r.email, r.profession, r.status, format_rfc3339(r.created_at)};
    static const std::map<std::int64_t, std::string> none;
    const auto a = answers.find(r.id);
    const auto& mine = a == answers.end() ? none : a->second;
    for (const auto& q : questions) {
      const auto it = mine.find(q.id);
      row.push_back(it == mine.end() ? std::string() : answer_cell(q, it->second));
    }
    append_csv_row(csv, row);
  });
  auto res = response::text(200, std::move(csv), "text/csv; charset=utf-8");
  res.headers.emplace_back("Content-Disposition",
                           "attachment; filename=\"webinar-" + std::to_string(id) + "-registrations.csv\"");
  respond(std::move(res));
}

}  // namespace cohort::registration
