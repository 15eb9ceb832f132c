// The HLS playlist parser of the ingest side (streaming/hls_playlist): the media playlist ffmpeg
// PUTs after every segment (and that the recorder and the replay API read back), and the master
// playlist. Input: the playlist text (seeds: playlists ffmpeg's hls muxer wrote).
// Invariants of an accepted media playlist, beyond no crash / no sanitizer report:
//  - every EXTINF duration and the target duration are finite, >= 0 and at most a day;
//  - media and discontinuity sequence numbers are >= 0;
//  - segment and init (EXT-X-MAP) names are plain file names: not empty, no '/', '\', no "." or
//    "..", no '"' or control characters (the origin and the recorder key files by them);
//  - it round-trips: render_live and render_vod parse back to the same segments (names, titles,
//    discontinuities; durations within the 3 decimals rendered), sequence numbers, init segment,
//    ENDLIST and INDEPENDENT-SEGMENTS, with a target duration >= every rounded EXTINF.
// An accepted master playlist re-renders and parses back to the same variants.
// fuzz-libs: cohort_streaming
#include "streaming/hls_playlist.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace cohort::streaming;

namespace {

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "fuzz_hls_playlist: invariant violated: %s\n", what);
  std::abort();
}

bool plain_file_name(std::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  for (unsigned char c : s)
    if (c == '/' || c == '\\' || c == '"' || c < 0x20 || c == 0x7F) return false;
  return true;
}

// What render_master does to a URI so it cannot break out of its line.
std::string escaped(std::string_view uri) {
  std::string out;
  for (char c : uri) {
    if (c == '"') out += "%22";
    else if (c == '\r') out += "%0D";
    else if (c == '\n') out += "%0A";
    else out += c;
  }
  return out;
}

void check_round_trip(const media_playlist& p, const std::string& text, bool vod) {
  const auto back = parse_media_playlist(text);
  if (!back) violated("a rendered playlist does not parse");
  if (back->segments.size() != p.segments.size()) violated("round trip changed the segment count");
  for (std::size_t i = 0; i < p.segments.size(); ++i) {
    const auto& a = p.segments[i];
    const auto& b = back->segments[i];
    if (a.uri != b.uri || a.title != b.title || a.discontinuity != b.discontinuity) violated("round trip changed a segment");
    if (!(std::fabs(a.duration - b.duration) <= 0.000501)) violated("round trip changed a duration");
    if (std::lround(b.duration) > back->target_duration) violated("an EXTINF over the target duration");
  }
  if (back->target_duration < p.target_duration) violated("round trip lowered the target duration");
  if (back->map_uri != p.map_uri || back->independent_segments != p.independent_segments)
    violated("round trip changed the init segment or INDEPENDENT-SEGMENTS");
  if (vod) {
    if (!back->ended || back->media_sequence != 0 || back->discontinuity_sequence != 0) violated("a VOD playlist that is not one");
  } else if (back->ended != p.ended || back->media_sequence != p.media_sequence ||
             back->discontinuity_sequence != p.discontinuity_sequence) {
    violated("round trip changed the sequence numbers or ENDLIST");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (const auto p = parse_media_playlist(text)) {
    if (p->target_duration < 0 || p->target_duration > 86400)
      violated("target duration out of range");
    if (p->media_sequence < 0 || p->discontinuity_sequence < 0) violated("a negative sequence number");
    if (p->map_uri && !plain_file_name(*p->map_uri)) violated("an init segment name that is not a plain file name");
    for (const auto& s : p->segments) {
      if (!std::isfinite(s.duration) || s.duration < 0 || s.duration > 86400) violated("a duration out of range");
      if (!plain_file_name(s.uri)) violated("a segment name that is not a plain file name");
    }
    check_round_trip(*p, render_live(*p), false);
    check_round_trip(*p, render_vod(*p), true);
  }

  if (const auto variants = parse_master_playlist(text)) {
    if (variants->empty()) violated("an accepted master playlist without variants");
    const auto back = parse_master_playlist(render_master(*variants));
    if (!back || back->size() != variants->size()) violated("a master playlist does not round-trip");
    for (std::size_t i = 0; i < back->size(); ++i) {
      const auto& a = (*variants)[i];
      const auto& b = (*back)[i];
      // Rendering leaves out what is unknown (0 or empty) and escapes a '"' in CODECS.
      const bool resolution = a.width > 0 && a.height > 0;
      if (escaped(a.uri) != b.uri || a.bandwidth != b.bandwidth || (resolution && (a.width != b.width || a.height != b.height)))
        violated("a master playlist variant changed");
    }
  }
  return 0;
}
