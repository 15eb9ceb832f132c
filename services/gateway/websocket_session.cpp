#include "gateway/websocket_session.hpp"

#include "metrics/metrics.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <iostream>

namespace cohort::http {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace websocket = boost::beast::websocket;

namespace {

// Quiet about normal ends and about clients breaking the protocol (too big, bad UTF-8, bad
// frames): Beast already answered those with the right close code; they are not server faults.
void fail(beast::error_code ec, const char* what) {
  if (ec == net::error::operation_aborted || ec == beast::error::timeout || ec == net::error::eof ||
      ec == net::error::connection_reset || ec == net::error::broken_pipe ||
      ec.category() == beast::error_code(websocket::error::closed).category())
    return;
  std::cerr << "cohort: websocket " << what << ": " << ec.message() << "\n";
}

class websocket_session : public ws_peer, public std::enable_shared_from_this<websocket_session> {
 public:
  websocket_session(beast::tcp_stream&& stream, std::shared_ptr<ws_handler> handler, const ws_options& options,
                    metrics::registry* metrics, ws_registry registry)
      : ws_(std::move(stream)), handler_(std::move(handler)), options_(options), metrics_(metrics),
        registry_(std::move(registry)) {}

  ~websocket_session() override {
    if (registered_) registry_.remove(registry_id_);
    if (metrics_) metrics_->ws_open.fetch_sub(1, std::memory_order_relaxed);
  }

  void run(beast::http::request<beast::http::string_body>&& upgrade) {
    if (metrics_) metrics_->ws_open.fetch_add(1, std::memory_order_relaxed);
    registry_id_ = registry_.add(weak_from_this());
    registered_ = true;
    beast::get_lowest_layer(ws_).expires_never();  // the websocket timeouts below take over
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(10);
    timeouts.idle_timeout = std::chrono::seconds(2 * options_.ping_interval_seconds);
    timeouts.keep_alive_pings = true;  // ping after half the idle time, close if still silent
    ws_.set_option(timeouts);
    ws_.read_message_max(options_.message_max_bytes);
    ws_.auto_fragment(false);
    ws_.async_accept(upgrade, beast::bind_front_handler(&websocket_session::on_accept, shared_from_this()));
  }

  void send(std::shared_ptr<const std::string> frame) override {
    net::post(ws_.get_executor(), [self = shared_from_this(), frame = std::move(frame)]() mutable {
      self->enqueue(std::move(frame));
    });
  }

  void close(std::uint16_t code, std::string reason) override {
    net::post(ws_.get_executor(), [self = shared_from_this(), code, reason = std::move(reason)] {
      self->begin_close(code, reason);
    });
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) {
      fail(ec, "accept");
      return finish();
    }
    open_ = true;
    handler_->on_open(shared_from_this());
    do_read();
  }

  void do_read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&websocket_session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) {
      // Beast already answered protocol errors with their close code (1007 bad UTF-8, 1009 too big).
      fail(ec, "read");
      return finish();
    }
    if (!ws_.got_text()) {
      buffer_.consume(buffer_.size());
      return begin_close(websocket::close_code::unknown_data, "binary frames are not supported");
    }
    const auto data = buffer_.cdata();
    if (handler_) handler_->on_text(std::string_view(static_cast<const char*>(data.data()), data.size()));
    buffer_.consume(buffer_.size());
    if (!closing_) do_read();
  }

  void enqueue(std::shared_ptr<const std::string> frame) {
    if (!open_ || closing_) return;
    if (queued_bytes_ + frame->size() > options_.queue_max_bytes) {
      // A consumer this far behind would only fall further behind: cut it loose, count it.
      if (metrics_) metrics_->ws_slow_consumer_closes.add();
      return begin_close(websocket::close_code::policy_error, "too slow: outgoing queue full");
    }
    queued_bytes_ += frame->size();
    queue_.push_back(std::move(frame));
    if (!writing_) do_write();
  }

  void do_write() {
    // The frame being written is held apart from the queue, so clearing the queue on close
    // never frees bytes Beast is still sending.
    in_flight_ = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= in_flight_->size();
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(*in_flight_), beast::bind_front_handler(&websocket_session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    writing_ = false;
    in_flight_.reset();
    if (ec) {
      fail(ec, "write");
      return finish();
    }
    if (metrics_) metrics_->ws_frames_sent.add();
    if (close_pending_) return do_close();
    if (!queue_.empty() && !closing_) do_write();
  }

  void begin_close(std::uint16_t code, const std::string& reason) {
    if (closing_ || !open_) return;
    closing_ = true;
    close_reason_ = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
    queue_.clear();
    queued_bytes_ = 0;
    if (writing_) {
      close_pending_ = true;  // one write operation at a time: close after the current frame
      return;
    }
    do_close();
  }

  void do_close() {
    close_pending_ = false;
    ws_.async_close(close_reason_, [self = shared_from_this()](beast::error_code ec) {
      if (ec) fail(ec, "close");
      self->finish();
    });
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    open_ = false;
    queue_.clear();
    // The handler holds this session as its peer: dropping it here breaks the cycle.
    auto handler = std::move(handler_);
    if (handler) handler->on_close();
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::shared_ptr<ws_handler> handler_;
  ws_options options_;
  metrics::registry* metrics_;
  ws_registry registry_;
  std::uint64_t registry_id_ = 0;
  bool registered_ = false;
  std::deque<std::shared_ptr<const std::string>> queue_;
  std::shared_ptr<const std::string> in_flight_;
  std::size_t queued_bytes_ = 0;  // bytes waiting in queue_, not counting in_flight_
  websocket::close_reason close_reason_;
  bool open_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool close_pending_ = false;
  bool finished_ = false;
};

}  // namespace

void start_websocket_session(beast::tcp_stream&& stream, beast::http::request<beast::http::string_body>&& upgrade,
                             std::shared_ptr<ws_handler> handler, const ws_options& options,
                             metrics::registry* metrics, ws_registry registry) {
  std::make_shared<websocket_session>(std::move(stream), std::move(handler), options, metrics, std::move(registry))
      ->run(std::move(upgrade));
}

}  // namespace cohort::http
