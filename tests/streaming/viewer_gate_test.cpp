#include "streaming/viewer_gate.hpp"

#include "common/bytes.hpp"
#include "common/rfc3339.hpp"

#include <catch2/catch.hpp>

namespace {

using namespace cohort;

const std::string key(32, 'k');

// A request carrying the query "k=v&k=v..." as parsed.
http::request segment_request(std::string_view query) {
  http::request req;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    req.query.emplace_back(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1)));
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return req;
}

// The same query with one parameter's value replaced.
std::string with_param(std::string query, const std::string& name, const std::string& value) {
  const auto at = query.find(name + "=");
  const auto end = query.find('&', at);
  return query.replace(at + name.size() + 1, (end == std::string::npos ? query.size() : end) - at - name.size() - 1, value);
}

// What a signature for this expiry would be under the gate's key (as someone holding the key computes it).
std::string signed_by_key(std::int64_t webinar, std::string_view scope, std::int64_t exp) {
  const auto data = std::string(scope) + "|" + std::to_string(webinar) + "|" + std::to_string(exp);
  return "exp=" + std::to_string(exp) + "&sig=" + common::hex(http::hmac_sha256(key, data)).substr(0, 32);
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
  const auto now = common::unix_now();
  CHECK(status_of(gate, segment_request(signed_by_key(7, "live", now + 600)), 7, "live") == 200);
  CHECK(status_of(gate, segment_request(signed_by_key(7, "live", now - 1)), 7, "live") == 403);
  // Correctly signed, but valid for a year: refused (a leaked key or URL must not work for ever).
  CHECK(status_of(gate, segment_request(signed_by_key(7, "live", now + 365 * 24 * 3600)), 7, "live") == 403);
  CHECK(status_of(gate, segment_request(signed_by_key(7, "live", now + 3600)), 7, "live") == 403);
  http::request unsigned_req;
  CHECK(status_of(gate, unsigned_req, 7, "live") == 401);
}

// The expected signature is remembered per (webinar, scope, window): the answers must be the same
// as computing it every time, whatever came before (a bad signature first, a good one first, more
// webinars than the cache holds).
TEST_CASE("viewer_gate answers the same from its signature cache", "[streaming]") {
  const streaming::viewer_gate gate({}, nullptr, key);
  const auto now = common::unix_now();
  const auto exp = now + 600;
  auto tampered = signed_by_key(7, "live", exp);
  tampered.back() = tampered.back() == 'a' ? 'b' : 'a';
  CHECK(status_of(gate, segment_request(tampered), 7, "live") == 403);  // a miss: computed, cached
  CHECK(status_of(gate, segment_request(signed_by_key(7, "live", exp)), 7, "live") == 200);
  CHECK(status_of(gate, segment_request(tampered), 7, "live") == 403);  // a hit
  for (int i = 0; i < 3; ++i) CHECK(status_of(gate, segment_request(signed_by_key(7, "live", exp)), 7, "live") == 200);
  CHECK(status_of(gate, segment_request(signed_by_key(7, "live", exp)), 7, "replay") == 403);
  CHECK(status_of(gate, segment_request(signed_by_key(7, "replay", exp)), 7, "replay") == 200);
  CHECK(status_of(gate, segment_request(signed_by_key(7, "live", exp)), 8, "live") == 403);
  CHECK(status_of(gate, segment_request(signed_by_key(7, "live", exp + 1)), 7, "live") == 200);

  // More webinars than the cache holds: every one still verifies, twice over.
  const auto many = std::int64_t(streaming::viewer_gate::signature_cache_max) + 100;
  int ok = 0;
  for (int round = 0; round < 2; ++round)
    for (std::int64_t w = 1; w <= many; ++w) ok += status_of(gate, segment_request(signed_by_key(w, "live", exp)), w, "live") == 200;
  CHECK(ok == 2 * many);
  CHECK(status_of(gate, segment_request(tampered), 7, "live") == 403);
}

TEST_CASE("viewer_gate signs a registrant's replay URLs over the registration, and refuses another r", "[streaming]") {
  const streaming::viewer_gate gate({}, nullptr, key);
  const auto q = gate.signed_query(7, "replay", 42);
  CHECK(q.find("&r=42&sig=") != std::string::npos);
  CHECK(gate.check_signature(segment_request(q), 7, "replay") == 42);
  CHECK(gate.check_signature(segment_request(gate.signed_query(7, "replay")), 7, "replay") == 0);
  // Another registrant's id under this signature, no r at all, a garbled r: refused.
  CHECK(status_of(gate, segment_request(with_param(q, "r", "43")), 7, "replay") == 403);
  CHECK(status_of(gate, segment_request(with_param(q, "r", "042x")), 7, "replay") == 403);
  CHECK(status_of(gate, segment_request(with_param(q, "r", "-42")), 7, "replay") == 403);
  CHECK(status_of(gate, segment_request(with_param(q, "r", "")), 7, "replay") == 403);
  auto no_r = q;
  no_r.erase(no_r.find("&r=42"), 5);
  CHECK(status_of(gate, segment_request(no_r), 7, "replay") == 403);
  // A shared signature with an r added does not pass either.
  const auto shared = gate.signed_query(7, "replay");
  CHECK(status_of(gate, segment_request(shared + "&r=42"), 7, "replay") == 403);
  auto sig = q.substr(q.find("sig=") + 4);
  sig[0] = sig[0] == 'a' ? 'b' : 'a';
  CHECK(status_of(gate, segment_request(with_param(q, "sig", sig)), 7, "replay") == 403);
  CHECK(status_of(gate, segment_request(q), 8, "replay") == 403);
  CHECK(status_of(gate, segment_request(q), 7, "live") == 403);
  // From the cache, the same answers.
  CHECK(gate.check_signature(segment_request(q), 7, "replay") == 42);
  CHECK(status_of(gate, segment_request(with_param(q, "r", "43")), 7, "replay") == 403);
}

}  // namespace
