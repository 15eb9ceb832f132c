#include "streaming/recorder.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace cohort::streaming {
namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& path, const std::string& bytes) {
  // Write beside, then rename: a reader (or a crash) never sees half a file.
  const auto tmp = path.string() + ".tmp";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  // close() flushes: a full disk shows here for a small file, which must not replace a good one.
  out.close();
  if (!out) {
    const std::string why = std::strerror(errno);
    std::error_code ec;
    fs::remove(tmp, ec);
    throw std::runtime_error("cannot write " + path.string() + ": " + why);
  }
  fs::rename(tmp, path);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

recorder::recorder(fs::path dir) : dir_(std::move(dir)) {
  fs::create_directories(dir_);
  vod_.map_uri = "init.mp4";
  vod_.independent_segments = true;
  if (auto existing = parse_media_playlist(read_file(dir_ / "index.m3u8"))) {
    vod_.segments = std::move(existing->segments);
    next_index_ = static_cast<int>(vod_.segments.size()) + 1;
    resumed_ = !vod_.segments.empty();
  }
}

void recorder::put_init(const std::string& bytes) { write_file(dir_ / "init.mp4", bytes); }

void recorder::put_segment(const std::string& source_name, const std::string& bytes) {
  char name[32];
  std::snprintf(name, sizeof name, "seg_%06d.m4s", next_index_++);
  write_file(dir_ / name, bytes);
  written_.insert(source_name + "\n" + name);  // remembered with its name on disk
}

void recorder::on_playlist(const media_playlist& source) {
  bool added = false;
  for (const auto& s : source.segments) {
    if (listed_.count(s.uri)) continue;
    const auto it = written_.lower_bound(s.uri + "\n");
    if (it == written_.end() || it->compare(0, s.uri.size() + 1, s.uri + "\n") != 0) continue;
    segment_entry e{it->substr(s.uri.size() + 1), s.duration, {}, resumed_ || s.discontinuity};
    resumed_ = false;
    vod_.segments.push_back(std::move(e));
    listed_.insert(s.uri);
    written_.erase(it);
    added = true;
  }
  if (added) write_playlist();
}

std::int64_t recorder::duration_ms() const {
  double total = 0;
  for (const auto& s : vod_.segments) total += s.duration;
  return static_cast<std::int64_t>(std::llround(total * 1000));
}

void recorder::write_playlist() const { write_file(dir_ / "index.m3u8", render_vod(vod_)); }

recording_summary summarize_recording(const fs::path& dir) {
  recording_summary out;
  const auto p = parse_media_playlist(read_file(dir / "index.m3u8"));
  if (!p) return out;
  double total = 0;
  for (const auto& seg : p->segments) {
    struct stat st {};
    if (::stat((dir / seg.uri).c_str(), &st) != 0) continue;  // listed, but lost
    ++out.segments;
    total += seg.duration;
    out.last_write = std::max<std::int64_t>(out.last_write.value_or(0), st.st_mtim.tv_sec);
  }
  out.duration_ms = static_cast<std::int64_t>(std::llround(total * 1000));
  return out;
}

}  // namespace cohort::streaming
