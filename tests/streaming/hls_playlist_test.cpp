#include "streaming/hls_playlist.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace cohort::streaming;

namespace {

// Playlists ffmpeg 5.1 wrote (-f hls -method PUT -hls_segment_type fmp4 -hls_time 1 ...), captured
// by an HTTP server: see tests/streaming/fixtures.
std::string fixture(const std::string& name) {
  const char* dir = std::getenv("COHORT_SOURCE_DIR");
  INFO("set COHORT_SOURCE_DIR to the repository root (ctest does)");
  REQUIRE(dir != nullptr);
  std::ifstream in(std::filesystem::path(dir) / "tests/streaming/fixtures" / name, std::ios::binary);
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

media_playlist three_segments() {
  media_playlist p;
  p.target_duration = 1;
  p.media_sequence = 40;
  p.map_uri = "init.mp4";
  p.independent_segments = true;
  p.segments = {{"seg_00040.m4s", 1.0, "", false}, {"seg_00041.m4s", 1.333333, "", true}, {"seg_00042.m4s", 0.5, "", false}};
  return p;
}

}  // namespace

TEST_CASE("an ffmpeg fMP4 live playlist parses", "[streaming][hls]") {
  const auto p = parse_media_playlist(fixture("ffmpeg_live.m3u8"));
  REQUIRE(p);
  CHECK(p->version == 7);
  CHECK(p->target_duration == 1);
  CHECK(p->media_sequence == 1);
  CHECK(p->discontinuity_sequence == 0);
  CHECK(p->map_uri == std::optional<std::string>("init.mp4"));
  CHECK(p->independent_segments);
  CHECK_FALSE(p->ended);
  REQUIRE(p->segments.size() == 6);
  for (std::size_t i = 0; i < 6; ++i) {
    CHECK(p->segments[i].uri == "seg_0000" + std::to_string(i + 1) + ".m4s");
    CHECK(p->segments[i].duration == Approx(1.0));
    CHECK(p->segments[i].title.empty());
    CHECK_FALSE(p->segments[i].discontinuity);
  }
}

TEST_CASE("an ffmpeg VOD playlist parses as ended", "[streaming][hls]") {
  const auto p = parse_media_playlist(fixture("ffmpeg_vod.m3u8"));
  REQUIRE(p);
  CHECK(p->ended);
  CHECK(p->media_sequence == 0);
  CHECK(p->map_uri == std::optional<std::string>("init.mp4"));
  REQUIRE(p->segments.size() == 6);
  CHECK(p->segments.front().uri == "index0.m4s");
  CHECK(p->segments.back().uri == "index5.m4s");
}

TEST_CASE("ffmpeg discont_start puts the discontinuity before the header tags", "[streaming][hls]") {
  // ffmpeg writes #EXT-X-DISCONTINUITY before INDEPENDENT-SEGMENTS and MAP: it belongs to the
  // first segment. Its 1.333333 s segments come with TARGETDURATION 1, which RFC 8216 allows.
  const auto p = parse_media_playlist(fixture("ffmpeg_live_discont_start.m3u8"));
  REQUIRE(p);
  REQUIRE(p->segments.size() == 4);
  CHECK(p->segments[0].discontinuity);
  CHECK_FALSE(p->segments[1].discontinuity);
  CHECK(p->segments[0].duration == Approx(1.333333));
  CHECK(p->target_duration == 1);
  CHECK(target_duration_for(p->segments) == 1);
  const auto out = render_live(*p);
  CHECK(out.find("#EXT-X-TARGETDURATION:1\n") != std::string::npos);
  CHECK(out.find("#EXT-X-DISCONTINUITY\n#EXTINF:1.333,\nseg_00000.m4s\n") != std::string::npos);
}

TEST_CASE("CRLF, a BOM, blank lines, comments and unknown tags are tolerated", "[streaming][hls]") {
  const std::string text =
      "\xEF\xBB\xBF#EXTM3U\r\n#EXT-X-VERSION:7\r\n#EXT-X-TARGETDURATION:2\r\n\r\n#EXT-X-MEDIA-SEQUENCE:9\r\n"
      "# a comment\r\n#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00Z\r\n#EXT-X-FUTURE-TAG:X=1\r\n"
      "#EXT-X-MAP:URI=\"init.mp4\"\r\n#EXTINF:1.5,\r\nseg_9.m4s\r\n#EXT-X-DISCONTINUITY\r\n"
      "#EXTINF:2,title here\r\nseg_10.m4s  \r\n";
  const auto p = parse_media_playlist(text);
  REQUIRE(p);
  CHECK(p->media_sequence == 9);
  CHECK(p->target_duration == 2);
  CHECK(p->map_uri == std::optional<std::string>("init.mp4"));
  REQUIRE(p->segments.size() == 2);
  CHECK(p->segments[0].uri == "seg_9.m4s");
  CHECK(p->segments[0].duration == Approx(1.5));
  CHECK(p->segments[1].uri == "seg_10.m4s");
  CHECK(p->segments[1].title == "title here");
  CHECK(p->segments[1].discontinuity);
}

TEST_CASE("garbage and non-media playlists are rejected", "[streaming][hls]") {
  CHECK_FALSE(parse_media_playlist(""));
  CHECK_FALSE(parse_media_playlist("hello\nworld\n"));
  CHECK_FALSE(parse_media_playlist("#EXTINF:1,\nseg.m4s\n"));                  // no #EXTM3U
  CHECK_FALSE(parse_media_playlist("#EXTM3U\n#EXTINF:1,\n"));                  // EXTINF without URI at the end
  CHECK_FALSE(parse_media_playlist("#EXTM3U\n#EXTINF:1,\n#EXTINF:1,\na.m4s\n"));  // ... or before another
  CHECK_FALSE(parse_media_playlist("#EXTM3U\nseg.m4s\n"));                     // URI without EXTINF
  CHECK_FALSE(parse_media_playlist("#EXTM3U\n#EXTINF:abc,\nseg.m4s\n"));
  CHECK_FALSE(parse_media_playlist("#EXTM3U\n#EXTINF:-1,\nseg.m4s\n"));
  CHECK_FALSE(parse_media_playlist("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:x\n"));
  CHECK_FALSE(parse_media_playlist("#EXTM3U\n#EXT-X-MAP:BYTERANGE=\"10@0\"\n"));  // map without URI
  CHECK_FALSE(parse_media_playlist("#EXTM3U\n#EXTINF:1,\n#EXT-X-BYTERANGE:100@0\nall.mp4\n"));
  CHECK_FALSE(parse_media_playlist(fixture("ffmpeg_master.m3u8")));
  CHECK_FALSE(parse_master_playlist(fixture("ffmpeg_live.m3u8")));
  // Found by tests/fuzz/fuzz_hls_playlist: from_chars reads "nan", "inf" and 1e300, which reached
  // an int cast (UB) and lround; negative sequence numbers did not survive rendering.
  for (const char* d : {"nan", "inf", "-inf", "infinity", "1e300", "86400.5"}) {
    INFO(d);
    CHECK_FALSE(parse_media_playlist(std::string("#EXTM3U\n#EXTINF:") + d + ",\nseg.m4s\n"));
    CHECK_FALSE(parse_media_playlist(std::string("#EXTM3U\n#EXT-X-TARGETDURATION:") + d + "\n"));
  }
  CHECK_FALSE(parse_media_playlist("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:-1\n"));
  CHECK_FALSE(parse_media_playlist("#EXTM3U\n#EXT-X-DISCONTINUITY-SEQUENCE:-1\n"));
  // Segment and init names are file names beside the playlist, never paths.
  for (const char* uri : {"../seg.m4s", "/etc/passwd", "a/b.m4s", "..", ".", "a\\b.m4s", "a\"b.m4s", "a\x01b"}) {
    INFO(uri);
    CHECK_FALSE(parse_media_playlist(std::string("#EXTM3U\n#EXTINF:1,\n") + uri + "\n"));
    if (std::string_view(uri).find('"') == std::string_view::npos)  // (in quotes it would end the value)
      CHECK_FALSE(parse_media_playlist(std::string("#EXTM3U\n#EXT-X-MAP:URI=\"") + uri + "\"\n"));
  }
  CHECK(parse_media_playlist("#EXTM3U\n#EXT-X-TARGETDURATION:86400\n#EXTINF:0,\n..seg.m4s\n"));
  // No segments yet is a valid (empty) media playlist.
  const auto empty = parse_media_playlist("#EXTM3U\n#EXT-X-TARGETDURATION:1\n");
  REQUIRE(empty);
  CHECK(empty->segments.empty());
}

TEST_CASE("target duration follows the RFC 8216 rounding rule", "[streaming][hls]") {
  const auto target = [](double d) { return target_duration_for({{"a", d, "", false}}); };
  CHECK(target(1.4) == 1);
  CHECK(target(1.5) == 2);
  CHECK(target(0.98) == 1);
  CHECK(target(1.001) == 1);
  CHECK(target(1.4996) == 2);  // rendered as 1.500, which a player rounds to 2
  CHECK(target(0.2) == 1);     // never 0
  CHECK(target_duration_for({}) == 1);
  CHECK(target_duration_for({{"a", 1.0, "", false}, {"b", 2.6, "", false}}) == 3);
  CHECK(target_duration_for({{"a", 1.0, "", false}}, 4) == 4);  // a declared larger value stays

  media_playlist p = three_segments();
  p.segments[1].duration = 1.5;
  CHECK(lines(render_live(p))[2] == "#EXT-X-TARGETDURATION:2");
  p.segments[1].duration = 1.4;
  CHECK(lines(render_live(p))[2] == "#EXT-X-TARGETDURATION:1");
}

TEST_CASE("render_live writes the sliding window with every URI rewritten", "[streaming][hls]") {
  std::vector<std::string> seen;
  const uri_rewrite rewrite = [&](std::string_view uri) {
    seen.emplace_back(uri);
    return "/live/s1/" + std::string(uri) + "?token=abc";
  };
  CHECK(render_live(three_segments(), rewrite) ==
        "#EXTM3U\n"
        "#EXT-X-VERSION:7\n"
        "#EXT-X-TARGETDURATION:1\n"
        "#EXT-X-MEDIA-SEQUENCE:40\n"
        "#EXT-X-INDEPENDENT-SEGMENTS\n"
        "#EXT-X-MAP:URI=\"/live/s1/init.mp4?token=abc\"\n"
        "#EXTINF:1.000,\n"
        "/live/s1/seg_00040.m4s?token=abc\n"
        "#EXT-X-DISCONTINUITY\n"
        "#EXTINF:1.333,\n"
        "/live/s1/seg_00041.m4s?token=abc\n"
        "#EXTINF:0.500,\n"
        "/live/s1/seg_00042.m4s?token=abc\n");
  CHECK(seen == std::vector<std::string>{"init.mp4", "seg_00040.m4s", "seg_00041.m4s", "seg_00042.m4s"});
}

TEST_CASE("render_live adds the discontinuity sequence and ENDLIST when they apply", "[streaming][hls]") {
  auto p = three_segments();
  p.discontinuity_sequence = 3;
  p.ended = true;
  p.map_uri.reset();
  p.independent_segments = false;
  const auto out = lines(render_live(p));
  CHECK(out[1] == "#EXT-X-VERSION:3");  // no EXT-X-MAP: float EXTINF needs only 3
  CHECK(out[4] == "#EXT-X-DISCONTINUITY-SEQUENCE:3");
  CHECK(out.back() == "#EXT-X-ENDLIST");
  CHECK(std::count(out.begin(), out.end(), "#EXT-X-INDEPENDENT-SEGMENTS") == 0);
  CHECK(std::count(out.begin(), out.end(), "#EXT-X-PLAYLIST-TYPE:VOD") == 0);
}

TEST_CASE("a rewritten URI cannot break out of its line or quotes", "[streaming][hls]") {
  const auto out = render_live(three_segments(), [](std::string_view uri) { return std::string(uri) + "?a=\"x\"\nEVIL"; });
  CHECK(out.find("\nEVIL") == std::string::npos);  // no line of its own
  CHECK(out.find("#EXT-X-MAP:URI=\"init.mp4?a=%22x%22%0AEVIL\"\n") != std::string::npos);
}

TEST_CASE("render_vod lists everything from sequence 0 and ends", "[streaming][hls]") {
  auto p = three_segments();
  p.discontinuity_sequence = 2;
  const auto out = render_vod(p, [](std::string_view uri) { return "r/" + std::string(uri); });
  const auto l = lines(out);
  CHECK(l[3] == "#EXT-X-MEDIA-SEQUENCE:0");
  CHECK(l[4] == "#EXT-X-PLAYLIST-TYPE:VOD");
  CHECK(l.back() == "#EXT-X-ENDLIST");
  CHECK(out.find("DISCONTINUITY-SEQUENCE") == std::string::npos);
  CHECK(out.find("\nr/seg_00042.m4s\n") != std::string::npos);
  CHECK(out.find("#EXT-X-MAP:URI=\"r/init.mp4\"\n") != std::string::npos);
  // Parsed back (without the rewrite: a source playlist names plain files).
  const auto back = parse_media_playlist(render_vod(p));
  REQUIRE(back);
  CHECK(back->ended);
  CHECK(back->media_sequence == 0);
  REQUIRE(back->segments.size() == 3);
  CHECK(back->segments[2].uri == "seg_00042.m4s");
  CHECK(back->map_uri == std::optional<std::string>("init.mp4"));
}

TEST_CASE("render then parse gives the same playlist back", "[streaming][hls]") {
  for (const auto& name : {"ffmpeg_live.m3u8", "ffmpeg_live_discont_start.m3u8", "ffmpeg_vod.m3u8"}) {
    INFO(name);
    auto p = parse_media_playlist(fixture(name));
    REQUIRE(p);
    p->discontinuity_sequence = 5;
    const auto back = parse_media_playlist(render_live(*p));
    REQUIRE(back);
    CHECK(back->version == 7);
    CHECK(back->media_sequence == p->media_sequence);
    CHECK(back->discontinuity_sequence == 5);
    CHECK(back->map_uri == p->map_uri);
    CHECK(back->ended == p->ended);
    CHECK(back->independent_segments == p->independent_segments);
    REQUIRE(back->segments.size() == p->segments.size());
    for (std::size_t i = 0; i < p->segments.size(); ++i) {
      CHECK(back->segments[i].uri == p->segments[i].uri);
      CHECK(back->segments[i].duration == Approx(p->segments[i].duration).margin(0.0005));
      CHECK(back->segments[i].discontinuity == p->segments[i].discontinuity);
      CHECK(back->segments[i].title == p->segments[i].title);
    }
  }
}

TEST_CASE("ffmpeg's master playlist parses and renders with rewritten URIs", "[streaming][hls]") {
  const auto renditions = parse_master_playlist(fixture("ffmpeg_master.m3u8"));
  REQUIRE(renditions);
  REQUIRE(renditions->size() == 2);
  CHECK((*renditions)[0].uri == "stream_0.m3u8");
  CHECK((*renditions)[0].bandwidth == 950400);
  CHECK((*renditions)[0].width == 640);
  CHECK((*renditions)[0].height == 360);
  CHECK((*renditions)[0].codecs == "avc1.640016,mp4a.40.2");  // the comma is inside the quotes
  CHECK((*renditions)[1].uri == "stream_1.m3u8");
  CHECK((*renditions)[1].bandwidth == 400400);

  const auto out = render_master(*renditions, [](std::string_view uri) { return std::string(uri) + "?token=t"; });
  CHECK(out ==
        "#EXTM3U\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=950400,RESOLUTION=640x360,CODECS=\"avc1.640016,mp4a.40.2\"\n"
        "stream_0.m3u8?token=t\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=400400,RESOLUTION=320x180,CODECS=\"avc1.64000d,mp4a.40.2\"\n"
        "stream_1.m3u8?token=t\n");
  // Unknown resolution and codecs are left out, not written as 0x0 or "".
  CHECK(render_master({{"audio.m3u8", 64000, 0, 0, ""}}) == "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=64000\naudio.m3u8\n");
}
