// The ffmpeg command line for one publish: receive RTMP on a private loopback port, write fMP4
// HLS to Cohort's loopback ingest endpoint with HTTP PUT. Pure, so the flags are unit-tested.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cohort::streaming {

struct ffmpeg_options {
  std::string program = "ffmpeg";
  bool transcode = false;  // false: H.264 passes through (segments cut at the encoder's keyframes)
  // With transcode false: passthrough only for what browsers play (8-bit 4:2:0 H.264); the relay
  // reads the first video message and has any other input transcoded (streaming.video = "auto").
  bool per_input = false;
  int segment_seconds = 1;
  int live_segments = 6;
  // A second rendition, 640x360 (libx264, yuv420p, 800 kbit/s), beside the main one. The files
  // then name their rendition: main.m3u8 / 360p.m3u8, main-seg_00001.m4s, init_0.mp4 (main) and
  // init_1.mp4 (360p); see rendition_of_file.
  bool extra_360p = false;
  // How much of the stream (its own clock) ffmpeg reads to learn what it carries before it
  // writes anything. Its default, 5 s, is what a publish without audio waited: the FLV header
  // ffmpeg's RTMP input makes up always announces audio, so the probe ran until it gave up on
  // it. An encoder sends both codecs' sequence headers first, within milliseconds.
  int probe_ms = 500;
};

// The rendition an ingested file belongs to: "" with one rendition, else "main" or "360p"
// (empty when the name fits neither).
std::string rendition_of_file(const ffmpeg_options& o, std::string_view file);
// The rendition that is recorded, and whose first playable playlist makes the stream live.
inline std::string main_rendition(const ffmpeg_options& o) { return o.extra_360p ? "main" : ""; }

// rtmp_port: where this ffmpeg listens for the relayed publish. ingest_base: the URL prefix its
// files go to, e.g. "http://127.0.0.1:PORT/ingest/ID" (no trailing slash; no secret: `ps` shows it).
std::vector<std::string> ffmpeg_hls_command(const ffmpeg_options& o, std::uint16_t rtmp_port, const std::string& ingest_base);

}  // namespace cohort::streaming
