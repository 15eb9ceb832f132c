#include "common/errors.hpp"
#include "common/text.hpp"
#include "registration/registration_store.hpp"
#include "registration/webinar_store.hpp"

#include "registration/validation.hpp"
#include "store/migrations.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

using namespace cohort::registration;
using cohort::common::trim;
using cohort::store::database;

constexpr std::int64_t t0 = 1768471200;  // 2026-01-15T10:00:00Z
constexpr std::int64_t hour = 3600, day = 86400;

struct fixture {
  database db{":memory:"};
  cohort::http::token_codec tokens{"registration-store-test-secret-0123456789"};

  fixture() { cohort::store::migrate(db); }

  std::int64_t webinar(std::optional<std::int64_t> capacity, std::vector<std::int64_t> starts = {t0 + day},
                       std::int64_t now = t0, std::string title = "Infant massage") {
    webinar_input in;
    in.title = std::move(title);
    in.description = "weekly";
    in.capacity = capacity;
    for (auto s : starts) in.sessions.push_back(session_slot{0, s, 60});
    return create_webinar(db, std::move(in), now);
  }

  signup_outcome signup(std::int64_t webinar_id, const std::string& email, std::int64_t now = t0) {
    signup_input in;
    in.name = "Person " + email;
    in.email = trim(email);
    in.email_key = *email_key(email);
    in.profession = "OT";
    return create_signup(db, webinar_id, in, tokens, now);
  }

  std::string status_of(std::int64_t registration_id) {
    auto st = db.prepare("SELECT status FROM registrations WHERE id = ?");
    st.bind(1, registration_id);
    REQUIRE(st.step());
    return st.text(0);
  }

  // A one-value query; `param` binds to ?1.
  std::int64_t scalar(const std::string& sql, std::optional<std::int64_t> param = {}) {
    auto st = db.prepare(sql);
    if (param) st.bind(1, *param);
    REQUIRE(st.step());
    return st.int64(0);
  }

  std::vector<std::string> titles(std::int64_t now) {
    std::vector<std::string> out;
    for (const auto& w : list_webinars(db, now)) out.push_back(w.title);
    return out;
  }
};

}  // namespace

TEST_CASE("create_webinar numbers sessions in time order", "[registration]") {
  fixture f;
  webinar_input in;
  in.title = "Series";
  in.description = "About it";
  in.capacity = 30;
  in.sessions = {{0, t0 + 3 * day, 30}, {0, t0 + 1 * day, 60}, {0, t0 + 2 * day, 90}};
  const auto id = create_webinar(f.db, in, t0 - day);

  const auto w = find_webinar(f.db, id);
  REQUIRE(w);
  CHECK(w->id == id);
  CHECK(w->title == "Series");
  CHECK(w->description == "About it");
  CHECK(w->capacity == std::optional<std::int64_t>(30));
  CHECK(w->created_at == t0 - day);
  CHECK(w->registered == 0);
  CHECK(w->waitlisted == 0);
  CHECK(w->seats_left() == std::optional<std::int64_t>(30));
  REQUIRE(w->sessions.size() == 3);
  for (int i = 0; i < 3; ++i) {
    const auto& s = w->sessions[static_cast<std::size_t>(i)];
    CHECK(s.number == i + 1);
    CHECK(s.starts_at == t0 + (i + 1) * day);
  }
  // each duration stays with its own session
  CHECK(w->sessions[0].duration_minutes == 60);
  CHECK(w->sessions[1].duration_minutes == 90);
  CHECK(w->sessions[2].duration_minutes == 30);
  CHECK(w->sessions[2].ends_at() == t0 + 3 * day + 30 * 60);
  CHECK(count_webinars(f.db) == 1);
}

TEST_CASE("find_webinar of an unknown id is empty", "[registration]") {
  fixture f;
  CHECK_FALSE(find_webinar(f.db, 1));
  f.webinar(10);
  CHECK_FALSE(find_webinar(f.db, 2));
}

TEST_CASE("webinar seats_left and next_session_at", "[registration]") {
  webinar w;
  CHECK_FALSE(w.seats_left());  // unlimited
  w.capacity = 3;
  w.registered = 1;
  CHECK(w.seats_left() == std::optional<std::int64_t>(2));
  w.registered = 5;  // capacity lowered below the registered count
  CHECK(w.seats_left() == std::optional<std::int64_t>(0));

  w.sessions = {{1, t0, 60}, {2, t0 + day, 60}};
  CHECK(w.next_session_at(t0 - 1) == std::optional<std::int64_t>(t0));
  CHECK(w.next_session_at(t0 + 59 * 60) == std::optional<std::int64_t>(t0));  // still running
  CHECK(w.next_session_at(t0 + hour) == std::optional<std::int64_t>(t0 + day));
  CHECK_FALSE(w.next_session_at(t0 + day + hour));
}

TEST_CASE("list_webinars puts upcoming first by next session, then past ones most recent first", "[registration]") {
  fixture f;
  const auto now = t0;
  f.webinar(std::nullopt, {now - 10 * day}, now - 20 * day, "past, 10 days ago");
  f.webinar(std::nullopt, {now - 30 * day, now + 5 * day}, now - 40 * day, "next in 5 days");
  f.webinar(std::nullopt, {now - 2 * day}, now - 20 * day, "past, 2 days ago");
  f.webinar(std::nullopt, {now + 1 * day, now + 8 * day}, now - 1 * day, "next in 1 day");
  f.webinar(std::nullopt, {now - 10 * 60}, now - 20 * day, "running now");
  CHECK(f.titles(now) == std::vector<std::string>{"running now", "next in 1 day", "next in 5 days", "past, 2 days ago",
                                                  "past, 10 days ago"});
  // a week later the 5-day one is past and ranks by its last session
  CHECK(f.titles(now + 7 * day) == std::vector<std::string>{"next in 1 day", "next in 5 days", "running now",
                                                            "past, 2 days ago", "past, 10 days ago"});
}

TEST_CASE("update_webinar changes only what the patch holds", "[registration]") {
  fixture f;
  const auto id = f.webinar(10, {t0 + day, t0 + 2 * day});

  webinar_patch title_only;
  title_only.title = "Renamed";
  update_webinar(f.db, id, title_only, t0 + 5);
  auto w = find_webinar(f.db, id);
  REQUIRE(w);
  CHECK(w->title == "Renamed");
  CHECK(w->description == "weekly");
  CHECK(w->capacity == std::optional<std::int64_t>(10));
  CHECK(w->sessions.size() == 2);
  CHECK(f.scalar("SELECT updated_at FROM webinars WHERE id = ?1", id) == t0 + 5);

  webinar_patch sessions;
  sessions.sessions = std::vector<session_slot>{{0, t0 + 9 * day, 45}, {0, t0 + 3 * day, 60}, {0, t0 + 6 * day, 60}};
  update_webinar(f.db, id, sessions, t0 + 6);
  w = find_webinar(f.db, id);
  REQUIRE(w->sessions.size() == 3);
  CHECK(w->sessions[0].starts_at == t0 + 3 * day);
  CHECK(w->sessions[2].number == 3);
  CHECK(w->sessions[2].duration_minutes == 45);
  CHECK(w->title == "Renamed");

  webinar_patch unlimited;
  unlimited.capacity = std::optional<std::int64_t>{};
  update_webinar(f.db, id, unlimited, t0 + 7);
  CHECK_FALSE(find_webinar(f.db, id)->capacity);

  CHECK_THROWS_AS(update_webinar(f.db, id + 1, title_only, t0), cohort::common::not_found);
}

TEST_CASE("raising the capacity promotes the waitlist, oldest first", "[registration]") {
  fixture f;
  const auto id = f.webinar(2);
  std::vector<std::int64_t> ids;
  for (int i = 1; i <= 5; ++i) ids.push_back(f.signup(id, "p" + std::to_string(i) + "@x.org", t0 + i).id);
  CHECK(f.status_of(ids[2]) == "waitlisted");

  webinar_patch raise;
  raise.capacity = std::optional<std::int64_t>{4};
  update_webinar(f.db, id, raise, t0 + 100);
  CHECK(f.status_of(ids[0]) == "registered");
  CHECK(f.status_of(ids[1]) == "registered");
  CHECK(f.status_of(ids[2]) == "registered");
  CHECK(f.status_of(ids[3]) == "registered");
  CHECK(f.status_of(ids[4]) == "waitlisted");
  auto w = find_webinar(f.db, id);
  CHECK(w->registered == 4);
  CHECK(w->waitlisted == 1);

  // lowering it never drops anyone who holds a seat
  webinar_patch lower;
  lower.capacity = std::optional<std::int64_t>{1};
  update_webinar(f.db, id, lower, t0 + 200);
  w = find_webinar(f.db, id);
  CHECK(w->registered == 4);
  CHECK(w->waitlisted == 1);
  CHECK(w->seats_left() == std::optional<std::int64_t>(0));

  // while over capacity a newcomer waits and a cancellation frees no seat
  const auto late = f.signup(id, "late@x.org", t0 + 250);
  CHECK(late.status == "waitlisted");
  cancel_registration(f.db, ids[0], t0 + 260);
  CHECK(f.status_of(ids[4]) == "waitlisted");
  CHECK(find_webinar(f.db, id)->registered == 3);

  // unlimited admits the whole waitlist
  webinar_patch unlimited;
  unlimited.capacity = std::optional<std::int64_t>{};
  update_webinar(f.db, id, unlimited, t0 + 300);
  CHECK(f.status_of(ids[4]) == "registered");
  CHECK(f.status_of(late.id) == "registered");
  CHECK(find_webinar(f.db, id)->waitlisted == 0);
}

TEST_CASE("delete_webinar removes its sessions and registrations", "[registration]") {
  fixture f;
  const auto doomed = f.webinar(1, {t0 + day, t0 + 2 * day});
  const auto kept = f.webinar(1);
  f.signup(doomed, "a@x.org");
  f.signup(doomed, "b@x.org");
  f.signup(kept, "a@x.org");

  delete_webinar(f.db, doomed, 1000);
  CHECK_FALSE(find_webinar(f.db, doomed));
  CHECK(f.scalar("SELECT count(*) FROM sessions WHERE webinar_id = ?1", doomed) == 0);
  CHECK(f.scalar("SELECT count(*) FROM registrations WHERE webinar_id = ?1", doomed) == 0);
  CHECK(find_webinar(f.db, kept)->registered == 1);
  CHECK(f.scalar("SELECT count(*) FROM sessions") == 1);
  CHECK(count_webinars(f.db) == 1);
  CHECK_THROWS_AS(delete_webinar(f.db, doomed, 1000), cohort::common::not_found);
}

TEST_CASE("create_signup registers until capacity, then waitlists", "[registration]") {
  fixture f;
  const auto id = f.webinar(2);
  const auto other = f.webinar(1);
  f.signup(other, "someone@x.org");  // another webinar's seats do not count

  const auto a = f.signup(id, "a@x.org");
  const auto b = f.signup(id, "b@x.org");
  const auto c = f.signup(id, "c@x.org");
  CHECK(a.created);
  CHECK(a.status == "registered");
  CHECK(b.status == "registered");
  CHECK(c.created);
  CHECK(c.status == "waitlisted");
  CHECK(a.id != b.id);
  CHECK(b.id != c.id);
  CHECK_FALSE(a.token.empty());
  CHECK_FALSE(c.token.empty());

  const auto w = find_webinar(f.db, id);
  CHECK(w->registered == 2);
  CHECK(w->waitlisted == 1);

  // the token names this registration and this webinar
  const auto who = f.tokens.verify(c.token);
  REQUIRE(who);
  CHECK(who->registration_id == c.id);
  CHECK(who->webinar_id == id);
}

TEST_CASE("create_signup without a capacity registers everyone", "[registration]") {
  fixture f;
  const auto id = f.webinar(std::nullopt);
  for (int i = 0; i < 20; ++i) CHECK(f.signup(id, "p" + std::to_string(i) + "@x.org").status == "registered");
  CHECK(find_webinar(f.db, id)->waitlisted == 0);
}

TEST_CASE("create_signup refuses a second active signup for the same email", "[registration]") {
  fixture f;
  const auto id = f.webinar(1);
  const auto first = f.signup(id, "Ada@Example.org");
  REQUIRE(first.created);
  const auto again = f.signup(id, "  ada@EXAMPLE.ORG ");
  CHECK_FALSE(again.created);
  CHECK(again.token.empty());

  const auto waitlisted = f.signup(id, "b@x.org");
  CHECK(waitlisted.status == "waitlisted");
  CHECK_FALSE(f.signup(id, "B@X.ORG").created);
  CHECK(f.scalar("SELECT count(*) FROM registrations") == 2);

  // the same person may sign up for another webinar
  CHECK(f.signup(f.webinar(1), "ada@example.org").created);
}

TEST_CASE("create_signup lets a cancelled registrant sign up again", "[registration]") {
  fixture f;
  const auto id = f.webinar(1);
  const auto first = f.signup(id, "a@x.org");
  const auto waiting = f.signup(id, "b@x.org");
  cancel_registration(f.db, first.id, t0 + 10);
  CHECK(f.status_of(waiting.id) == "registered");  // took the freed seat

  const auto back = f.signup(id, "A@x.org", t0 + 20);
  CHECK(back.created);
  CHECK(back.id != first.id);
  CHECK(back.status == "waitlisted");  // the seat went to b meanwhile
  CHECK(f.status_of(first.id) == "cancelled");
}

TEST_CASE("create_signup for an unknown webinar throws common::not_found", "[registration]") {
  fixture f;
  CHECK_THROWS_AS(f.signup(99, "a@x.org"), cohort::common::not_found);
  CHECK(f.scalar("SELECT count(*) FROM registrations") == 0);
}

TEST_CASE("create_signup stores what was typed", "[registration]") {
  fixture f;
  const auto id = f.webinar(5);
  signup_input in;
  in.name = "Zo\xc3\xab O'Neil";
  in.email = "Zoe@Example.org";
  in.email_key = "zoe@example.org";
  in.profession = "SLP";
  const auto out = create_signup(f.db, id, in, f.tokens, t0 + 42);
  const auto rec = find_by_token(f.db, out.id, f.tokens.verify(out.token)->token_nonce_hash);
  REQUIRE(rec);
  CHECK(rec->id == out.id);
  CHECK(rec->webinar_id == id);
  CHECK(rec->name == "Zo\xc3\xab O'Neil");
  CHECK(rec->email == "Zoe@Example.org");
  CHECK(rec->profession == "SLP");
  CHECK(rec->status == "registered");
  CHECK(rec->created_at == t0 + 42);
}

TEST_CASE("find_by_token needs the hash of the token's own nonce", "[registration]") {
  fixture f;
  const auto id = f.webinar(5);
  const auto a = f.signup(id, "a@x.org");
  const auto b = f.signup(id, "b@x.org");
  const auto who_a = f.tokens.verify(a.token);
  const auto who_b = f.tokens.verify(b.token);
  REQUIRE(who_a);
  REQUIRE(who_b);

  const auto rec = find_by_token(f.db, a.id, who_a->token_nonce_hash);
  REQUIRE(rec);
  CHECK(rec->email == "a@x.org");
  CHECK_FALSE(find_by_token(f.db, a.id, who_b->token_nonce_hash));  // b's secret does not open a
  CHECK_FALSE(find_by_token(f.db, a.id, std::string(32, '\0')));
  CHECK_FALSE(find_by_token(f.db, a.id, ""));
  CHECK_FALSE(find_by_token(f.db, a.id + 100, who_a->token_nonce_hash));
  // a freshly issued token for the same ids has another nonce
  CHECK_FALSE(find_by_token(f.db, a.id, f.tokens.issue(a.id, id).nonce_hash));
}

TEST_CASE("a token outlives neither its webinar nor a reuse of its id", "[registration]") {
  fixture f;
  const auto first_webinar = f.webinar(5);
  const auto old = f.signup(first_webinar, "a@x.org");
  const auto old_hash = f.tokens.verify(old.token)->token_nonce_hash;
  delete_webinar(f.db, first_webinar, 1000);
  CHECK_FALSE(find_by_token(f.db, old.id, old_hash));

  const auto fresh = f.signup(f.webinar(5), "b@x.org");
  CHECK_FALSE(find_by_token(f.db, fresh.id, old_hash));
  CHECK(find_by_token(f.db, fresh.id, f.tokens.verify(fresh.token)->token_nonce_hash));
}

TEST_CASE("cancel_registration frees the seat for the oldest waitlisted, once", "[registration]") {
  fixture f;
  const auto id = f.webinar(2);
  const auto r1 = f.signup(id, "r1@x.org");
  const auto r2 = f.signup(id, "r2@x.org");
  const auto w1 = f.signup(id, "w1@x.org");
  const auto w2 = f.signup(id, "w2@x.org");

  const auto rec = cancel_registration(f.db, r1.id, t0 + 60);
  CHECK(rec.id == r1.id);
  CHECK(rec.status == "cancelled");
  CHECK(f.status_of(w1.id) == "registered");
  CHECK(f.status_of(w2.id) == "waitlisted");

  // cancelling again changes nothing and promotes nobody else
  CHECK(cancel_registration(f.db, r1.id, t0 + 70).status == "cancelled");
  CHECK(f.status_of(w2.id) == "waitlisted");
  auto w = find_webinar(f.db, id);
  CHECK(w->registered == 2);
  CHECK(w->waitlisted == 1);

  // a waitlisted cancellation frees no seat
  CHECK(cancel_registration(f.db, w2.id, t0 + 80).status == "cancelled");
  w = find_webinar(f.db, id);
  CHECK(w->registered == 2);
  CHECK(w->waitlisted == 0);
  CHECK(f.status_of(r2.id) == "registered");

  CHECK_THROWS_AS(cancel_registration(f.db, 999, t0), cohort::common::not_found);
}

TEST_CASE("promote_waitlisted fills only the free seats", "[registration]") {
  fixture f;
  const auto id = f.webinar(1);
  f.signup(id, "a@x.org");
  const auto b = f.signup(id, "b@x.org");
  CHECK(promote_waitlisted(f.db, id, t0).empty());
  f.db.exec("UPDATE webinars SET capacity = 3");
  f.signup(id, "c@x.org");  // a seat freed behind the store's back: b waits until promoted
  CHECK(promote_waitlisted(f.db, id, t0) == std::vector<std::int64_t>{b.id});
  CHECK(find_webinar(f.db, id)->registered == 3);
  CHECK(promote_waitlisted(f.db, 999, t0).empty());
}

TEST_CASE("list_registrations pages by id with a total", "[registration]") {
  fixture f;
  const auto id = f.webinar(3);
  const auto other = f.webinar(3);
  std::vector<std::int64_t> ids;
  for (int i = 1; i <= 5; ++i) {
    ids.push_back(f.signup(id, "p" + std::to_string(i) + "@x.org").id);
    f.signup(other, "q" + std::to_string(i) + "@x.org");  // interleaved rows of another webinar
  }

  auto page = list_registrations(f.db, id, "", 0, 2);
  REQUIRE(page.items.size() == 2);
  CHECK(page.items[0].id == ids[0]);
  CHECK(page.items[1].id == ids[1]);
  CHECK(page.total == 5);
  REQUIRE(page.next_after);
  CHECK(*page.next_after == ids[1]);

  page = list_registrations(f.db, id, "", *page.next_after, 2);
  REQUIRE(page.items.size() == 2);
  CHECK(page.items[0].id == ids[2]);
  CHECK(page.total == 5);
  REQUIRE(page.next_after);

  page = list_registrations(f.db, id, "", *page.next_after, 2);
  REQUIRE(page.items.size() == 1);
  CHECK(page.items[0].id == ids[4]);
  CHECK_FALSE(page.next_after);

  // a page that ends exactly at the last row has no next page
  page = list_registrations(f.db, id, "", ids[2], 2);
  CHECK(page.items.size() == 2);
  CHECK_FALSE(page.next_after);

  page = list_registrations(f.db, id, "", 0, 500);
  CHECK(page.items.size() == 5);
  CHECK_FALSE(page.next_after);
}

TEST_CASE("list_registrations filters by status, total included", "[registration]") {
  fixture f;
  const auto id = f.webinar(2);
  std::vector<std::int64_t> ids;
  for (int i = 1; i <= 5; ++i) ids.push_back(f.signup(id, "p" + std::to_string(i) + "@x.org").id);
  cancel_registration(f.db, ids[4], t0);  // waitlisted -> cancelled

  auto page = list_registrations(f.db, id, "waitlisted", 0, 100);
  CHECK(page.total == 2);
  REQUIRE(page.items.size() == 2);
  CHECK(page.items[0].id == ids[2]);
  CHECK(page.items[1].id == ids[3]);
  for (const auto& r : page.items) CHECK(r.status == "waitlisted");

  page = list_registrations(f.db, id, "registered", 0, 1);
  CHECK(page.total == 2);
  REQUIRE(page.items.size() == 1);
  CHECK(page.next_after == std::optional<std::int64_t>(ids[0]));

  page = list_registrations(f.db, id, "cancelled", 0, 100);
  CHECK(page.total == 1);
  REQUIRE(page.items.size() == 1);
  CHECK(page.items[0].id == ids[4]);

  CHECK(list_registrations(f.db, id, "", 0, 100).total == 5);
  CHECK(list_registrations(f.db, 999, "", 0, 100).total == 0);
}

TEST_CASE("for_each_registration visits a webinar's rows in id order", "[registration]") {
  fixture f;
  const auto id = f.webinar(std::nullopt);
  const auto other = f.webinar(std::nullopt);
  f.signup(id, "a@x.org");
  f.signup(other, "z@x.org");
  f.signup(id, "b@x.org");
  std::vector<std::string> seen;
  for_each_registration(f.db, id, [&](const registration_record& r) { seen.push_back(r.email); });
  CHECK(seen == std::vector<std::string>{"a@x.org", "b@x.org"});
}

TEST_CASE("ids of a deleted series and of its registrations are never given out again", "[registration]") {
  fixture f;
  const auto older = f.webinar(5);
  f.signup(older, "a@x.org");
  const auto newest = f.webinar(5);
  const auto last = f.signup(newest, "b@x.org");
  delete_webinar(f.db, newest, 1000);
  // SQLite alone would hand out both largest ids again, and an old signed token would fit them.
  const auto next = f.webinar(5);
  CHECK(next > newest);
  CHECK(f.signup(next, "c@x.org").id > last.id);
  CHECK(f.scalar("SELECT count(*) FROM deleted_webinars WHERE id = ?1", newest) == 1);
}

TEST_CASE("an unconfirmed signup holds its place until confirmed, and is not promoted before", "[registration]") {
  fixture f;
  const auto id = f.webinar(1);
  signup_input in;
  in.name = "Unconfirmed";
  auto as = [&](const std::string& email) {
    in.email = email;
    in.email_key = *email_key(email);
    return in;
  };
  const auto held = create_signup(f.db, id, as("held@x.org"), f.tokens, t0, t0 + hour);
  CHECK(held.created);
  CHECK(held.unconfirmed);
  CHECK(held.status == "registered");  // the seat is held
  const auto waiting = create_signup(f.db, id, as("waiting@x.org"), f.tokens, t0, t0 + hour);
  CHECK(waiting.status == "waitlisted");
  const auto confirmed_waiting = f.signup(id, "confirmed@x.org");
  CHECK(confirmed_waiting.status == "waitlisted");
  // The same address again: not created, and told it is still unconfirmed.
  const auto again = create_signup(f.db, id, as("held@x.org"), f.tokens, t0 + 1, t0 + 1 + hour);
  CHECK_FALSE(again.created);
  CHECK(again.unconfirmed);
  CHECK(again.id == held.id);

  // The seat frees: the confirmed waitlisted registrant moves up, the older unconfirmed one does not.
  std::vector<std::int64_t> promoted;
  cancel_registration(f.db, held.id, t0 + 60, &promoted);
  CHECK(promoted == std::vector<std::int64_t>{confirmed_waiting.id});
  CHECK(f.status_of(waiting.id) == "waitlisted");

  // Confirmed, a waitlisted hold stays on the waitlist while no seat is free.
  const auto rec = confirm_registration(f.db, waiting.id, t0 + 120);
  CHECK_FALSE(rec.confirm_by.has_value());
  CHECK(rec.status == "waitlisted");
  // Idempotent.
  CHECK(confirm_registration(f.db, waiting.id, t0 + 130).status == "waitlisted");
}

TEST_CASE("confirming a waitlisted hold takes a free seat when its turn comes; a lapsed hold cannot be confirmed", "[registration]") {
  fixture f;
  const auto id = f.webinar(1);
  signup_input in;
  in.name = "Unconfirmed";
  in.email = "late@x.org";
  in.email_key = *email_key(in.email);
  const auto seated = f.signup(id, "seated@x.org");
  const auto late = create_signup(f.db, id, in, f.tokens, t0, t0 + hour);
  REQUIRE(late.status == "waitlisted");
  cancel_registration(f.db, seated.id, t0 + 10);  // a seat frees while `late` is unconfirmed
  CHECK(f.status_of(late.id) == "waitlisted");
  std::vector<std::int64_t> others;
  const auto rec = confirm_registration(f.db, late.id, t0 + 20, &others);
  CHECK(rec.status == "registered");
  CHECK(others.empty());

  in.email = "lapsed@x.org";
  in.email_key = *email_key(in.email);
  const auto lapsed = create_signup(f.db, id, in, f.tokens, t0, t0 + hour);
  CHECK_THROWS_AS(confirm_registration(f.db, lapsed.id, t0 + hour), cohort::common::gone);
}

TEST_CASE("lapse_unconfirmed cancels the holds that ran out and moves the waitlist up into their seats", "[registration]") {
  fixture f;
  const auto id = f.webinar(1);
  signup_input in;
  in.name = "Unconfirmed";
  in.email = "bot@x.org";
  in.email_key = *email_key(in.email);
  const auto bot = create_signup(f.db, id, in, f.tokens, t0, t0 + hour);
  const auto person = f.signup(id, "person@x.org");
  REQUIRE(bot.status == "registered");
  REQUIRE(person.status == "waitlisted");

  std::vector<std::int64_t> promoted;
  CHECK(lapse_unconfirmed(f.db, t0 + hour - 1, &promoted).empty());
  CHECK(promoted.empty());
  const auto lapsed = lapse_unconfirmed(f.db, t0 + hour, &promoted);
  REQUIRE(lapsed.size() == 1);
  CHECK(lapsed[0].id == bot.id);
  CHECK(lapsed[0].webinar_id == id);
  CHECK(lapsed[0].token_nonce_hash == bot.token_nonce_hash);
  CHECK(promoted == std::vector<std::int64_t>{person.id});
  CHECK(f.status_of(bot.id) == "cancelled");
  CHECK(f.status_of(person.id) == "registered");
  // Once only.
  CHECK(lapse_unconfirmed(f.db, t0 + 2 * hour).empty());
}

TEST_CASE("the seat counters equal a real count after signup, waitlist, cancel, promote, lapse, confirm and delete",
          "[registration]") {
  fixture f;
  const auto id = f.webinar(2);
  const auto other = f.webinar(std::nullopt);
  // What GET /api/webinars shows (the counters) against the rows themselves.
  auto check_counts = [&](std::int64_t webinar_id) {
    const auto w = find_webinar(f.db, webinar_id);
    REQUIRE(w);
    CHECK(w->registered ==
          f.scalar("SELECT count(*) FROM registrations WHERE webinar_id = ?1 AND status = 'registered'", webinar_id));
    CHECK(w->waitlisted ==
          f.scalar("SELECT count(*) FROM registrations WHERE webinar_id = ?1 AND status = 'waitlisted'", webinar_id));
    for (const auto& listed : list_webinars(f.db, t0))
      if (listed.id == webinar_id) CHECK((listed.registered == w->registered && listed.waitlisted == w->waitlisted));
  };
  signup_input held;
  held.name = "Unconfirmed";
  auto unconfirmed = [&](const std::string& email, std::int64_t until) {
    held.email = email;
    held.email_key = *email_key(email);
    return create_signup(f.db, id, held, f.tokens, t0, until);
  };

  const auto a = f.signup(id, "a@x.org");
  const auto hold = unconfirmed("hold@x.org", t0 + hour);  // takes the second seat until it lapses
  const auto c = f.signup(id, "c@x.org");
  const auto d = f.signup(id, "d@x.org");
  const auto w_hold = unconfirmed("whold@x.org", t0 + 2 * hour);
  f.signup(other, "a@x.org");
  REQUIRE(c.status == "waitlisted");
  check_counts(id);
  check_counts(other);

  cancel_registration(f.db, a.id, t0 + 10);  // c moves up
  CHECK(f.status_of(c.id) == "registered");
  check_counts(id);
  cancel_registration(f.db, a.id, t0 + 11);  // idempotent: nothing moves
  check_counts(id);

  lapse_unconfirmed(f.db, t0 + hour);  // the hold's seat goes to d
  CHECK(f.status_of(hold.id) == "cancelled");
  CHECK(f.status_of(d.id) == "registered");
  check_counts(id);

  webinar_patch more_seats;
  more_seats.capacity = 4;
  update_webinar(f.db, id, more_seats, t0 + 20);  // an admin edit promotes
  confirm_registration(f.db, w_hold.id, t0 + 30);  // ... the confirmed hold takes the free seat
  CHECK(f.status_of(w_hold.id) == "registered");
  check_counts(id);
  f.signup(id, "e@x.org");
  f.signup(id, "f@x.org");  // past the capacity: waitlisted
  check_counts(id);

  f.db.prepare("DELETE FROM registrations WHERE id = ?").bind(1, c.id).run();  // a row removed by hand
  check_counts(id);
  CHECK(find_webinar(f.db, id)->registered == 3);

  delete_webinar(f.db, id, t0 + 40);
  check_counts(other);
  CHECK(find_webinar(f.db, other)->registered == 1);
}

TEST_CASE("migration 12 fills the seat counters of a database that already has registrations", "[registration]") {
  fixture f;
  const auto id = f.webinar(1);
  f.signup(id, "a@x.org");
  f.signup(id, "b@x.org");
  // Back to step 11, as an older build left the database, with the rows kept.
  f.db.exec("PRAGMA user_version = 11;"
            " DROP TRIGGER registrations_count_insert; DROP TRIGGER registrations_count_update;"
            " DROP TRIGGER registrations_count_delete;"
            " ALTER TABLE webinars DROP COLUMN registered_count; ALTER TABLE webinars DROP COLUMN waitlisted_count;"
            // and what step 15 added (it runs again, after 12)
            " ALTER TABLE webinars DROP COLUMN privacy_notice; ALTER TABLE registrations DROP COLUMN erased_at;"
            " ALTER TABLE ce_certificates DROP COLUMN session_date;");
  cohort::store::migrate(f.db);
  const auto w = find_webinar(f.db, id);
  REQUIRE(w);
  CHECK(w->registered == 1);
  CHECK(w->waitlisted == 1);
}
