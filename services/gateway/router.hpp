// Maps (method, path pattern) to handlers and runs the checks every API route shares, in the
// order a client expects to hear about problems: 404/405, then 401/403, then 411/415/413, then
// 400, then the handler. The checks that need only the header also run before the body is read
// (precheck), so a refused upload costs no disk and no bandwidth. Patterns are literal segments plus {id} and {name_id} (a positive integer) and any other {name}
// (one safe segment: letters, digits, . - _, no leading dot). Records each answer in the metrics under the route's pattern.
#pragma once

#include "gateway/http_types.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cohort::metrics { struct registry; }

namespace cohort::http {

enum class access { anyone, organizer, registrant };

struct route_options {
  access who = access::anyone;
  bool json_body = false;  // body must be a JSON object with Content-Type application/json
  bool file_body = false;  // an upload: the server spools the body to a file (request::body_file)
  // Runs after the access check, at header time and again before the handler: throws api_error
  // to refuse (e.g. a check of who is writing). Empty: no extra check.
  std::function<void(const request&)> guard{};
};

// The largest body a route takes, for the Content-Length check at header time.
struct body_limits {
  std::uint64_t body_max_bytes = 64 * 1024;  // JSON and other bodies read into memory
  std::uint64_t upload_max_bytes = 0;        // routes with file_body
};

// Answers through the responder, or moves it into an async operation; may throw api_error or a
// common::domain_error before it has moved the responder (the router answers it, see error_from).
using handler = std::function<void(request&, responder&)>;
// Who is calling: `token` (bearer or ?token=, as the caller's route takes it; may be empty),
// else the request's organizer session cookie, else kind::anonymous. Throws api_error(401) for
// a token that is present but invalid, 403 for a cookie on a cross-site state change.
using authenticator = std::function<identity(const request& req, std::string_view token)>;

class router {
 public:
  router(metrics::registry* metrics, authenticator auth) : metrics_(metrics), auth_(std::move(auth)) {}

  void add(verb method, std::string pattern, route_options options, handler h);
  void get(std::string pattern, handler h, route_options o = {}) { add(verb::get, std::move(pattern), o, std::move(h)); }
  // A member function of `api` as the handler: add(verb::post, "/api/x", {...}, &x_api::create, this).
  // `api` must outlive the router's use. What the handler throws is answered as any handler's is.
  template <class Api>
  void add(verb method, std::string pattern, route_options options, void (Api::*fn)(request&, responder&), Api* api) {
    add(method, std::move(pattern), std::move(options), handler([api, fn](request& req, responder& respond) { (api->*fn)(req, respond); }));
  }

  // Requests under /<first_segment>/ that no route matches are answered by `answer` instead of
  // 404/405 (an edge node sends /api/... to the primary this way).
  void set_fallback(std::string first_segment, std::function<response(const request&)> answer) {
    fallback_segment_ = std::move(first_segment);
    fallback_ = std::move(answer);
  }

  // The answer for a request that fails a check needing only its header (404/405, 401/403 from
  // the authenticator or the route's guard, 411/415, 413 when Content-Length exceeds the
  // route's limit); nullopt when it may go on. The server calls this before reading a body, then
  // dispatch after it, which runs the same checks again (a token may be revoked during a long
  // upload). Requests for the fallback go on. Records a refusal in the metrics. Never throws.
  std::optional<response> precheck(request& req, const body_limits& limits) const;

  // Answers req through respond, now or later, exactly once. Never throws.
  void dispatch(request& req, responder respond) const;

  // True when (method, path) names an upload route, so the server spools its body to disk.
  bool takes_file(verb method, const std::vector<std::string>& segments) const;

  // "METHOD /pattern" for every route, for `cohort routes` and the OpenAPI coverage test;
  // with_access adds who may call it (anyone | organizer | registrant), for the access tests.
  std::vector<std::string> describe(bool with_access = false) const;

 private:
  struct route {
    verb method;
    std::string pattern;
    std::vector<std::string> segments;
    route_options options;
    handler run;
  };
  // Where a request stands after the header checks: a route to run, the fallback, or a refusal.
  struct admission {
    const route* found = nullptr;
    bool fallback = false;
    std::optional<response> refusal;
    std::string label;  // for the metrics
  };
  static bool matches(const route& r, const std::vector<std::string>& segments, std::vector<std::string>& params);
  admission admit(request& req, const body_limits* limits) const;
  void check_header(const route& r, request& req, const body_limits* limits) const;
  void check_and_run(const route& r, request& req, responder& respond) const;
  responder observed(std::string_view label, verb method, responder respond) const;

  std::vector<route> routes_;
  metrics::registry* metrics_;
  authenticator auth_;
  std::string fallback_segment_;
  std::function<response(const request&)> fallback_;
};

}  // namespace cohort::http
