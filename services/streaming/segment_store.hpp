// One live stream's HLS in memory: per rendition the init segment, the newest media segments and
// the latest playlist ffmpeg PUT. Every file is stored once as an immutable shared buffer, with
// its response headers (type, immutable caching, ETag) built at the same moment, both as a list
// and as the header lines ready to send, and a copy of the bytes in a sealed memfd that answers
// send with sendfile; so serving hands out pointers and never copies bytes or formats a header
// (the memfd doubles the memory a segment holds, a few MB per stream); eviction only drops the
// store's references. Files are keyed by (rendition, name) because ffmpeg's "%v/seg_%05d.m4s" layout
// repeats names across renditions.
// Thread-safe: one mutex, held only for map updates (buffers are built and freed outside it).
#pragma once

#include "gateway/http_types.hpp"
#include "streaming/hls_playlist.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cohort::streaming {

class segment_store {
 public:
  using buffer = std::shared_ptr<const std::string>;
  using header_list = std::vector<std::pair<std::string, std::string>>;

  // A file as served: its bytes and the headers every answer with it carries. All immutable.
  struct served_file {
    buffer bytes;
    std::shared_ptr<const header_list> headers;  // Content-Type, Cache-Control, ETag
    // The same headers plus Content-Length as "Name: value\r\n" lines, for a 200 answer
    // (http::response::prebuilt_headers).
    buffer header_lines;
    // The bytes again in a sealed memfd, for sendfile (http::response::body_fd); null when one
    // could not be made (out of descriptors): the answer is then written from `bytes`.
    std::shared_ptr<const http::owned_fd> file;
    const std::string& etag() const;             // the ETag value, quotes included
    explicit operator bool() const { return bytes != nullptr; }
  };
  // The headers for `bytes`; the ETag is a hash of the content, so a file stored again with the
  // same bytes keeps its ETag.
  static std::shared_ptr<const header_list> headers_for(std::string_view bytes);
  // `headers` and a Content-Length of `size` as header lines.
  static buffer header_lines_for(const header_list& headers, std::size_t size);

  // Keeps at most `max_segments` newest media segments per rendition even if ffmpeg's DELETEs
  // never come, and at most `max_bytes` in all (oldest segment first, across renditions). Init
  // segments count toward the bytes but are never evicted: every segment needs its init.
  segment_store(std::size_t max_segments, std::size_t max_bytes);

  // Stores (or replaces) a media segment, then evicts down to the limits. Returns the buffer.
  buffer put_segment(std::string_view rendition, std::string name, std::string bytes);
  // Stores the rendition's init segment (EXT-X-MAP); one at a time, a new name replaces the old.
  buffer put_init(std::string_view rendition, std::string name, std::string bytes);
  // ffmpeg's DELETE; false when the file was not (or no longer) held.
  bool remove(std::string_view rendition, std::string_view name);
  // The stored bytes, or null when unknown or evicted.
  buffer get(std::string_view rendition, std::string_view name) const;
  // The stored bytes with their prebuilt headers; empty when unknown or evicted.
  served_file find(std::string_view rendition, std::string_view name) const;

  // Keeps the latest playlist ffmpeg PUT for the rendition; tracks the discontinuities that
  // slide out of its window and the largest target duration seen (RFC 8216 forbids lowering it).
  void update_playlist(std::string_view rendition, media_playlist p);
  // What to render for the rendition: the latest playlist cut to the newest run of segments the
  // store holds (a playlist may arrive before its segment, segments get evicted), with the media
  // and discontinuity sequence moved along. nullopt when nothing is playable: no playlist, its
  // init segment missing, or none of its segments held.
  std::optional<media_playlist> current(std::string_view rendition) const;

  std::vector<std::string> renditions() const;
  std::size_t total_bytes() const;

 private:
  struct file {
    buffer bytes;
    std::shared_ptr<const header_list> headers;
    buffer header_lines;
    std::shared_ptr<const http::owned_fd> memory_file;
    std::uint64_t serial = 0;  // arrival order across the store; 0 marks the init segment
  };
  struct rendition_state {
    std::map<std::string, file, std::less<>> files;
    std::map<std::uint64_t, std::string> segments_by_age;  // serial -> name, media segments only
    std::string init_name;
    std::optional<media_playlist> playlist;
    std::int64_t discontinuities_before = 0;  // that slid out of the source's window
    int target_duration = 0;                  // the largest so far
  };

  rendition_state& state(std::string_view rendition);
  void erase(rendition_state& r, std::map<std::string, file, std::less<>>::iterator it, std::vector<buffer>& freed);
  void evict(rendition_state& r, std::vector<buffer>& freed);

  const std::size_t max_segments_;
  const std::size_t max_bytes_;
  mutable std::mutex mutex_;
  std::map<std::string, rendition_state, std::less<>> renditions_;
  std::size_t total_bytes_ = 0;
  std::uint64_t next_serial_ = 1;
};

}  // namespace cohort::streaming
