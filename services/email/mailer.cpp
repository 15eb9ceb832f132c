#include "email/mailer.hpp"

#include "common/bytes.hpp"
#include "common/time_zone.hpp"
#include "email/ics.hpp"
#include "email/outbox_store.hpp"
#include "email/reminders.hpp"
#include "gateway/auth.hpp"
#include "registration/webinar_store.hpp"

#include <boost/json.hpp>
#include <sodium.h>

#include <ctime>
#include <limits>
#include <stdexcept>

namespace cohort::email {

struct mailer::recipient {
  std::int64_t id = 0;
  std::string name;
  std::string email;
  std::string status;
  registration::webinar webinar;
  std::int64_t sequence = 0;  // the series' calendar SEQUENCE
  std::string token;          // empty when no link was sealed (registered before email existed)
  std::string time_zone;      // empty: not known (UTC)
  bool unconfirmed = false;   // registration.confirm_email: its link was not opened yet
};

namespace {

// "Thu 3 Dec 2026, 12:00 CST" in the registrant's zone (the signup page sends the browser's),
// else "Thu 3 Dec 2026, 18:00 UTC"; the calendar invitation shows every session in the
// reader's own zone anyway.
std::string local_text(std::int64_t t, const std::string& zone_name) {
  const auto zone = zone_name.empty() ? nullptr : common::time_zone::find(zone_name);
  const auto local = zone ? zone->at(t) : common::time_zone::local_time{0, "UTC"};
  const std::time_t tt = static_cast<std::time_t>(t + local.utc_offset_seconds);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[64];
  std::string out(buf, std::strftime(buf, sizeof buf, "%a %e %b %Y, %H:%M ", &tm));
  if (auto double_space = out.find("  "); double_space != std::string::npos) out.erase(double_space, 1);
  return out + local.abbreviation;
}

std::string session_lines(const registration::webinar& w, const std::string& zone) {
  std::string out;
  for (const auto& s : w.sessions) {
    if (!out.empty()) out += "\n";
    out += "Session " + std::to_string(s.number) + ": " + local_text(s.starts_at, zone) + " (" + std::to_string(s.duration_minutes) +
           " min)";
  }
  return out;
}

// Title, description and sessions only: find_webinar also counts the seats, which costs a scan
// of the registrations on every signup in the writer (the hot path).
std::optional<registration::webinar> series(store::database& db, std::int64_t webinar_id) {
  auto& w = db.cached("SELECT title, description FROM webinars WHERE id = ?");
  w.bind(1, webinar_id);
  if (!w.step()) return std::nullopt;
  registration::webinar out;
  out.id = webinar_id;
  out.title = w.text(0);
  out.description = w.text(1);
  w.reset();
  auto& s = db.cached("SELECT number, starts_at, duration_minutes FROM sessions WHERE webinar_id = ? ORDER BY number");
  s.bind(1, webinar_id);
  while (s.step()) out.sessions.push_back({static_cast<int>(s.int64(0)), s.int64(1), static_cast<int>(s.int64(2))});
  return out;
}

std::string derive(std::string_view secret, std::string_view purpose) {
  return http::hmac_sha256(secret, purpose);  // 32 bytes
}

}  // namespace

mailer::mailer(mailer_options options, template_set templates)
    : options_(std::move(options)), templates_(std::move(templates)) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not start");
  const auto& k = options_.keys;
  seal_key_ = k.seal.empty() ? derive(options_.link_secret, "cohort email: sealed join links") : k.seal;
  unsub_key_ = k.unsubscribe.empty() ? derive(options_.link_secret, "cohort email: unsubscribe links") : k.unsubscribe;
}

std::string mailer::seal(const std::string& token) const {
  std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + token.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES, reinterpret_cast<const unsigned char*>(token.data()), token.size(),
                        nonce, reinterpret_cast<const unsigned char*>(seal_key_.data()));
  return out;
}

std::optional<std::string> mailer::unseal(const std::string& sealed) const {
  // Links sealed before the key split open with the legacy key; their c1 token goes out renewed.
  if (auto token = unseal_with(sealed, seal_key_)) return token;
  auto token = options_.keys.legacy_seal.empty() ? std::nullopt : unseal_with(sealed, options_.keys.legacy_seal);
  if (token && options_.keys.renew_token) token = options_.keys.renew_token(*token);
  return token;
}

std::optional<std::string> mailer::unseal_with(const std::string& sealed, const std::string& key) {
  if (sealed.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) return std::nullopt;
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string out(sealed.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(out.data()), nonce + crypto_secretbox_NONCEBYTES,
                                 sealed.size() - crypto_secretbox_NONCEBYTES, nonce,
                                 reinterpret_cast<const unsigned char*>(key.data())) != 0)
    return std::nullopt;  // sealed under another secret
  return out;
}

std::optional<mailer::recipient> mailer::load(store::database& db, std::int64_t registration_id) const {
  auto& st = db.cached(
      "SELECT r.name, r.email, r.status, r.webinar_id, w.ics_sequence, l.sealed, r.time_zone, r.confirm_by IS NOT NULL"
      " FROM registrations r"
      " JOIN webinars w ON w.id = r.webinar_id LEFT JOIN registration_links l ON l.registration_id = r.id WHERE r.id = ?");
  st.bind(1, registration_id);
  if (!st.step()) return std::nullopt;
  recipient r;
  r.id = registration_id;
  r.name = st.text(0);
  r.email = st.text(1);
  r.status = st.text(2);
  const auto webinar_id = st.int64(3);
  r.sequence = st.int64(4);
  if (!st.is_null(5)) r.token = unseal(st.text(5)).value_or("");
  r.time_zone = st.text(6);
  r.unconfirmed = st.int64(7) != 0;
  st.reset();
  auto w = series(db, webinar_id);
  if (!w) return std::nullopt;
  r.webinar = std::move(*w);
  return r;
}

std::string mailer::join_url(const recipient& r) const {
  const auto room = options_.public_url + "/live/" + std::to_string(r.webinar.id);
  return r.token.empty() ? room : room + "#token=" + r.token;
}

// The room page opens its cancel dialog for #cancel.
std::string mailer::cancel_url(const recipient& r) const { return r.token.empty() ? join_url(r) : join_url(r) + "&cancel=1"; }

std::string mailer::signature(std::int64_t registration_id) const {
  return http::base64url(http::hmac_sha256(unsub_key_, std::to_string(registration_id))).substr(0, 22);
}

std::string mailer::unsubscribe_url(std::int64_t registration_id) const {
  return options_.public_url + "/unsubscribe?r=" + std::to_string(registration_id) + "&sig=" + signature(registration_id);
}

std::string mailer::one_click_url(std::int64_t registration_id) const {
  return options_.public_url + "/api/unsubscribe?r=" + std::to_string(registration_id) + "&sig=" + signature(registration_id);
}

bool mailer::unsubscribe_signature_ok(std::int64_t registration_id, std::string_view sig) const {
  if (http::constant_time_equal(signature(registration_id), sig)) return true;
  // Links in mails sent before the key split (see README, Security model).
  const auto& legacy = options_.keys.legacy_unsubscribe;
  return !legacy.empty() &&
         http::constant_time_equal(http::base64url(http::hmac_sha256(legacy, std::to_string(registration_id))).substr(0, 22), sig);
}

attachment mailer::invitation(const recipient& r, bool cancel, std::int64_t sequence, std::int64_t now) const {
  ics_calendar cal;
  cal.method = cancel ? ics_method::cancel : ics_method::request;
  cal.stamp = now;
  cal.organizer_name = options_.from.name;
  cal.organizer_email = options_.from.address;
  cal.attendee_name = r.name;
  cal.attendee_email = r.email;
  for (const auto& s : r.webinar.sessions)
    cal.events.push_back({session_uid(r.webinar.id, s.number, options_.host), static_cast<int>(sequence), s.starts_at, s.ends_at(),
                          r.webinar.title + " (session " + std::to_string(s.number) + ")", r.webinar.description,
                          cancel ? std::string() : join_url(r)});
  return {cancel ? "cancel.ics" : "invite.ics", ics_content_type(cal.method), render_ics(cal)};
}

bool mailer::queue(store::database& db, std::int64_t registration_id, std::string_view kind, const std::string& dedupe_key,
                   const std::string& args, std::int64_t now) const {
  auto& st = db.cached("SELECT email, webinar_id FROM registrations WHERE id = ?");
  st.bind(1, registration_id);
  if (!st.step()) return false;
  outbox_message m;
  m.to_addr = st.text(0);
  m.webinar_id = st.int64(1);
  st.reset();
  m.registration_id = registration_id;
  m.kind = std::string(kind);
  m.dedupe_key = dedupe_key;
  m.args = args;
  m.message_id = make_message_id(dedupe_key + "." + common::hex(common::random_bytes(6)), options_.host);
  return enqueue(db, m, now);
}

composed_mail mailer::compose(store::database& db, const outbox_entry& entry, std::int64_t now, bool redacted) const {
  if (entry.kind == "series_cancelled") return compose_series_cancelled(entry);
  if (!entry.registration_id) throw std::runtime_error("no recipient");
  auto r = load(db, *entry.registration_id);
  if (!r) throw std::runtime_error("the registration no longer exists");
  // Every link that carries the token is built from r->token, so this one assignment covers
  // the join, cancel, materials and confirm links and the invitation's URL.
  if (redacted && !r->token.empty()) r->token = redacted_text;
  const auto unsubscribe_page = redacted ? options_.public_url + "/unsubscribe?r=" + std::to_string(r->id) + "&sig=" + redacted_text
                                         : unsubscribe_url(r->id);
  const auto one_click = redacted ? options_.public_url + "/api/unsubscribe?r=" + std::to_string(r->id) + "&sig=" + redacted_text
                                  : one_click_url(r->id);
  // Queued before a cancellation or an unsubscribe that came first: not sent (shown as failed, with
  // why). A certificate is a record the registrant earned: it goes out either way.
  if (r->status == "cancelled" && entry.kind != "cancelled" && entry.kind != "waitlist_left" && entry.kind != "certificate")
    throw std::runtime_error("the registration was cancelled");
  if ((entry.kind == "reminder" || entry.kind == "drop") && is_unsubscribed(db, r->id))
    throw std::runtime_error("the registrant unsubscribed");
  const auto args = boost::json::parse(entry.args).as_object();
  auto int_arg = [&](std::string_view key) { return args.at(key).to_number<std::int64_t>(); };
  auto text_arg = [&](std::string_view key) { return std::string(args.at(key).as_string()); };
  template_vars vars{{"name", r->name}, {"webinar_title", r->webinar.title}, {"unsubscribe_url", unsubscribe_page}};
  std::optional<attachment> calendar;
  const auto& kind = entry.kind;
  if (kind == "confirm_request") {
    // Only to an address that has not confirmed yet, and with no unsubscribe link: nobody
    // subscribed to anything.
    if (!r->unconfirmed && !redacted) throw std::runtime_error("the registration was confirmed already");
    vars.erase("unsubscribe_url");
    vars["sessions"] = session_lines(r->webinar, r->time_zone);
    vars["confirm_url"] = options_.public_url + "/w/" + std::to_string(r->webinar.id) + "#confirm=" + r->token;
    vars["expires_in"] = time_left_text(std::max<std::int64_t>(60, int_arg("confirm_by") - entry.created_at));
    return render(entry, *r, templates_.render(kind, vars), std::nullopt, {});
  }
  if (kind == "confirmation" || kind == "promoted" || kind == "rescheduled" || kind == "waitlisted") {
    vars["sessions"] = session_lines(r->webinar, r->time_zone);
    if (kind != "waitlisted") {
      vars["join_url"] = join_url(*r);
      calendar = invitation(*r, false, kind == "rescheduled" ? int_arg("sequence") : r->sequence, entry.created_at);
    }
    if (kind == "confirmation") vars["cancel_url"] = cancel_url(*r);
  } else if (kind == "cancelled") {
    calendar = invitation(*r, true, r->sequence + 1, entry.created_at);
  } else if (kind == "waitlist_left") {
    // name, title and the unsubscribe link are all it says
  } else if (kind == "reminder") {
    const auto starts_at = int_arg("starts_at");
    vars["session_number"] = std::to_string(int_arg("session"));
    vars["session_start"] = local_text(starts_at, r->time_zone);
    vars["starts_in"] = time_left_text(std::max<std::int64_t>(60, starts_at - now));
    vars["join_url"] = join_url(*r);
  } else if (kind == "drop") {
    vars["drop_title"] = text_arg("title");
    vars["drop_body"] = text_arg("body");
    vars["materials_url"] = options_.public_url + "/materials/" + std::to_string(r->webinar.id) + (r->token.empty() ? "" : "#token=" + r->token);
  } else if (kind == "certificate") {
    // The facts as printed, from the row: a re-issue with a corrected name mails that name.
    vars["name"] = text_arg("name");
    vars["webinar_title"] = text_arg("course_title");
    vars["session_title"] = text_arg("session_title");
    vars["credit"] = text_arg("kind") == "recorded" ? "Recorded (distance learning)" : "Live";
    vars["hours"] = text_arg("hours");
    vars["ceus"] = text_arg("ceus");
    vars["code"] = text_arg("code");
    vars["ce_url"] = options_.public_url + "/ce/" + std::to_string(r->webinar.id) + (r->token.empty() ? "" : "#token=" + r->token);
    vars["verify_url"] = options_.public_url + "/verify/" + text_arg("code");
  } else {
    throw std::runtime_error("unknown kind of email \"" + kind + "\"");
  }
  return render(entry, *r, templates_.render(kind, vars), std::move(calendar), unsubscribe_headers(one_click));
}

composed_mail mailer::render(const outbox_entry& entry, const recipient& r, const rendered_text& text, std::optional<attachment> calendar,
                             std::vector<header_field> headers) const {
  mail_message m;
  m.from = options_.from;
  m.to = {r.name, r.email};
  m.subject = text.subject;
  m.text_body = text.text;
  m.html_body = text.html;
  if (calendar) m.attachments.push_back(std::move(*calendar));
  m.headers = std::move(headers);
  m.message_id = entry.message_id;
  m.date = entry.created_at;
  return {m.subject, render_mime(m)};
}

// Everything comes from the row: the registration and the series are deleted by now. No
// unsubscribe link either (there is nothing left to unsubscribe from).
composed_mail mailer::compose_series_cancelled(const outbox_entry& entry) const {
  const auto args = boost::json::parse(entry.args).as_object();
  recipient r;
  r.name = std::string(args.at("name").as_string());
  r.email = entry.to_addr;
  if (const auto* zone = args.if_contains("time_zone")) r.time_zone = std::string(zone->as_string());
  r.webinar.id = entry.webinar_id.value_or(0);
  r.webinar.title = std::string(args.at("title").as_string());
  r.webinar.description = std::string(args.at("description").as_string());
  for (const auto& v : args.at("sessions").as_array()) {
    const auto& s = v.as_array();
    r.webinar.sessions.push_back({static_cast<int>(s.at(0).to_number<std::int64_t>()), s.at(1).to_number<std::int64_t>(),
                                  static_cast<int>(s.at(2).to_number<std::int64_t>())});
  }
  const auto text =
      templates_.render(entry.kind, {{"name", r.name}, {"webinar_title", r.webinar.title}, {"sessions", session_lines(r.webinar, r.time_zone)}});
  // Only the registered were sent an invitation to take back out of their calendars.
  std::optional<attachment> calendar;
  if (args.at("registered").as_bool()) calendar = invitation(r, true, args.at("sequence").to_number<std::int64_t>(), entry.created_at);
  return render(entry, r, text, std::move(calendar), {});
}

void mailer::series_cancelled(store::database& db, std::int64_t webinar_id, std::int64_t now) const {
  const auto w = series(db, webinar_id);
  if (!w) return;
  auto seq = db.prepare("SELECT ics_sequence FROM webinars WHERE id = ?");
  seq.bind(1, webinar_id);
  if (!seq.step()) return;
  const auto sequence = seq.int64(0) + 1;
  boost::json::array sessions;
  for (const auto& s : w->sessions) sessions.push_back(boost::json::array{s.number, s.starts_at, s.duration_minutes});
  // The unconfirmed were never told they had a place.
  auto st = db.prepare(
      "SELECT id, name, status, time_zone FROM registrations WHERE webinar_id = ? AND status <> 'cancelled' AND confirm_by IS NULL"
      " ORDER BY id");
  st.bind(1, webinar_id);
  while (st.step()) {
    const auto id = st.int64(0);
    const boost::json::object args{{"name", st.text(1)},        {"title", w->title},   {"description", w->description},
                                   {"sessions", sessions},      {"sequence", sequence}, {"registered", st.text(2) == "registered"},
                                   {"time_zone", st.text(3)}};
    queue(db, id, "series_cancelled", "series_cancelled:" + std::to_string(id), boost::json::serialize(args), now);
  }
}

void mailer::signed_up(store::database& db, std::int64_t registration_id, const std::string& token, std::int64_t now) const {
  const auto sealed = seal(token);
  db.cached("INSERT OR REPLACE INTO registration_links (registration_id, sealed) VALUES (?, ?)")
      .bind(1, registration_id)
      .bind_blob(2, sealed.data(), sealed.size())
      .run();
  queue_welcome(db, registration_id, now);
}

void mailer::queue_welcome(store::database& db, std::int64_t registration_id, std::int64_t now) const {
  auto& st = db.cached("SELECT status FROM registrations WHERE id = ?");
  st.bind(1, registration_id);
  if (!st.step()) return;
  const bool registered = st.text(0) == "registered";
  st.reset();
  const auto id = std::to_string(registration_id);
  if (registered) queue(db, registration_id, "confirmation", "confirm:" + id, "{}", now);
  else queue(db, registration_id, "waitlisted", "waitlisted:" + id, "{}", now);
}

bool mailer::confirmation_requested(store::database& db, std::int64_t registration_id, const std::string& token, std::int64_t now) const {
  if (!token.empty()) {
    const auto sealed = seal(token);
    db.cached("INSERT OR REPLACE INTO registration_links (registration_id, sealed) VALUES (?, ?)")
        .bind(1, registration_id)
        .bind_blob(2, sealed.data(), sealed.size())
        .run();
  }
  auto& row = db.cached("SELECT email_key, confirm_by FROM registrations WHERE id = ? AND confirm_by IS NOT NULL");
  row.bind(1, registration_id);
  if (!row.step()) return false;
  const auto email_key = row.text(0);
  const auto confirm_by = row.int64(1);
  row.reset();
  auto& last = db.cached("SELECT max(confirm_mailed_at) FROM registrations WHERE email_key = ?");
  last.bind(1, email_key);
  last.step();
  const auto last_mailed = last.optional_int64(0);
  last.reset();
  if (last_mailed && *last_mailed > now - 3600) return false;
  db.cached("UPDATE registrations SET confirm_mailed_at = ? WHERE id = ?").bind(1, now).bind(2, registration_id).run();
  const auto id = std::to_string(registration_id);
  return queue(db, registration_id, "confirm_request", "confirm_request:" + id + "@" + std::to_string(now),
               "{\"confirm_by\":" + std::to_string(confirm_by) + "}", now);
}

void mailer::confirmed(store::database& db, std::int64_t registration_id, std::int64_t now) const {
  queue_welcome(db, registration_id, now);
}

void mailer::promoted(store::database& db, std::int64_t registration_id, std::int64_t now) const {
  // The unconfirmed are never promoted (promote_waitlisted); their confirmation mail says where they stand.
  queue(db, registration_id, "promoted", "promoted:" + std::to_string(registration_id), "{}", now);
}

void mailer::cancelled(store::database& db, std::int64_t registration_id, bool was_waitlisted, std::int64_t now) const {
  // Someone leaving the waitlist had no seat and no invitation: a note of its own, no calendar.
  queue(db, registration_id, was_waitlisted ? "waitlist_left" : "cancelled", "cancelled:" + std::to_string(registration_id), "{}", now);
}

void mailer::rescheduled(store::database& db, std::int64_t webinar_id, std::int64_t now) const {
  db.prepare("UPDATE webinars SET ics_sequence = ics_sequence + 1 WHERE id = ?").bind(1, webinar_id).run();
  auto seq = db.prepare("SELECT ics_sequence FROM webinars WHERE id = ?");
  seq.bind(1, webinar_id);
  if (!seq.step()) return;
  const auto sequence = std::to_string(seq.int64(0));
  std::vector<std::int64_t> ids;
  auto st = db.prepare(
      "SELECT id FROM registrations WHERE webinar_id = ? AND status = 'registered' AND confirm_by IS NULL ORDER BY id");
  st.bind(1, webinar_id);
  while (st.step()) ids.push_back(st.int64(0));
  for (auto id : ids)
    queue(db, id, "rescheduled", "rescheduled:" + std::to_string(id) + ":" + sequence, "{\"sequence\":" + sequence + "}", now);
}

void mailer::drop_released(store::database& db, std::int64_t webinar_id, std::int64_t drop_id, const std::string& title,
                           const std::string& body, const std::optional<std::vector<std::int64_t>>& audience,
                           std::int64_t now) const {
  std::vector<std::int64_t> ids;
  if (audience) {
    ids = *audience;
  } else {
    auto st = db.prepare(
        "SELECT id FROM registrations WHERE webinar_id = ? AND status = 'registered' AND confirm_by IS NULL ORDER BY id");
    st.bind(1, webinar_id);
    while (st.step()) ids.push_back(st.int64(0));
  }
  const auto args = boost::json::serialize(boost::json::object{{"title", title}, {"body", body}});
  for (auto id : ids) {
    if (is_unsubscribed(db, id) || !wants_drop_notices(db, id)) continue;
    queue(db, id, "drop", "drop:" + std::to_string(drop_id) + ":" + std::to_string(id), args, now);
  }
}

void mailer::certificate_ready(store::database& db, std::int64_t registration_id, const certificate_notice& c, std::int64_t now) const {
  const auto args = boost::json::serialize(boost::json::object{{"code", c.code},
                                                               {"name", c.name},
                                                               {"course_title", c.course_title},
                                                               {"session_title", c.session_title},
                                                               {"kind", c.kind},
                                                               {"hours", c.hours},
                                                               {"ceus", c.ceus}});
  queue(db, registration_id, "certificate", "certificate:" + c.code, args, now);
}

int mailer::queue_reminders(store::database& db, std::int64_t now) const {
  std::int64_t horizon = 0, last = std::numeric_limits<std::int64_t>::max();
  for (auto o : options_.reminder_offsets_seconds) horizon = std::max(horizon, o), last = std::min(last, o);
  // Series with a session starting within the longest reminder offset.
  std::vector<std::int64_t> webinars;
  auto st = db.prepare("SELECT DISTINCT webinar_id FROM sessions WHERE starts_at > ? AND starts_at <= ?");
  st.bind(1, now).bind(2, now + horizon);
  while (st.step()) webinars.push_back(st.int64(0));
  int queued = 0;
  for (auto webinar_id : webinars) {
    const auto w = series(db, webinar_id);
    if (!w) continue;
    std::vector<reminder_session> sessions;
    for (const auto& s : w->sessions) sessions.push_back({s.number, s.starts_at});
    const auto due = reminders_due(sessions, options_.reminder_offsets_seconds, now);
    if (due.empty()) continue;
    auto people = db.prepare(
        "SELECT id, created_at FROM registrations WHERE webinar_id = ? AND status = 'registered' AND confirm_by IS NULL ORDER BY id");
    people.bind(1, webinar_id);
    std::vector<std::pair<std::int64_t, std::int64_t>> registrants;
    while (people.step()) registrants.emplace_back(people.int64(0), people.int64(1));
    for (const auto& [id, registered_at] : registrants) {
      if (is_unsubscribed(db, id)) continue;
      for (const auto& d : due) {
        // Someone who registered after an early reminder fell due just got the confirmation;
        // the last reminder before the session always goes out.
        if (registered_at > d.due_at && d.offset_seconds != last) continue;
        const auto starts_at = d.due_at + d.offset_seconds;
        // The start time is part of the key: a postponed session is reminded of again.
        const auto key = reminder_dedupe_key(id, d.session, d.offset_seconds) + "@" + std::to_string(starts_at);
        // A reminder stays due until its session starts: every sweep meets it again, so the
        // common case (already queued) is one index lookup, not a message id and an insert.
        auto& queued_already = db.cached("SELECT 1 FROM outbox WHERE dedupe_key = ?");
        queued_already.bind(1, key);
        const bool exists = queued_already.step();
        queued_already.reset();
        if (exists) continue;
        const auto args = "{\"session\":" + std::to_string(d.session) + ",\"starts_at\":" + std::to_string(starts_at) + "}";
        if (queue(db, id, "reminder", key, args, now)) ++queued;
      }
    }
  }
  return queued;
}

}  // namespace cohort::email
