#include "email/outbox_store.hpp"

#include "../store/migrated_file.hpp"
#include "../store/temp_database_file.hpp"
#include "email/mime.hpp"
#include "store/migrations.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

namespace {

using namespace cohort::email;
using cohort::store::database;

constexpr std::int64_t t0 = 1768471200;

outbox_message message(const std::string& key, std::int64_t webinar = 1, std::int64_t registration = 7) {
  mail_message m;
  m.from = {"Cohort", "team@cohort.example.org"};
  m.to = {"Maya", "maya@example.org"};
  m.subject = "About " + key;
  m.text_body = "text";
  m.message_id = make_message_id(key + "-" + std::to_string(t0), "cohort.example.org");
  m.date = t0;
  outbox_message out;
  out.message_id = m.message_id;
  out.dedupe_key = key;
  out.kind = key.substr(0, key.find(':'));
  out.webinar_id = webinar;
  out.registration_id = registration;
  out.to_addr = m.to.address;
  out.subject = m.subject;
  out.mime = render_mime(m);
  return out;
}

std::int64_t scalar(database& db, const std::string& sql) {
  auto st = db.prepare(sql);
  REQUIRE(st.step());
  return st.int64(0);
}

std::int64_t add_registration(database& db) {
  db.exec("INSERT OR IGNORE INTO webinars (id, title, created_at, updated_at) VALUES (1, 'Series', 1, 1)");
  db.exec("INSERT INTO registrations (webinar_id, name, email, email_key, status, token_hash, created_at, updated_at)"
          " VALUES (1, 'Maya', 'maya@example.org', 'maya@example.org', 'registered', x'00', 1, 1)");
  return db.last_insert_rowid();
}

retry_policy without_jitter() {
  retry_policy p;
  p.jitter = 0;
  return p;
}

}  // namespace

TEST_CASE("enqueue is once-only per dedupe_key, also across a reopen", "[email][outbox]") {
  cohort::test::temp_database_file file;
  {
    auto db = cohort::test::open_migrated(file.path());
    CHECK(enqueue(db, message("confirm:7"), t0));
    auto again = message("confirm:7");
    again.message_id = make_message_id("other", "cohort.example.org");  // e.g. rendered again after a restart
    CHECK_FALSE(enqueue(db, again, t0 + 10));
    CHECK(enqueue(db, message("reminder:7:3:24h"), t0));
  }
  auto db = cohort::test::open_migrated(file.path());  // a restart: the reminder sweep runs again
  CHECK_FALSE(enqueue(db, message("reminder:7:3:24h"), t0 + 60));
  CHECK(enqueue(db, message("reminder:7:3:1h"), t0 + 60));
  CHECK(scalar(db, "SELECT count(*) FROM outbox") == 3);
  CHECK(scalar(db, "SELECT count(*) FROM outbox WHERE dedupe_key = 'confirm:7'") == 1);
  // The first one stays, with its own Message-ID.
  auto st = db.prepare("SELECT message_id FROM outbox WHERE dedupe_key = 'confirm:7'");
  REQUIRE(st.step());
  CHECK(st.text(0) == message("confirm:7").message_id);
}

TEST_CASE("a repeated Message-ID under a new dedupe_key is an error, not a silent drop", "[email][outbox]") {
  database db(":memory:");
  cohort::store::migrate(db);
  REQUIRE(enqueue(db, message("confirm:7"), t0));
  auto clash = message("promoted:7");
  clash.message_id = message("confirm:7").message_id;
  CHECK_THROWS_AS(enqueue(db, clash, t0), cohort::store::sqlite_error);
}

TEST_CASE("next_due returns queued messages whose time has come, most overdue first", "[email][outbox]") {
  database db(":memory:");
  cohort::store::migrate(db);
  enqueue(db, message("confirm:1"), t0 + 20);
  enqueue(db, message("confirm:2"), t0);
  enqueue(db, message("confirm:3"), t0 + 100);
  CHECK(next_due(db, t0 - 1, 10).empty());
  const auto due = next_due(db, t0 + 50, 10);
  REQUIRE(due.size() == 2);
  CHECK(due[0].dedupe_key == "confirm:2");
  CHECK(due[1].dedupe_key == "confirm:1");
  CHECK(due[0].mime == message("confirm:2").mime);
  CHECK(due[0].state == outbox_state::queued);
  CHECK(due[0].attempts == 0);
  CHECK(next_due(db, t0 + 50, 1).size() == 1);
  CHECK(next_due_at(db) == t0);
}

TEST_CASE("outbox transitions: retry keeps the message and its Message-ID, then sent or failed", "[email][outbox]") {
  cohort::test::temp_database_file file;
  auto db = cohort::test::open_migrated(file.path());
  const auto original = message("confirm:7");
  REQUIRE(enqueue(db, original, t0));
  auto e = next_due(db, t0, 10).at(0);

  SECTION("retry, then sent") {
    CHECK(mark_retry(db, e.id, t0 + 30, "connect failed"));
    CHECK(next_due(db, t0 + 29, 10).empty());
    CHECK(next_due_at(db) == t0 + 30);
    e = next_due(db, t0 + 30, 10).at(0);
    CHECK(e.attempts == 1);
    CHECK(e.last_error == "connect failed");
    CHECK(e.message_id == original.message_id);
    CHECK(e.mime == original.mime);  // the same bytes on every attempt

    CHECK(mark_sent(db, e.id, t0 + 31));
    CHECK(next_due(db, t0 + 10'000, 10).empty());
    CHECK(next_due_at(db) == std::nullopt);
    const auto listed = list_outbox(db, 1).at(0);
    CHECK(listed.state == outbox_state::sent);
    CHECK(listed.attempts == 2);
    CHECK(listed.sent_at == t0 + 31);
    CHECK(listed.last_error == std::nullopt);
    CHECK(listed.mime.empty());
    // A late or repeated mark cannot undo the final state.
    CHECK_FALSE(mark_retry(db, e.id, t0 + 100, "late"));
    CHECK_FALSE(mark_failed(db, e.id, "late"));
    CHECK(list_outbox(db, 1).at(0).state == outbox_state::sent);
  }
  SECTION("failed") {
    CHECK(mark_failed(db, e.id, "550 no such user"));
    CHECK(next_due(db, t0 + 10'000, 10).empty());
    const auto listed = list_outbox(db, 1).at(0);
    CHECK(listed.state == outbox_state::failed);
    CHECK(listed.attempts == 1);
    CHECK(listed.last_error == "550 no such user");
    CHECK_FALSE(mark_sent(db, e.id, t0));
  }
}

TEST_CASE("record_attempt applies the outcome and the retry policy", "[email][outbox]") {
  database db(":memory:");
  cohort::store::migrate(db);
  const auto p = without_jitter();
  enqueue(db, message("confirm:1"), t0);
  enqueue(db, message("confirm:2"), t0);
  enqueue(db, message("confirm:3"), t0);
  auto due = next_due(db, t0, 10);
  REQUIRE(due.size() == 3);

  CHECK(record_attempt(db, due[0], {send_outcome::sent, 250, ""}, p, t0) == outbox_state::sent);
  CHECK(record_attempt(db, due[1], {send_outcome::permanent, 550, "no such user"}, p, t0) == outbox_state::failed);
  CHECK(record_attempt(db, due[2], {send_outcome::retry, 451, "try later"}, p, t0) == outbox_state::queued);
  auto again = next_due(db, t0 + 30, 10);
  REQUIRE(again.size() == 1);
  CHECK(again[0].next_attempt_at == t0 + 30);
  CHECK(record_attempt(db, again[0], {send_outcome::retry, 451, "try later"}, p, t0 + 30) == outbox_state::queued);
  CHECK(next_due(db, t0 + 30 + 60, 10).at(0).next_attempt_at == t0 + 90);

  // Past the 48 h horizon the policy gives up.
  const auto late = next_due(db, t0 + 90, 10).at(0);
  CHECK(record_attempt(db, late, {send_outcome::retry, 0, "connect failed"}, p, t0 + 48 * 3600) == outbox_state::failed);
  const auto counts = count_by_state(db);
  CHECK(counts.sent == 1);
  CHECK(counts.failed == 2);
  CHECK(counts.queued == 0);
  const auto rows = list_outbox(db, 1);
  const auto gave_up = std::find_if(rows.begin(), rows.end(), [](const auto& r) { return r.dedupe_key == "confirm:3"; });
  REQUIRE(gave_up != rows.end());
  CHECK(gave_up->last_error == "gave up after 3 attempts: connect failed");
}

TEST_CASE("the organizer's view lists one series, newest first, with counts", "[email][outbox]") {
  database db(":memory:");
  cohort::store::migrate(db);
  enqueue(db, message("confirm:1", 1), t0);
  enqueue(db, message("confirm:2", 1), t0);
  enqueue(db, message("confirm:3", 2), t0);
  const auto rows = list_outbox(db, 1);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].dedupe_key == "confirm:2");
  CHECK(rows[0].subject == "About confirm:2");
  CHECK(rows[0].to_addr == "maya@example.org");
  CHECK(rows[0].kind == "confirm");
  CHECK(rows[0].webinar_id == 1);
  CHECK(rows[0].registration_id == 7);
  CHECK(rows[0].created_at == t0);
  CHECK(count_by_state(db, 1).queued == 2);
  CHECK(count_by_state(db, 2).queued == 1);
  CHECK(count_by_state(db).queued == 3);
  CHECK(count_by_state(db, 3).queued == 0);
}

TEST_CASE("unsubscribe is idempotent and turns drop notices off", "[email][outbox]") {
  database db(":memory:");
  cohort::store::migrate(db);
  const auto reg = add_registration(db);
  CHECK_FALSE(is_unsubscribed(db, reg));
  CHECK(wants_drop_notices(db, reg));  // opt-out: on by default

  set_drop_notices(db, reg, false, t0);
  CHECK_FALSE(wants_drop_notices(db, reg));
  CHECK_FALSE(is_unsubscribed(db, reg));
  set_drop_notices(db, reg, true, t0 + 1);
  CHECK(wants_drop_notices(db, reg));

  unsubscribe(db, reg, t0 + 10);
  unsubscribe(db, reg, t0 + 20);
  CHECK(is_unsubscribed(db, reg));
  CHECK_FALSE(wants_drop_notices(db, reg));
  CHECK(scalar(db, "SELECT unsubscribed_at FROM email_prefs") == t0 + 10);  // the first time is kept
  // Unknown registrations are refused by the foreign key rather than stored.
  CHECK_THROWS_AS(unsubscribe(db, reg + 100, t0), cohort::store::sqlite_error);
}

TEST_CASE("the due query uses the partial index", "[email][outbox]") {
  database db(":memory:");
  cohort::store::migrate(db);
  auto st = db.prepare(
      "EXPLAIN QUERY PLAN SELECT id FROM outbox WHERE state = 'queued' AND next_attempt_at <= 5"
      " ORDER BY next_attempt_at, id LIMIT 10");
  std::string plan;
  while (st.step()) plan += st.text(3) + "\n";
  CHECK_THAT(plan, Catch::Matchers::Contains("outbox_due"));
}
