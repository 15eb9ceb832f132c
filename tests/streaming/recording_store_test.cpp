#include "streaming/recording_store.hpp"

#include "registration/webinar_store.hpp"
#include "store/migrations.hpp"

#include <catch2/catch.hpp>

using namespace cohort::streaming;
using cohort::store::database;

namespace {

constexpr std::int64_t t0 = 1768471200;  // 2026-01-15T10:00:00Z

struct fixture {
  database db{":memory:"};
  std::int64_t webinar = 0, other = 0;

  fixture() {
    cohort::store::migrate(db);
    webinar = make_webinar();
    other = make_webinar();
  }

  std::int64_t make_webinar() {
    cohort::registration::webinar_input in;
    in.title = "Series";
    in.description = "weekly";
    in.sessions.push_back({0, t0 + 3600, 60});
    return cohort::registration::create_webinar(db, std::move(in), t0);
  }
};

}  // namespace

TEST_CASE_METHOD(fixture, "a recording is open while its publish is live, then closed with its totals", "[recording_store]") {
  open_recording(db, webinar, 1, t0, "1");
  auto list = recordings_of(db, webinar);
  REQUIRE(list.size() == 1);
  CHECK(list[0].session == 1);
  CHECK(list[0].started_at == t0);
  CHECK_FALSE(list[0].ended_at);
  CHECK(list[0].dir == "1");
  CHECK(recordings_of(db, other).empty());
  CHECK_THROWS_AS(ended_recording_dir(db, webinar, list[0].id), recording_still_live);

  close_recording(db, webinar, "1", {t0 + 600, 598'500, 399});
  list = recordings_of(db, webinar);
  REQUIRE(list.size() == 1);
  CHECK(list[0].ended_at == t0 + 600);
  CHECK(list[0].duration_ms == 598'500);
  CHECK(list[0].segments == 399);
  CHECK(ended_recording_dir(db, webinar, list[0].id) == "1");
}

TEST_CASE_METHOD(fixture, "a resumed session continues its recording: open again, first start kept", "[recording_store]") {
  open_recording(db, webinar, 1, t0, "1");
  close_recording(db, webinar, "1", {t0 + 60, 60'000, 60});
  open_recording(db, webinar, 1, t0 + 120, "1");
  const auto list = recordings_of(db, webinar);
  REQUIRE(list.size() == 1);
  CHECK(list[0].started_at == t0);
  CHECK_FALSE(list[0].ended_at);
}

TEST_CASE_METHOD(fixture, "recordings a crash left open are listed and closed by id", "[recording_store]") {
  open_recording(db, webinar, 1, t0, "1");
  open_recording(db, other, std::nullopt, t0 + 5, "adhoc-" + std::to_string(t0 + 5));
  close_recording(db, other, "adhoc-" + std::to_string(t0 + 5), {t0 + 50, 45'000, 45});
  const auto open = unclosed_recordings(db);
  REQUIRE(open.size() == 1);
  CHECK(open[0].webinar_id == webinar);
  CHECK(open[0].started_at == t0);
  CHECK(open[0].dir == "1");
  close_recording_by_id(db, open[0].id, {t0 + 30, 30'000, 30});
  CHECK(unclosed_recordings(db).empty());
  CHECK(recordings_of(db, webinar)[0].segments == 30);
}

TEST_CASE_METHOD(fixture, "each webinar's latest stream start, ad hoc without a session", "[recording_store]") {
  open_recording(db, webinar, 1, t0, "1");
  open_recording(db, webinar, std::nullopt, t0 + 7200, "adhoc-" + std::to_string(t0 + 7200));
  open_recording(db, other, 1, t0 + 100, "1");
  const auto latest = latest_stream_starts(db);
  REQUIRE(latest.size() == 2);
  CHECK(latest.at(webinar).started_at == t0 + 7200);
  CHECK_FALSE(latest.at(webinar).session);
  CHECK(latest.at(other).started_at == t0 + 100);
  CHECK(latest.at(other).session == 1);
}

TEST_CASE_METHOD(fixture, "deleting: only an ended recording of that webinar is found", "[recording_store]") {
  open_recording(db, webinar, 1, t0, "1");
  close_recording(db, webinar, "1", {t0 + 60, 60'000, 60});
  const auto id = recordings_of(db, webinar).at(0).id;
  CHECK_THROWS_AS(ended_recording_dir(db, other, id), recording_not_found);
  CHECK_THROWS_AS(ended_recording_dir(db, webinar, id + 100), recording_not_found);
  delete_recording(db, id);
  CHECK(recordings_of(db, webinar).empty());
  CHECK_THROWS_AS(ended_recording_dir(db, webinar, id), recording_not_found);
}
