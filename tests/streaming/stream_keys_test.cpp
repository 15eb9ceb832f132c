#include "streaming/stream_keys.hpp"

#include <catch2/catch.hpp>

using namespace cohort::streaming;

TEST_CASE("redact_stream_keys hides every stream key in a line, keeps the rest") {
  CHECK(redact_stream_keys("[rtmp @ 0x55] Unexpected stream live_0123456789abcdef0123456789abcdef, expecting relay") ==
        "[rtmp @ 0x55] Unexpected stream live_<redacted>, expecting relay");
  CHECK(redact_stream_keys("live_abc?x=1 and live_DEF") == "live_<redacted>?x=1 and live_<redacted>");
  CHECK(redact_stream_keys("nothing secret here") == "nothing secret here");
  CHECK(redact_stream_keys("a bare live_ prefix") == "a bare live_ prefix");
  CHECK(redact_stream_keys("") == "");
}
