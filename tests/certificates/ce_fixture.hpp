// A series with CE settings, one session and a registrant with a license number, in a fresh
// database: what the certificate tests issue from.
#pragma once

#include "gateway/auth.hpp"
#include "registration/registration_store.hpp"
#include "registration/validation.hpp"
#include "registration/webinar_store.hpp"
#include "store/migrations.hpp"
#include "store/sqlite.hpp"

#include <string>

namespace cohort::test {

inline constexpr std::int64_t ce_t0 = 1796220000;  // 2026-12-02T14:00:00Z

struct ce_fixture {
  store::database db{":memory:"};
  http::token_codec tokens{std::string("certificate-test-secret-0123456789abcdef")};
  std::int64_t webinar = 0;
  std::int64_t registration = 0;

  explicit ce_fixture(const std::string& name = "Zoë Łukasz-Ñúñez", const std::string& license = "OT-12345") {
    store::migrate(db);
    registration::webinar_input in;
    in.title = "Feeding in the NICU";
    in.sessions = {registration::session_slot{0, ce_t0, 90}, registration::session_slot{0, ce_t0 + 7 * 86400, 60}};
    webinar = registration::create_webinar(db, std::move(in), ce_t0 - 86400);
    registration = signup(name, "zoe@example.org");
    db.prepare(
          "INSERT INTO ce_series (webinar_id, offered, ceu_per_hour, provider_name, provider_number, instructional_level, statement,"
          " updated_at) VALUES (?, 1, 0.1, 'Little Steps Therapy', 'AOTA 1234', 'Intermediate',"
          " 'Little Steps Therapy is an AOTA Approved Provider of professional development. The assignment of AOTA CEUs does not imply"
          " endorsement of specific course content, products, or clinical procedures by AOTA.', ?)")
        .bind(1, webinar)
        .bind(2, ce_t0)
        .run();
    db.prepare("INSERT INTO ce_sessions (webinar_id, session_number, title, approval_number, contact_hours) VALUES (?, 1, 'Oral motor"
               " readiness', 'APP-0042', NULL)")
        .bind(1, webinar)
        .run();
    if (!license.empty()) set_license(registration, license);
  }

  std::int64_t signup(const std::string& name, const std::string& email) {
    registration::signup_input in{name, email, *registration::email_key(email), "", ""};
    return registration::create_signup(db, webinar, in, tokens, ce_t0 - 3600).id;
  }

  void set_license(std::int64_t registration_id, const std::string& license) {
    db.prepare("INSERT OR IGNORE INTO registration_questions (webinar_id, position, key, label, kind) VALUES (?, 1, 'license_number',"
               " 'License number', 'text')")
        .bind(1, webinar)
        .run();
    db.prepare("INSERT OR REPLACE INTO registration_answers (registration_id, question_id, value) SELECT ?, id, ? FROM"
               " registration_questions WHERE webinar_id = ? AND key = 'license_number'")
        .bind(1, registration_id)
        .bind(2, license)
        .bind(3, webinar)
        .run();
  }
};

}  // namespace cohort::test
