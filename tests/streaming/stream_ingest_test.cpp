#include "streaming/stream_ingest.hpp"

#include "../store/temp_database_file.hpp"
#include "common/rfc3339.hpp"
#include "registration/webinar_store.hpp"
#include "store/migrations.hpp"
#include "store/reader_pool.hpp"
#include "store/sqlite_writer.hpp"
#include "streaming/recorder.hpp"
#include "streaming/recording_store.hpp"
#include "streaming/stream_keys.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

using namespace cohort::streaming;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr std::int64_t t0 = 1768471200;  // 2026-01-15T10:00:00Z

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "cohort-ingest-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// A primary's database with one series, its stream key and a recording left open (ended_at
// NULL), as a crash mid-stream leaves it; the ingest without ffmpeg or an io_context, which
// nothing here needs.
struct fixture {
  cohort::test::temp_database_file file;
  temp_dir recordings;
  std::int64_t webinar = 0;
  std::string key;
  std::unique_ptr<cohort::store::sqlite_writer> writer;
  std::unique_ptr<cohort::store::reader_pool> readers;
  std::shared_ptr<stream_ingest> ingest;

  fixture() {
    cohort::store::database db(file.path());
    cohort::store::migrate(db);
    cohort::registration::webinar_input in;
    in.title = "Series";
    in.description = "weekly";
    in.sessions.push_back({0, t0, 60});
    webinar = cohort::registration::create_webinar(db, std::move(in), t0);
    key = rotate_stream_key(db, webinar);
    open_recording(db, webinar, 1, t0, "1");
    writer = std::make_unique<cohort::store::sqlite_writer>(std::move(db), cohort::store::sqlite_writer::options{});
    readers = std::make_unique<cohort::store::reader_pool>(file.path(), 1, 1000);
    ingest_context ctx;
    ctx.writes = {writer.get(), {}};
    ctx.readers = readers.get();
    ctx.recordings_dir = recordings.path;
    ingest = std::make_shared<stream_ingest>(std::move(ctx));
  }
};

media_playlist two_segments() {
  media_playlist p;
  p.target_duration = 2;
  p.map_uri = "init.mp4";
  p.segments.push_back({"seg_1.m4s", 1.5, {}, false});
  p.segments.push_back({"seg_2.m4s", 2.0, {}, false});
  return p;
}

}  // namespace

TEST_CASE_METHOD(fixture, "a recording a crash left open is closed with what its folder holds", "[stream_ingest]") {
  {
    recorder rec(recordings.path / std::to_string(webinar) / "1");
    rec.put_init("init");
    rec.put_segment("seg_1.m4s", "one");
    rec.put_segment("seg_2.m4s", "two");
    rec.on_playlist(two_segments());
  }
  ingest->close_interrupted_recordings();
  writer->stop();  // runs what was queued
  auto db = readers->acquire();
  CHECK(unclosed_recordings(*db).empty());
  const auto list = recordings_of(*db, webinar);
  REQUIRE(list.size() == 1);
  CHECK(list[0].segments == 2);
  CHECK(list[0].duration_ms == 3500);
  REQUIRE(list[0].ended_at);
  CHECK(*list[0].ended_at >= t0);
}

TEST_CASE_METHOD(fixture, "a publish is let in by its series' stream key only", "[stream_ingest]") {
  CHECK(ingest->authorize_publish(key) == webinar);
  CHECK(ingest->authorize_publish(key + "?obs=1") == webinar);  // OBS may append a query
  CHECK_FALSE(ingest->authorize_publish("live_0123456789abcdef0123456789abcdef"));
  CHECK_FALSE(ingest->authorize_publish(""));
}

TEST_CASE_METHOD(fixture, "with nothing live, the state frames say the last stream is not live", "[stream_ingest]") {
  CHECK_FALSE(ingest->feed_of(webinar));
  const auto status = ingest->status_of(webinar);
  CHECK_FALSE(status.live);
  CHECK_FALSE(status.started_at);  // nothing has ended on this process
  const auto frames = ingest->stream_state_frames();
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].first == webinar);
  const auto frame = json::parse(frames[0].second).as_object();
  CHECK(frame.at("type") == "x.stream");
  CHECK(frame.at("status").at("live") == false);
  CHECK(frame.at("status").at("started_at") == cohort::common::format_rfc3339(t0).c_str());
  CHECK(frame.at("status").at("session") == 1);
}
