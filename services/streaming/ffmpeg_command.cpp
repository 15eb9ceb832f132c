#include "streaming/ffmpeg_command.hpp"

namespace cohort::streaming {

std::vector<std::string> ffmpeg_hls_command(const ffmpeg_options& o, std::uint16_t rtmp_port, const std::string& ingest_base) {
  const auto seg = std::to_string(o.segment_seconds);
  std::vector<std::string> a{o.program, "-hide_banner", "-nostats", "-loglevel", "warning",
                             "-analyzeduration", std::to_string(std::int64_t(o.probe_ms) * 1000),
                             // One publisher, then exit: the relay in front has already checked its key.
                             "-listen", "1", "-i", "rtmp://127.0.0.1:" + std::to_string(rtmp_port) + "/live/relay"};
  // Keyframes exactly on segment boundaries; yuv420p because browsers do not play 4:4:4.
  const std::vector<std::string> x264{"libx264", "-preset", "veryfast", "-tune", "zerolatency", "-sc_threshold", "0",
                                      "-force_key_frames", "expr:gte(t,n_forced*" + seg + ")"};
  if (o.extra_360p) {
    // Two variants, each with its own copy of the audio (var_stream_map needs one per variant).
    a.insert(a.end(), {"-map", "0:v:0", "-map", "0:v:0", "-map", "0:a:0", "-map", "0:a:0", "-c:v:0"});
    if (o.transcode) {
      a.insert(a.end(), x264.begin(), x264.end());
      a.insert(a.end(), {"-pix_fmt:v:0", "yuv420p"});
    } else {
      a.push_back("copy");
    }
    a.push_back("-c:v:1");
    a.insert(a.end(), x264.begin(), x264.end());
    a.insert(a.end(), {"-pix_fmt:v:1", "yuv420p", "-s:v:1", "640x360", "-b:v:1", "800k", "-maxrate:v:1", "800k",
                       "-bufsize:v:1", "1600k"});
  } else {
    a.insert(a.end(), {"-map", "0:v:0", "-map", "0:a:0?", "-c:v"});
    if (o.transcode) {
      a.insert(a.end(), x264.begin(), x264.end());
      a.insert(a.end(), {"-pix_fmt", "yuv420p"});
    } else {
      a.push_back("copy");
    }
  }
  a.insert(a.end(), {"-c:a", "aac", "-b:a", "128k", "-ar", "48000",
                     "-f", "hls", "-hls_time", seg, "-hls_list_size", std::to_string(o.live_segments),
                     "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4",
                     "-hls_flags", "delete_segments+independent_segments",
                     "-method", "PUT", "-http_persistent", "1"});
  if (o.extra_360p) {
    a.insert(a.end(), {"-var_stream_map", "v:0,a:0,name:main v:1,a:1,name:360p",
                       "-hls_segment_filename", ingest_base + "/%v-seg_%05d.m4s", ingest_base + "/%v.m3u8"});
  } else {
    a.insert(a.end(), {"-hls_segment_filename", ingest_base + "/seg_%05d.m4s", ingest_base + "/index.m3u8"});
  }
  return a;
}

std::string rendition_of_file(const ffmpeg_options& o, std::string_view file) {
  if (!o.extra_360p) return "";
  if (file == "init_0.mp4") return "main";
  if (file == "init_1.mp4") return "360p";
  for (const std::string_view r : {"main", "360p"})
    if (file.size() > r.size() && file.substr(0, r.size()) == r && (file[r.size()] == '-' || file.substr(r.size()) == ".m3u8"))
      return std::string(r);
  return "";
}

}  // namespace cohort::streaming
