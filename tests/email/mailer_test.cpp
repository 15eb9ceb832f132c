#include "email/mailer.hpp"

#include "../store/temp_database_file.hpp"
#include "mime_reader.hpp"
#include "email/outbox_store.hpp"
#include "gateway/auth.hpp"
#include "registration/registration_store.hpp"
#include "registration/validation.hpp"
#include "registration/webinar_store.hpp"
#include "store/migrations.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace cohort::email;
using cohort::registration::session_slot;
using cohort::store::database;

constexpr std::int64_t t0 = 1768471200;  // 2026-01-15T10:00:00Z
constexpr std::int64_t hour = 3600, day = 86400;
const std::string secret = "mailer-test-secret-0123456789abcdef0123";

fs::path shipped_templates() {
  const char* dir = std::getenv("COHORT_SOURCE_DIR");
  const fs::path root = dir ? fs::path(dir) : fs::path(__FILE__).parent_path().parent_path().parent_path();
  return root / "config" / "email";
}

// The decoded calendar attachment of a message (empty without one).
std::string calendar_of(const std::string& mime) {
  using namespace cohort::email::testing;
  const auto top = parse_entity(mime);
  for (const auto& raw : split_multipart(top.body, boundary_of(top.header("Content-Type").value_or("")))) {
    const auto part = parse_entity(raw);
    if (part.header("Content-Type").value_or("").rfind("text/calendar", 0) == 0) return base64_decode(part.body);
  }
  return {};
}

struct fixture {
  cohort::test::temp_database_file file;
  database db{file.path()};
  cohort::http::token_codec tokens{secret};
  mailer mail{mailer_options{"https://cohort.example.org", {"Cohort", "webinars@cohort.example.org"}, "cohort.example.org", secret,
                             {24 * hour, hour}},
              template_set::load(shipped_templates())};
  std::int64_t webinar = 0;

  explicit fixture(std::optional<std::int64_t> capacity = std::nullopt) {
    cohort::store::migrate(db);
    cohort::registration::webinar_input in;
    in.title = "Infant massage, week by week";
    in.capacity = capacity;
    in.sessions = {session_slot{0, t0 + 2 * day, 60}, session_slot{0, t0 + 9 * day, 60}};
    webinar = cohort::registration::create_webinar(db, std::move(in), t0);
  }

  // A signup as the API makes it: the row, then the mail hook in the same transaction.
  cohort::registration::signup_outcome signup(const std::string& name, const std::string& email) {
    cohort::registration::signup_input in{name, email, *cohort::registration::email_key(email), ""};
    auto out = cohort::registration::create_signup(db, webinar, in, tokens, t0);
    mail.signed_up(db, out.id, out.token, t0);
    return out;
  }

  std::vector<std::string> kinds_to(const std::string& addr) {
    std::vector<std::string> out;
    auto st = db.prepare("SELECT kind FROM outbox WHERE to_addr = ? ORDER BY id");
    st.bind(1, addr);
    while (st.step()) out.push_back(st.text(0));
    return out;
  }

  // The message the sender would compose for the latest row of that kind to that address.
  std::string mime_of(const std::string& kind, const std::string& addr) {
    auto st = db.prepare("SELECT id FROM outbox WHERE kind = ? AND to_addr = ? ORDER BY id DESC LIMIT 1");
    st.bind(1, kind).bind(2, addr);
    if (!st.step()) return {};
    const auto id = st.int64(0);
    for (const auto& e : next_due(db, t0 + 30 * day, 1000))
      if (e.id == id) return mail.compose(db, e, t0).mime;
    return {};
  }
};

}  // namespace

TEST_CASE("a signup queues one confirmation with the join link and an invitation, a full series the waitlist mail", "[email][mailer]") {
  fixture f(1);
  const auto maya = f.signup("Maya", "maya@example.org");
  const auto ben = f.signup("Ben", "ben@example.org");
  CHECK(f.kinds_to("maya@example.org") == std::vector<std::string>{"confirmation"});
  CHECK(f.kinds_to("ben@example.org") == std::vector<std::string>{"waitlisted"});
  const auto mime = f.mime_of("confirmation", "maya@example.org");
  CHECK(mime.find("Content-Type: text/calendar; method=REQUEST") != std::string::npos);
  // The header is the one-click POST target (RFC 8058); the body links to the page.
  CHECK(mime.find("List-Unsubscribe: <https://cohort.example.org/api/unsubscribe?r=" + std::to_string(maya.id) + "&sig=") != std::string::npos);
  CHECK(mime.find("https://cohort.example.org/unsubscribe?r=3D" + std::to_string(maya.id)) != std::string::npos);
  CHECK(mime.find("List-Unsubscribe-Post: List-Unsubscribe=One-Click") != std::string::npos);
  CHECK(f.mime_of("waitlisted", "ben@example.org").find("text/calendar") == std::string::npos);
  // The same signup hook twice (a retried transaction) still means one mail.
  f.mail.signed_up(f.db, maya.id, maya.token, t0);
  CHECK(f.kinds_to("maya@example.org").size() == 1);
  (void)ben;
}

TEST_CASE("the join link is sealed for later mails, never stored in the clear", "[email][mailer]") {
  fixture f(1);
  const auto maya = f.signup("Maya", "maya@example.org");
  const auto ben = f.signup("Ben", "ben@example.org");
  auto st = f.db.prepare("SELECT sealed FROM registration_links WHERE registration_id = ?");
  st.bind(1, maya.id);
  REQUIRE(st.step());
  CHECK(st.text(0).find(maya.token) == std::string::npos);
  // Ben is promoted when Maya cancels: the promotion mail carries his own join link.
  std::vector<std::int64_t> promoted;
  cohort::registration::cancel_registration(f.db, maya.id, t0 + hour, &promoted);
  REQUIRE(promoted == std::vector<std::int64_t>{ben.id});
  f.mail.cancelled(f.db, maya.id, false, t0 + hour);
  f.mail.promoted(f.db, ben.id, t0 + hour);
  CHECK(f.kinds_to("ben@example.org") == std::vector<std::string>{"waitlisted", "promoted"});
  const auto promotion = f.mime_of("promoted", "ben@example.org");
  // Quoted-printable may fold the token; the first part of it is unbroken.
  CHECK(promotion.find(ben.token.substr(0, 20)) != std::string::npos);
  const auto cancel = f.mime_of("cancelled", "maya@example.org");
  CHECK(cancel.find("Content-Type: text/calendar; method=CANCEL") != std::string::npos);
}

TEST_CASE("unsubscribe links are signed per registration", "[email][mailer]") {
  fixture f;
  const auto url = f.mail.unsubscribe_url(42);
  const auto sig = url.substr(url.find("sig=") + 4);
  CHECK(f.mail.unsubscribe_signature_ok(42, sig));
  CHECK_FALSE(f.mail.unsubscribe_signature_ok(43, sig));
  CHECK_FALSE(f.mail.unsubscribe_signature_ok(42, sig.substr(1)));
  CHECK_FALSE(f.mail.unsubscribe_signature_ok(42, ""));
}

TEST_CASE("moved sessions send an updated invitation with a higher SEQUENCE to everyone registered", "[email][mailer]") {
  fixture f;
  f.signup("Maya", "maya@example.org");
  f.mail.rescheduled(f.db, f.webinar, t0 + hour);
  f.mail.rescheduled(f.db, f.webinar, t0 + 2 * hour);
  CHECK(f.kinds_to("maya@example.org") == std::vector<std::string>{"confirmation", "rescheduled", "rescheduled"});
  auto st = f.db.prepare("SELECT ics_sequence FROM webinars WHERE id = ?");
  st.bind(1, f.webinar);
  st.step();
  CHECK(st.int64(0) == 2);
}

TEST_CASE("reminders are queued once per session and offset, never to the unsubscribed", "[email][mailer]") {
  fixture f;
  const auto maya = f.signup("Maya", "maya@example.org");
  f.signup("Ben", "ben@example.org");
  unsubscribe(f.db, maya.id, t0);
  const auto s1 = t0 + 2 * day;
  CHECK(f.mail.queue_reminders(f.db, s1 - 25 * hour) == 0);  // nothing due yet
  CHECK(f.mail.queue_reminders(f.db, s1 - 23 * hour) == 1);  // Ben's 24 h reminder
  CHECK(f.mail.queue_reminders(f.db, s1 - 22 * hour) == 0);  // once only
  CHECK(f.mail.queue_reminders(f.db, s1 - 30 * 60) == 1);    // the 1 h reminder
  CHECK(f.mail.queue_reminders(f.db, s1 + 60) == 0);         // started: nothing more
  CHECK(f.kinds_to("ben@example.org") == std::vector<std::string>{"confirmation", "reminder", "reminder"});
  CHECK(f.kinds_to("maya@example.org") == std::vector<std::string>{"confirmation"});
}

TEST_CASE("drop notices go to the audience that still wants them", "[email][mailer]") {
  fixture f;
  const auto maya = f.signup("Maya", "maya@example.org");
  const auto ben = f.signup("Ben", "ben@example.org");
  const auto cy = f.signup("Cy", "cy@example.org");
  set_drop_notices(f.db, ben.id, false, t0);
  f.mail.drop_released(f.db, f.webinar, 7, "Week 1 handout", "Print it", std::nullopt, t0);
  CHECK(f.kinds_to("maya@example.org").back() == "drop");
  CHECK(f.kinds_to("ben@example.org").back() == "confirmation");
  CHECK(f.kinds_to("cy@example.org").back() == "drop");
  // An attended/missed drop: only its audience.
  f.mail.drop_released(f.db, f.webinar, 8, "For those who came", "", std::vector<std::int64_t>{cy.id}, t0);
  CHECK(f.kinds_to("cy@example.org").size() == 3);
  CHECK(f.kinds_to("maya@example.org").size() == 2);
  CHECK(f.mime_of("drop", "maya@example.org").find("https://cohort.example.org/materials/" + std::to_string(f.webinar)) != std::string::npos);
  (void)maya;
}

TEST_CASE("a postponed session is reminded of again, a late registrant gets only the reminders still ahead", "[email][mailer]") {
  fixture f;
  f.signup("Ben", "ben@example.org");
  const auto s1 = t0 + 2 * day;
  CHECK(f.mail.queue_reminders(f.db, s1 - 30 * 60) == 1);  // the 1 h reminder
  // The session moves three days later: its reminders are due again for the new date.
  f.db.prepare("UPDATE sessions SET starts_at = ? WHERE webinar_id = ? AND number = 1").bind(1, s1 + 3 * day).bind(2, f.webinar).run();
  CHECK(f.mail.queue_reminders(f.db, s1 + 3 * day - 30 * 60) == 1);
  CHECK(f.mail.queue_reminders(f.db, s1 + 3 * day - 20 * 60) == 0);

  // Someone who registers 20 h before session 2 gets no "24 h" reminder, but the 1 h one.
  const auto s2 = t0 + 9 * day;
  cohort::registration::signup_input in{"Late", "late@example.org", "late@example.org", ""};
  const auto late = cohort::registration::create_signup(f.db, f.webinar, in, f.tokens, s2 - 20 * hour);
  f.mail.signed_up(f.db, late.id, late.token, s2 - 20 * hour);
  f.mail.queue_reminders(f.db, s2 - 20 * hour + 30);
  CHECK(f.kinds_to("late@example.org") == std::vector<std::string>{"confirmation"});
  f.mail.queue_reminders(f.db, s2 - 30 * 60);
  CHECK(f.kinds_to("late@example.org") == std::vector<std::string>{"confirmation", "reminder"});
}

TEST_CASE("a mail queued before a cancellation is not composed", "[email][mailer]") {
  fixture f;
  const auto maya = f.signup("Maya", "maya@example.org");
  f.mail.drop_released(f.db, f.webinar, 7, "Week 1 handout", "", std::nullopt, t0);
  cohort::registration::cancel_registration(f.db, maya.id, t0 + hour);
  for (const auto& e : next_due(f.db, t0 + day, 100)) {
    if (e.kind == "drop") CHECK_THROWS_WITH(f.mail.compose(f.db, e, t0), Catch::Contains("cancelled"));
  }
}

TEST_CASE("a deleted series tells everyone still signed up, the registered with a calendar cancellation", "[email][mailer]") {
  fixture f(1);
  f.signup("Maya", "maya@example.org");
  f.signup("Ben", "ben@example.org");  // waitlisted
  const auto ada = f.signup("Ada", "ada@example.org");  // waitlisted too
  cohort::registration::cancel_registration(f.db, ada.id, t0 + hour);  // already told; not again
  f.mail.series_cancelled(f.db, f.webinar, t0 + 2 * hour);
  f.mail.series_cancelled(f.db, f.webinar, t0 + 2 * hour);  // a retried transaction: still once
  cohort::registration::delete_webinar(f.db, f.webinar, t0 + 2 * hour);
  CHECK(f.kinds_to("maya@example.org") == std::vector<std::string>{"confirmation", "series_cancelled"});
  CHECK(f.kinds_to("ben@example.org") == std::vector<std::string>{"waitlisted", "series_cancelled"});
  CHECK(f.kinds_to("ada@example.org") == std::vector<std::string>{"waitlisted"});

  // Composed after the rows are gone, from what the outbox row kept.
  const auto maya = f.mime_of("series_cancelled", "maya@example.org");
  CHECK(maya.find("Subject: Cancelled: Infant massage, week by week") != std::string::npos);
  CHECK(maya.find("Hi Maya") != std::string::npos);
  CHECK(maya.find("Content-Type: text/calendar; method=CANCEL") != std::string::npos);
  const auto ics = calendar_of(maya);
  CHECK(ics.find("STATUS:CANCELLED") != std::string::npos);
  CHECK(ics.find("SEQUENCE:1") != std::string::npos);  // above the invitation's 0
  CHECK(maya.find("List-Unsubscribe") == std::string::npos);
  const auto ben = f.mime_of("series_cancelled", "ben@example.org");
  CHECK(ben.find("Hi Ben") != std::string::npos);
  CHECK(ben.find("text/calendar") == std::string::npos);  // he had no invitation to cancel
}

TEST_CASE("leaving the waitlist is a note of its own, without a calendar", "[email][mailer]") {
  fixture f(1);
  f.signup("Maya", "maya@example.org");
  const auto ben = f.signup("Ben", "ben@example.org");  // waitlisted
  cohort::registration::cancel_registration(f.db, ben.id, t0 + hour);
  f.mail.cancelled(f.db, ben.id, true, t0 + hour);
  f.mail.cancelled(f.db, ben.id, true, t0 + hour);  // once
  CHECK(f.kinds_to("ben@example.org") == std::vector<std::string>{"waitlisted", "waitlist_left"});
  const auto note = f.mime_of("waitlist_left", "ben@example.org");
  CHECK(note.find("Subject: You left the waitlist: Infant massage, week by week") != std::string::npos);
  CHECK(calendar_of(note).empty());
}

TEST_CASE("a certificate mail links to the registrant's CE page and the verification page, once per code", "[email][mailer]") {
  fixture f;
  const auto maya = f.signup("Maya", "maya@example.org");
  const certificate_notice notice{"7K3M-9QX2-ABCD", f.webinar, "Maya Corrected", "Infant massage, week by week", "Session 1: Touch",
                                  "recorded", "1.5", "0.15"};
  f.mail.certificate_ready(f.db, maya.id, notice, t0);
  f.mail.certificate_ready(f.db, maya.id, notice, t0);
  CHECK(f.kinds_to("maya@example.org") == std::vector<std::string>{"confirmation", "certificate"});
  // The registrant cancelled since: the certificate they earned is still mailed.
  cohort::registration::cancel_registration(f.db, maya.id, t0 + hour);
  const auto mime = f.mime_of("certificate", "maya@example.org");
  CHECK(mime.find("Subject: Your CE certificate is ready: Infant massage, week by week") != std::string::npos);
  CHECK(mime.find("Hi Maya Corrected,") != std::string::npos);
  CHECK(mime.find("https://cohort.example.org/ce/" + std::to_string(f.webinar) + "#token=3D" + maya.token.substr(0, 20)) != std::string::npos);  // quoted-printable
  CHECK(mime.find("https://cohort.example.org/verify/7K3M-9QX2-ABCD") != std::string::npos);
  CHECK(mime.find("Recorded (distance learning) credit: 1.5 contact hours, 0.15 CEUs") != std::string::npos);
}
