// HLS playlists (RFC 8216) as ffmpeg writes them and as Cohort serves them. ffmpeg PUTs its own
// media playlist after every segment; Cohort parses it for the facts (durations, sequence numbers,
// init segment, discontinuities) and renders its own, so URIs (auth parameters), caching and the
// window are Cohort's. Pure text in, text out.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cohort::streaming {

struct segment_entry {
  std::string uri;               // as the source wrote it, e.g. "seg_00001.m4s"
  double duration = 0;           // EXTINF seconds
  std::string title;             // EXTINF text after the comma, usually empty
  bool discontinuity = false;    // an EXT-X-DISCONTINUITY precedes this segment
};

struct media_playlist {
  int version = 7;
  int target_duration = 0;                   // whole seconds (RFC 8216 decimal-integer)
  std::int64_t media_sequence = 0;           // sequence number of segments.front()
  std::int64_t discontinuity_sequence = 0;   // discontinuities before segments.front()
  std::optional<std::string> map_uri;        // EXT-X-MAP (fMP4 init segment)
  std::vector<segment_entry> segments;
  bool independent_segments = false;
  bool ended = false;                        // EXT-X-ENDLIST: the source stopped
};

// One variant for the master playlist; 0 / empty means unknown and the attribute is left out.
struct rendition_info {
  std::string uri;               // its media playlist
  std::int64_t bandwidth = 0;    // peak bits/s, the one attribute RFC 8216 requires
  int width = 0;
  int height = 0;
  std::string codecs;            // RFC 6381, e.g. "avc1.64001f,mp4a.40.2"
};

// Maps a source URI to the one Cohort serves (adds the viewer's auth parameters). Empty = as is.
using uri_rewrite = std::function<std::string(std::string_view uri)>;

// nullopt when it is not a media playlist: no #EXTM3U first, an EXTINF without its URI, a URI
// without EXTINF (a master playlist), a malformed number, a duration that is not 0 to 86400 s, a
// negative sequence number, a segment or init URI that is not a plain file name (no '/', '\\',
// "..", '"', control characters), or byte ranges (we serve whole files).
// Unknown tags, comments, CRLF and a BOM are fine.
std::optional<media_playlist> parse_media_playlist(std::string_view text);

// The variants of a master playlist (ffmpeg's master_pl_name), or nullopt when it has none.
std::optional<std::vector<rendition_info>> parse_master_playlist(std::string_view text);

// RFC 8216 4.3.3.1: every EXTINF rounded to the nearest integer must be <= the target duration.
// Computed on the durations as rendered (3 decimals); at least 1 and never below `declared`.
int target_duration_for(const std::vector<segment_entry>& segments, int declared = 0);

// A live sliding window: the playlist's own media and discontinuity sequence, ENDLIST only when
// the source ended.
std::string render_live(const media_playlist& p, const uri_rewrite& rewrite = {});
// The whole recording: PLAYLIST-TYPE VOD, media sequence 0, ENDLIST.
std::string render_vod(const media_playlist& p, const uri_rewrite& rewrite = {});
// One EXT-X-STREAM-INF per rendition, in the given order (players start with the first).
std::string render_master(const std::vector<rendition_info>& renditions, const uri_rewrite& rewrite = {});

}  // namespace cohort::streaming
