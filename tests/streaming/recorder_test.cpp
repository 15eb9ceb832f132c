#include "streaming/recorder.hpp"

#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <csignal>
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

namespace {

// Writes beyond `bytes` fail (EFBIG) while it lives, as on a full disk; SIGXFSZ is ignored meanwhile.
struct file_size_limit {
  rlimit before{};
  void (*old_handler)(int);
  explicit file_size_limit(rlim_t bytes) {
    old_handler = std::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &before);
    rlimit now = before;
    now.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &now);
  }
  ~file_size_limit() {
    ::setrlimit(RLIMIT_FSIZE, &before);
    std::signal(SIGXFSZ, old_handler);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("recorder: a write that fails (disk full) throws, leaves no partial file and keeps the playlist it had") {
  temp_dir d;
  recorder rec(d.path);
  rec.put_init("init");
  for (int i = 1; i <= 3; ++i) rec.put_segment("seg_" + std::to_string(i) + ".m4s", "bytes");
  rec.on_playlist(source(1, 3));
  const auto playlist = slurp(d.path / "index.m3u8");
  REQUIRE(playlist.find("seg_000003.m4s") != std::string::npos);
  {
    file_size_limit full(64);  // smaller than the playlist and the segment below
    CHECK_THROWS_WITH(rec.put_segment("seg_4.m4s", std::string(4096, 's')), Catch::Matchers::Contains("cannot write"));
    rec.put_segment("seg_5.m4s", "tiny");  // fits: written
    CHECK_THROWS_WITH(rec.on_playlist(source(1, 5)), Catch::Matchers::Contains("index.m3u8"));
  }
  CHECK(slurp(d.path / "index.m3u8") == playlist);  // never replaced by a truncated one
  for (const auto& e : fs::directory_iterator(d.path)) {
    INFO(e.path().filename().string());
    CHECK(e.path().extension() != ".tmp");
  }
  const auto s = summarize_recording(d.path);
  CHECK(s.segments == 3);
  CHECK(s.duration_ms == 4500);
}
