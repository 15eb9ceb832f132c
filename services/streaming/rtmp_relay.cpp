#include "streaming/rtmp_relay.hpp"

#include "metrics/metrics.hpp"
#include "streaming/loopback.hpp"
#include "streaming/rtmp_admission.hpp"
#include "streaming/rtmp_responder.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <iostream>
#include <map>
#include <mutex>
#include <random>

namespace cohort::streaming {
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// What the per-address cap counts: an IPv4 address (also when mapped into IPv6), or an IPv6
// /64, which one subscriber usually holds whole.
std::string address_key(const net::ip::address& a) {
  if (a.is_v4()) return a.to_string();
  const auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) return net::ip::make_address_v4(net::ip::v4_mapped, v6).to_string();
  auto bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return net::ip::address_v6(bytes).to_string() + "/64";
}

std::uint64_t random_seed() {
  std::random_device rd;
  return (std::uint64_t{rd()} << 32) | rd();
}

class rtmp_session;

}  // namespace

// Shared by the acceptor and every session (each on its own strand): the admission counts, the
// sessions still waiting (to close the oldest for a newer one), and the refusal log, which writes
// one line per connection only at a trickle: a flood of refusals is summed up every 10 s.
struct rtmp_relay::shared_state {
  shared_state(net::io_context& ioc, metrics::registry* m, rtmp_limits l)
      : metrics(m), limits(l), admission({l.per_ip, l.total}), log_timer(net::make_strand(ioc)) {}

  struct admitted {
    rtmp_admission::decision decision;
    std::shared_ptr<rtmp_session> evicted;
  };

  admitted admit(const std::string& key, const std::shared_ptr<rtmp_session>& s) {
    std::lock_guard lock(mutex);
    admitted out{admission.admit(key), nullptr};
    if (out.decision.admitted) waiting[out.decision.id] = s;
    if (out.decision.evicted) {
      if (const auto it = waiting.find(*out.decision.evicted); it != waiting.end()) {
        out.evicted = it->second.lock();
        waiting.erase(it);
      }
    }
    return out;
  }

  void release(std::uint64_t id) {
    std::lock_guard lock(mutex);
    admission.release(id);
    waiting.erase(id);
  }

  void note_refusal(const std::string& peer, const std::string& why) {
    std::string line;
    {
      std::lock_guard lock(mutex);
      const auto now = std::chrono::steady_clock::now();
      if (!flush_pending && now - window_start >= log_window) {
        window_start = now;
        line = "cohort: rtmp: closed a connection from " + peer + ": " + why + "\n";
      } else {
        ++unlogged;
        last_reason = why;
        if (!flush_pending && !stopped) {
          flush_pending = true;
          log_timer.expires_at(window_start + log_window);
          log_timer.async_wait([weak = weak_self](boost::system::error_code ec) {
            if (auto self = weak.lock(); self && !ec) self->flush_log();
          });
        }
      }
    }
    if (!line.empty()) std::cerr << line;
  }

  void flush_log() {
    std::string line;
    {
      std::lock_guard lock(mutex);
      flush_pending = false;
      window_start = std::chrono::steady_clock::now();
      if (unlogged == 0) return;
      line = "cohort: rtmp: closed " + std::to_string(unlogged) + " more connections in the last 10 s (the last: " +
             last_reason + ")\n";
      unlogged = 0;
    }
    std::cerr << line;
  }

  void stop() {
    std::lock_guard lock(mutex);
    stopped = true;
    log_timer.cancel();
  }

  static constexpr std::chrono::seconds log_window{10};
  metrics::registry* const metrics;
  const rtmp_limits limits;
  std::weak_ptr<shared_state> weak_self;
  std::mutex mutex;
  rtmp_admission admission;
  std::map<std::uint64_t, std::weak_ptr<rtmp_session>> waiting;
  std::chrono::steady_clock::time_point window_start{};
  std::size_t unlogged = 0;
  std::string last_reason;
  bool flush_pending = false;
  bool stopped = false;
  net::steady_timer log_timer;
};

namespace {

class rtmp_session : public std::enable_shared_from_this<rtmp_session> {
 public:
  using shared_state = rtmp_relay::shared_state;

  rtmp_session(tcp::socket client, net::io_context& ioc, std::shared_ptr<stream_ingest> ingest,
               std::shared_ptr<shared_state> shared, std::string peer)
      : client_(std::move(client)),
        upstream_(client_.get_executor()),
        timer_(client_.get_executor()),
        deadline_(client_.get_executor()),
        ioc_(ioc),
        ingest_(std::move(ingest)),
        shared_(std::move(shared)),
        peer_(std::move(peer)),
        responder_(random_seed()) {}

  // From the acceptor's strand: the session's own work runs on its strand.
  void start(std::uint64_t ticket) {
    net::dispatch(client_.get_executor(), [self = shared_from_this(), ticket] {
      self->ticket_ = ticket;
      if (self->closed_) return self->release();  // evicted before it began
      const auto limit = self->shared_->limits.handshake;
      self->deadline_.expires_after(limit);
      self->deadline_.async_wait([self, limit](boost::system::error_code ec) {
        if (!ec && !self->authorized_) self->refuse("no publish within " + std::to_string(limit.count()) + " s");
      });
      self->read_client();
    });
  }

  // Closed for a newer connection (the total cap).
  void evict() {
    net::post(client_.get_executor(), [self = shared_from_this()] {
      if (self->closed_ || self->authorized_) return;
      if (self->shared_->metrics) self->shared_->metrics->rtmp_limited.add();
      self->shared_->note_refusal(self->peer_, "closed for a newer connection (streaming.rtmp_connections_max)");
      self->close();
    });
  }

 private:
  // Until ffmpeg is reachable the publisher's bytes wait in pending_; past this much, reading
  // stops (TCP pushes back on the encoder) until ffmpeg takes them.
  static constexpr std::size_t max_pending = 1u << 20;
  static constexpr std::size_t max_reply = 64 * 1024;
  static constexpr std::size_t max_log_bytes = 4u << 20;

  void read_client() {
    if (reading_ || closed_ || closing_ || client_done_) return;
    if (authorized_ && pending_.size() >= max_pending) return;
    reading_ = true;
    client_.async_read_some(net::buffer(client_buf_), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
      self->reading_ = false;
      if (self->closed_ || self->closing_) return;
      if (ec) return self->on_client_done();
      self->on_client_bytes(std::string_view(self->client_buf_.data(), n));
    });
  }

  void on_client_bytes(std::string_view bytes) {
    const bool was_authorized = authorized_;
    if (!authorized_) {
      // Kept from C0 on: an accepted publish replays all of it to ffmpeg.
      log_.append(bytes);
      if (log_.size() > shared_->limits.before_publish_bytes)
        return refuse("more than " + std::to_string(shared_->limits.before_publish_bytes) + " bytes before publishing");
    }
    for (const auto& event : responder_.feed(bytes))
      if (!on_event(event)) break;
    if (closed_) return;
    client_out_ += responder_.take_reply();
    if (client_out_.size() > max_reply) return refuse("does not read what Cohort answers");
    write_client();
    if (closing_) return;
    if (was_authorized) {
      if (recording_) log_.append(bytes);
      pending_.append(bytes);
    }
    if (recording_ && switch_wanted_) return begin_switch();  // replays the log, which holds these bytes too
    if (recording_ && (video_seen_ || log_.size() > max_log_bytes)) {
      if (!video_seen_) std::cerr << "cohort: rtmp: no video in the first 4 MB: passing the input through\n";
      recording_ = false;
      log_ = {};
    }
    if (upstream_ready_) return flush_to_upstream();
    read_client();
  }

  // False when the connection ends here.
  bool on_event(const rtmp_event& event) {
    if (const auto* p = std::get_if<rtmp_publish>(&event)) return authorize(*p);
    if (const auto* v = std::get_if<rtmp_video_format>(&event); v && recording_) {
      video_seen_ = true;
      switch_wanted_ = !browser_playable(*v);
      std::cerr << "cohort: rtmp: webinar " << webinar_ << " sends " << describe(*v)
                << (switch_wanted_ ? ": transcoding to H.264 yuv420p\n" : ": passing it through\n");
    } else if (const auto* e = std::get_if<rtmp_error>(&event)) {
      refuse("RTMP: " + e->reason);
      return false;
    }
    return true;
  }

  // The key is checked before anything starts; only a good one gets an ffmpeg, which is then
  // fed everything the client sent since C0 (the handshake and commands Cohort answered).
  bool authorize(const rtmp_publish& p) {
    const auto webinar = ingest_->authorize_publish(p.stream_name);
    std::string ingest;
    if (webinar) {
      port_ = free_loopback_port(ioc_);
      ingest = ingest_->begin_publish(*webinar, port_);
    }
    if (ingest.empty()) {
      responder_.refuse_publish(webinar ? "The stream could not start." : "Stream key refused: unknown, or the webinar is already live.");
      refuse_after_reply(webinar ? "could not start the stream" : "unknown stream key or already live");
      return false;
    }
    ingest_id_ = std::move(ingest);
    webinar_ = *webinar;
    authorized_ = true;
    release();  // a publisher is no longer counted against the caps
    deadline_.cancel();
    if (shared_->metrics) shared_->metrics->rtmp_publishes.add();
    responder_.accept_publish();
    // streaming.video = "auto": the log goes on until the first video message shows the codec.
    recording_ = ingest_->checks_video();
    pending_ = recording_ ? log_ : std::exchange(log_, {});
    connect_upstream(0);
    return true;
  }

  // ffmpeg needs a moment to listen (longer on a loaded machine): retry every 50 ms for up to 10 s,
  // also after a connect that reached itself instead of ffmpeg. Meanwhile the publisher is read
  // only until max_pending bytes wait.
  void connect_upstream(int attempt) {
    upstream_.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_),
                            [self = shared_from_this(), attempt](boost::system::error_code ec) {
                              if (self->closed_) return;
                              if (!ec && !connected_to_itself(self->upstream_)) return self->on_upstream_connected();
                              if (attempt >= 200) return self->refuse("ffmpeg did not start listening within 10 s");
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

  // streaming.video = "auto": ffmpeg starts in passthrough. When the first video message is not
  // browser-playable H.264, a transcoding ffmpeg takes over: it is fed the same bytes from C0,
  // so it reaches the same state as the first (which had no media to write yet). Waits for a
  // write in flight to the first ffmpeg to finish.
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
    port_ = free_loopback_port(ioc_);
    if (!ingest_->transcode_instead(ingest_id_, port_)) return refuse("could not start a transcoding ffmpeg");
    connect_upstream(0);
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

  // ffmpeg answers the replayed handshake and commands as if to the client, which already has
  // Cohort's answers: everything it sends is read and dropped.
  void read_upstream() {
    const auto generation = upstream_generation_;
    upstream_.async_read_some(net::buffer(discard_buf_), [self = shared_from_this(), generation](boost::system::error_code ec, std::size_t) {
      if (generation != self->upstream_generation_) return;  // a replaced ffmpeg's socket
      if (ec || self->closed_) return self->close();
      self->read_upstream();
    });
  }

  // Cohort's answers (and, while publishing, Acknowledgements): one write in flight.
  void write_client() {
    if (client_writing_ || client_out_.empty() || closed_ || client_write_failed_) return;
    client_writing_ = true;
    auto data = std::make_shared<std::string>(std::exchange(client_out_, {}));
    net::async_write(client_, net::buffer(*data), [self = shared_from_this(), data](boost::system::error_code ec, std::size_t) {
      self->client_writing_ = false;
      if (self->closed_) return;
      if (ec) {
        if (!self->authorized_) return self->close();
        self->client_write_failed_ = true;  // reading tells when the publisher is gone
        return;
      }
      if (!self->client_out_.empty()) return self->write_client();
      if (self->closing_) self->close();
    });
  }

  static std::string describe(const rtmp_video_format& v) {
    if (!v.fourcc.empty()) return "video " + v.fourcc + " (enhanced RTMP)";
    if (v.codec_id != 7) return "video with FLV codec id " + std::to_string(v.codec_id);
    return v.avc_profile < 0 ? std::string("H.264") : "H.264 profile " + std::to_string(v.avc_profile);
  }

  void note_refused(const std::string& why) {
    if (shared_->metrics) shared_->metrics->rtmp_refused.add();
    shared_->note_refusal(peer_, why);
  }

  void refuse(const std::string& why) {
    if (!closed_ && !closing_) {
      // A publish with a good key that fails is the organizer's to hear about: never summed up.
      if (authorized_) std::cerr << "cohort: rtmp: webinar " + std::to_string(webinar_) + ": publish closed: " + why + "\n";
      else note_refused(why);
    }
    close();
  }

  // The client is told why (an onStatus error) before the connection closes; the deadline still
  // closes it if it does not read that.
  void refuse_after_reply(const std::string& why) {
    note_refused(why);
    closing_ = true;
    client_out_ += responder_.take_reply();
    write_client();
  }

  void release() {
    if (ticket_ != 0) shared_->release(std::exchange(ticket_, 0));
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    release();
    boost::system::error_code ec;
    client_.close(ec);
    upstream_.close(ec);
    timer_.cancel();
    deadline_.cancel();
    if (!ingest_id_.empty()) ingest_->end_publish(ingest_id_, authorized_);
  }

  tcp::socket client_;
  tcp::socket upstream_;
  net::steady_timer timer_;
  net::steady_timer deadline_;
  net::io_context& ioc_;
  std::shared_ptr<stream_ingest> ingest_;
  std::shared_ptr<shared_state> shared_;
  std::string peer_;
  std::uint64_t ticket_ = 0;        // its place in the admission count; 0 once released
  rtmp_responder responder_;
  std::string ingest_id_;
  std::uint16_t port_ = 0;
  std::string pending_;             // for ffmpeg, not yet written
  std::string client_out_;          // for the client, not yet written
  std::array<char, 16 * 1024> client_buf_{};
  std::array<char, 4 * 1024> discard_buf_{};
  std::int64_t webinar_ = 0;
  std::string log_;                 // the client's bytes from C0: before publish, and with "auto" until its first video
  bool recording_ = false;          // after publish: log_ goes on (streaming.video = "auto")
  bool video_seen_ = false;
  bool switch_wanted_ = false;      // its video is not browser-playable: transcode
  bool switching_ = false;          // waiting for a write to the first ffmpeg to finish
  std::uint64_t upstream_generation_ = 0;
  bool upstream_ready_ = false;
  bool writing_ = false;
  bool reading_ = false;
  bool client_writing_ = false;
  bool client_write_failed_ = false;
  bool client_done_ = false;        // the publisher hung up; flushing what it sent
  bool authorized_ = false;
  bool closing_ = false;            // refused: closes once the refusal is written
  bool closed_ = false;
};

}  // namespace

rtmp_relay::rtmp_relay(net::io_context& ioc, listen_address listen, std::shared_ptr<stream_ingest> ingest, metrics::registry* metrics,
                       rtmp_limits limits)
    : ioc_(ioc),
      address_(std::move(listen)),
      ingest_(std::move(ingest)),
      acceptor_(net::make_strand(ioc)),
      shared_(std::make_shared<shared_state>(ioc, metrics, limits)) {
  shared_->weak_self = shared_;
}

rtmp_relay::~rtmp_relay() = default;

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
  shared_->stop();
  net::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
}

void rtmp_relay::do_accept() {
  // Each session on its own strand: its two directions never run at once.
  acceptor_.async_accept(net::make_strand(ioc_), [this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors, typically: try again a little later instead of spinning.
      auto wait = std::make_shared<net::steady_timer>(acceptor_.get_executor(), std::chrono::milliseconds(100));
      return wait->async_wait([this, wait](boost::system::error_code) { do_accept(); });
    }
    boost::system::error_code peer_ec;
    const auto peer = socket.remote_endpoint(peer_ec);
    if (!peer_ec) {
      const auto key = address_key(peer.address());
      auto session = std::make_shared<rtmp_session>(std::move(socket), ioc_, ingest_, shared_, peer.address().to_string());
      auto admitted = shared_->admit(key, session);
      if (admitted.evicted) admitted.evicted->evict();
      if (admitted.decision.admitted) {
        session->start(admitted.decision.id);
      } else {
        if (shared_->metrics) shared_->metrics->rtmp_limited.add();
        shared_->note_refusal(peer.address().to_string(), "over streaming.rtmp_connections_per_ip");
      }  // a refused session's socket closes with it, now
    }
    do_accept();
  });
}

}  // namespace cohort::streaming
