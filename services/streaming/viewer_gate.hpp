// Who may watch a webinar's video, live or replayed: a registrant of that webinar whose
// registration is active and seated (not waitlisted), or the organizer — checked on every
// playlist fetch. Segments are not checked per person: their URLs carry a signature per
// webinar, scope ("live" / "replay") and 10-minute window, the same for every viewer, so a CDN
// (or an edge) can cache them; a leaked URL stops working within 20 minutes, and a signature
// whose expiry is more than 21 minutes ahead is refused. The key is the key ring's segment-URL
// key, used for nothing else.
#pragma once

#include "gateway/auth.hpp"
#include "gateway/http_types.hpp"
#include "gateway/router.hpp"
#include "store/reader_pool.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace cohort::streaming {

class viewer_gate {
 public:
  viewer_gate(http::authenticator authenticate, store::reader_pool* readers, std::string url_secret)
      : authenticate_(std::move(authenticate)), readers_(readers), url_secret_(std::move(url_secret)) {}

  // Throws api_error 401 (no or inactive token), 403 (another webinar's, or waitlisted).
  http::identity check(const http::request& req, std::int64_t webinar_id) const;
  // "exp=E&sig=S" for the segment URLs in a playlist.
  std::string signed_query(std::int64_t webinar_id, std::string_view scope) const;
  // Throws api_error 401 (unsigned) or 403 (expired, tampered, another webinar's).
  void check_signature(const http::request& req, std::int64_t webinar_id, std::string_view scope) const;

 private:
  std::string signature(std::int64_t webinar_id, std::string_view scope, std::int64_t exp) const;

  http::authenticator authenticate_;
  store::reader_pool* readers_;
  std::string url_secret_;
};

// A playlist answer: the HLS content type, never cached (it changes every segment).
http::response playlist_response(std::string text);

}  // namespace cohort::streaming
