// The ffmpeg command line for one publish: receive RTMP on a private loopback port, write fMP4
// HLS to Cohort's loopback ingest endpoint with HTTP PUT. Pure, so the flags are unit-tested.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cohort::streaming {

struct ffmpeg_options {
  std::string program = "ffmpeg";
  bool transcode = false;  // false: H.264 passes through (segments cut at the encoder's keyframes)
  int segment_seconds = 1;
  int live_segments = 6;
};

// rtmp_port: where this ffmpeg listens for the relayed publish. ingest_base: the URL prefix its
// files go to, e.g. "http://127.0.0.1:PORT/ingest/ID/SECRET" (no trailing slash).
std::vector<std::string> ffmpeg_hls_command(const ffmpeg_options& o, std::uint16_t rtmp_port, const std::string& ingest_base);

}  // namespace cohort::streaming
