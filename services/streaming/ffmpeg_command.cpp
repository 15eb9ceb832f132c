#include "streaming/ffmpeg_command.hpp"

namespace cohort::streaming {

std::vector<std::string> ffmpeg_hls_command(const ffmpeg_options& o, std::uint16_t rtmp_port, const std::string& ingest_base) {
  const auto seg = std::to_string(o.segment_seconds);
  std::vector<std::string> a{o.program, "-hide_banner", "-nostats", "-loglevel", "warning",
                             // One publisher, then exit: the relay in front has already checked its key.
                             "-listen", "1", "-i", "rtmp://127.0.0.1:" + std::to_string(rtmp_port) + "/live/relay",
                             "-map", "0:v:0", "-map", "0:a:0?"};
  if (o.transcode) {
    // Keyframes exactly on segment boundaries; yuv420p because browsers do not play 4:4:4.
    a.insert(a.end(), {"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
                       "-sc_threshold", "0", "-force_key_frames", "expr:gte(t,n_forced*" + seg + ")"});
  } else {
    a.insert(a.end(), {"-c:v", "copy"});
  }
  a.insert(a.end(), {"-c:a", "aac", "-b:a", "128k", "-ar", "48000",
                     "-f", "hls", "-hls_time", seg, "-hls_list_size", std::to_string(o.live_segments),
                     "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4",
                     "-hls_flags", "delete_segments+independent_segments",
                     "-method", "PUT", "-http_persistent", "1",
                     "-hls_segment_filename", ingest_base + "/seg_%05d.m4s", ingest_base + "/index.m3u8"});
  return a;
}

}  // namespace cohort::streaming
