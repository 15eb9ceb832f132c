#include "streaming/viewer_gate.hpp"

#include "common/bytes.hpp"
#include "registration/registration_store.hpp"
#include "common/rfc3339.hpp"

#include <charconv>

namespace cohort::streaming {

using http::api_error;

namespace {
constexpr std::int64_t url_window_seconds = 600;
// signed_query never issues an expiry further ahead than two windows; a minute of clock slack
// between nodes on top. A signature further out was not made by this gate's rules (a leaked key
// must not yield a URL that works for ever).
constexpr std::int64_t max_expiry_ahead_seconds = 2 * url_window_seconds + 60;
}

http::identity viewer_gate::check(const http::request& req, std::int64_t webinar_id) const {
  const auto who = authenticate_(req, req.token());
  if (who.role == http::identity::kind::anonymous) throw api_error(401, "unauthorized", "a token is required");
  if (who.role == http::identity::kind::organizer) return who;
  if (who.webinar_id != webinar_id) throw api_error(403, "forbidden", "this token is for another webinar");
  auto db = readers_->acquire();
  registration::require_seat(registration::active_registration(*db, who.registration_id, who.token_nonce_hash));
  return who;
}

// A shared URL signs "scope|webinar|exp" (as before per-registrant URLs existed), a registrant's
// "scope|webinar|exp|r": neither can pass for the other.
std::string viewer_gate::signature(std::int64_t webinar_id, std::string_view scope, std::int64_t exp, std::int64_t registration_id) const {
  auto data = std::string(scope) + "|" + std::to_string(webinar_id) + "|" + std::to_string(exp);
  if (registration_id > 0) data += "|" + std::to_string(registration_id);
  return common::hex(http::hmac_sha256(url_secret_, data)).substr(0, 32);
}

std::string viewer_gate::signed_query(std::int64_t webinar_id, std::string_view scope, std::int64_t registration_id) const {
  const auto exp = (common::unix_now() / url_window_seconds + 2) * url_window_seconds;
  const auto who = registration_id > 0 ? "&r=" + std::to_string(registration_id) : std::string();
  return "exp=" + std::to_string(exp) + who + "&sig=" + signature(webinar_id, scope, exp, registration_id);
}

std::int64_t viewer_gate::check_signature(const http::request& req, std::int64_t webinar_id, std::string_view scope) const {
  const auto* exp = req.query_param("exp");
  const auto* sig = req.query_param("sig");
  if (!exp || !sig) throw api_error(401, "unauthorized", "a signed URL is required: get it from the playlist");
  std::int64_t e = 0;
  try {
    e = std::stoll(*exp);
  } catch (const std::exception&) {
    throw api_error(401, "unauthorized", "bad signature");
  }
  std::int64_t r = 0;
  if (const auto* given = req.query_param("r")) {
    const auto [end, ec] = std::from_chars(given->data(), given->data() + given->size(), r);
    if (ec != std::errc{} || end != given->data() + given->size() || r <= 0)
      throw api_error(403, "forbidden", "the URL is expired or not signed for this webinar");
  }
  const auto now = common::unix_now();
  if (e < now || e > now + max_expiry_ahead_seconds || !signature_matches(*sig, webinar_id, scope, e, r, now))
    throw api_error(403, "forbidden", "the URL is expired or not signed for this webinar");
  return r;
}

// Only signatures this gate computed are kept, never one a client sent, so a wrong signature
// cannot enter the cache; a client naming many webinars fills it at most to the cap.
bool viewer_gate::signature_matches(std::string_view sig, std::int64_t webinar_id, std::string_view scope,
                                    std::int64_t exp, std::int64_t registration_id, std::int64_t now) const {
  {
    std::lock_guard lock(cache_mutex_);
    // A whole key, not a tuple of references: clang 14 cannot compare std::string with the
    // string_view inside a tuple (the scope is short: no allocation, small-string storage).
    const auto it = expected_signatures_.find(cache_key{exp, webinar_id, std::string(scope), registration_id});
    if (it != expected_signatures_.end()) return http::constant_time_equal(sig, it->second);
  }
  auto expected = signature(webinar_id, scope, exp, registration_id);  // outside the lock: the HMAC is the slow part
  const bool ok = http::constant_time_equal(sig, expected);
  std::lock_guard lock(cache_mutex_);
  if (expected_signatures_.size() >= signature_cache_max) {
    // Keys sort by expiry first: the expired ones are the front of the map.
    expected_signatures_.erase(expected_signatures_.begin(), expected_signatures_.lower_bound(std::make_tuple(now, std::int64_t(0), std::string(), std::int64_t(0))));
    if (expected_signatures_.size() >= signature_cache_max) expected_signatures_.clear();
  }
  expected_signatures_.emplace(cache_key{exp, webinar_id, std::string(scope), registration_id}, std::move(expected));
  return ok;
}

http::response playlist_response(std::string text) {
  auto res = http::response::text(200, std::move(text), "application/vnd.apple.mpegurl");
  res.headers.emplace_back("Cache-Control", "no-cache");
  return res;
}

}  // namespace cohort::streaming
