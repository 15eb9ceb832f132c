#include "certificates/certificate_store.hpp"
#include "certificates/certificate_pdf.hpp"

#include "ce_fixture.hpp"
#include "common/errors.hpp"

#include <catch2/catch.hpp>

using namespace cohort::certificates;
using cohort::test::ce_fixture;
using cohort::test::ce_t0;

namespace {

int count_rows(cohort::store::database& db, const std::string& sql) {
  auto st = db.prepare(sql);
  st.step();
  return static_cast<int>(st.int64(0));
}

}  // namespace

TEST_CASE("issuing snapshots every printed fact", "[certificates][store]") {
  ce_fixture f;
  const auto out = issue(f.db, {f.webinar, f.registration, 1, "live", 90}, ce_t0 + 7200);
  REQUIRE(out.fresh);
  const auto& c = out.cert;
  CHECK(c.code.size() == 14);
  CHECK(c.name == "Zoë Łukasz-Ñúñez");
  CHECK(c.license_number == "OT-12345");
  CHECK(c.course_title == "Feeding in the NICU");
  CHECK(c.session_title == "Oral motor readiness");
  CHECK(c.session_starts_at == ce_t0);
  CHECK(c.contact_hours == Approx(1.5));  // NULL contact hours: the session's 90 minutes
  CHECK(c.ceus == Approx(0.15));
  CHECK(c.provider_name == "Little Steps Therapy");
  CHECK(c.provider_number == "AOTA 1234");
  CHECK(c.approval_number == "APP-0042");
  CHECK(c.instructional_level == "Intermediate");
  CHECK(c.statement.find("AOTA Approved Provider") != std::string::npos);
  CHECK(c.score_percent == 90);
  CHECK(c.issued_at == ce_t0 + 7200);

  // A record, not a view: later edits do not change it.
  f.db.prepare("UPDATE webinars SET title = 'Renamed' WHERE id = ?").bind(1, f.webinar).run();
  f.db.prepare("UPDATE registrations SET name = 'Someone Else' WHERE id = ?").bind(1, f.registration).run();
  const auto again = find_certificate(f.db, c.code);
  REQUIRE(again);
  CHECK(again->course_title == "Feeding in the NICU");
  CHECK(again->name == "Zoë Łukasz-Ñúñez");
  CHECK(again->contact_hours == Approx(1.5));
}

TEST_CASE("contact hours come from ce_sessions when set, else the length; no ce_sessions row gives 'Session N'", "[certificates][store]") {
  ce_fixture f;
  f.db.prepare("UPDATE ce_sessions SET contact_hours = 1.25 WHERE webinar_id = ?").bind(1, f.webinar).run();
  f.db.prepare("UPDATE ce_series SET ceu_per_hour = 0.1").run();
  const auto one = issue(f.db, {f.webinar, f.registration, 1, "live", std::nullopt}, ce_t0).cert;
  CHECK(one.contact_hours == Approx(1.25));
  CHECK(one.ceus == Approx(0.13));  // 0.125 rounded to two decimals
  CHECK_FALSE(one.score_percent);
  const auto two = issue(f.db, {f.webinar, f.registration, 2, "recorded", 80}, ce_t0).cert;
  CHECK(two.session_title == "Session 2");
  CHECK(two.contact_hours == Approx(1.0));
  CHECK(two.approval_number.empty());
  CHECK(two.kind == "recorded");
  CHECK(decimal_text(1.5) == "1.5");
  CHECK(decimal_text(0.15) == "0.15");
  CHECK(decimal_text(2.0) == "2");
  CHECK(decimal_text(0.125) == "0.13");
}

TEST_CASE("issuing is idempotent per registration and session, and the hook runs once", "[certificates][store]") {
  ce_fixture f;
  int mailed = 0;
  const issued_hook hook = [&](cohort::store::database&, const certificate&, std::int64_t) { ++mailed; };
  const auto first = issue(f.db, {f.webinar, f.registration, 1, "live", 90}, ce_t0, hook);
  const auto second = issue(f.db, {f.webinar, f.registration, 1, "live", 100}, ce_t0 + 60, hook);
  CHECK(first.fresh);
  CHECK_FALSE(second.fresh);
  CHECK(second.cert.code == first.cert.code);
  CHECK(second.cert.score_percent == 90);
  CHECK(mailed == 1);
  CHECK(count_rows(f.db, "SELECT count(*) FROM ce_certificates") == 1);
  // Another session, another registrant: their own certificates.
  const auto other = f.signup("Ana Ruiz", "ana@example.org");
  CHECK(issue(f.db, {f.webinar, other, 1, "live", 80}, ce_t0, hook).cert.code != first.cert.code);
  CHECK(issue(f.db, {f.webinar, f.registration, 2, "live", 80}, ce_t0, hook).fresh);
  CHECK(mailed == 3);
  CHECK(certificates_of(f.db, f.registration).size() == 2);
  CHECK(certificates_of_series(f.db, f.webinar).size() == 3);
  CHECK(certificates_of_series(f.db, f.webinar, 1).size() == 2);
}

TEST_CASE("issuing refuses unknown things and a bad kind", "[certificates][store]") {
  ce_fixture f;
  CHECK_THROWS_AS(issue(f.db, {f.webinar, f.registration, 1, "webinar", 90}, ce_t0), cohort::common::invalid);
  CHECK_THROWS_AS(issue(f.db, {f.webinar, f.registration, 9, "live", 90}, ce_t0), cohort::common::not_found);
  CHECK_THROWS_AS(issue(f.db, {f.webinar + 1, f.registration, 1, "live", 90}, ce_t0), cohort::common::not_found);
  CHECK_THROWS_AS(issue(f.db, {f.webinar, f.registration + 100, 1, "live", 90}, ce_t0), cohort::common::not_found);
  CHECK(count_rows(f.db, "SELECT count(*) FROM ce_certificates") == 0);
}

TEST_CASE("revoke keeps the record; re-issue reads the facts again and links old to new", "[certificates][store]") {
  ce_fixture f;
  const auto first = issue(f.db, {f.webinar, f.registration, 1, "live", 90}, ce_t0).cert;
  f.db.prepare("UPDATE registrations SET name = 'Zoë Łukasz-Núñez' WHERE id = ?").bind(1, f.registration).run();
  f.set_license(f.registration, "OT-99999");
  std::string mailed_code;
  const auto fresh = reissue(f.db, first.code, ce_t0 + 100, [&](cohort::store::database&, const certificate& c, std::int64_t) {
    mailed_code = c.code;
  });
  CHECK(fresh.code != first.code);
  CHECK(mailed_code == fresh.code);
  CHECK(fresh.name == "Zoë Łukasz-Núñez");
  CHECK(fresh.license_number == "OT-99999");
  CHECK(fresh.score_percent == 90);
  CHECK(fresh.kind == "live");
  const auto old = find_certificate(f.db, first.code);
  REQUIRE(old);
  CHECK(old->revoked_at == ce_t0 + 100);
  CHECK(old->replaced_by == fresh.code);
  CHECK(old->name == "Zoë Łukasz-Ñúñez");
  CHECK_THROWS_AS(reissue(f.db, first.code, ce_t0 + 200), cohort::common::conflict);
  // Issuing again now returns the replacement, not a third certificate.
  CHECK(issue(f.db, {f.webinar, f.registration, 1, "live", 90}, ce_t0 + 300).cert.code == fresh.code);

  const auto revoked = revoke(f.db, fresh.code, "attendance record corrected", ce_t0 + 400);
  CHECK(revoked.revoked_reason == "attendance record corrected");
  CHECK_THROWS_AS(revoke(f.db, fresh.code, "again", ce_t0 + 500), cohort::common::conflict);
  CHECK_THROWS_AS(revoke(f.db, "0000-0000-0000", "x", ce_t0), cohort::common::not_found);
  // Every certificate revoked: a new issue is a fresh one.
  CHECK(issue(f.db, {f.webinar, f.registration, 1, "live", 90}, ce_t0 + 600).fresh);
}

TEST_CASE("the CSV lists every certificate with its state", "[certificates][store]") {
  ce_fixture f;
  const auto first = issue(f.db, {f.webinar, f.registration, 1, "live", 90}, ce_t0).cert;
  const auto fresh = reissue(f.db, first.code, ce_t0 + 100);
  const auto csv = certificates_csv(certificates_of_series(f.db, f.webinar));
  CHECK(csv.rfind("\"code\",\"session\",\"kind\",\"name\"", 0) == 0);
  CHECK(csv.find("\"" + first.code + "\",\"1\",\"live\",\"Zoë Łukasz-Ñúñez\",\"OT-12345\"") != std::string::npos);
  CHECK(csv.find("\"revoked\"") != std::string::npos);
  CHECK(csv.find("\"" + fresh.code + "\"") != std::string::npos);
  CHECK(csv.find("\"1.5\",\"0.15\"") != std::string::npos);
}

TEST_CASE("the session date is the registrant's calendar date, not UTC's", "[certificates][store]") {
  ce_fixture f;
  // Session 1 moved to 19:30 in Los Angeles on 2 December, which is 03:30 on the 3rd in UTC.
  const std::int64_t evening = ce_t0 + 13 * 3600 + 1800;
  f.db.prepare("UPDATE sessions SET starts_at = ? WHERE webinar_id = ? AND number = 1").bind(1, evening).bind(2, f.webinar).run();
  f.db.prepare("UPDATE registrations SET time_zone = 'America/Los_Angeles' WHERE id = ?").bind(1, f.registration).run();
  const auto c = issue(f.db, {f.webinar, f.registration, 1, "live", 90}, evening + 7200).cert;
  CHECK(c.session_date == "2026-12-02");
  CHECK(find_certificate(f.db, c.code)->session_date == "2026-12-02");
  CHECK(long_date(c.session_date) == "2 December 2026");
  // Without a known zone: the UTC date.
  f.db.prepare("UPDATE registrations SET time_zone = '' WHERE id = ?").bind(1, f.registration).run();
  const auto again = reissue(f.db, c.code, evening + 9000);
  CHECK(again.session_date == "2026-12-03");
}
