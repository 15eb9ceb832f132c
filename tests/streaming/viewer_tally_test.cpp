#include "streaming/viewer_tally.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace cohort::streaming;
using namespace std::chrono_literals;

TEST_CASE("viewers are playlist fetchers of the last 30 s united with room presence, each once", "[streaming][viewers]") {
  viewer_tally t;
  const auto t0 = viewer_tally::clock::time_point{} + 1h;
  CHECK(t.count({}, t0) == 0);

  t.fetched(std::int64_t{2}, t0);          // only the playlist
  t.fetched(std::int64_t{3}, t0);          // playlist and room
  t.fetched(std::int64_t{3}, t0 + 1s);     // fetching again adds no one
  t.fetched(std::string("organizer-hash"), t0);
  const std::vector<std::int64_t> present{1, 3, 3};  // 1 only in the room; a repeated id counts once
  CHECK(t.count(present, t0 + 2s) == 4);   // 1, 2, 3 and the organizer
  CHECK(t.count({}, t0 + 2s) == 3);

  // A registration id and a token hash never collide, even when they spell the same.
  t.fetched(std::string("1"), t0 + 2s);
  CHECK(t.count(present, t0 + 2s) == 5);

  // Fetches older than 30 s are forgotten; presence still counts.
  CHECK(t.count(present, t0 + 31s) == 3);  // 3 (fetched at +1 s), the "1" token, and room member 1
  CHECK(t.count(present, t0 + 33s) == 2);  // 1 and 3 from the room
  CHECK(t.empty());
}
