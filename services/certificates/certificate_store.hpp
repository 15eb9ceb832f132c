// CE certificates in the store (ce_certificates, schema step 15): issuing one snapshots every
// fact it prints, so the record stays what was printed whatever changes later (a renamed series,
// an erased registration). Revoking keeps the row; re-issuing revokes it and points it at its
// replacement. Every function runs on the connection it is given; the writing ones inside the
// caller's write transaction (the single writer), the reading ones on a reader.
#pragma once

#include "store/sqlite.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cohort::certificates {

struct certificate {
  std::int64_t id = 0;
  std::string code;  // XXXX-XXXX-XXXX
  std::int64_t webinar_id = 0;
  std::int64_t registration_id = 0;
  int session_number = 0;
  std::string kind;  // live | recorded
  std::string name;
  std::string license_number;  // '' when not given
  std::string course_title;
  std::string session_title;
  std::int64_t session_starts_at = 0;
  std::string session_date;  // "YYYY-MM-DD" in the registrant's zone at issue; local_date() reads it
  double contact_hours = 0;
  double ceus = 0;
  std::string provider_name, provider_number, approval_number, instructional_level, statement;
  std::optional<std::int64_t> score_percent;
  std::int64_t issued_at = 0;
  std::optional<std::int64_t> revoked_at;
  std::string revoked_reason;
  std::string replaced_by;  // '' unless re-issued
  std::optional<std::int64_t> personal_erased_at;

  bool revoked() const { return revoked_at.has_value(); }
};

struct issue_request {
  std::int64_t webinar_id = 0, registration_id = 0;
  int session_number = 0;
  std::string kind;  // live | recorded
  std::optional<int> score_percent;
};

struct issued {
  certificate cert;
  bool fresh = false;  // false: the registrant already held an unrevoked certificate for the session
};

// Called in the issuing transaction for a fresh certificate (the "ready" email).
using issued_hook = std::function<void(store::database&, const certificate&, std::int64_t now)>;

// Idempotent per (registration, session): an unrevoked certificate is returned as it is.
// Otherwise the facts are read now — the series title, its ce_series and ce_sessions settings
// (contact hours default to the session's length), the session's start, the registrant's name
// and license number — with a new unique code, and `on_issued` runs. Throws common::invalid
// for a bad kind, common::not_found for an unknown series, session or registration.
issued issue(store::database& db, const issue_request& r, std::int64_t now, const issued_hook& on_issued = {});

// Throws common::not_found (unknown code), common::conflict (already revoked).
certificate revoke(store::database& db, const std::string& code, const std::string& reason, std::int64_t now);
// A new certificate for the same registrant, session, kind and score with the facts as they
// are now (a corrected name or license), the old one revoked with replaced_by = the new code.
// Throws as revoke does; returns the new one.
certificate reissue(store::database& db, const std::string& code, std::int64_t now, const issued_hook& on_issued = {});

std::optional<certificate> find_certificate(store::database& db, const std::string& code);
// A registrant's certificates, every state, by session then issue.
std::vector<certificate> certificates_of(store::database& db, std::int64_t registration_id);
// A series' certificates (session 0: all sessions), every state.
std::vector<certificate> certificates_of_series(store::database& db, std::int64_t webinar_id, int session_number = 0);

// CEUs and hours as printed: at most two decimals, no trailing zeros ("1.5", "0.15", "2").
std::string decimal_text(double value);
// RFC 4180 CSV of a series' certificates, for the provider's yearly reporting.
std::string certificates_csv(const std::vector<certificate>& list);

}  // namespace cohort::certificates
