#include "streaming/hls_playlist.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

namespace cohort::streaming {
namespace {

bool starts_with_tag(std::string_view line, std::string_view tag, std::string_view& value) {
  if (!line.starts_with(tag)) return false;
  value = line.substr(tag.size());
  return true;
}

template <typename T>
bool parse_number(std::string_view s, T& out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size() && !s.empty();
}

// A duration in seconds: from_chars also takes "nan", "inf" and 1e300, which would reach
// int casts and lround (UB, or a garbage target duration). A segment is seconds long.
bool parse_seconds(std::string_view s, double& out) {
  constexpr double max_seconds = 86400;
  return parse_number(s, out) && out >= 0 && out <= max_seconds;  // false for NaN too
}

// RFC 8216 decimal-integer: no sign. A negative sequence number would not survive rendering.
bool parse_sequence(std::string_view s, std::int64_t& out) { return parse_number(s, out) && out >= 0; }

// A segment or init segment URI as ffmpeg writes it: a file name beside the playlist. The origin
// and the recorder key files by it, so no path ("/", "\\", "..") and nothing rendering would
// escape ('"', control characters).
bool plain_file_name(std::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  return std::none_of(s.begin(), s.end(), [](unsigned char c) { return c == '/' || c == '\\' || c == '"' || c < 0x20 || c == 0x7F; });
}

// An attribute list (RFC 8216 4.2): NAME=value,NAME="quoted, with commas". Returns the value of
// `name`, unquoted, or nullopt.
std::optional<std::string> attribute(std::string_view list, std::string_view name) {
  while (!list.empty()) {
    const auto eq = list.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const auto key = list.substr(0, eq);
    list.remove_prefix(eq + 1);
    std::string_view value;
    if (list.starts_with('"')) {
      const auto close = list.find('"', 1);
      if (close == std::string_view::npos) return std::nullopt;
      value = list.substr(1, close - 1);
      list.remove_prefix(close + 1);
    } else {
      value = list.substr(0, list.find(','));
      list.remove_prefix(value.size());
    }
    if (key == name) return std::string(value);
    if (list.starts_with(',')) list.remove_prefix(1);
  }
  return std::nullopt;
}

// Calls `f` with every line, CR and surrounding blanks removed; false when the first non-empty
// line is not #EXTM3U (a BOM before it is allowed).
template <typename F>
bool for_each_line(std::string_view text, F&& f) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  bool header = false;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty()) continue;
    if (!header) {
      if (line != "#EXTM3U") return false;
      header = true;
      continue;
    }
    if (!f(line)) return false;
  }
  return header;
}

// What a rewritten URI may not carry into a line or a quoted attribute.
std::string safe_uri(std::string uri) {
  std::string out;
  for (char c : uri) {
    if (c == '"') out += "%22";
    else if (c == '\r') out += "%0D";
    else if (c == '\n') out += "%0A";
    else out += c;
  }
  return out;
}

std::string rewritten(const uri_rewrite& rewrite, std::string_view uri) {
  return safe_uri(rewrite ? rewrite(uri) : std::string(uri));
}

std::string fixed3(double v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 3);
  return ec == std::errc{} ? std::string(buf, end) : "0.000";
}

double rendered(double duration) { return std::round(duration * 1000) / 1000; }

std::string render(const media_playlist& p, const uri_rewrite& rewrite, bool vod) {
  std::string out = "#EXTM3U\n";
  // fMP4 (EXT-X-MAP without I-frames-only) needs 6, ffmpeg says 7; float EXTINF needs 3.
  out += "#EXT-X-VERSION:" + std::to_string(p.map_uri ? 7 : 3) + "\n";
  out += "#EXT-X-TARGETDURATION:" + std::to_string(target_duration_for(p.segments, p.target_duration)) + "\n";
  out += "#EXT-X-MEDIA-SEQUENCE:" + std::to_string(vod ? 0 : p.media_sequence) + "\n";
  if (!vod && p.discontinuity_sequence > 0)
    out += "#EXT-X-DISCONTINUITY-SEQUENCE:" + std::to_string(p.discontinuity_sequence) + "\n";
  if (vod) out += "#EXT-X-PLAYLIST-TYPE:VOD\n";
  if (p.independent_segments) out += "#EXT-X-INDEPENDENT-SEGMENTS\n";
  if (p.map_uri) out += "#EXT-X-MAP:URI=\"" + rewritten(rewrite, *p.map_uri) + "\"\n";
  for (const auto& s : p.segments) {
    if (s.discontinuity) out += "#EXT-X-DISCONTINUITY\n";
    out += "#EXTINF:" + fixed3(s.duration) + "," + s.title + "\n";
    out += rewritten(rewrite, s.uri) + "\n";
  }
  if (vod || p.ended) out += "#EXT-X-ENDLIST\n";
  return out;
}

}  // namespace

std::optional<media_playlist> parse_media_playlist(std::string_view text) {
  media_playlist p;
  p.version = 1;
  std::optional<segment_entry> pending;  // an EXTINF waiting for its URI
  bool discontinuity = false;            // may come before the EXTINF, or before the header tags
  const bool ok = for_each_line(text, [&](std::string_view line) {
    std::string_view v;
    if (line.front() != '#') {
      if (!pending || !plain_file_name(line)) return false;
      pending->uri = std::string(line);
      pending->discontinuity = std::exchange(discontinuity, false);
      p.segments.push_back(std::move(*pending));
      pending.reset();
      return true;
    }
    if (starts_with_tag(line, "#EXTINF:", v)) {
      if (pending) return false;
      const auto comma = v.find(',');
      segment_entry s;
      if (!parse_seconds(v.substr(0, comma), s.duration)) return false;
      if (comma != std::string_view::npos) s.title = std::string(v.substr(comma + 1));
      pending = std::move(s);
      return true;
    }
    if (starts_with_tag(line, "#EXT-X-VERSION:", v)) return parse_number(v, p.version);
    if (starts_with_tag(line, "#EXT-X-MEDIA-SEQUENCE:", v)) return parse_sequence(v, p.media_sequence);
    if (starts_with_tag(line, "#EXT-X-DISCONTINUITY-SEQUENCE:", v)) return parse_sequence(v, p.discontinuity_sequence);
    if (starts_with_tag(line, "#EXT-X-TARGETDURATION:", v)) {
      double d = 0;  // some writers put a decimal here
      if (!parse_seconds(v, d)) return false;
      p.target_duration = static_cast<int>(std::ceil(d));
      return true;
    }
    if (starts_with_tag(line, "#EXT-X-MAP:", v)) {
      // One init segment per playlist (what ffmpeg writes): the first one counts.
      if (!p.map_uri) p.map_uri = attribute(v, "URI");
      return p.map_uri.has_value() && plain_file_name(*p.map_uri) && !attribute(v, "BYTERANGE");
    }
    if (line == "#EXT-X-DISCONTINUITY") discontinuity = true;
    else if (line == "#EXT-X-ENDLIST") p.ended = true;
    else if (line == "#EXT-X-INDEPENDENT-SEGMENTS") p.independent_segments = true;
    else if (line.starts_with("#EXT-X-BYTERANGE") || line.starts_with("#EXT-X-STREAM-INF")) return false;
    return true;  // other tags and comments
  });
  if (!ok || pending) return std::nullopt;
  return p;
}

std::optional<std::vector<rendition_info>> parse_master_playlist(std::string_view text) {
  std::vector<rendition_info> out;
  std::optional<rendition_info> pending;
  const bool ok = for_each_line(text, [&](std::string_view line) {
    std::string_view v;
    if (line.front() != '#') {
      if (!pending) return false;
      pending->uri = std::string(line);
      out.push_back(std::move(*pending));
      pending.reset();
      return true;
    }
    if (!starts_with_tag(line, "#EXT-X-STREAM-INF:", v)) return !line.starts_with("#EXTINF:");
    rendition_info r;
    const auto bandwidth = attribute(v, "BANDWIDTH");
    if (pending || !bandwidth || !parse_number(std::string_view(*bandwidth), r.bandwidth)) return false;
    if (const auto res = attribute(v, "RESOLUTION")) {
      const std::string_view s(*res);
      const auto x = s.find('x');
      if (x == std::string_view::npos || !parse_number(s.substr(0, x), r.width) || !parse_number(s.substr(x + 1), r.height))
        return false;
    }
    r.codecs = attribute(v, "CODECS").value_or("");
    pending = std::move(r);
    return true;
  });
  if (!ok || pending || out.empty()) return std::nullopt;
  return out;
}

int target_duration_for(const std::vector<segment_entry>& segments, int declared) {
  long target = std::max(declared, 1);
  for (const auto& s : segments) target = std::max(target, std::lround(rendered(s.duration)));
  return static_cast<int>(target);
}

std::string render_live(const media_playlist& p, const uri_rewrite& rewrite) { return render(p, rewrite, false); }

std::string render_vod(const media_playlist& p, const uri_rewrite& rewrite) { return render(p, rewrite, true); }

std::string render_master(const std::vector<rendition_info>& renditions, const uri_rewrite& rewrite) {
  std::string out = "#EXTM3U\n";
  for (const auto& r : renditions) {
    out += "#EXT-X-STREAM-INF:BANDWIDTH=" + std::to_string(r.bandwidth);
    if (r.width > 0 && r.height > 0) out += ",RESOLUTION=" + std::to_string(r.width) + "x" + std::to_string(r.height);
    if (!r.codecs.empty()) out += ",CODECS=\"" + safe_uri(r.codecs) + "\"";
    out += "\n" + rewritten(rewrite, r.uri) + "\n";
  }
  return out;
}

}  // namespace cohort::streaming
