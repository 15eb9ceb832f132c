#include "streaming/streaming_module.hpp"

#include "gateway/router.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace cohort::streaming;

TEST_CASE("the RTMP URL organizers are told", "[streaming_module]") {
  cohort::streaming_config s;
  s.rtmp_listen = {"0.0.0.0", 1935};
  SECTION("the listen host, a wildcard as localhost") { CHECK(rtmp_public_url(s, "", 1935) == "rtmp://localhost:1935/live"); }
  SECTION("the bound port, not the configured one") {
    s.rtmp_listen = {"127.0.0.1", 0};
    CHECK(rtmp_public_url(s, "", 40111) == "rtmp://127.0.0.1:40111/live");
  }
  SECTION("the public URL's host, without its port or path") {
    CHECK(rtmp_public_url(s, "https://webinars.example.org:8443/cohort", 1935) == "rtmp://webinars.example.org:1935/live");
  }
  SECTION("an IPv6 listen address in brackets") {
    s.rtmp_listen = {"::1", 1935};
    CHECK(rtmp_public_url(s, "", 1935) == "rtmp://[::1]:1935/live");
  }
  SECTION("streaming.rtmp_public_url as it is") {
    s.rtmp_public_url = "rtmp://ingest.example.org/live";
    CHECK(rtmp_public_url(s, "https://webinars.example.org", 1935) == "rtmp://ingest.example.org/live");
  }
}

TEST_CASE("a module that was never started lists its routes", "[streaming_module]") {
  streaming_module module({});
  cohort::http::router routes(nullptr, {});
  module.add_routes(routes);
  const auto lines = routes.describe(false);
  for (const char* route : {"POST /api/webinars/{id}/stream-key", "GET /api/webinars/{id}/stream-key", "GET /api/webinars/{id}/stream",
                            "GET /live/{id}/index.m3u8", "GET /live/{id}/{file}", "GET /api/webinars/{id}/recordings",
                            "DELETE /api/webinars/{id}/recordings/{recording_id}", "GET /replay/{id}/{recording}/{file}"}) {
    INFO(route);
    CHECK(std::find(lines.begin(), lines.end(), route) != lines.end());
  }
}
