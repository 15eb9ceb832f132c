#include "gateway/router.hpp"

#include "common/errors.hpp"
#include "common/storage_full.hpp"
#include "metrics/metrics.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace cohort::http;
using Catch::Matchers::Contains;

// What a dispatch answered, and how many times.
struct answer {
  int calls = 0;
  response res;

  unsigned status() const { return res.status; }
  std::string error_code() const { return error().at("code").as_string().c_str(); }
  boost::json::object error() const {
    auto v = boost::json::parse(res.body);
    return v.as_object().at("error").as_object();
  }
  const std::string* header(const std::string& name) const {
    for (const auto& [k, v] : res.headers)
      if (k == name) return &v;
    return nullptr;
  }
};

request make_request(verb method, const std::string& path) {
  request req;
  req.method = method;
  req.path = path;
  if (path != "/") {
    std::size_t start = 1;
    for (;;) {
      const auto slash = path.find('/', start);
      req.segments.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
  }
  return req;
}

// Tokens the fake authenticator knows.
identity fake_auth(const request&, std::string_view bearer) {
  identity who;
  if (bearer.empty()) return who;
  if (bearer == "admin-token") {
    who.role = identity::kind::organizer;
    return who;
  }
  if (bearer == "registrant-token") {
    who.role = identity::kind::registrant;
    who.registration_id = 7;
    who.webinar_id = 3;
    return who;
  }
  throw api_error(401, "unauthorized", "the bearer token is not valid");
}

// A router with the shape of the real API; each handler records that it ran and echoes its params.
struct fixture {
  cohort::metrics::registry metrics;
  router r{&metrics, fake_auth};
  std::vector<std::string> ran;  // "METHOD pattern" of each handler that ran
  request last;                  // the request as the last handler saw it

  handler echo(std::string name) {
    return [this, name](request& req, responder& respond) {
      ran.push_back(name);
      last = req;
      boost::json::array params;
      for (const auto& p : req.params) params.emplace_back(p);
      respond(response::json(200, boost::json::object{{"route", name}, {"params", params}}));
    };
  }

  fixture() {
    r.add(verb::get, "/", {}, echo("GET /"));
    r.add(verb::get, "/api/webinars", {}, echo("GET /api/webinars"));
    r.add(verb::post, "/api/webinars", {access::organizer, true}, echo("POST /api/webinars"));
    r.add(verb::get, "/api/webinars/{id}", {}, echo("GET /api/webinars/{id}"));
    r.add(verb::patch, "/api/webinars/{id}", {access::organizer, true}, echo("PATCH /api/webinars/{id}"));
    r.add(verb::del, "/api/webinars/{id}", {access::organizer, false}, echo("DELETE /api/webinars/{id}"));
    r.add(verb::post, "/api/webinars/{id}/registrations", {access::anyone, true}, echo("POST /api/webinars/{id}/registrations"));
    r.add(verb::post, "/api/webinars/{id}/ping", {}, echo("POST /api/webinars/{id}/ping"));
    r.add(verb::get, "/api/me", {access::registrant, false}, echo("GET /api/me"));
    r.get("/assets/{file}", echo("GET /assets/{file}"));
  }

  answer dispatch(request req) {
    auto out = std::make_shared<answer>();
    r.dispatch(req, [out](response res) {
      ++out->calls;
      out->res = std::move(res);
    });
    REQUIRE(out->calls == 1);  // every dispatch answers exactly once
    return *out;
  }
  answer dispatch(verb method, const std::string& path, const std::string& authorization = {}) {
    auto req = make_request(method, path);
    req.authorization = authorization;
    return dispatch(std::move(req));
  }
  answer post_json(verb method, const std::string& path, const std::string& body, const std::string& authorization = {},
                   const std::string& content_type = "application/json") {
    auto req = make_request(method, path);
    req.authorization = authorization;
    req.content_type = content_type;
    req.body = body;
    req.body_framed = true;
    return dispatch(std::move(req));
  }
};

}  // namespace

TEST_CASE("router matches literal paths and captures {id}", "[gateway]") {
  fixture f;
  auto a = f.dispatch(verb::get, "/api/webinars");
  CHECK(a.status() == 200);
  CHECK(f.ran == std::vector<std::string>{"GET /api/webinars"});

  a = f.dispatch(verb::get, "/api/webinars/42");
  CHECK(a.status() == 200);
  CHECK(f.ran.back() == "GET /api/webinars/{id}");
  CHECK(f.last.params == std::vector<std::string>{"42"});
  CHECK(f.last.id_param(0) == 42);

  a = f.dispatch(verb::get, "/api/webinars/999999999999999999");
  CHECK(a.status() == 200);
  CHECK(f.last.id_param(0) == 999999999999999999);

  a = f.dispatch(verb::get, "/");
  CHECK(a.status() == 200);
  CHECK(f.ran.back() == "GET /");
}

TEST_CASE("router {id} takes only positive integers without a leading zero", "[gateway]") {
  fixture f;
  for (const std::string bad : {"0", "007", "-1", "+1", "1a", "1.0", "1e3", " 1", "", "0x10", "1234567890123456789"}) {
    INFO("id \"" << bad << "\"");
    const auto a = f.dispatch(verb::get, "/api/webinars/" + bad);
    CHECK(a.status() == 404);
  }
  CHECK(f.ran.empty());
}

TEST_CASE("router {file} refuses names that could leave the folder or are hidden", "[gateway]") {
  fixture f;
  for (const std::string good : {"app.js", "style.min.css", "a-b_c.svg", "x"}) {
    INFO(good);
    CHECK(f.dispatch(verb::get, "/assets/" + good).status() == 200);
    CHECK(f.last.params == std::vector<std::string>{good});
  }
  f.ran.clear();
  // Segments are percent-decoded before routing, so "a%2Fb" arrives as the one segment "a/b".
  const std::vector<std::string> bad_names{"..", ".",   ".hidden", ".env",   "a/b", "../etc", "a\\b",
                                           "",   "a b", "%2e%2e",  "caf\xc3\xa9.js", std::string(129, 'a')};
  for (const auto& bad : bad_names) {
    INFO("file \"" << bad << "\"");
    auto req = make_request(verb::get, "/assets/x");
    req.segments.back() = bad;
    CHECK(f.dispatch(std::move(req)).status() == 404);
  }
  CHECK(f.ran.empty());
}

TEST_CASE("router answers 404 for unknown paths in the one error shape", "[gateway]") {
  fixture f;
  for (const std::string path : {"/nope", "/api", "/api/webinars/1/extra", "/api/webinars/", "/api/webinars/1/registrations/2"}) {
    INFO(path);
    const auto a = f.dispatch(verb::get, path);
    CHECK(a.status() == 404);
    CHECK(a.error_code() == "not_found");
    CHECK(a.res.content_type == "application/json");
    CHECK(a.header("Allow") == nullptr);
  }
  CHECK(f.ran.empty());
}

TEST_CASE("router answers 405 with an Allow header when only the method is wrong", "[gateway]") {
  fixture f;
  auto a = f.dispatch(verb::put, "/api/webinars");
  CHECK(a.status() == 405);
  CHECK(a.error_code() == "method_not_allowed");
  REQUIRE(a.header("Allow"));
  CHECK(*a.header("Allow") == "GET, POST");

  a = f.dispatch(verb::post, "/api/webinars/5");
  CHECK(a.status() == 405);
  REQUIRE(a.header("Allow"));
  CHECK(*a.header("Allow") == "GET, PATCH, DELETE");

  a = f.dispatch(verb::del, "/api/me", "Bearer registrant-token");
  CHECK(a.status() == 405);
  CHECK(*a.header("Allow") == "GET");
  CHECK(f.ran.empty());
}

TEST_CASE("router serves HEAD with the GET handler", "[gateway]") {
  fixture f;
  auto a = f.dispatch(verb::head, "/api/webinars/9");
  CHECK(a.status() == 200);
  CHECK(f.ran == std::vector<std::string>{"GET /api/webinars/{id}"});
  CHECK(f.last.method == verb::head);

  a = f.dispatch(verb::head, "/api/webinars/9/ping");  // POST only
  CHECK(a.status() == 405);
  CHECK(*a.header("Allow") == "POST");
}

TEST_CASE("router checks routing first, then who is asking", "[gateway]") {
  fixture f;
  // 404 and 405 win over a missing or invalid token
  CHECK(f.dispatch(verb::get, "/nope", "Bearer garbage").status() == 404);
  CHECK(f.dispatch(verb::put, "/api/webinars", "Bearer garbage").status() == 405);

  SECTION("anonymous on an organizer route: 401") {
    auto a = f.dispatch(verb::del, "/api/webinars/1");
    CHECK(a.status() == 401);
    CHECK(a.error_code() == "unauthorized");
  }
  SECTION("registrant on an organizer route: 403") {
    auto a = f.dispatch(verb::del, "/api/webinars/1", "Bearer registrant-token");
    CHECK(a.status() == 403);
    CHECK(a.error_code() == "forbidden");
  }
  SECTION("organizer on a registrant route: 403") {
    CHECK(f.dispatch(verb::get, "/api/me", "Bearer admin-token").status() == 403);
  }
  SECTION("anonymous on a registrant route: 401") {
    CHECK(f.dispatch(verb::get, "/api/me").status() == 401);
  }
  SECTION("an invalid token: 401 from the authenticator") {
    auto a = f.dispatch(verb::del, "/api/webinars/1", "Bearer forged");
    CHECK(a.status() == 401);
    CHECK_THAT(a.error().at("message").as_string().c_str(), Contains("not valid"));
  }
  SECTION("a scheme other than Bearer counts as no token") {
    CHECK(f.dispatch(verb::del, "/api/webinars/1", "Basic YWRtaW46YWRtaW4=").status() == 401);
    CHECK(f.dispatch(verb::del, "/api/webinars/1", "Bearer").status() == 401);
  }
  SECTION("the right role runs the handler with the identity") {
    CHECK(f.dispatch(verb::del, "/api/webinars/1", "Bearer admin-token").status() == 200);
    CHECK(f.last.who.role == identity::kind::organizer);
    CHECK(f.dispatch(verb::get, "/api/me", "bearer registrant-token").status() == 200);  // scheme is case-insensitive
    CHECK(f.last.who.role == identity::kind::registrant);
    CHECK(f.last.who.registration_id == 7);
    CHECK(f.last.who.webinar_id == 3);
  }
  SECTION("a 401 comes before body problems") {
    auto req = make_request(verb::post, "/api/webinars");
    req.body = "not json";
    req.content_type = "text/plain";
    CHECK(f.dispatch(std::move(req)).status() == 401);
  }
}

TEST_CASE("router answers 411 to a POST, PUT or PATCH without a framed body", "[gateway]") {
  fixture f;
  for (auto method : {verb::post, verb::patch}) {
    auto req = make_request(method, method == verb::post ? "/api/webinars" : "/api/webinars/1");
    req.authorization = "Bearer admin-token";
    req.content_type = "application/json";
    req.body = "{}";
    req.body_framed = false;
    auto a = f.dispatch(std::move(req));
    CHECK(a.status() == 411);
    CHECK(a.error_code() == "length_required");
  }
  // also on routes that take no JSON
  CHECK(f.dispatch(verb::post, "/api/webinars/1/ping").status() == 411);
  CHECK(f.ran.empty());
}

TEST_CASE("router answers 415 when a JSON route gets another content type", "[gateway]") {
  fixture f;
  for (const std::string ct : {"text/plain", "", "application/x-www-form-urlencoded", "application/jsonp", "multipart/form-data"}) {
    INFO("Content-Type: " << ct);
    const auto a = f.post_json(verb::post, "/api/webinars/1/registrations", "{}", {}, ct);
    CHECK(a.status() == 415);
    CHECK(a.error_code() == "unsupported_media_type");
  }
  CHECK(f.ran.empty());
  for (const std::string ct : {"application/json", "application/json; charset=utf-8", "Application/JSON", "application/json ;charset=UTF-8"}) {
    INFO("Content-Type: " << ct);
    CHECK(f.post_json(verb::post, "/api/webinars/1/registrations", "{}", {}, ct).status() == 200);
  }
}

TEST_CASE("router answers 400 to a body that is not a JSON object", "[gateway]") {
  fixture f;
  for (const std::string body : {"", "{", "{\"a\":}", "[1,2]", "\"text\"", "42", "null", "{\"a\":1} trailing"}) {
    INFO("body: " << body);
    const auto a = f.post_json(verb::post, "/api/webinars/1/registrations", body);
    CHECK(a.status() == 400);
    CHECK(a.error_code() == "bad_json");
  }
  CHECK(f.ran.empty());

  CHECK(f.post_json(verb::post, "/api/webinars/1/registrations", R"({"name":"Zoë","n":[1]})").status() == 200);
  CHECK(f.last.json.at("name").as_string() == "Zoë");
}

TEST_CASE("router turns a handler's api_error into the one error shape", "[gateway]") {
  cohort::metrics::registry metrics;
  router r(&metrics, fake_auth);
  r.get("/fail/{id}", [](request& req, responder&) {
    throw api_error(422, "validation_failed", "email must be valid", "email" + std::to_string(req.id_param(0)));
  });
  r.get("/crash", [](request&, responder&) { throw std::runtime_error("secret database path /var/x"); });
  r.get("/plain", [](request&, responder&) { throw api_error(409, "conflict", "already there"); });

  auto run = [&](const std::string& path) {
    auto out = std::make_shared<answer>();
    auto req = make_request(verb::get, path);
    r.dispatch(req, [out](response res) {
      ++out->calls;
      out->res = std::move(res);
    });
    CHECK(out->calls == 1);
    return *out;
  };

  auto a = run("/fail/3");
  CHECK(a.status() == 422);
  CHECK(boost::json::parse(a.res.body) ==
        boost::json::parse(R"({"error":{"code":"validation_failed","message":"email must be valid","field":"email3"}})"));

  a = run("/plain");
  CHECK(a.status() == 409);
  CHECK(boost::json::parse(a.res.body) == boost::json::parse(R"({"error":{"code":"conflict","message":"already there"}})"));

  a = run("/crash");
  CHECK(a.status() == 500);
  CHECK(a.error_code() == "internal");
  CHECK_THAT(a.res.body, !Contains("/var/x"));  // internal details stay in the log
}

TEST_CASE("router lets a handler answer later, exactly once", "[gateway]") {
  router r(nullptr, fake_auth);
  responder parked;
  r.get("/later", [&parked](request&, responder& respond) { parked = std::move(respond); });
  int calls = 0;
  auto req = make_request(verb::get, "/later");
  r.dispatch(req, [&calls](response res) {
    ++calls;
    CHECK(res.status == 204);
  });
  CHECK(calls == 0);
  REQUIRE(parked);
  parked(response::no_content());
  CHECK(calls == 1);
}

TEST_CASE("router records each answer under its route pattern", "[gateway]") {
  fixture f;
  f.dispatch(verb::get, "/api/webinars/5");
  f.dispatch(verb::get, "/api/webinars/6");
  f.dispatch(verb::del, "/api/webinars/6");
  f.dispatch(verb::get, "/no/such/page");
  const auto text = f.metrics.render();
  CHECK_THAT(text, Contains("cohort_http_requests_total{route=\"/api/webinars/{id}\",method=\"GET\",status=\"200\"} 2\n"));
  CHECK_THAT(text, Contains("cohort_http_requests_total{route=\"/api/webinars/{id}\",method=\"DELETE\",status=\"401\"} 1\n"));
  CHECK_THAT(text, Contains("cohort_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1\n"));
  CHECK_THAT(text, Contains("cohort_http_request_duration_seconds_count{route=\"/api/webinars/{id}\"} 3\n"));
  CHECK_THAT(text, !Contains("/api/webinars/5"));  // paths never become labels
}

TEST_CASE("router describe lists every route in registration order", "[gateway]") {
  fixture f;
  CHECK(f.r.describe() == std::vector<std::string>{
                              "GET /",
                              "GET /api/webinars",
                              "POST /api/webinars",
                              "GET /api/webinars/{id}",
                              "PATCH /api/webinars/{id}",
                              "DELETE /api/webinars/{id}",
                              "POST /api/webinars/{id}/registrations",
                              "POST /api/webinars/{id}/ping",
                              "GET /api/me",
                              "GET /assets/{file}",
                          });
}

namespace {

// A request as the server has it once the header is in: framing known, no body yet.
request header_only(verb method, const std::string& path, const std::string& authorization, std::uint64_t length,
                    const std::string& content_type = "application/json") {
  auto req = make_request(method, path);
  req.authorization = authorization;
  req.content_type = content_type;
  req.body_framed = true;
  req.content_length = length;
  return req;
}

}  // namespace

TEST_CASE("router precheck answers from the header alone, in dispatch's order", "[gateway]") {
  fixture f;
  f.r.add(verb::put, "/api/webinars/{id}/file", {access::organizer, false, true}, f.echo("PUT file"));
  const body_limits limits{64 * 1024, 200u << 20};
  const auto status = [&](request req) {
    auto early = f.r.precheck(req, limits);
    return early ? early->status : 0u;
  };
  CHECK(status(header_only(verb::put, "/api/nothing", "Bearer admin-token", 1)) == 404);
  CHECK(status(header_only(verb::get, "/api/webinars/1/file", "Bearer admin-token", 0)) == 405);
  // Who is asking comes before how large the body is.
  CHECK(status(header_only(verb::put, "/api/webinars/1/file", "", 300u << 20)) == 401);
  CHECK(status(header_only(verb::put, "/api/webinars/1/file", "Bearer nonsense", 10)) == 401);
  CHECK(status(header_only(verb::put, "/api/webinars/1/file", "Bearer registrant-token", 10)) == 403);
  // The route's own limit: uploads take upload_max_bytes, other bodies body_max_bytes.
  CHECK(status(header_only(verb::put, "/api/webinars/1/file", "Bearer admin-token", 200u << 20)) == 0);
  CHECK(status(header_only(verb::put, "/api/webinars/1/file", "Bearer admin-token", (200u << 20) + 1)) == 413);
  CHECK(status(header_only(verb::post, "/api/webinars", "Bearer admin-token", 64 * 1024)) == 0);
  CHECK(status(header_only(verb::post, "/api/webinars", "Bearer admin-token", 64 * 1024 + 1)) == 413);
  CHECK(status(header_only(verb::post, "/api/webinars", "Bearer admin-token", 10, "text/plain")) == 415);
  auto unframed = header_only(verb::post, "/api/webinars/1/ping", "", 0);
  unframed.body_framed = false;
  unframed.content_length.reset();
  CHECK(status(unframed) == 411);
  // A chunked body has no length to check yet: it goes on, and the body read enforces the limit.
  auto chunked = header_only(verb::post, "/api/webinars", "Bearer admin-token", 0);
  chunked.content_length.reset();
  CHECK(status(chunked) == 0);
  CHECK(f.ran.empty());  // no handler runs at header time
}

TEST_CASE("router precheck answers in the one error shape and records the refusal", "[gateway]") {
  fixture f;
  auto req = header_only(verb::put, "/api/webinars", "", 5);
  auto early = f.r.precheck(req, body_limits{});
  REQUIRE(early);
  answer a{1, *early};
  CHECK(a.status() == 405);
  CHECK(a.error_code() == "method_not_allowed");
  REQUIRE(a.header("Allow"));
  CHECK_THAT(f.metrics.render(), Contains("route=\"unmatched\",method=\"PUT\",status=\"405\""));
}

TEST_CASE("router runs a route's guard at header time and again before the handler", "[gateway]") {
  fixture f;
  int calls = 0;
  route_options guarded{access::anyone, false, false, [&calls](const request& req) {
                          ++calls;
                          if (req.peer_address != "127.0.0.1") throw api_error(403, "forbidden", "only this machine may write");
                        }};
  f.r.add(verb::put, "/ingest/{name}", guarded, f.echo("PUT /ingest/{name}"));
  auto outsider = header_only(verb::put, "/ingest/seg1.ts", "", 1000, "video/mp2t");
  outsider.peer_address = "192.0.2.1";
  auto early = f.r.precheck(outsider, body_limits{});
  REQUIRE(early);
  CHECK(early->status == 403);
  auto local = header_only(verb::put, "/ingest/seg1.ts", "", 1000, "video/mp2t");
  local.peer_address = "127.0.0.1";
  CHECK_FALSE(f.r.precheck(local, body_limits{}));
  CHECK(f.dispatch(local).status() == 200);
  CHECK(calls == 3);
  CHECK(f.ran == std::vector<std::string>{"PUT /ingest/{name}"});
}

TEST_CASE("router precheck lets the fallback's requests through", "[gateway]") {
  fixture f;
  f.r.set_fallback("edge", [](const request&) { return error_response(307, "moved", "elsewhere"); });
  auto req = header_only(verb::post, "/edge/anything", "", 1u << 30);
  CHECK_FALSE(f.r.precheck(req, body_limits{}));
}

TEST_CASE("router answers the stores' domain errors with their status and code", "[gateway]") {
  router r(nullptr, fake_auth);
  r.get("/invalid", [](request&, responder&) { throw cohort::common::invalid("email", "email must be valid"); });
  r.get("/missing", [](request&, responder&) { throw cohort::common::not_found("no webinar 9"); });
  r.get("/released", [](request&, responder&) { throw cohort::common::conflict("this drop has been released"); });
  r.get("/inactive", [](request&, responder&) { throw cohort::common::unauthorized("this registration is not active"); });
  r.get("/waitlisted", [](request&, responder&) { throw cohort::common::forbidden("you are on the waitlist", "waitlisted"); });
  r.get("/expired", [](request&, responder&) { throw cohort::common::gone("this link has expired", "expired"); });
  r.get("/busy", [](request&, responder&) { throw cohort::common::unavailable("try again"); });
  // A guard (header time) may throw one too.
  route_options guarded;
  guarded.guard = [](const request&) { throw cohort::common::forbidden("not from here"); };
  r.add(verb::get, "/guarded", guarded, [](request&, responder& respond) { respond(response::no_content()); });

  auto run = [&](const std::string& path) {
    answer out;
    auto req = make_request(verb::get, path);
    r.dispatch(req, [&out](response res) {
      ++out.calls;
      out.res = std::move(res);
    });
    CHECK(out.calls == 1);
    return out;
  };
  auto a = run("/invalid");
  CHECK(boost::json::parse(a.res.body) ==
        boost::json::parse(R"({"error":{"code":"validation_failed","message":"email must be valid","field":"email"}})"));
  CHECK(a.status() == 422);
  a = run("/missing");
  CHECK((a.status() == 404 && a.error_code() == "not_found"));
  a = run("/released");
  CHECK((a.status() == 409 && a.error_code() == "conflict"));
  a = run("/inactive");
  CHECK((a.status() == 401 && a.error_code() == "unauthorized"));
  a = run("/waitlisted");
  CHECK((a.status() == 403 && a.error_code() == "waitlisted"));
  a = run("/expired");
  CHECK((a.status() == 410 && a.error_code() == "expired"));
  a = run("/busy");
  CHECK((a.status() == 503 && a.error_code() == "unavailable"));
  a = run("/guarded");
  CHECK((a.status() == 403 && a.error_code() == "forbidden"));
  auto head = make_request(verb::get, "/guarded");
  const auto early = r.precheck(head, body_limits{});
  REQUIRE(early);
  CHECK(early->status == 403);
}

TEST_CASE("error_from answers an unknown exception with 500 and keeps its text in the log", "[gateway]") {
  const auto r = error_from(std::make_exception_ptr(std::runtime_error("secret /var/x")), "test");
  CHECK(r.status == 500);
  CHECK_THAT(r.body, !Contains("/var/x"));
  CHECK(error_from(std::make_exception_ptr(api_error(418, "teapot", "short and stout"))).status == 418);
}

TEST_CASE("error_from answers storage_full (a kind of unavailable) with 507 and its code", "[gateway]") {
  const auto r = error_from(std::make_exception_ptr(cohort::common::storage_full()));
  CHECK(r.status == 507);
  CHECK_THAT(r.body, Contains("\"code\":\"storage_full\"") && Contains("disk space"));
  CHECK(error_from(std::make_exception_ptr(cohort::common::unavailable("later"))).status == 503);
}

namespace {

// An API object whose member functions are routes, as every capability's is.
struct counter_api {
  int created = 0;
  void create(request& req, responder& respond) {
    ++created;
    respond(response::json(201, boost::json::object{{"id", req.id_param(0)}}));
  }
  void refuse(request&, responder&) { throw cohort::common::not_found("no such counter"); }
};

}  // namespace

TEST_CASE("router takes a member function and its object as the handler", "[gateway]") {
  counter_api api;
  router r(nullptr, fake_auth);
  r.add(verb::post, "/counters/{id}", {access::organizer, false}, &counter_api::create, &api);
  r.add(verb::get, "/counters/{id}", {}, &counter_api::refuse, &api);
  answer out;
  auto req = make_request(verb::post, "/counters/5");
  req.authorization = "Bearer admin-token";
  req.body_framed = true;
  r.dispatch(req, [&out](response res) {
    ++out.calls;
    out.res = std::move(res);
  });
  CHECK(out.calls == 1);
  CHECK(out.status() == 201);
  CHECK(api.created == 1);
  CHECK(boost::json::parse(out.res.body) == boost::json::parse(R"({"id":5})"));
  // The route's access check still runs before the member function.
  auto anonymous = make_request(verb::post, "/counters/5");
  anonymous.body_framed = true;
  r.dispatch(anonymous, [&out](response res) { out.res = std::move(res); });
  CHECK(out.status() == 401);
  CHECK(api.created == 1);
  // And what it throws is answered in the one error shape.
  auto get = make_request(verb::get, "/counters/5");
  r.dispatch(get, [&out](response res) { out.res = std::move(res); });
  CHECK((out.status() == 404 && out.error_code() == "not_found"));
}
