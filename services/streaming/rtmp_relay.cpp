#include "streaming/rtmp_relay.hpp"

#include "metrics/metrics.hpp"
#include "streaming/rtmp_parser.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <iostream>

namespace cohort::streaming {
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// A free loopback port for the next ffmpeg (it binds it a moment later; the race is local).
std::uint16_t free_loopback_port(net::io_context& ioc) {
  tcp::acceptor probe(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  return probe.local_endpoint().port();
}

class rtmp_session : public std::enable_shared_from_this<rtmp_session> {
 public:
  rtmp_session(tcp::socket client, net::io_context& ioc, std::shared_ptr<streaming_hub> hub,
               metrics::registry* metrics, std::shared_ptr<std::atomic<int>> unchecked)
      : client_(std::move(client)),
        upstream_(client_.get_executor()),
        timer_(client_.get_executor()),
        deadline_(client_.get_executor()),
        ioc_(ioc),
        hub_(std::move(hub)),
        metrics_(metrics),
        unchecked_(std::move(unchecked)) {}

  // Every connection costs an ffmpeg until its key is checked: only a few may wait at once.
  static constexpr int max_unchecked = 8;

  void start() {
    counted_ = true;
    if (unchecked_->fetch_add(1) >= max_unchecked) return refuse("too many connections without a checked key");
    port_ = free_loopback_port(ioc_);
    ingest_id_ = hub_->begin_publish(port_);
    if (ingest_id_.empty()) return close();
    recording_ = hub_->checks_video();
    // A publisher that has not named a valid key within 15 s is not one.
    deadline_.expires_after(std::chrono::seconds(15));
    deadline_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec && !self->authorized_) self->refuse("no publish within 15 s");
    });
    connect_upstream(0);
    read_client();
  }

 private:
  // ffmpeg needs a moment to listen: retry every 50 ms for up to 5 s.
  void connect_upstream(int attempt) {
    upstream_.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_),
                            [self = shared_from_this(), attempt](boost::system::error_code ec) {
                              if (self->closed_) return;
                              if (!ec) return self->on_upstream_connected();
                              if (attempt >= 100) return self->refuse("ffmpeg did not start listening");
                              boost::system::error_code ignored;
                              self->upstream_.close(ignored);
                              self->timer_.expires_after(std::chrono::milliseconds(50));
                              self->timer_.async_wait([self, attempt](boost::system::error_code e) {
                                if (!e) self->connect_upstream(attempt + 1);
                              });
                            });
  }

  void on_upstream_connected() {
    upstream_ready_ = true;
    read_upstream();
    flush_to_upstream();
  }

  // streaming.video = "auto": ffmpeg starts in passthrough (it must answer the handshake before
  // any media flows). The client's bytes are kept from the start until its first video message
  // shows the codec; when that is not browser-playable H.264, a transcoding ffmpeg takes over:
  // it is fed the same bytes from the start, so it reaches the same state as the first (which
  // had no media to write yet) and answers the same; its answers are dropped, the client already
  // has them. Waits for a write in flight to the first ffmpeg to finish.
  void begin_switch() {
    recording_ = false;
    switching_ = true;
    if (!writing_) do_switch();
  }

  void do_switch() {
    switching_ = false;
    pending_ = std::exchange(log_, {});
    upstream_ready_ = false;
    ++upstream_generation_;  // the old socket's handlers end quietly
    boost::system::error_code ignored;
    upstream_.close(ignored);
    discard_upstream_ = true;
    port_ = free_loopback_port(ioc_);
    if (!hub_->transcode_instead(ingest_id_, port_)) return refuse("could not start a transcoding ffmpeg");
    connect_upstream(0);
  }

  // Until ffmpeg is reachable the client's bytes (handshake, connect) wait in pending_.
  void read_client() {
    if (reading_ || closed_) return;
    reading_ = true;
    client_.async_read_some(net::buffer(client_buf_), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
      self->reading_ = false;
      if (self->closed_) return;
      if (ec) return self->on_client_done();
      const std::string_view bytes(self->client_buf_.data(), n);
      if (!self->check(bytes)) return;
      if (self->recording_) {
        self->log_.append(bytes);
        if (self->switch_wanted_) return self->begin_switch();  // the log holds these bytes too
        if (self->video_seen_ || self->log_.size() > max_log_bytes) {
          if (!self->video_seen_) std::cerr << "cohort: rtmp: no video in the first 4 MB: passing the input through\n";
          self->recording_ = false;
          self->log_ = {};
        }
      }
      self->pending_.append(bytes);
      if (self->upstream_ready_) return self->flush_to_upstream();
      if (self->pending_.size() > (1u << 20)) return self->refuse("too much data before ffmpeg was ready");
      self->read_client();
    });
  }

  // Parses before forwarding: returns false (and closes) when the bytes must not reach ffmpeg.
  bool check(std::string_view bytes) {
    for (const auto& event : parser_.feed(bytes)) {
      if (const auto* p = std::get_if<rtmp_publish>(&event)) {
        if (authorized_) return refuse("a second publish on one connection"), false;
        const auto webinar = hub_->authorize_publish(ingest_id_, p->stream_name);
        if (!webinar) return refuse("unknown stream key or already live"), false;
        authorized_ = true;
        webinar_ = *webinar;
        if (metrics_) metrics_->rtmp_publishes.add();
        uncount();
        deadline_.cancel();
      } else if (std::holds_alternative<rtmp_media_started>(event) && !authorized_) {
        return refuse("media before publish"), false;
      } else if (const auto* v = std::get_if<rtmp_video_format>(&event); v && recording_) {
        video_seen_ = true;
        switch_wanted_ = !browser_playable(*v);
        std::cerr << "cohort: rtmp: webinar " << webinar_ << " sends " << describe(*v)
                  << (switch_wanted_ ? ": transcoding to H.264 yuv420p\n" : ": passing it through\n");
      } else if (const auto* e = std::get_if<rtmp_error>(&event)) {
        return refuse("malformed RTMP: " + e->reason), false;
      }
    }
    return true;
  }

  // The publisher hung up: what it sent still goes to ffmpeg, then ffmpeg sees the end of its
  // input and finishes the last segment itself (end_publish gives it time).
  void on_client_done() {
    if (!authorized_) return close();
    client_done_ = true;
    flush_to_upstream();
  }

  // One write in flight; the client is read again only when its bytes are out (back-pressure).
  void flush_to_upstream() {
    if (!upstream_ready_ || writing_) return;
    if (pending_.empty()) {
      if (!client_done_) return read_client();
      boost::system::error_code ignored;
      upstream_.shutdown(tcp::socket::shutdown_send, ignored);
      return;  // read_upstream() ends the session when ffmpeg closes
    }
    writing_ = true;
    auto data = std::make_shared<std::string>(std::move(pending_));
    pending_.clear();
    net::async_write(upstream_, net::buffer(*data), [self = shared_from_this(), data](boost::system::error_code ec, std::size_t) {
      self->writing_ = false;
      if (ec || self->closed_) return self->close();
      if (self->switching_) return self->do_switch();
      self->flush_to_upstream();
    });
  }

  void read_upstream() {
    const auto generation = upstream_generation_;
    // A replacing ffmpeg's answers are dropped, into a buffer of their own: a write of the
    // first one's to the client may still be in flight from upstream_buf_.
    const auto buf = discard_upstream_ ? net::buffer(discard_buf_) : net::buffer(upstream_buf_);
    upstream_.async_read_some(buf, [self = shared_from_this(), generation](boost::system::error_code ec, std::size_t n) {
      if (generation != self->upstream_generation_) return;  // a replaced ffmpeg's socket
      if (ec || self->closed_) return self->close();
      if (self->client_done_ || self->discard_upstream_) return self->read_upstream();  // nobody to answer
      net::async_write(self->client_, net::buffer(self->upstream_buf_.data(), n),
                       [self, generation](boost::system::error_code e, std::size_t) {
                         if (e || self->closed_) return self->close();
                         if (generation == self->upstream_generation_) self->read_upstream();
                       });
    });
  }

  static std::string describe(const rtmp_video_format& v) {
    if (!v.fourcc.empty()) return "video " + v.fourcc + " (enhanced RTMP)";
    if (v.codec_id != 7) return "video with FLV codec id " + std::to_string(v.codec_id);
    return v.avc_profile < 0 ? std::string("H.264") : "H.264 profile " + std::to_string(v.avc_profile);
  }

  void refuse(const std::string& why) {
    if (!closed_) {
      if (metrics_) metrics_->rtmp_refused.add();
      std::cerr << "cohort: rtmp: closed a connection from " << peer() << ": " << why << "\n";
    }
    close();
  }

  std::string peer() const {
    boost::system::error_code ec;
    const auto ep = client_.remote_endpoint(ec);
    return ec ? std::string("?") : ep.address().to_string();
  }

  void uncount() {
    if (counted_) unchecked_->fetch_sub(1);
    counted_ = false;
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    uncount();
    boost::system::error_code ec;
    client_.close(ec);
    upstream_.close(ec);
    timer_.cancel();
    deadline_.cancel();
    if (!ingest_id_.empty()) hub_->end_publish(ingest_id_, authorized_);
  }

  tcp::socket client_;
  tcp::socket upstream_;
  net::steady_timer timer_;
  net::steady_timer deadline_;
  net::io_context& ioc_;
  std::shared_ptr<streaming_hub> hub_;
  metrics::registry* metrics_;
  std::shared_ptr<std::atomic<int>> unchecked_;
  bool counted_ = false;
  rtmp_client_parser parser_;
  std::string ingest_id_;
  std::uint16_t port_ = 0;
  std::string pending_;
  std::array<char, 16 * 1024> client_buf_{};
  std::array<char, 16 * 1024> upstream_buf_{};
  std::array<char, 4 * 1024> discard_buf_{};
  static constexpr std::size_t max_log_bytes = 4u << 20;
  std::int64_t webinar_ = 0;
  bool recording_ = false;         // keeping the client's bytes in log_ until its first video
  std::string log_;
  bool video_seen_ = false;
  bool switch_wanted_ = false;     // its video is not browser-playable: transcode
  bool switching_ = false;         // waiting for a write to the first ffmpeg to finish
  bool discard_upstream_ = false;  // the ffmpeg now upstream took over: its answers are not the client's
  std::uint64_t upstream_generation_ = 0;
  bool upstream_ready_ = false;
  bool writing_ = false;
  bool reading_ = false;
  bool client_done_ = false;  // the publisher hung up; flushing what it sent
  bool authorized_ = false;
  bool closed_ = false;
};

}  // namespace

rtmp_relay::rtmp_relay(net::io_context& ioc, listen_address listen, std::shared_ptr<streaming_hub> hub, metrics::registry* metrics)
    : ioc_(ioc), address_(std::move(listen)), hub_(std::move(hub)), acceptor_(net::make_strand(ioc)), metrics_(metrics) {}

std::uint16_t rtmp_relay::listen() {
  const tcp::endpoint ep(net::ip::make_address(address_.host), address_.port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(net::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen();
  return acceptor_.local_endpoint().port();
}

void rtmp_relay::start_accepting() { do_accept(); }

void rtmp_relay::stop() {
  net::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
}

void rtmp_relay::do_accept() {
  // Each session on its own strand: its two directions never run at once.
  acceptor_.async_accept(net::make_strand(ioc_), [this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;
    if (!ec) std::make_shared<rtmp_session>(std::move(socket), ioc_, hub_, metrics_, unchecked_)->start();
    do_accept();
  });
}

}  // namespace cohort::streaming
