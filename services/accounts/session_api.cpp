#include "accounts/session_api.hpp"

#include "accounts/organizer_store.hpp"
#include "accounts/password.hpp"
#include "common/bytes.hpp"
#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "gateway/auth.hpp"
#include "registration/validation.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <algorithm>

namespace cohort::accounts {
namespace json = boost::json;
using http::api_error;
using http::response;

namespace {

// Logins beyond this many waiting for the hashing thread are told to come back (each costs
// 64 MiB and ~0.1 s there).
constexpr int max_hashing = 16;

// One address is held to the per-IP limit, so only guesses from many addresses reach the
// account's limit; a distributed guesser is slowed without one stranger locking the account.
constexpr int account_limit_factor = 10;

std::string text_member(const json::object& body, std::string_view key) {
  const auto* v = body.if_contains(key);
  if (!v || v->is_null()) throw common::invalid(std::string(key), std::string(key) + " is required");
  if (!v->is_string()) throw common::invalid(std::string(key), std::string(key) + " must be a string");
  return std::string(v->get_string());
}

std::string session_hash(std::string_view cookie_value) { return common::hex(http::sha256(cookie_value)); }

json::object session_json(std::int64_t id, const std::string& email, std::int64_t expires_at) {
  return {{"auth", "session"},
          {"organizer", json::object{{"id", id}, {"email", email}}},
          {"expires_at", common::format_rfc3339(expires_at)}};
}

response too_many(std::chrono::seconds wait) {
  auto res = http::error_response(429, "rate_limited",
                                  "too many failed logins; try again in " + std::to_string(wait.count()) + " s");
  res.headers.emplace_back("Retry-After", std::to_string(wait.count()));
  return res;
}

}  // namespace

session_api::session_api(session_context ctx)
    : ctx_(std::move(ctx)),
      ip_limiter_(ctx_.login_attempts_per_minute),
      account_limiter_(ctx_.login_attempts_per_minute * account_limit_factor) {}

session_api::~session_api() { hasher_.join(); }

void session_api::add_routes(http::router& r) {
  using http::access;
  using http::verb;
  r.add(verb::post, "/api/session", {access::anyone, true}, &session_api::login, this);
  r.add(verb::get, "/api/session", {access::organizer}, &session_api::current, this);
  r.add(verb::del, "/api/session", {access::anyone}, &session_api::logout, this);
}

bool session_api::origin_allowed(const std::string& origin) const {
  return std::find(ctx_.allowed_origins.begin(), ctx_.allowed_origins.end(), origin) != ctx_.allowed_origins.end();
}

std::optional<http::identity> session_api::from_cookie(const http::request& req) const {
  const auto value = req.cookie_value(session_cookie);
  if (value.empty() || value.size() > 100 || !ctx_.readers) return std::nullopt;
  const bool safe = req.method == http::verb::get || req.method == http::verb::head || req.method == http::verb::options;
  if (!safe && !origin_allowed(req.origin))
    throw api_error(403, "csrf", "a change made with the console's login must come from the console's own pages");
  auto db = ctx_.readers->acquire();
  const auto found = find_session(*db, session_hash(value), common::unix_now());
  if (!found) return std::nullopt;
  http::identity who;
  who.role = http::identity::kind::organizer;
  who.organizer_id = found->who.id;
  who.name = found->who.email;
  who.via_session = true;
  return who;
}

std::string session_api::cookie_header(const std::string& value, std::int64_t max_age) const {
  std::string c = std::string(session_cookie) + "=" + value + "; Path=/; Max-Age=" + std::to_string(max_age) +
                  "; HttpOnly; SameSite=Strict";
  if (ctx_.secure_cookie) c += "; Secure";
  return c;
}

void session_api::login(http::request& req, http::responder& respond) {
  // A login form posted from another site would log the victim into the attacker's account.
  if (!req.origin.empty() && !origin_allowed(req.origin))
    throw api_error(403, "csrf", "log in from the console's own page");
  const auto email = text_member(req.json, "email");
  auto password = text_member(req.json, "password");
  const auto key = registration::email_key(email);
  if (!key) throw common::invalid("email", "email must be an address such as name@example.org");
  if (password.empty() || password.size() > password_max_bytes)
    throw common::invalid("password", "password must be 1 to 1024 bytes");
  const std::string ip_key = "ip:" + req.remote_address, account_key = "email:" + *key;
  // The attempt is counted before the hash, so parallel guesses cannot all pass the check
  // first; the per-IP limit comes first, so one address never fills the account's.
  if (const auto wait = ip_limiter_.take(ip_key); wait.count() > 0) return respond(too_many(wait));
  const bool known_address = known_.contains(*key, req.remote_address);
  if (!known_address) {
    if (const auto wait = account_limiter_.take(account_key); wait.count() > 0) {
      ip_limiter_.refund(ip_key);  // nothing was hashed
      return respond(too_many(wait));
    }
  }
  auto give_back = [this, ip_key, account_key, known_address] {
    ip_limiter_.refund(ip_key);
    if (!known_address) account_limiter_.refund(account_key);
  };
  std::optional<organizer_login> account;
  {
    auto db = ctx_.readers->acquire();
    account = find_login(*db, *key);
  }
  if (hashing_.fetch_add(1) >= max_hashing) {
    --hashing_;
    give_back();
    throw api_error(503, "unavailable", "too many logins at once, try again in a moment");
  }
  boost::asio::post(hasher_, [this, account = std::move(account), password = std::move(password), give_back,
                              email = *key, address = req.remote_address, respond = std::move(respond)]() mutable {
    // Unknown email and wrong password cost the same and answer the same.
    const bool ok = account ? verify_password(password, account->password_hash) : (verify_dummy(password), false);
    --hashing_;
    // A failure keeps the attempt it reserved.
    if (!ok) return respond(http::error_response(401, "invalid_credentials", "email or password is wrong"));
    give_back();
    known_.remember(email, address);
    const auto value = http::base64url(common::random_bytes(32));
    const auto now = common::unix_now();
    const auto expires_at = now + ctx_.session_seconds;
    const auto who = account->who;
    registration::queue_write<bool>(
        ctx_.writes, respond,
        [hash = session_hash(value), id = who.id, now, expires_at](store::database& db) {
          create_session(db, hash, id, now, expires_at);
          return true;
        },
        [this, value, who, expires_at](bool) {
          auto res = response::json(200, session_json(who.id, who.email, expires_at));
          res.headers.emplace_back("Set-Cookie", cookie_header(value, ctx_.session_seconds));
          res.headers.emplace_back("Cache-Control", "no-store");
          return res;
        });
  });
}

void session_api::current(http::request& req, http::responder& respond) {
  if (!req.who.via_session)
    return respond(response::json(200, json::object{{"auth", "token"}, {"organizer", nullptr}, {"expires_at", nullptr}}));
  auto db = ctx_.readers->acquire();
  const auto found = find_session(*db, session_hash(req.cookie_value(session_cookie)), common::unix_now());
  if (!found) throw api_error(401, "unauthorized", "the session has ended; log in again");
  respond(response::json(200, session_json(found->who.id, found->who.email, found->expires_at)));
}

void session_api::logout(http::request& req, http::responder& respond) {
  auto gone = [this] {
    auto res = response::no_content();
    res.headers.emplace_back("Set-Cookie", cookie_header("", 0));
    return res;
  };
  const auto value = req.cookie_value(session_cookie);
  if (!req.who.via_session || value.empty()) return respond(gone());
  registration::queue_write<bool>(
      ctx_.writes, respond,
      [hash = session_hash(value)](store::database& db) {
        delete_session(db, hash);
        return true;
      },
      [gone](bool) { return gone(); });
}

}  // namespace cohort::accounts
