#include "streaming/ffmpeg_command.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace cohort::streaming;

namespace {

// The value after `flag` (the first occurrence), or "" when the flag is absent.
std::string after(const std::vector<std::string>& args, std::string_view flag) {
  const auto it = std::find(args.begin(), args.end(), flag);
  return it == args.end() || it + 1 == args.end() ? "" : *(it + 1);
}

}  // namespace

TEST_CASE("one rendition: H.264 passes through, or is transcoded to yuv420p", "[streaming]") {
  ffmpeg_options o;
  const auto copy = ffmpeg_hls_command(o, 4000, "http://127.0.0.1:1/ingest/I/S");
  CHECK(after(copy, "-i") == "rtmp://127.0.0.1:4000/live/relay");
  CHECK(after(copy, "-c:v") == "copy");
  CHECK(after(copy, "-hls_segment_filename") == "http://127.0.0.1:1/ingest/I/S/seg_%05d.m4s");
  CHECK(copy.back() == "http://127.0.0.1:1/ingest/I/S/index.m3u8");
  CHECK(after(copy, "-var_stream_map").empty());
  o.transcode = true;
  const auto x264 = ffmpeg_hls_command(o, 4000, "b");
  CHECK(after(x264, "-c:v") == "libx264");
  CHECK(after(x264, "-pix_fmt") == "yuv420p");
}

TEST_CASE("extra_360p: the main rendition as configured plus a 640x360 yuv420p transcode", "[streaming]") {
  ffmpeg_options o;
  o.extra_360p = true;
  const auto a = ffmpeg_hls_command(o, 4000, "b");
  CHECK(after(a, "-c:v:0") == "copy");
  CHECK(after(a, "-c:v:1") == "libx264");
  CHECK(after(a, "-s:v:1") == "640x360");
  CHECK(after(a, "-pix_fmt:v:1") == "yuv420p");
  CHECK(after(a, "-b:v:1") == "800k");
  CHECK(after(a, "-var_stream_map") == "v:0,a:0,name:main v:1,a:1,name:360p");
  CHECK(after(a, "-hls_segment_filename") == "b/%v-seg_%05d.m4s");
  CHECK(a.back() == "b/%v.m3u8");
  o.transcode = true;
  const auto t = ffmpeg_hls_command(o, 4000, "b");
  CHECK(after(t, "-c:v:0") == "libx264");
  CHECK(after(t, "-pix_fmt:v:0") == "yuv420p");
}

TEST_CASE("an ingested file's rendition follows ffmpeg's names", "[streaming]") {
  ffmpeg_options one;
  CHECK(rendition_of_file(one, "seg_00001.m4s") == "");
  CHECK(rendition_of_file(one, "index.m3u8") == "");
  ffmpeg_options two;
  two.extra_360p = true;
  CHECK(rendition_of_file(two, "main.m3u8") == "main");
  CHECK(rendition_of_file(two, "360p.m3u8") == "360p");
  CHECK(rendition_of_file(two, "main-seg_00001.m4s") == "main");
  CHECK(rendition_of_file(two, "360p-seg_00001.m4s") == "360p");
  CHECK(rendition_of_file(two, "init_0.mp4") == "main");
  CHECK(rendition_of_file(two, "init_1.mp4") == "360p");
  CHECK(rendition_of_file(two, "index.m3u8") == "");
  CHECK(rendition_of_file(two, "mainx.m3u8") == "");
  CHECK(rendition_of_file(two, "main") == "");
}

// A publish goes live after one segment plus the probe: a short probe is what makes a publish
// without audio as quick as one with it (ffmpeg's 5 s default waited for audio that never came).
TEST_CASE("ffmpeg probes its input for half a second, whatever the renditions", "[streaming]") {
  for (const bool extra : {false, true}) {
    ffmpeg_options o;
    o.extra_360p = extra;
    const auto a = ffmpeg_hls_command(o, 4000, "b");
    CHECK(after(a, "-analyzeduration") == "500000");  // microseconds
    // An input option: before the -i it applies to.
    CHECK(std::find(a.begin(), a.end(), "-analyzeduration") < std::find(a.begin(), a.end(), "-i"));
  }
}
