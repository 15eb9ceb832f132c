#include "gateway/http_session.hpp"

#include "gateway/beast_request.hpp"

#include "gateway/body_types.hpp"
#include "gateway/http_listener.hpp"
#include "gateway/websocket_session.hpp"
#include "metrics/metrics.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>

#include <sys/sendfile.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <filesystem>
#include <iostream>
#include <optional>

namespace cohort::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// Expected ends of a connection are not worth a log line.
void fail(beast::error_code ec, const char* what) {
  if (ec == net::error::operation_aborted || ec == beast::error::timeout || ec == net::error::eof ||
      ec == net::error::connection_reset || ec == bhttp::error::end_of_stream || ec == net::error::not_connected ||
      ec == net::error::broken_pipe)
    return;
  std::cerr << "cohort: http " << what << ": " << ec.message() << "\n";
}

verb to_verb(bhttp::verb v) {
  switch (v) {
    case bhttp::verb::get: return verb::get;
    case bhttp::verb::head: return verb::head;
    case bhttp::verb::post: return verb::post;
    case bhttp::verb::put: return verb::put;
    case bhttp::verb::patch: return verb::patch;
    case bhttp::verb::delete_: return verb::del;
    case bhttp::verb::options: return verb::options;
    default: return verb::other;
  }
}

// The lines every answer carries, in one list: set_headers adds them to Beast answers and
// own_header_lines writes them out once for prebuilt answers, so the two cannot drift apart.
struct header_line {
  std::string_view name, value;
};
constexpr header_line own_header_fields[] = {
    {"X-Content-Type-Options", "nosniff"},
    // Join and download URLs carry tokens: only the origin may travel to another site, while
    // same-origin requests keep their Origin header (no-referrer would make a browser send
    // "Origin: null" on a same-origin form post, which the CSRF checks refuse).
    {"Referrer-Policy", "strict-origin-when-cross-origin"},
};
constexpr header_line hsts_field{"Strict-Transport-Security", "max-age=31536000"};

std::string own_header_lines(bool hsts) {
  std::string lines;
  const auto add = [&](const header_line& h) { lines.append(h.name).append(": ").append(h.value).append("\r\n"); };
  for (const auto& h : own_header_fields) add(h);
  if (hsts) add(hsts_field);
  return lines;
}

// The same lines for prebuilt answers, written out once per process.
const std::string& own_header_block(bool hsts) {
  static const std::string with_hsts = own_header_lines(true), without_hsts = own_header_lines(false);
  return hsts ? with_hsts : without_hsts;
}

// The Beast side of http_session (see http_session.hpp).
class beast_http_session : public http_session, public std::enable_shared_from_this<beast_http_session> {
 public:
  beast_http_session(tcp::socket&& socket, std::shared_ptr<http_listener> server, std::uint64_t id,
                     std::shared_ptr<connection_slot> slot)
      : stream_(std::move(socket)),
        rate_timer_(stream_.get_executor()),
        send_deadline_(stream_.get_executor()),
        server_(std::move(server)),
        id_(id),
        slot_(std::move(slot)) {
    // Now, while connected: a peer that sent its last request and reset the connection has no
    // address any more by the time that request is handled.
    beast::error_code ec;
    peer_ = stream_.socket().remote_endpoint(ec);
  }

  ~beast_http_session() override { server_->forget_session(id_); }

  void run() override {
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&beast_http_session::do_read, shared_from_this()));
  }

  void shutdown() override {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      // Bytes already in the socket are a request the client finished sending: answer it too.
      beast::error_code ec;
      const bool arriving = self->stream_.socket().available(ec) > 0;
      // Cancel rather than close: the reactor may already have read a request whose handler is
      // queued behind this one; a cancel leaves that completion as it is, and the handler answers
      // it (do_read closes afterwards). A read still waiting ends with operation_aborted → close.
      if (!self->busy_ && !self->request_started_ && !arriving) self->stream_.cancel();
    });
  }

 private:
  // Waits for the first bytes of the next request: up to the keep-alive timeout on an idle
  // connection (the read timeout for a new one). Then all of the request must arrive within the
  // read timeout, so a client sending a byte a second is dropped.
  void do_read() {
    if (server_->stopping) return do_close();
    request_started_ = false;
    if (buffer_.size() > 0) return start_request();  // pipelined bytes already here
    stream_.expires_after(std::chrono::seconds(served_ ? server_->options.keepalive_timeout_seconds
                                                       : server_->options.read_timeout_seconds));
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->buffer_.commit(n);
      if (ec) return self->do_close();
      self->start_request();
    });
  }

  void start_request() {
    request_started_ = true;
    parser_.emplace();
    parser_->header_limit(server_->options.header_max_bytes);
    // No body limit while the header is read: the route's limit is known only afterwards, and the
    // router's precheck answers 413 after 404/401/403, in the order a client expects.
    parser_->body_limit(boost::none);
    stream_.expires_after(std::chrono::seconds(server_->options.read_timeout_seconds));
    bhttp::async_read_header(stream_, buffer_, *parser_, beast::bind_front_handler(&beast_http_session::on_header, shared_from_this()));
  }

  bool uploads_enabled() const { return !server_->options.upload_dir.empty(); }

  bool is_websocket_upgrade(const bhttp::request<bhttp::string_body>& msg) const {
    return server_->upgrade && boost::beast::websocket::is_upgrade(msg) && request_.segments.size() == 1 && request_.segments[0] == "ws";
  }

  // Everything the router needs from the header alone; false when the target is not a path.
  bool read_head(const bhttp::request<bhttp::string_body>& msg) {
    keep_alive_ = msg.keep_alive();
    head_ = msg.method() == bhttp::verb::head;
    upload_ = false;
    if (!read_request_head(msg, parser_->content_length(), request_)) return false;
    if (peer_.port() != 0) {
      request_.peer_address = peer_.address().to_string();
      request_.peer_port = peer_.port();
    }
    request_.remote_address = server_->proxies.client_address(request_.peer_address, all_values(msg, "X-Forwarded-For"),
                                                              all_values(msg, "Forwarded"));
    return true;
  }

  // A header sent on several lines counts as one comma-separated list (RFC 9110 5.3).
  static std::string all_values(const bhttp::request<bhttp::string_body>& msg, std::string_view name) {
    std::string out;
    for (auto [it, end] = msg.equal_range(name); it != end; ++it) {
      if (!out.empty()) out += ",";
      out += std::string(it->value());
    }
    return out;
  }

  // The header decides whether the request goes on: the router's precheck may answer now, before
  // a body byte is read (nothing is spooled, no 100 Continue is sent). Then the body is read into
  // memory (bounded by body_max_bytes) or, for an upload route, into a spool file.
  void on_header(beast::error_code ec, std::size_t) {
    if (ec) return on_read(ec, 0);
    const auto& msg = parser_->get();
    if (!read_head(msg)) return reply_and_close(error_response(400, "bad_request", "the request target is not a valid path"));
    const bool body_coming = !parser_->is_done();
    // Without a body to come, dispatch runs the same checks at once: checking twice would only
    // verify the token twice.
    if (body_coming && !is_websocket_upgrade(msg))
      if (auto early = server_->routes.precheck(request_, server_->route_limits())) return reply_and_close(std::move(*early));
    upload_ = body_coming && uploads_enabled() && server_->routes.takes_file(request_.method, request_.segments);
    if (upload_ && !upload_slot_.take(server_->uploads_in_flight, server_->options.uploads_max)) {
      if (server_->metrics) server_->metrics->http_uploads_refused.add();
      auto busy = error_response(503, "busy", "too many uploads at once; try again shortly");
      busy.headers.emplace_back("Retry-After", "10");
      return reply_and_close(std::move(busy));
    }
    if (beast::iequals(msg[bhttp::field::expect], "100-continue") && body_coming) return send_continue();
    read_body();
  }

  void send_continue() {
    static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
    net::async_write(stream_, net::buffer(interim.data(), interim.size()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->do_close();
      self->read_body();
    });
  }

  void read_body() {
    if (upload_) return start_upload();
    const auto limit = server_->options.body_max_bytes;
    if (parser_->content_length() && *parser_->content_length() > limit) return on_read(bhttp::error::body_limit, 0);
    parser_->body_limit(limit);
    bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&beast_http_session::on_read, shared_from_this()));
  }

  void start_upload() {
    static std::atomic<std::uint64_t> counter{0};
    spool_.assign((std::filesystem::path(server_->options.upload_dir) /
                   ("upload-" + std::to_string(id_) + "-" + std::to_string(counter++))).string());
    upload_parser_.emplace(std::move(*parser_));
    parser_.reset();
    upload_parser_->body_limit(server_->options.upload_max_bytes);
    beast::error_code ec;
    upload_parser_->get().body().open(spool_.path().c_str(), beast::file_mode::write, ec);
    if (ec) {
      std::cerr << "cohort: cannot spool an upload to " << spool_.path() << ": " << ec.message() << "\n";
      return reply_and_close(error_response(500, "internal", "cannot store the upload"));
    }
    upload_bytes_ = 0;
    if (server_->options.upload_min_bytes_per_second > 0) watch_upload_rate(0);
    do_upload_read();
  }

  // Each read has the read timeout (a long upload has no overall deadline), and every window the
  // bytes that arrived in it must average the minimum rate, so trickling a byte now and then
  // cannot hold an upload (and its spool file and slot) open.
  void watch_upload_rate(std::uint64_t bytes_at_window_start) {
    const auto window = std::max(1, server_->options.upload_rate_window_seconds);
    rate_timer_.expires_after(std::chrono::seconds(window));
    rate_timer_.async_wait([self = shared_from_this(), bytes_at_window_start, window](beast::error_code ec) {
      if (ec || !self->upload_parser_ || self->upload_parser_->is_done()) return;
      const auto arrived = self->upload_bytes_ - bytes_at_window_start;
      if (arrived < self->server_->options.upload_min_bytes_per_second * static_cast<std::uint64_t>(window)) {
        if (self->server_->metrics) self->server_->metrics->http_uploads_too_slow.add();
        self->too_slow_ = true;
        self->stream_.cancel();  // the pending read ends with operation_aborted and answers 408
        return;
      }
      self->watch_upload_rate(self->upload_bytes_);
    });
  }

  void do_upload_read() {
    stream_.expires_after(std::chrono::seconds(server_->options.read_timeout_seconds));
    bhttp::async_read_some(stream_, buffer_, *upload_parser_, [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->upload_bytes_ += n;
      // Checked whatever the read's outcome: a byte may have completed the read just before the
      // rate timer's cancel, and the next read would otherwise go on at the crawling rate.
      if (self->too_slow_)
        return self->reply_and_close(error_response(
            408, "too_slow",
            "the upload arrived slower than " + std::to_string(self->server_->options.upload_min_bytes_per_second) + " bytes per second"));
      if (ec) return self->on_read(ec, 0);
      if (!self->upload_parser_->is_done()) return self->do_upload_read();
      self->upload_parser_->get().body().close();
      self->on_read(ec, 0);
    });
  }

  void on_read(beast::error_code ec, std::size_t) {
    rate_timer_.cancel();  // the body is in, or the read ended: the rate check must not cut the answer
    if (ec == bhttp::error::body_limit)
      return reply_and_close(error_response(
          413, "payload_too_large",
          "the body is larger than " +
              std::to_string(upload_parser_ ? server_->options.upload_max_bytes : server_->options.body_max_bytes) + " bytes"));
    if (ec == bhttp::error::header_limit)
      return reply_and_close(error_response(431, "headers_too_large", "the request headers are too large"));
    // The spool file could not grow: the data directory is full. The partial spool goes in on_write.
    if (upload_parser_ && ec == boost::system::errc::no_space_on_device)
      return reply_and_close(error_response(507, "storage_full", "the server has no disk space left to store this upload; try again later"));
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == net::error::operation_aborted ||
        ec == net::error::eof || ec == net::error::connection_reset)
      return do_close();
    if (ec) {
      // Anything else is a malformed request; answer once and hang up, as the stream is out of sync.
      return reply_and_close(error_response(400, "bad_request", "malformed HTTP request: " + ec.message()));
    }
    on_request();
  }

  void on_request() {
    if (upload_parser_) return on_request(upload_parser_->get());
    on_request(parser_->get());
  }

  // The header fields are in request_ since on_header; the body joins them here.
  template <class Body>
  void on_request(bhttp::request<Body>& msg) {
    if constexpr (std::is_same_v<Body, bhttp::string_body>) {
      request_.body = std::move(msg.body());
      if (is_websocket_upgrade(msg)) return on_upgrade();
    } else {
      request_.body_file = spool_.path();
    }
    busy_ = true;
    // The router may answer later from another thread; come back to this strand to write (an
    // answer given at once, on this strand, is written at once: the write completes later anyway).
    server_->routes.dispatch(request_, [self = shared_from_this()](response r) {
      net::dispatch(self->stream_.get_executor(), [self, r = std::move(r)]() mutable { self->do_write(std::move(r)); });
    });
  }

  // The upgrade handler refuses with an HTTP answer, or takes the connection: the stream moves to
  // a websocket_session and this http_session ends.
  void on_upgrade() {
    upgrade_result result;
    try {
      result = server_->upgrade(request_);
    } catch (...) {
      // A refusal thrown from a store (e.g. a cancelled registration) answers as a route would.
      result.refuse = error_from(std::current_exception(), "websocket upgrade");
    }
    if (result.refuse || !result.accept) {
      keep_alive_ = false;
      return do_write(result.refuse ? std::move(*result.refuse) : error_response(500, "internal", "internal error"));
    }
    const auto& o = server_->options;
    start_websocket_session(std::move(stream_), parser_->release(), std::move(result.accept),
                            ws_options{o.ws_queue_max_bytes, o.ws_message_max_bytes, o.ws_ping_interval_seconds},
                            server_->metrics, server_->websocket_registry(slot_));
  }

  // For a request we stop reading midway (refused at header time, too large, malformed): the
  // client may still be sending, and closing with unread bytes would reset the connection before
  // it reads our answer.
  void reply_and_close(response r) {
    rate_timer_.cancel();
    keep_alive_ = false;
    head_ = false;
    linger_ = true;
    busy_ = true;
    do_write(std::move(r));
  }
  // Half-close, then discard what the client still sends (bounded in time and bytes), then close.
  void do_linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(2));
    do_drain(0);
  }

  void do_drain(std::size_t drained) {
    buffer_.consume(buffer_.size());
    if (drained > 1024 * 1024) return do_close();
    stream_.async_read_some(buffer_.prepare(16 * 1024), [self = shared_from_this(), drained](beast::error_code ec, std::size_t n) {
      if (ec) return self->do_close();
      self->do_drain(drained + n);
    });
  }

  template <class Body>
  void set_headers(bhttp::response<Body>& res, response& r) {
    if (!r.content_type.empty()) res.set(bhttp::field::content_type, r.content_type);
    for (const auto& h : own_header_fields) res.set(h.name, h.value);
    if (server_->options.hsts) res.set(hsts_field.name, hsts_field.value);
    bool has_cache_control = false;
    for (auto& [name, value] : r.headers) {
      has_cache_control = has_cache_control || beast::iequals(name, "Cache-Control");
      res.set(name, value);
    }
    if (!has_cache_control) res.set(bhttp::field::cache_control, "no-store");
    res.keep_alive(keep_alive_ && !r.close && !server_->stopping);
  }

  void do_write(response r) {
    if (r.prebuilt_headers && r.shared_body) return do_write_prebuilt(std::move(r));
    if (r.file && !head_) return do_write_file(std::move(r));
    if (r.shared_body && !head_) {
      auto res = std::make_shared<bhttp::response<shared_string_body>>(static_cast<bhttp::status>(r.status), 11);
      set_headers(*res, r);
      res->body() = r.shared_body;
      res->content_length(r.shared_body->size());
      return send(std::move(res));
    }
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(r.status), 11);
    set_headers(*res, r);
    if (head_) {
      res->content_length(r.file ? r.file->length : r.shared_body ? r.shared_body->size() : r.body.size());
    } else {
      res->body() = std::move(r.body);
      res->prepare_payload();
    }
    send(std::move(res));
  }

  // Status line, the server's own lines, the answer's prebuilt lines and the shared body go out in
  // one gather write: nothing is formatted per answer but the status line, nothing copied but
  // the few hundred header bytes into a buffer the session reuses.
  void do_write_prebuilt(response r) {
    const bool keep_alive = keep_alive_ && !r.close && !server_->stopping;
    const auto status = static_cast<bhttp::status>(r.status);
    head_bytes_.clear();
    head_bytes_.append("HTTP/1.1 ").append(std::to_string(r.status)).append(" ");
    head_bytes_.append(bhttp::obsolete_reason(status)).append("\r\n");
    head_bytes_.append(own_header_block(server_->options.hsts)).append(*r.prebuilt_headers);
    if (!keep_alive) head_bytes_.append("Connection: close\r\n");
    head_bytes_.append("\r\n");
    if (r.body_fd && !head_) {
      // A whole-answer deadline, as async_write has below; it cancels the wait for the socket.
      send_deadline_.expires_after(std::chrono::seconds(server_->options.read_timeout_seconds));
      send_deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec) self->stream_.socket().cancel();
      });
      return send_with_file(std::move(r.body_fd), 0, 0, r.shared_body->size(), keep_alive);
    }
    const std::array<net::const_buffer, 2> buffers{net::buffer(head_bytes_),
                                                   head_ ? net::const_buffer() : net::buffer(*r.shared_body)};
    stream_.expires_after(std::chrono::seconds(server_->options.read_timeout_seconds));
    net::async_write(stream_, buffers, [self = shared_from_this(), body = std::move(r.shared_body), keep_alive](
                                           beast::error_code ec, std::size_t) { self->on_write(ec, keep_alive); });
  }

  // The header from head_bytes_, then the body with sendfile: the kernel sends the file's pages
  // without copying them. The header goes with MSG_MORE so it leaves with the body's first bytes.
  // Runs until the socket is full, then waits until it is writable again. (The socket is
  // non-blocking: Asio made it so for the request's reads.)
  void send_with_file(std::shared_ptr<const owned_fd> file, std::size_t head_sent, std::uint64_t offset, std::uint64_t end,
                      bool keep_alive) {
    const int socket = stream_.socket().native_handle();
    for (;;) {
      ssize_t n = 0;
      if (head_sent < head_bytes_.size()) {
        n = ::send(socket, head_bytes_.data() + head_sent, head_bytes_.size() - head_sent, MSG_MORE | MSG_NOSIGNAL);
        if (n > 0) head_sent += static_cast<std::size_t>(n);
      } else if (offset < end) {
        auto at = static_cast<off_t>(offset);
        n = ::sendfile(socket, file->fd, &at, static_cast<std::size_t>(end - offset));
        if (n > 0) offset += static_cast<std::uint64_t>(n);
        if (n == 0) errno = EIO;  // the file is sealed: it cannot have shrunk
      } else {
        return finish_file_send({}, keep_alive);
      }
      if (n > 0) continue;
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        stream_.socket().async_wait(tcp::socket::wait_write, [self = shared_from_this(), file = std::move(file), head_sent, offset,
                                                              end, keep_alive](beast::error_code ec) mutable {
          if (ec) return self->finish_file_send(ec, keep_alive);
          self->send_with_file(std::move(file), head_sent, offset, end, keep_alive);
        });
        return;
      }
      return finish_file_send(beast::error_code(errno, boost::system::system_category()), keep_alive);
    }
  }

  // Always through the strand's queue: the send may have finished inside the handler's call.
  void finish_file_send(beast::error_code ec, bool keep_alive) {
    send_deadline_.cancel();
    net::post(stream_.get_executor(), [self = shared_from_this(), ec, keep_alive] { self->on_write(ec, keep_alive); });
  }

  void do_write_file(response r) {
    auto res = std::make_shared<bhttp::response<file_range_body>>(static_cast<bhttp::status>(r.status), 11);
    beast::error_code ec;
    res->body().file.open(r.file->path.c_str(), beast::file_mode::scan, ec);
    if (ec) {
      std::cerr << "cohort: cannot open " << r.file->path << ": " << ec.message() << "\n";
      return do_write(error_response(404, "not_found", "the file is missing"));
    }
    res->body().offset = r.file->offset;
    res->body().length = r.file->length;
    set_headers(*res, r);
    res->content_length(r.file->length);
    // A large download may take long; the deadline covers each write, not the whole body.
    send(std::move(res), std::chrono::seconds(std::max(server_->options.read_timeout_seconds, 300)));
  }

  template <class Message>
  void send(std::shared_ptr<Message> res, std::chrono::seconds deadline = std::chrono::seconds(0)) {
    stream_.expires_after(deadline.count() > 0 ? deadline : std::chrono::seconds(server_->options.read_timeout_seconds));
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res](beast::error_code ec, std::size_t) { self->on_write(ec, res->keep_alive()); });
  }

  void on_write(beast::error_code ec, bool keep_alive) {
    busy_ = false;
    served_ = true;
    upload_parser_.reset();
    spool_.remove();  // the handler moved the upload away, or it goes now
    upload_slot_.release();
    if (ec) {
      fail(ec, "write");
      return do_close();
    }
    if (linger_) return do_linger();
    if (!keep_alive) return do_close();
    do_read();
  }

  void do_close() {
    rate_timer_.cancel();
    send_deadline_.cancel();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.cancel();
    stream_.close();
  }

  beast::tcp_stream stream_;
  net::steady_timer rate_timer_;     // the upload rate check
  net::steady_timer send_deadline_;  // the whole-answer deadline of a sendfile answer
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  spool_file spool_;  // before upload_parser_, so the file is closed before it is removed
  std::optional<bhttp::request_parser<bhttp::file_body>> upload_parser_;
  upload_slot upload_slot_;
  std::uint64_t upload_bytes_ = 0;  // of the current upload's body
  std::shared_ptr<http_listener> server_;
  std::uint64_t id_;
  tcp::endpoint peer_;  // the peer, read at accept
  std::shared_ptr<connection_slot> slot_;
  request request_;
  std::string head_bytes_;  // the header of a prebuilt answer, while it is written
  bool keep_alive_ = false;
  bool head_ = false;
  bool busy_ = false;
  bool request_started_ = false;  // bytes of a request have arrived
  bool served_ = false;           // answered at least one request
  bool linger_ = false;           // drain the client's unread bytes before closing
  bool upload_ = false;           // this request's body goes to a spool file
  bool too_slow_ = false;         // the upload rate check cancelled the read
};

}  // namespace

bool read_request_head(const bhttp::request<bhttp::string_body>& msg, boost::optional<std::uint64_t> content_length, request& out) {
  out = request{};
  out.method = to_verb(msg.method());
  auto url = boost::urls::parse_origin_form(msg.target());
  if (!url) return false;
  out.path = std::string(url->encoded_path());
  out.target = std::string(msg.target());
  for (auto seg : url->segments()) out.segments.emplace_back(seg);
  for (auto param : url->params()) out.query.emplace_back(param.key, param.value);
  out.content_type = std::string(msg[bhttp::field::content_type]);
  out.authorization = std::string(msg[bhttp::field::authorization]);
  out.body_framed = msg.has_content_length() || msg.chunked();
  if (content_length) out.content_length = *content_length;
  out.origin = std::string(msg[bhttp::field::origin]);
  out.range = std::string(msg[bhttp::field::range]);
  out.if_none_match = std::string(msg[bhttp::field::if_none_match]);
  out.cookie = std::string(msg[bhttp::field::cookie]);
  return true;
}

std::shared_ptr<http_session> make_http_session(tcp::socket&& socket, std::shared_ptr<http_listener> server, std::uint64_t id,
                                                std::shared_ptr<connection_slot> slot) {
  return std::make_shared<beast_http_session>(std::move(socket), std::move(server), id, std::move(slot));
}

}  // namespace cohort::http
