// Who may watch a webinar's video, live or replayed: a registrant of that webinar whose
// registration is active and seated (not waitlisted), or the organizer — checked on every
// playlist fetch. Live segments are not checked per person: their URLs carry a signature per
// webinar, scope ("live" / "replay") and 10-minute window, the same for every viewer, so a CDN
// (or an edge) can cache them. A registrant's replay URLs also name the registration (r=) under
// the signature, so the server can count the segments each one fetched (recorded CE credit):
// those are per person, and a cache in front keeps one copy per registrant. A leaked URL stops
// working within 20 minutes, and a signature whose expiry is more than 21 minutes ahead is
// refused. The key is the key ring's segment-URL key, used for nothing else.
#pragma once

#include "gateway/auth.hpp"
#include "gateway/http_types.hpp"
#include "gateway/router.hpp"
#include "store/reader_pool.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace cohort::streaming {

class viewer_gate {
 public:
  viewer_gate(http::authenticator authenticate, store::reader_pool* readers, std::string url_secret)
      : authenticate_(std::move(authenticate)), readers_(readers), url_secret_(std::move(url_secret)) {}

  // Throws api_error 401 (no or inactive token), 403 (another webinar's, or waitlisted).
  http::identity check(const http::request& req, std::int64_t webinar_id) const;
  // "exp=E&sig=S" for the segment URLs in a playlist; with a registration id (> 0),
  // "exp=E&r=R&sig=S", signed over R too.
  std::string signed_query(std::int64_t webinar_id, std::string_view scope, std::int64_t registration_id = 0) const;
  // Throws api_error 401 (unsigned) or 403 (expired, tampered, another webinar's, an r that is
  // not the one signed). Returns the registration the URL was signed for (r), 0 for a shared one.
  // The expected signature is computed once per (webinar, scope, window, r) and kept (at most
  // signature_cache_max, expired ones dropped first): a segment fetch costs a lookup, not an
  // HMAC. Thread-safe.
  std::int64_t check_signature(const http::request& req, std::int64_t webinar_id, std::string_view scope) const;

  static constexpr std::size_t signature_cache_max = 16384;

 private:
  std::string signature(std::int64_t webinar_id, std::string_view scope, std::int64_t exp, std::int64_t registration_id) const;
  // signature(), from the cache when it holds it. `now` is for dropping expired entries.
  bool signature_matches(std::string_view sig, std::int64_t webinar_id, std::string_view scope, std::int64_t exp,
                         std::int64_t registration_id, std::int64_t now) const;

  http::authenticator authenticate_;
  store::reader_pool* readers_;
  std::string url_secret_;
  using cache_key = std::tuple<std::int64_t, std::int64_t, std::string, std::int64_t>;  // exp, webinar, scope, r (0: none)
  mutable std::mutex cache_mutex_;
  mutable std::map<cache_key, std::string, std::less<>> expected_signatures_;
};

// A playlist answer: the HLS content type, never cached (it changes every segment).
http::response playlist_response(std::string text);

}  // namespace cohort::streaming
