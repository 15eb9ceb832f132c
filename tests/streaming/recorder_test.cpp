#include "streaming/recorder.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace cohort::streaming;
namespace fs = std::filesystem;

namespace {

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "cohort-recorder-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

media_playlist source(int first, int last) {
  media_playlist p;
  p.target_duration = 2;
  p.map_uri = "init.mp4";
  for (int i = first; i <= last; ++i) p.segments.push_back({"seg_" + std::to_string(i) + ".m4s", 1.5, {}, false});
  return p;
}

}  // namespace

TEST_CASE("summarize_recording: what a crash left on disk, as the VOD playlist lists it") {
  temp_dir d;
  {
    recorder rec(d.path);
    rec.put_init("init");
    for (int i = 1; i <= 3; ++i) rec.put_segment("seg_" + std::to_string(i) + ".m4s", "bytes");
    rec.on_playlist(source(1, 3));
    rec.put_segment("seg_4.m4s", "not yet listed");  // the crash came before its playlist
  }
  auto s = summarize_recording(d.path);
  CHECK(s.segments == 3);
  CHECK(s.duration_ms == 4500);
  REQUIRE(s.last_write);
  CHECK(*s.last_write > 1'600'000'000);

  fs::remove(d.path / "seg_000002.m4s");  // listed but lost: not counted
  s = summarize_recording(d.path);
  CHECK(s.segments == 2);
  CHECK(s.duration_ms == 3000);
}

TEST_CASE("summarize_recording: an empty or missing folder has nothing") {
  temp_dir d;
  const auto s = summarize_recording(d.path / "nothing");
  CHECK(s.segments == 0);
  CHECK(s.duration_ms == 0);
  CHECK_FALSE(s.last_write);
}
