// What the stores and domain code throw when a request cannot be done: typed by what went wrong,
// never by HTTP. The gateway answers each kind with its status and the one JSON error shape
// (http::error_from): invalid 422, not_found 404, conflict 409, unauthorized 401, forbidden 403,
// gone 410, unavailable 503. `code` is the machine-readable code of the answer; `field` names
// the input at fault, when one is.
#pragma once

#include <stdexcept>
#include <string>

namespace cohort::common {

struct domain_error : std::runtime_error {
  enum class kind { invalid, not_found, conflict, unauthorized, forbidden, gone, unavailable };
  domain_error(kind what, std::string code, const std::string& message, std::string field = {})
      : std::runtime_error(message), what_went_wrong(what), code(std::move(code)), field(std::move(field)) {}
  kind what_went_wrong;
  std::string code;
  std::string field;
};

// A value the caller must fix.
struct invalid : domain_error {
  invalid(std::string field, const std::string& message)
      : domain_error(kind::invalid, "validation_failed", message, std::move(field)) {}
};

// The thing named does not exist.
struct not_found : domain_error {
  explicit not_found(const std::string& message) : domain_error(kind::not_found, "not_found", message) {}
};

// The thing exists but is in a state that refuses this change.
struct conflict : domain_error {
  explicit conflict(const std::string& message, std::string code = "conflict")
      : domain_error(kind::conflict, std::move(code), message) {}
};

// The caller's credential does not (or no longer) name anyone who may act.
struct unauthorized : domain_error {
  explicit unauthorized(const std::string& message) : domain_error(kind::unauthorized, "unauthorized", message) {}
};

// The caller is known but may not do this (yet): e.g. "unconfirmed", "waitlisted".
struct forbidden : domain_error {
  explicit forbidden(const std::string& message, std::string code = "forbidden")
      : domain_error(kind::forbidden, std::move(code), message) {}
};

// It existed and has lapsed for good: e.g. an expired confirmation link.
struct gone : domain_error {
  explicit gone(const std::string& message, std::string code = "gone") : domain_error(kind::gone, std::move(code), message) {}
};

// Cannot be done right now; the same request may succeed later.
struct unavailable : domain_error {
  explicit unavailable(const std::string& message, std::string code = "unavailable")
      : domain_error(kind::unavailable, std::move(code), message) {}
};

}  // namespace cohort::common
