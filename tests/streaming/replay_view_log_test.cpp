#include "streaming/replay_view_log.hpp"

#include "../store/migrated_file.hpp"
#include "../store/temp_database_file.hpp"
#include "registration/webinar_store.hpp"
#include "streaming/recording_store.hpp"

#include <catch2/catch.hpp>


using namespace cohort::streaming;
using cohort::store::database;

namespace {

constexpr std::int64_t t0 = 1768471200;  // 2026-01-15T10:00:00Z

struct harness {
  cohort::test::temp_database_file file;
  cohort::store::sqlite_writer writer{cohort::test::open_migrated(file.path()), {}};
  std::int64_t webinar = 0;

  harness() {
    write([&](database& db) {
      cohort::registration::webinar_input in;
      in.title = "Series";
      in.sessions.push_back({0, t0, 60});
      webinar = cohort::registration::create_webinar(db, std::move(in), t0);
      open_recording(db, webinar, 1, t0, "1");
      close_recording(db, webinar, "1", recording_totals{t0 + 60, 60000, 5});
    });
  }
  ~harness() { writer.stop(); }

  void write(cohort::store::sqlite_writer::work fn) { cohort::test::commit(writer, std::move(fn)); }

  std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>> rows() {
    std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>> out;
    write([&](database& db) {
      auto st = db.prepare("SELECT registration_id, segment, first_at FROM replay_views ORDER BY registration_id, segment");
      while (st.step()) out.emplace_back(st.int64(0), st.int64(1), st.int64(2));
    });
    return out;
  }
};

}  // namespace

TEST_CASE("replay_segment_index reads the recorder's segment names", "[streaming]") {
  CHECK(replay_segment_index("seg_000001.m4s") == 0);
  CHECK(replay_segment_index("seg_000042.m4s") == 41);
  CHECK(replay_segment_index("seg_1234567.m4s") == 1234566);
  CHECK_FALSE(replay_segment_index("init.mp4"));
  CHECK_FALSE(replay_segment_index("index.m3u8"));
  CHECK_FALSE(replay_segment_index("seg_000000.m4s"));
  CHECK_FALSE(replay_segment_index("seg_.m4s"));
  CHECK_FALSE(replay_segment_index("seg_00x001.m4s"));
  CHECK_FALSE(replay_segment_index("seg_000001.m4s.tmp"));
}

TEST_CASE("replay_view_log writes each (recording, registration, segment) once", "[streaming]") {
  harness h;
  auto log = std::make_shared<replay_view_log>(&h.writer);
  CHECK(log->note({h.webinar, "1", 7, 0}, t0 + 100));
  CHECK(log->note({h.webinar, "1", 7, 2}, t0 + 101));
  CHECK_FALSE(log->note({h.webinar, "1", 7, 0}, t0 + 102));  // a repeat (Range, seek): no write
  CHECK(log->note({h.webinar, "1", 8, 0}, t0 + 103));
  CHECK(log->note({h.webinar, "1", 7, 5}, t0 + 104));        // past the recording's 5 segments: not a view
  CHECK(log->note({h.webinar, "nope", 7, 1}, t0 + 105));     // no such recording
  CHECK(log->note({h.webinar + 1, "1", 7, 1}, t0 + 106));    // another webinar's folder name
  const auto rows = h.rows();
  CHECK(rows == std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>>{{7, 0, t0 + 100}, {7, 2, t0 + 101}, {8, 0, t0 + 103}});
  CHECK(log->pending() == 0);
}

TEST_CASE("replay_view_log stays bounded and still writes nothing twice", "[streaming]") {
  harness h;
  auto log = std::make_shared<replay_view_log>(&h.writer, replay_view_log::limits{3, 100});
  for (int round = 0; round < 3; ++round)
    for (std::int64_t seg = 0; seg < 5; ++seg) log->note({h.webinar, "1", 9, seg}, t0 + round);
  CHECK(log->remembered() <= 3);
  const auto rows = h.rows();
  REQUIRE(rows.size() == 5);
  CHECK(std::get<2>(rows[0]) == t0);  // the first fetch's time stays
}
