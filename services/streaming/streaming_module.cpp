#include "streaming/streaming_module.hpp"

#include "streaming/rtmp_relay.hpp"

#include <iostream>
#include <stdexcept>

namespace cohort::streaming {

namespace {

ffmpeg_options ffmpeg_options_from(const streaming_config& s) {
  ffmpeg_options o;
  o.program = s.ffmpeg;
  o.transcode = s.video == "h264";
  o.per_input = s.video == "auto";
  o.segment_seconds = s.segment_seconds;
  o.live_segments = s.live_segments;
  o.extra_360p = s.extra_360p;
  return o;
}

ingest_context ingest_context_from(const streaming_context& c) {
  ingest_context out;
  out.ioc = c.ioc;
  out.writes = c.writes;
  out.readers = c.readers;
  out.bus = c.bus;
  out.recordings_dir = c.data_dir / "recordings";
  out.ffmpeg = ffmpeg_options_from(c.settings);
  out.session_before_minutes = c.settings.session_before_minutes;
  out.session_after_minutes = c.settings.session_after_minutes;
  out.metrics = c.metrics;
  return out;
}

rtmp_limits rtmp_limits_from(const streaming_config& s) {
  rtmp_limits l;
  l.handshake = std::chrono::seconds(s.rtmp_handshake_seconds);
  l.per_ip = static_cast<std::size_t>(s.rtmp_connections_per_ip);
  l.total = static_cast<std::size_t>(s.rtmp_connections_max);
  return l;
}

// The host of a validated http(s):// URL, without port or path.
std::string url_host(const std::string& url) {
  const auto start = url.find("://") + 3;
  const auto end = url.find_first_of(":/", start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

std::string rtmp_public_url(const streaming_config& settings, const std::string& public_url, std::uint16_t port) {
  if (!settings.rtmp_public_url.empty()) return settings.rtmp_public_url;
  std::string host = settings.rtmp_listen.host;
  if (!public_url.empty()) host = url_host(public_url);
  if (host == "0.0.0.0" || host == "::") host = "localhost";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "rtmp://" + host + ":" + std::to_string(port) + "/live";
}

streaming_module::streaming_module(streaming_context ctx)
    : ctx_(std::move(ctx)),
      ingest_(std::make_shared<stream_ingest>(ingest_context_from(ctx_))),
      gate_(ctx_.authenticate, ctx_.readers, ctx_.url_secret),
      origin_(*ingest_, gate_, ctx_.on_watching),
      api_(ctx_.writes, ctx_.readers, *ingest_, origin_, ctx_.present_in_room),
      replays_(ctx_.writes, ctx_.readers, ctx_.data_dir / "recordings", gate_) {}

streaming_module::~streaming_module() = default;

void streaming_module::add_routes(http::router& r) {
  api_.add_routes(r);
  origin_.add_routes(r);
  replays_.add_routes(r);
}

streaming_module::streaming_module(const node::node_services& node, hls_origin::watching_hook on_watching,
                                   stream_api::presence_query present_in_room)
    : streaming_module(streaming_context{.ioc = &node.ioc,
                                         .writes = node.writes(),
                                         .readers = node.readers,
                                         .bus = &node.bus,
                                         .authenticate = node.authenticate,
                                         .url_secret = node.keys->segment_url_key,
                                         .data_dir = node.data_dir,
                                         .settings = node.cfg.streaming,
                                         .public_url = node.cfg.server.public_url,
                                         .metrics = &node.metrics,
                                         .on_watching = std::move(on_watching),
                                         .present_in_room = std::move(present_in_room)}) {
  if (node.registrations)
    node.registrations->on<registration::series_deleted>([this](const registration::series_deleted& e) { webinar_deleted(e.webinar_id); });
}

void streaming_module::start() {
  ingest_->close_interrupted_recordings();
  ingest_->start();
  relay_ = std::make_unique<rtmp_relay>(*ctx_.ioc, ctx_.settings.rtmp_listen, ingest_, ctx_.metrics, rtmp_limits_from(ctx_.settings));
  std::uint16_t port = 0;
  try {
    port = relay_->listen();
  } catch (const std::exception& e) {
    const auto& at = ctx_.settings.rtmp_listen;
    throw std::runtime_error("cannot listen for RTMP on " + at.host + ":" + std::to_string(at.port) + ": " + e.what() +
                             " (set streaming.rtmp_listen or --rtmp)");
  }
  api_.set_rtmp_public_url(rtmp_public_url(ctx_.settings, ctx_.public_url, port));
  relay_->start_accepting();
  std::cout << "cohort: rtmp ingest on rtmp://" << ctx_.settings.rtmp_listen.host << ":" << port << "/live\n";
}

void streaming_module::stop() {
  if (relay_) relay_->stop();
  ingest_->stop();
}

void streaming_module::webinar_deleted(std::int64_t webinar_id) {
  origin_.webinar_deleted(webinar_id);
  ingest_->webinar_deleted(webinar_id);
}

}  // namespace cohort::streaming
