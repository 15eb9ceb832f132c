#include "gateway/websocket_session.hpp"

#include "gateway/ws_frame.hpp"
#include "metrics/metrics.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>
#include <iostream>
#include <mutex>
#include <vector>

namespace cohort::http {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;

namespace {

// Quiet about normal ends and about clients that go away: they are not server faults.
void fail(beast::error_code ec, const char* what) {
  if (ec == net::error::operation_aborted || ec == beast::error::timeout || ec == net::error::eof ||
      ec == net::error::connection_reset || ec == net::error::broken_pipe ||
      ec.category() == beast::error_code(websocket::error::closed).category())
    return;
  std::cerr << "cohort: websocket " << what << ": " << ec.message() << "\n";
}

// At most this many frames (two iovecs each) and this many bytes go into one sendmsg.
constexpr std::size_t frames_per_write = 128;
constexpr std::size_t bytes_per_write = 256 * 1024;

// One frame owed to the peer: its header inline, its payload shared with every other recipient.
struct out_frame {
  std::shared_ptr<const std::string> payload;  // null for an empty control frame
  std::uint8_t header[ws::max_header_bytes];
  std::uint8_t header_len;
  std::size_t size() const { return header_len + (payload ? payload->size() : 0); }
};

// Beast does the HTTP upgrade; from then on the frames are ours (ws_frame.hpp): a broadcast's
// bytes are shared by all recipients, everything a socket is owed goes out in one sendmsg, and an
// idle connection holds no read buffer (reads land in one buffer per thread).
//
// Threads: reads, the timer and the socket object live on the connection's strand. The write
// queue is guarded by mutex_ and written from whichever thread queues or flushes (the room's, for
// a broadcast), straight to the descriptor; only when the kernel is full does the strand wait
// for the socket to become writable.
class websocket_session : public ws_peer, public ws::frame_sink, public std::enable_shared_from_this<websocket_session> {
 public:
  websocket_session(tcp::socket&& socket, std::shared_ptr<ws_handler> handler, const ws_options& options,
                    metrics::registry* metrics, ws_registry registry)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        handler_(std::move(handler)),
        options_(options),
        metrics_(metrics),
        registry_(std::move(registry)),
        parser_(options.message_max_bytes),
        fd_(socket_.native_handle()) {}

  ~websocket_session() override {
    if (registered_) registry_.remove(registry_id_);
    if (metrics_) metrics_->ws_open.fetch_sub(1, std::memory_order_relaxed);
  }

  void run() {
    if (metrics_) metrics_->ws_open.fetch_add(1, std::memory_order_relaxed);
    registry_id_ = registry_.add(weak_from_this());
    registered_ = true;
    // Runs on the strand: the handler's calls are serialized with the reads.
    net::dispatch(socket_.get_executor(), [self = shared_from_this()] {
      {
        std::lock_guard lock(self->mutex_);
        self->open_ = true;
      }
      self->handler_->on_open(self);
      self->arm_timer(std::chrono::seconds(self->options_.ping_interval_seconds));
      self->do_wait_read();
    });
  }

  void send(std::shared_ptr<const std::string> text) override {
    std::lock_guard lock(mutex_);
    if (enqueue_locked(ws::opcode::text, std::move(text))) flush_locked();
  }

  void queue(std::shared_ptr<const std::string> text) override {
    std::lock_guard lock(mutex_);
    enqueue_locked(ws::opcode::text, std::move(text));
  }

  void flush() override {
    std::lock_guard lock(mutex_);
    flush_locked();
  }

  void send_batch(const std::vector<std::shared_ptr<const std::string>>& texts) override {
    std::lock_guard lock(mutex_);
    for (const auto& t : texts)
      if (!enqueue_locked(ws::opcode::text, t)) return;
    flush_locked();
  }

  void close(std::uint16_t code, std::string reason) override {
    std::lock_guard lock(mutex_);
    begin_close_locked(code, reason);
  }

 private:
  // ---- write side (any thread, under mutex_) ----

  // False when the frame was not queued (closing, or the queue passed its cap and close began).
  bool enqueue_locked(ws::opcode op, std::shared_ptr<const std::string> payload) {
    if (!open_ || close_queued_) return false;
    const std::size_t n = payload ? payload->size() : 0;
    // A fan-out queues first and flushes later: before judging the peer slow, give the kernel
    // what it will take, so the cap counts only what the peer has not made room for.
    if (queued_bytes_ + n > options_.queue_max_bytes) flush_locked();
    if (op == ws::opcode::text && queued_bytes_ + n > options_.queue_max_bytes) {
      // A consumer this far behind would only fall further behind: cut it loose, count it.
      if (metrics_) metrics_->ws_slow_consumer_closes.add();
      begin_close_locked(ws::close_code::policy_error, "too slow: outgoing queue full");
      return false;
    }
    push_locked(op, std::move(payload));
    return true;
  }

  void push_locked(ws::opcode op, std::shared_ptr<const std::string> payload) {
    out_frame f{std::move(payload), {}, 0};
    f.header_len = static_cast<std::uint8_t>(ws::write_header(f.header, op, f.payload ? f.payload->size() : 0));
    queued_bytes_ += f.size();
    out_.push_back(std::move(f));
  }

  void begin_close_locked(std::uint16_t code, const std::string& reason) {
    if (!open_ || close_queued_) return;
    close_queued_ = true;
    // Frames not yet started are dropped; one already half on the wire must be finished first.
    const auto keep = out_head_ + (out_offset_ > 0 ? 1 : 0);
    for (auto i = keep; i < out_.size(); ++i) queued_bytes_ -= out_[i].size();
    out_.resize(std::max(keep, out_head_));
    auto payload = ws::make_close_frame(code, reason).substr(2);  // header is rebuilt by push_locked
    push_locked(ws::opcode::close, std::make_shared<const std::string>(std::move(payload)));
    close_code_ = code;
    flush_locked();
    // The peer gets one ping interval to read what is owed and answer the close (a slow consumer
    // still has its backlog to drain before it sees the close frame).
    net::post(socket_.get_executor(), [self = shared_from_this()] {
      self->arm_timer(std::chrono::seconds(self->options_.ping_interval_seconds));
    });
  }

  void flush_locked() {
    if (write_blocked_ || fd_closed_ || out_head_ == out_.size()) return;
    std::array<iovec, 2 * frames_per_write> iov;
    std::uint64_t frames_done = 0;
    while (out_head_ < out_.size()) {
      std::size_t count = 0, bytes = 0, skip = out_offset_;
      for (auto i = out_head_; i < out_.size() && count + 2 <= iov.size() && bytes < bytes_per_write; ++i) {
        auto& f = out_[i];
        const auto add = [&](const void* p, std::size_t n) {
          if (skip >= n) {
            skip -= n;
            return;
          }
          iov[count++] = iovec{const_cast<char*>(static_cast<const char*>(p)) + skip, n - skip};
          bytes += n - skip;
          skip = 0;
        };
        add(f.header, f.header_len);
        if (f.payload) add(f.payload->data(), f.payload->size());
      }
      msghdr msg{};
      msg.msg_iov = iov.data();
      msg.msg_iovlen = count;
      const auto n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          // The kernel is full: the strand waits until it takes more.
          write_blocked_ = true;
          net::post(socket_.get_executor(), [self = shared_from_this()] { self->do_wait_writable(); });
          break;
        }
        // The peer is gone; the read side sees it too and ends the session.
        write_failed_ = true;
        out_.clear();
        out_head_ = out_offset_ = queued_bytes_ = 0;
        net::post(socket_.get_executor(), [self = shared_from_this()] { self->teardown(); });
        return;
      }
      // Advance past what the kernel took, releasing finished frames' bytes at once.
      auto left = static_cast<std::size_t>(n) + out_offset_;
      while (out_head_ < out_.size() && left >= out_[out_head_].size()) {
        left -= out_[out_head_].size();
        queued_bytes_ -= out_[out_head_].size();
        out_[out_head_].payload.reset();
        ++out_head_;
        ++frames_done;
      }
      out_offset_ = left;
    }
    if (metrics_ && frames_done) metrics_->ws_frames_sent.add(frames_done);
    if (out_head_ == out_.size()) {
      out_head_ = 0;
      out_.clear();
      if (out_.capacity() > 64) std::vector<out_frame>().swap(out_);  // a backlog's memory goes back
      if (close_queued_ && !close_written_) {
        close_written_ = true;
        // Our close is out: no more bytes from us; read until the peer closes too.
        ::shutdown(fd_, SHUT_WR);
      }
    } else if (out_head_ > 1024 && out_head_ * 2 > out_.size()) {
      out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(out_head_));
      out_head_ = 0;
    }
  }

  // ---- strand side ----

  void do_wait_writable() {
    socket_.async_wait(tcp::socket::wait_write, [self = shared_from_this()](beast::error_code ec) {
      std::lock_guard lock(self->mutex_);
      self->write_blocked_ = false;
      if (ec) return;  // the read side ends the session
      self->flush_locked();
    });
  }

  void do_wait_read() {
    socket_.async_wait(tcp::socket::wait_read,
                       [self = shared_from_this()](beast::error_code ec) { self->on_readable(ec); });
  }

  void on_readable(beast::error_code ec) {
    if (ec) {
      fail(ec, "read");
      return teardown();
    }
    // One buffer per thread: an idle connection holds none; a message split across reads is
    // kept by the parser only until it is complete.
    thread_local std::array<char, 64 * 1024> buffer;
    for (int reads = 0; reads < 4; ++reads) {
      const auto n = ::recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return teardown();
      }
      if (n == 0) return teardown();  // end of stream
      active_ = true;
      if (parser_.done()) continue;  // closing: the rest is read and dropped
      if (const auto code = parser_.feed(buffer.data(), static_cast<std::size_t>(n), *this)) {
        std::lock_guard lock(mutex_);
        begin_close_locked(code, parser_.error());
      }
      if (static_cast<std::size_t>(n) < buffer.size()) break;
    }
    if (!finished_) do_wait_read();
  }

  // frame_sink: on the strand, from parser_.feed.
  void on_text(std::string_view message) override {
    {
      std::lock_guard lock(mutex_);
      if (close_queued_) return;
    }
    if (handler_) handler_->on_text(message);
  }

  void on_ping(std::string_view payload) override {
    std::lock_guard lock(mutex_);
    if (!open_ || close_queued_) return;
    push_locked(ws::opcode::pong, payload.empty() ? nullptr : std::make_shared<const std::string>(payload));
    flush_locked();
  }

  void on_pong() override {}  // active_ is already set: any byte proves the peer alive

  void on_close(std::uint16_t code, std::string_view) override {
    std::lock_guard lock(mutex_);
    // Echo the peer's code (RFC 6455 5.5.1); the stream ends when our close is out and theirs in.
    begin_close_locked(code == ws::close_code::no_status ? ws::close_code::normal : code, "");
  }

  // Keepalive: a tick each ping interval. A silent peer gets a ping; silent for another interval,
  // it is dropped. While closing, the tick is the deadline for the peer's close.
  void arm_timer(std::chrono::seconds after) {
    if (finished_) return;
    timer_.expires_after(after);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->on_tick();
    });
  }

  void on_tick() {
    bool closing;
    {
      std::lock_guard lock(mutex_);
      closing = close_queued_;
    }
    if (closing) return teardown();
    if (active_) {
      active_ = false;
      ping_sent_ = false;
    } else if (!ping_sent_) {
      ping_sent_ = true;
      std::lock_guard lock(mutex_);
      push_locked(ws::opcode::ping, nullptr);
      flush_locked();
    } else {
      return teardown();  // no answer to the ping for a whole interval
    }
    arm_timer(std::chrono::seconds(options_.ping_interval_seconds));
  }

  // Ends the connection: socket closed, handler told once (it holds this session as its peer:
  // dropping it breaks the cycle).
  void teardown() {
    if (finished_) return;
    finished_ = true;
    {
      std::lock_guard lock(mutex_);
      open_ = false;
      fd_closed_ = true;  // no writer may touch the descriptor after this
      out_.clear();
      out_head_ = out_offset_ = queued_bytes_ = 0;
      beast::error_code ignored;
      socket_.close(ignored);
    }
    timer_.cancel();
    auto handler = std::move(handler_);
    if (handler) handler->on_close();
  }

  tcp::socket socket_;
  net::steady_timer timer_;
  std::shared_ptr<ws_handler> handler_;
  ws_options options_;
  metrics::registry* metrics_;
  ws_registry registry_;
  std::uint64_t registry_id_ = 0;
  ws::frame_parser parser_;       // strand
  const int fd_;
  bool registered_ = false;
  bool finished_ = false;         // strand
  bool active_ = false;           // strand: bytes arrived since the last tick
  bool ping_sent_ = false;        // strand

  std::mutex mutex_;              // guards everything below
  std::vector<out_frame> out_;    // [out_head_, end) still owed to the peer
  std::size_t out_head_ = 0;
  std::size_t out_offset_ = 0;    // bytes of out_[out_head_] already written
  std::size_t queued_bytes_ = 0;
  std::uint16_t close_code_ = 0;
  bool open_ = false;
  bool close_queued_ = false;     // our close frame is queued: nothing more is accepted
  bool close_written_ = false;
  bool write_blocked_ = false;    // the strand waits for the socket to take more
  bool write_failed_ = false;
  bool fd_closed_ = false;
};

}  // namespace

void start_websocket_session(beast::tcp_stream&& stream, beast::http::request<beast::http::string_body>&& upgrade,
                             std::shared_ptr<ws_handler> handler, const ws_options& options,
                             metrics::registry* metrics, ws_registry registry) {
  // Beast answers the upgrade (or refuses it with 400/426); then the socket leaves Beast's stream,
  // and with it Beast's buffers.
  stream.expires_after(std::chrono::seconds(10));
  auto ws = std::make_shared<websocket::stream<beast::tcp_stream>>(std::move(stream));
  auto& ref = *ws;
  auto req = std::make_shared<beast::http::request<beast::http::string_body>>(std::move(upgrade));
  ref.async_accept(*req, [ws = std::move(ws), req, handler = std::move(handler), options, metrics,
                          registry = std::move(registry)](beast::error_code ec) mutable {
    if (ec) return fail(ec, "accept");
    auto& lowest = beast::get_lowest_layer(*ws);
    lowest.expires_never();
    auto socket = lowest.release_socket();
    beast::error_code ignored;
    socket.non_blocking(true, ignored);
    // Frames are written whole and at once: Nagle would hold a frame back until the previous one
    // is acknowledged, which the peer's delayed ACK can stretch to 40 ms.
    socket.set_option(tcp::no_delay(true), ignored);
    std::make_shared<websocket_session>(std::move(socket), std::move(handler), options, metrics, std::move(registry))->run();
  });
}

}  // namespace cohort::http
