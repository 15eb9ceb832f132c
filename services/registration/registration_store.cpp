#include "registration/registration_store.hpp"

#include "common/errors.hpp"
#include "registration/validation.hpp"

#include <algorithm>

namespace cohort::registration {
namespace {

constexpr const char* select_registration =
    "SELECT id, webinar_id, name, email, profession, status, created_at, time_zone, confirm_by FROM registrations";

registration_record read_row(const store::statement& st) {
  return registration_record{st.int64(0), st.int64(1), st.text(2), st.text(3), st.text(4), st.text(5), st.int64(6), st.text(7),
                             st.optional_int64(8)};
}

std::int64_t scalar(store::statement& st) {
  st.step();
  const auto v = st.int64(0);
  st.reset();
  return v;
}

// Seats taken: the counter the triggers of migration 12 keep in every transaction that changes a
// registration, so a signup costs the same at the 100,000th seat as at the first.
std::int64_t seats_taken(store::database& db, std::int64_t webinar_id) {
  return scalar(db.cached("SELECT registered_count FROM webinars WHERE id = ?").bind(1, webinar_id));
}

}  // namespace

signup_outcome create_signup(store::database& db, std::int64_t webinar_id, const signup_input& input,
                             const http::token_codec& tokens, std::int64_t now, std::optional<std::int64_t> confirm_by) {
  // registered_count: the seats taken, kept by the triggers of migration 12.
  auto& webinar = db.cached("SELECT capacity, registered_count FROM webinars WHERE id = ?");
  webinar.bind(1, webinar_id);
  if (!webinar.step()) throw common::not_found("no webinar " + std::to_string(webinar_id));
  const auto capacity = webinar.optional_int64(0);
  const auto taken = webinar.int64(1);
  webinar.reset();

  auto& existing = db.cached(
      "SELECT id, status, confirm_by IS NOT NULL FROM registrations WHERE webinar_id = ? AND email_key = ? AND status <> 'cancelled'");
  existing.bind(1, webinar_id).bind(2, input.email_key);
  if (existing.step()) {
    signup_outcome out;
    out.id = existing.int64(0);
    out.status = existing.text(1);
    out.unconfirmed = existing.int64(2) != 0;
    existing.reset();
    return out;
  }
  existing.reset();

  const std::string status = (!capacity || taken < *capacity) ? "registered" : "waitlisted";

  // The id goes into the token, so it is chosen before the insert; the single writer makes this race-free.
  // Above every id ever used: a deleted series' registrations included (deleted_webinars).
  const auto id = scalar(db.cached(
      "SELECT max(coalesce((SELECT max(id) FROM registrations), 0), coalesce((SELECT max(registrations_max) FROM deleted_webinars), 0)) + 1"));
  auto issued = tokens.issue(id, webinar_id, input.name);
  db.cached(
        "INSERT INTO registrations (id, webinar_id, name, email, email_key, profession, status, token_hash, created_at, updated_at,"
        " time_zone, confirm_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .bind(1, id)
      .bind(2, webinar_id)
      .bind(3, input.name)
      .bind(4, input.email)
      .bind(5, input.email_key)
      .bind(6, input.profession)
      .bind(7, status)
      .bind_blob(8, issued.nonce_hash.data(), issued.nonce_hash.size())
      .bind(9, now)
      .bind(10, now)
      .bind(11, input.time_zone)
      .bind(12, confirm_by)
      .run();
  return signup_outcome{true, confirm_by.has_value(), id, status, std::move(issued.token), std::move(issued.nonce_hash)};
}

namespace {
// The row of a registration; common::not_found when there is none.
registration_record registration_by_id(store::database& db, std::int64_t registration_id) {
  auto st = db.prepare(std::string(select_registration) + " WHERE id = ?");
  st.bind(1, registration_id);
  if (!st.step()) throw common::not_found("no registration " + std::to_string(registration_id));
  return read_row(st);
}
}  // namespace

registration_record confirm_registration(store::database& db, std::int64_t registration_id, std::int64_t now,
                                         std::vector<std::int64_t>* promoted) {
  auto record = registration_by_id(db, registration_id);
  if (!record.confirm_by || record.status == "cancelled") return record;
  // The sweep may not have run yet: a hold past its time is gone all the same.
  if (*record.confirm_by <= now)
    throw common::gone("this confirmation link has expired: sign up again", "expired");
  // A held seat counts as a promotion for the revocation list the primary re-publishes (s:
  // after the w: the signup put there), as promoted_at records for the waitlist.
  db.prepare("UPDATE registrations SET confirm_by = NULL, updated_at = ?1,"
             " promoted_at = CASE WHEN status = 'registered' THEN ?1 ELSE promoted_at END WHERE id = ?2")
      .bind(1, now)
      .bind(2, registration_id)
      .run();
  record.confirm_by.reset();
  if (record.status == "waitlisted") {
    auto ids = promote_waitlisted(db, record.webinar_id, now);
    if (auto self = std::find(ids.begin(), ids.end(), registration_id); self != ids.end()) {
      ids.erase(self);
      record.status = "registered";
    }
    if (promoted) *promoted = std::move(ids);
  }
  return record;
}

std::vector<lapsed_hold> lapse_unconfirmed(store::database& db, std::int64_t now, std::vector<std::int64_t>* promoted) {
  std::vector<lapsed_hold> out;
  auto st = db.prepare(
      "SELECT id, webinar_id, token_hash FROM registrations WHERE confirm_by IS NOT NULL AND confirm_by <= ? AND status <> 'cancelled'"
      " ORDER BY id");
  st.bind(1, now);
  while (st.step()) out.push_back({st.int64(0), st.int64(1), st.text(2)});
  for (const auto& hold : out) {
    std::vector<std::int64_t> seated;
    cancel_registration(db, hold.id, now, &seated);
    if (promoted) promoted->insert(promoted->end(), seated.begin(), seated.end());
  }
  return out;
}

std::optional<registration_record> find_by_token(store::database& db, std::int64_t registration_id,
                                                 const std::string& nonce_hash) {
  // An erased registration (privacy) answers to no token: its link is dead, like a deleted one.
  auto st = db.prepare(std::string(select_registration) + " WHERE id = ? AND token_hash = ? AND erased_at IS NULL");
  st.bind(1, registration_id).bind_blob(2, nonce_hash.data(), nonce_hash.size());
  if (!st.step()) return std::nullopt;
  return read_row(st);
}

registration_record cancel_registration(store::database& db, std::int64_t registration_id, std::int64_t now,
                                        std::vector<std::int64_t>* promoted) {
  auto record = registration_by_id(db, registration_id);
  if (record.status == "cancelled") return record;
  db.prepare("UPDATE registrations SET status = 'cancelled', updated_at = ? WHERE id = ?").bind(1, now).bind(2, registration_id).run();
  if (record.status == "registered") {
    auto ids = promote_waitlisted(db, record.webinar_id, now);
    if (promoted) *promoted = std::move(ids);
  }
  record.status = "cancelled";
  return record;
}

std::vector<std::int64_t> promote_waitlisted(store::database& db, std::int64_t webinar_id, std::int64_t now) {
  std::vector<std::int64_t> ids;
  auto cap = db.prepare("SELECT capacity FROM webinars WHERE id = ?");
  cap.bind(1, webinar_id);
  if (!cap.step()) return ids;
  const auto capacity = cap.optional_int64(0);
  const auto registered = capacity ? seats_taken(db, webinar_id) : 0;
  auto st = db.prepare(
      "UPDATE registrations SET status = 'registered', updated_at = ?1, promoted_at = ?1 WHERE id IN ("
      " SELECT id FROM registrations WHERE webinar_id = ?2 AND status = 'waitlisted' AND confirm_by IS NULL ORDER BY id LIMIT ?3)"
      " RETURNING id");
  // Unlimited capacity admits the whole waitlist (-1 is SQLite's "no limit").
  st.bind(1, now).bind(2, webinar_id).bind(3, capacity ? std::max<std::int64_t>(0, *capacity - registered) : -1);
  while (st.step()) ids.push_back(st.int64(0));
  std::sort(ids.begin(), ids.end());
  return ids;
}

registration_page list_registrations(store::database& db, std::int64_t webinar_id, const std::string& status_filter,
                                     std::int64_t after_id, int limit, const std::string& search) {
  registration_page page;
  limit = std::max(limit, 1);
  const bool all = status_filter.empty();
  // lower() folds ASCII only, as email_key does; names in other scripts match as typed.
  constexpr const char* matches =
      " AND (?5 = '' OR instr(lower(name), lower(?5)) > 0 OR instr(name, ?5) > 0 OR instr(email_key, lower(?5)) > 0)";
  auto st = db.prepare(std::string(select_registration) + " WHERE webinar_id = ?1 AND (?2 = '' OR status = ?2) AND id > ?3" +
                       matches + " ORDER BY id LIMIT ?4");
  st.bind(1, webinar_id).bind(2, status_filter).bind(3, after_id).bind(4, limit + 1).bind(5, search);
  while (st.step()) page.items.push_back(read_row(st));
  if (page.items.size() > static_cast<std::size_t>(limit)) {
    page.items.pop_back();
    page.next_after = page.items.back().id;
  }
  page.total = scalar(db.prepare(std::string("SELECT count(*) FROM registrations WHERE webinar_id = ?1 AND (?2 = '' OR status = ?2)") +
                                 matches)
                          .bind(1, webinar_id)
                          .bind(2, all ? std::string() : status_filter)
                          .bind(5, search));
  return page;
}

registration_record active_registration(store::database& db, std::int64_t registration_id, const std::string& token_nonce_hash) {
  auto me = find_by_token(db, registration_id, token_nonce_hash);
  if (!me || me->status == "cancelled") throw common::unauthorized("this registration is not active");
  return std::move(*me);
}

void require_seat(const registration_record& r) {
  if (r.confirm_by) throw common::forbidden(unconfirmed_message, "unconfirmed");
  if (r.status == "waitlisted") throw common::forbidden(waitlisted_message, "waitlisted");
}

std::string token_hash_of(store::database& db, std::int64_t webinar_id, std::int64_t registration_id) {
  auto st = db.prepare("SELECT token_hash FROM registrations WHERE id = ? AND webinar_id = ?");
  st.bind(1, registration_id).bind(2, webinar_id);
  return st.step() ? st.text(0) : std::string();
}

std::vector<std::string> token_hashes_of(store::database& db, const std::vector<std::int64_t>& registration_ids) {
  std::vector<std::string> out;
  auto& st = db.cached("SELECT token_hash FROM registrations WHERE id = ?");
  for (auto id : registration_ids) {
    st.bind(1, id);
    if (st.step()) out.push_back(st.text(0));
    st.reset();
  }
  return out;
}

void for_each_registration(store::database& db, std::int64_t webinar_id,
                           const std::function<void(const registration_record&)>& visit) {
  auto st = db.prepare(std::string(select_registration) + " WHERE webinar_id = ? ORDER BY id");
  st.bind(1, webinar_id);
  while (st.step()) visit(read_row(st));
}

}  // namespace cohort::registration
