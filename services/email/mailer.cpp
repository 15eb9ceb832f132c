#include "email/mailer.hpp"

#include "email/ics.hpp"
#include "email/outbox_store.hpp"
#include "email/reminders.hpp"
#include "gateway/auth.hpp"
#include "registration/webinar_store.hpp"

#include <sodium.h>

#include <ctime>
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
};

namespace {

// "Thu 3 Dec 2026, 18:00 UTC": a registrant's zone is not known, so UTC, named (the calendar
// invitation shows every session in the reader's own zone).
std::string utc_text(std::int64_t t, const char* format = "%a %e %b %Y, %H:%M UTC") {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[64];
  std::string out(buf, std::strftime(buf, sizeof buf, format, &tm));
  if (auto double_space = out.find("  "); double_space != std::string::npos) out.erase(double_space, 1);
  return out;
}

std::string session_lines(const registration::webinar& w) {
  std::string out;
  for (const auto& s : w.sessions) {
    if (!out.empty()) out += "\n";
    out += "Session " + std::to_string(s.number) + ": " + utc_text(s.starts_at) + " (" + std::to_string(s.duration_minutes) +
           " min)";
  }
  return out;
}

std::string derive(std::string_view secret, std::string_view purpose) {
  return http::hmac_sha256(secret, purpose);  // 32 bytes
}

}  // namespace

mailer::mailer(mailer_options options, template_set templates)
    : options_(std::move(options)), templates_(std::move(templates)) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not start");
  seal_key_ = derive(options_.link_secret, "cohort email: sealed join links");
  unsub_key_ = derive(options_.link_secret, "cohort email: unsubscribe links");
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
  if (sealed.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) return std::nullopt;
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string out(sealed.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(out.data()), nonce + crypto_secretbox_NONCEBYTES,
                                 sealed.size() - crypto_secretbox_NONCEBYTES, nonce,
                                 reinterpret_cast<const unsigned char*>(seal_key_.data())) != 0)
    return std::nullopt;  // sealed under another secret
  return out;
}

std::optional<mailer::recipient> mailer::load(store::database& db, std::int64_t registration_id) const {
  auto st = db.prepare(
      "SELECT r.name, r.email, r.status, r.webinar_id, w.ics_sequence, l.sealed FROM registrations r"
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
  auto w = registration::find_webinar(db, webinar_id);
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

std::string mailer::unsubscribe_url(std::int64_t registration_id) const {
  const auto id = std::to_string(registration_id);
  return options_.public_url + "/unsubscribe?r=" + id + "&sig=" + http::base64url(http::hmac_sha256(unsub_key_, id)).substr(0, 22);
}

bool mailer::unsubscribe_signature_ok(std::int64_t registration_id, std::string_view signature) const {
  const auto expected = http::base64url(http::hmac_sha256(unsub_key_, std::to_string(registration_id))).substr(0, 22);
  return http::constant_time_equal(expected, signature);
}

attachment mailer::invitation(const recipient& r, bool cancel, std::int64_t now) const {
  ics_calendar cal;
  cal.method = cancel ? ics_method::cancel : ics_method::request;
  cal.stamp = now;
  cal.organizer_name = options_.from.name;
  cal.organizer_email = options_.from.address;
  cal.attendee_name = r.name;
  cal.attendee_email = r.email;
  for (const auto& s : r.webinar.sessions)
    cal.events.push_back({session_uid(r.webinar.id, s.number, options_.host), static_cast<int>(r.sequence + (cancel ? 1 : 0)),
                          s.starts_at, s.ends_at(), r.webinar.title + " (session " + std::to_string(s.number) + ")",
                          r.webinar.description, cancel ? std::string() : join_url(r)});
  return {cancel ? "cancel.ics" : "invite.ics", ics_content_type(cal.method), render_ics(cal)};
}

void mailer::queue(store::database& db, const recipient& r, std::string_view kind, const std::string& dedupe_key,
                   template_vars vars, std::optional<attachment> calendar, std::int64_t now) const {
  vars["name"] = r.name;
  vars["webinar_title"] = r.webinar.title;
  vars["unsubscribe_url"] = unsubscribe_url(r.id);
  const auto text = templates_.render(kind, vars);
  mail_message m;
  m.from = options_.from;
  m.to = {r.name, r.email};
  m.subject = text.subject;
  m.text_body = text.text;
  m.html_body = text.html;
  if (calendar) m.attachments.push_back(std::move(*calendar));
  m.headers = unsubscribe_headers(unsubscribe_url(r.id));
  m.message_id = make_message_id(dedupe_key + "." + http::hex(http::random_bytes(6)), options_.host);
  m.date = now;
  enqueue(db, {m.message_id, dedupe_key, std::string(kind), r.webinar.id, r.id, r.email, m.subject, render_mime(m)}, now);
}

void mailer::signed_up(store::database& db, std::int64_t registration_id, const std::string& token, std::int64_t now) const {
  const auto sealed = seal(token);
  db.prepare("INSERT OR REPLACE INTO registration_links (registration_id, sealed) VALUES (?, ?)")
      .bind(1, registration_id)
      .bind_blob(2, sealed.data(), sealed.size())
      .run();
  auto r = load(db, registration_id);
  if (!r) return;
  const auto id = std::to_string(registration_id);
  if (r->status == "registered")
    queue(db, *r, "confirmation", "confirm:" + id,
          {{"sessions", session_lines(r->webinar)}, {"join_url", join_url(*r)}, {"cancel_url", cancel_url(*r)}},
          invitation(*r, false, now), now);
  else
    queue(db, *r, "waitlisted", "waitlisted:" + id, {{"sessions", session_lines(r->webinar)}}, std::nullopt, now);
}

void mailer::promoted(store::database& db, std::int64_t registration_id, std::int64_t now) const {
  auto r = load(db, registration_id);
  if (!r) return;
  queue(db, *r, "promoted", "promoted:" + std::to_string(registration_id),
        {{"sessions", session_lines(r->webinar)}, {"join_url", join_url(*r)}}, invitation(*r, false, now), now);
}

void mailer::cancelled(store::database& db, std::int64_t registration_id, std::int64_t now) const {
  auto r = load(db, registration_id);
  if (!r) return;
  // A registrant may cancel, register again and cancel again: each cancellation is its own mail.
  queue(db, *r, "cancelled", "cancelled:" + std::to_string(registration_id), {}, invitation(*r, true, now), now);
}

void mailer::rescheduled(store::database& db, std::int64_t webinar_id, std::int64_t now) const {
  db.prepare("UPDATE webinars SET ics_sequence = ics_sequence + 1 WHERE id = ?").bind(1, webinar_id).run();
  std::vector<std::int64_t> ids;
  auto st = db.prepare("SELECT id FROM registrations WHERE webinar_id = ? AND status = 'registered' ORDER BY id");
  st.bind(1, webinar_id);
  while (st.step()) ids.push_back(st.int64(0));
  for (auto id : ids) {
    auto r = load(db, id);
    if (!r) continue;
    queue(db, *r, "rescheduled", "rescheduled:" + std::to_string(id) + ":" + std::to_string(r->sequence),
          {{"sessions", session_lines(r->webinar)}, {"join_url", join_url(*r)}}, invitation(*r, false, now), now);
  }
}

void mailer::drop_released(store::database& db, std::int64_t webinar_id, std::int64_t drop_id, const std::string& title,
                           const std::string& body, const std::optional<std::vector<std::int64_t>>& audience,
                           std::int64_t now) const {
  std::vector<std::int64_t> ids;
  if (audience) {
    ids = *audience;
  } else {
    auto st = db.prepare("SELECT id FROM registrations WHERE webinar_id = ? AND status = 'registered' ORDER BY id");
    st.bind(1, webinar_id);
    while (st.step()) ids.push_back(st.int64(0));
  }
  for (auto id : ids) {
    if (is_unsubscribed(db, id) || !wants_drop_notices(db, id)) continue;
    auto r = load(db, id);
    if (!r || r->status == "cancelled") continue;
    const auto materials = options_.public_url + "/materials/" + std::to_string(webinar_id) + (r->token.empty() ? "" : "#token=" + r->token);
    queue(db, *r, "drop", "drop:" + std::to_string(drop_id) + ":" + std::to_string(id),
          {{"drop_title", title}, {"drop_body", body}, {"materials_url", materials}}, std::nullopt, now);
  }
}

int mailer::queue_reminders(store::database& db, std::int64_t now) const {
  std::int64_t horizon = 0;
  for (auto o : options_.reminder_offsets_seconds) horizon = std::max(horizon, o);
  // Series with a session starting within the longest reminder offset.
  std::vector<std::int64_t> webinars;
  auto st = db.prepare("SELECT DISTINCT webinar_id FROM sessions WHERE starts_at > ? AND starts_at <= ?");
  st.bind(1, now).bind(2, now + horizon);
  while (st.step()) webinars.push_back(st.int64(0));
  int queued = 0;
  for (auto webinar_id : webinars) {
    const auto w = registration::find_webinar(db, webinar_id);
    if (!w) continue;
    std::vector<reminder_session> sessions;
    for (const auto& s : w->sessions) sessions.push_back({s.number, s.starts_at});
    const auto due = reminders_due(sessions, options_.reminder_offsets_seconds, now);
    if (due.empty()) continue;
    std::vector<std::int64_t> ids;
    auto people = db.prepare("SELECT id FROM registrations WHERE webinar_id = ? AND status = 'registered' ORDER BY id");
    people.bind(1, webinar_id);
    while (people.step()) ids.push_back(people.int64(0));
    for (auto id : ids) {
      if (is_unsubscribed(db, id)) continue;
      std::optional<recipient> r;
      for (const auto& d : due) {
        const auto key = reminder_dedupe_key(id, d.session, d.offset_seconds);
        auto exists = db.prepare("SELECT 1 FROM outbox WHERE dedupe_key = ?");
        exists.bind(1, key);
        if (exists.step()) continue;
        if (!r) r = load(db, id);
        if (!r) break;
        const auto* s = &w->sessions.front();
        for (const auto& x : w->sessions)
          if (x.number == d.session) s = &x;
        queue(db, *r, "reminder", key,
              {{"session_number", std::to_string(d.session)},
               {"session_start", utc_text(s->starts_at)},
               {"starts_in", time_left_text(s->starts_at - now)},
               {"join_url", join_url(*r)}},
              std::nullopt, now);
        ++queued;
      }
    }
  }
  return queued;
}

}  // namespace cohort::email
