// Console logins: POST /api/session checks an organizer's email and password (argon2id, on a
// thread of its own so a login never stalls the request threads) and sets an HttpOnly,
// SameSite=Strict session cookie; GET tells who is logged in; DELETE logs out. Each attempt is
// counted before hashing: per client IP first (login_attempts_per_minute), then per account
// (ten times that) — except from an address that logged in to the account before, so guesses
// from elsewhere cannot lock the organizer out of their own machine. Every route
// that takes the admin token also takes this cookie (see from_cookie), so the console uses the
// same JSON API as automation.
#pragma once

#include "accounts/known_logins.hpp"
#include "gateway/window_limiter.hpp"
#include "gateway/router.hpp"
#include "registration/api_support.hpp"
#include "store/reader_pool.hpp"

#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <optional>
#include <string>
#include <vector>

namespace cohort::accounts {

inline constexpr std::string_view session_cookie = "cohort_session";

struct session_context {
  registration::write_path writes;
  store::reader_pool* readers = nullptr;
  std::int64_t session_seconds = 12 * 3600;
  int login_attempts_per_minute = 5;        // per client IP; per account it is ten times this
  bool secure_cookie = false;                // the public URL is https://
  std::vector<std::string> allowed_origins;  // where a state-changing request with the cookie may come from
};

class session_api {
 public:
  explicit session_api(session_context ctx);
  ~session_api();
  session_api(const session_api&) = delete;
  session_api& operator=(const session_api&) = delete;

  void add_routes(http::router& r);

  // The organizer the request's session cookie proves; nullopt without a cookie or for an
  // unknown or expired session. Throws api_error 403 when the cookie comes with a state change
  // (not GET/HEAD/OPTIONS) from another origin or without an Origin header: the CSRF defence
  // on top of SameSite=Strict.
  std::optional<http::identity> from_cookie(const http::request& req) const;

 private:
  void login(http::request& req, http::responder& respond);
  void current(http::request& req, http::responder& respond);
  void logout(http::request& req, http::responder& respond);
  bool origin_allowed(const std::string& origin) const;
  std::string cookie_header(const std::string& value, std::int64_t max_age) const;

  session_context ctx_;
  http::window_limiter ip_limiter_;       // attempts per client address
  http::window_limiter account_limiter_;  // attempts per account, from addresses it never logged in from
  known_logins known_;
  std::atomic<int> hashing_{0};  // logins waiting for or in the hashing thread
  boost::asio::thread_pool hasher_{1};
};

}  // namespace cohort::accounts
