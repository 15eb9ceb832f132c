#include "streaming/viewer_gate.hpp"

#include "registration/rfc3339.hpp"

#include <catch2/catch.hpp>

namespace {

using namespace cohort;

const std::string key(32, 'k');

http::request segment_request(std::string_view query) {
  http::request req;
  const auto amp = query.find('&');
  const auto exp = query.substr(4, amp - 4);
  const auto sig = query.substr(amp + 5);
  req.query = {{"exp", std::string(exp)}, {"sig", std::string(sig)}};
  return req;
}

// What a signature for this expiry would be under the gate's key (as someone holding the key computes it).
std::string signed_by_key(std::int64_t webinar, std::string_view scope, std::int64_t exp) {
  const auto data = std::string(scope) + "|" + std::to_string(webinar) + "|" + std::to_string(exp);
  return "exp=" + std::to_string(exp) + "&sig=" + http::hex(http::hmac_sha256(key, data)).substr(0, 32);
}

int status_of(const streaming::viewer_gate& gate, const http::request& req, std::int64_t webinar, std::string_view scope) {
  try {
    gate.check_signature(req, webinar, scope);
    return 200;
  } catch (const http::api_error& e) {
    return e.status;
  }
}

TEST_CASE("viewer_gate accepts the segment URLs it signs and refuses an expiry further ahead than it ever issues", "[streaming]") {
  const streaming::viewer_gate gate({}, nullptr, key);
  CHECK(status_of(gate, segment_request(gate.signed_query(7, "live")), 7, "live") == 200);
  CHECK(status_of(gate, segment_request(gate.signed_query(7, "live")), 8, "live") == 403);
  CHECK(status_of(gate, segment_request(gate.signed_query(7, "live")), 7, "replay") == 403);
  const auto now = registration::unix_now();
  CHECK(status_of(gate, segment_request(signed_by_key(7, "live", now + 600)), 7, "live") == 200);
  CHECK(status_of(gate, segment_request(signed_by_key(7, "live", now - 1)), 7, "live") == 403);
  // Correctly signed, but valid for a year: refused (a leaked key or URL must not work for ever).
  CHECK(status_of(gate, segment_request(signed_by_key(7, "live", now + 365 * 24 * 3600)), 7, "live") == 403);
  CHECK(status_of(gate, segment_request(signed_by_key(7, "live", now + 3600)), 7, "live") == 403);
  http::request unsigned_req;
  CHECK(status_of(gate, unsigned_req, 7, "live") == 401);
}

}  // namespace
