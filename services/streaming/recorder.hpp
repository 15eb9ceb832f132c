// A session's recording on disk, written while it is live: data/recordings/<webinar>/<id>/ holds
// init.mp4, the segments (seg_000001.m4s, ...) and index.m3u8, a VOD playlist rewritten after
// every segment, so a crash loses at most the last segment and a replay is ready the moment the
// stream ends. A publish that resumes the same session continues the same recording after a
// discontinuity. Files are written on the calling thread (segments are ~100 KB - 1 MB).
#pragma once

#include "streaming/hls_playlist.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>

namespace cohort::streaming {

class recorder {
 public:
  // Opens (or continues) the recording in `dir`.
  explicit recorder(std::filesystem::path dir);

  void put_init(const std::string& bytes);
  void put_segment(const std::string& source_name, const std::string& bytes);
  // ffmpeg's latest playlist: segments it lists that were written here join the VOD playlist.
  void on_playlist(const media_playlist& source);

  std::int64_t duration_ms() const;
  std::int64_t segments() const { return static_cast<std::int64_t>(vod_.segments.size()); }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  void write_playlist() const;

  std::filesystem::path dir_;
  media_playlist vod_;
  std::set<std::string> written_;   // source names written to disk, not yet in the playlist
  std::set<std::string> listed_;    // source names already in the playlist
  bool resumed_ = false;            // the next listed segment follows a gap
  int next_index_ = 1;
};

// What a recording's folder holds as its VOD playlist lists it: the segments that are on disk,
// their duration, and when the last of them was written (unix seconds; nullopt with none). For
// closing a recording a crash left open.
struct recording_summary {
  std::int64_t segments = 0;
  std::int64_t duration_ms = 0;
  std::optional<std::int64_t> last_write;
};
recording_summary summarize_recording(const std::filesystem::path& dir);

}  // namespace cohort::streaming
