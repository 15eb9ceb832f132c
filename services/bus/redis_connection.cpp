#include "bus/redis_connection.hpp"

#include <hiredis/async.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>

#include <pthread.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <csignal>
#include <ctime>
#include <string_view>
#include <utility>

namespace cohort::bus {

namespace net = boost::asio;

namespace {

// hiredis 0.14 writes with write(2), not send(MSG_NOSIGNAL): a write to a socket the peer reset
// while it sat in CLOSE_WAIT raises SIGPIPE, whose default action ends the process. hiredis
// disconnects on the first failed read or write, so that takes a narrow race, but when the
// program has not ignored SIGPIPE we block it on this thread around the write and swallow the
// one the write raised (as libpq does).
bool sigpipe_ignored() {
  struct sigaction current {};
  return sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_IGN;
}

class sigpipe_guard {
 public:
  sigpipe_guard() {
    sigemptyset(&sigpipe_);
    sigaddset(&sigpipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sigpipe_, &previous_);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~sigpipe_guard() {
    sigset_t pending;
    sigpending(&pending);
    if (!was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
      const timespec no_wait{};
      sigtimedwait(&sigpipe_, nullptr, &no_wait);
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  sigpipe_guard(const sigpipe_guard&) = delete;
  sigpipe_guard& operator=(const sigpipe_guard&) = delete;

 private:
  sigset_t sigpipe_{};
  sigset_t previous_{};
  bool was_pending_ = false;
};

// hiredis' five ev hooks over a stream_descriptor on the connection's executor. hiredis holds it
// through ev.data from attach() until its cleanup hook; each wait in flight holds a shared_ptr,
// so a completion that arrives after cleanup finds the object alive and just returns.
// Interest is persistent (as in hiredis' libuv adapter): after a completion we wait again until
// hiredis calls delRead/delWrite; there is never more than one wait per direction.
class socket_events : public std::enable_shared_from_this<socket_events> {
 public:
  using ended_hook = void (*)(redisAsyncContext*);

  socket_events(const net::any_io_executor& executor, redisAsyncContext* context, ended_hook ended)
      : descriptor_(executor), context_(context), ended_(ended), guard_writes_(!sigpipe_ignored()) {}

  // Installs the hooks on a context that has none yet; on error nothing is installed.
  static boost::system::error_code attach(const net::any_io_executor& executor, redisAsyncContext* context,
                                          ended_hook ended) {
    auto events = std::make_shared<socket_events>(executor, context, ended);
    boost::system::error_code ec;
    events->descriptor_.assign(context->c.fd, ec);
    if (ec) return ec;
    events->self_ = events;
    context->ev.data = events.get();
    context->ev.addRead = [](void* data) { static_cast<socket_events*>(data)->add(read); };
    context->ev.delRead = [](void* data) { static_cast<socket_events*>(data)->del(read); };
    context->ev.addWrite = [](void* data) { static_cast<socket_events*>(data)->add(write); };
    context->ev.delWrite = [](void* data) { static_cast<socket_events*>(data)->del(write); };
    context->ev.cleanup = [](void* data) { static_cast<socket_events*>(data)->cleanup(); };
    return ec;
  }

 private:
  enum direction { read = 0, write = 1 };
  struct interest {
    bool wanted = false;
    bool waiting = false;
  };

  void add(direction d) {
    interest_[d].wanted = true;
    arm(d);
  }

  // A wait already in flight cannot be cancelled for one direction only; it is ignored on completion.
  void del(direction d) { interest_[d].wanted = false; }

  void arm(direction d) {
    auto& side = interest_[d];
    if (side.waiting || !side.wanted || !context_) return;
    side.waiting = true;
    descriptor_.async_wait(
        d == read ? net::posix::stream_descriptor::wait_read : net::posix::stream_descriptor::wait_write,
        [self = shared_from_this(), d](const boost::system::error_code& ec) { self->on_wait(d, ec); });
  }

  void on_wait(direction d, const boost::system::error_code& ec) {
    interest_[d].waiting = false;
    if (ec == net::error::operation_aborted || !context_ || !interest_[d].wanted) return;
    // Other errors are reported as readiness: hiredis' read or write then fails and tears down.
    if (d == read) {
      redisAsyncHandleRead(context_);
    } else if (guard_writes_) {
      sigpipe_guard guard;
      redisAsyncHandleWrite(context_);
    } else {
      redisAsyncHandleWrite(context_);
    }
    arm(d);  // no-op if hiredis re-armed already, dropped interest, or freed the context
  }

  // Called by hiredis while it frees the context, before it closes the fd.
  void cleanup() {
    auto keep = std::move(self_);  // may be the last reference: *this lives to the end of this function
    redisAsyncContext* context = std::exchange(context_, nullptr);
    if (!context) return;
    interest_ = {};
    boost::system::error_code ignored;
    descriptor_.cancel(ignored);
    descriptor_.release();  // hiredis closes the fd itself, right after this hook
    ended_(context);
  }

  net::posix::stream_descriptor descriptor_;
  redisAsyncContext* context_;
  ended_hook ended_;
  bool guard_writes_;
  std::array<interest, 2> interest_{};
  std::shared_ptr<socket_events> self_;
};

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

// Commands command() refuses: pub/sub changes how hiredis 0.14 routes every later reply (and
// stores our handler in its channel table, where it would run more than once), MONITOR re-queues
// its callback forever, and HELLO 3 switches to RESP3, which hiredis 0.14 cannot parse.
bool refused_command(std::string_view name) {
  static constexpr std::array<std::string_view, 8> refused = {
      "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe", "monitor", "hello"};
  return std::any_of(refused.begin(), refused.end(), [&](std::string_view r) { return iequals(r, name); });
}

// redisAsyncCommandArgv over std::strings, with their lengths (binary-safe).
int send_argv(redisAsyncContext* context, redisCallbackFn* fn, void* privdata, const std::vector<std::string>& argv) {
  if (argv.empty() || argv.size() > static_cast<std::size_t>(INT_MAX)) return REDIS_ERR;
  std::vector<const char*> args;
  std::vector<std::size_t> lengths;
  args.reserve(argv.size());
  lengths.reserve(argv.size());
  for (const auto& arg : argv) {
    args.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  return redisAsyncCommandArgv(context, fn, privdata, static_cast<int>(argv.size()), args.data(), lengths.data());
}

}  // namespace

// The C callbacks. hiredis finds this object through context->data, which is cleared before the
// object dies, so a callback that arrives later only frees what it carries. Each holds a
// shared_ptr while it runs: a handler that drops the last reference destroys the object only
// after the callback returns, still inside hiredis, where redisAsyncFree() defers the free.
struct redis_connection::hiredis_callbacks {
  static std::shared_ptr<redis_connection> owner(const redisAsyncContext* context) {
    auto* self = static_cast<redis_connection*>(context->data);
    return self ? self->weak_from_this().lock() : nullptr;
  }

  // privdata is the heap reply_handler submit() released; hiredis calls this exactly once for it.
  static void on_reply(redisAsyncContext* context, void* reply, void* privdata) noexcept {
    std::unique_ptr<reply_handler> handler(static_cast<reply_handler*>(privdata));
    auto self = owner(context);
    if (!self) return;
    if (!reply) self->context_failing(context);
    if (*handler) (*handler)(static_cast<const redisReply*>(reply));
  }

  // Registered for every subscribed channel (no privdata): confirmations and messages.
  static void on_pubsub(redisAsyncContext* context, void* reply, void*) noexcept {
    auto self = owner(context);
    if (!self) return;
    if (!reply) {
      self->context_failing(context);
      return;
    }
    if (context == self->current_) self->on_pubsub(static_cast<const redisReply*>(reply));
  }

  // Only the failure matters: success is signalled by the handshake replies. hiredis frees the
  // context right after this returns, so no user code runs here.
  static void on_connect(const redisAsyncContext* context, int status) noexcept {
    if (status == REDIS_OK) return;
    auto self = owner(context);
    if (!self || context != self->current_) return;
    self->connect_failed_ = true;
    self->context_failing(self->current_);
  }

  // The cleanup hook: hiredis is about to free the context and call nothing more on it.
  static void on_ended(redisAsyncContext* context) noexcept {
    if (auto self = owner(context)) self->context_ended(context);
  }
};

void redis_connection::context_free::operator()(redisAsyncContext* context) const noexcept {
  context->data = nullptr;  // pending handlers are dropped without being called
  redisAsyncFree(context);
}

std::shared_ptr<redis_connection> redis_connection::create(net::any_io_executor executor, redis_endpoint endpoint) {
  return std::make_shared<redis_connection>(private_tag{}, std::move(executor), std::move(endpoint));
}

redis_connection::redis_connection(private_tag, net::any_io_executor executor, redis_endpoint endpoint)
    : executor_(std::move(executor)), endpoint_(std::move(endpoint)), resolver_(executor_) {}

redis_connection::~redis_connection() {
  // Contexts hiredis is still freeing (close() from inside a callback) must not reach us either;
  // context_ itself, if still ours, is detached and freed by context_free.
  for (auto* context : attached_) context->data = nullptr;
}

bool redis_connection::connected() const { return state_ == state::ready; }

void redis_connection::connect(std::function<void(bool, const std::string&)> on_ready,
                               std::function<void(const std::string&)> on_lost) {
  if (state_ != state::idle) {
    net::post(executor_, [weak = weak_from_this(), on_ready = std::move(on_ready)] {
      if (auto self = weak.lock(); self && on_ready)
        on_ready(false, "redis: connect() called while a connection is active");
    });
    return;
  }
  const auto attempt = ++attempt_;
  on_ready_ = std::move(on_ready);
  on_lost_ = std::move(on_lost);
  subscriber_ = false;
  channels_.clear();
  pending_subscribes_.clear();
  addresses_.clear();
  next_address_ = 0;
  last_error_.clear();
  state_ = state::resolving;

  boost::system::error_code not_an_ip;
  const auto address = net::ip::make_address(endpoint_.host, not_an_ip);
  if (endpoint_.port < 1 || endpoint_.port > 65535) {
    last_error_ = where() + ": the port must be 1..65535";
  } else if (!not_an_ip) {
    addresses_.emplace_back(address, static_cast<unsigned short>(endpoint_.port));
  } else {
    resolver_.async_resolve(endpoint_.host, std::to_string(endpoint_.port),
                            [weak = weak_from_this(), attempt](const boost::system::error_code& ec,
                                                               const net::ip::tcp::resolver::results_type& results) {
                              auto self = weak.lock();
                              if (self && self->attempt_ == attempt) self->on_resolved(ec, results);
                            });
    return;
  }
  // Even an IP address is connected to from the executor, so on_ready never runs inside connect().
  net::post(executor_, [weak = weak_from_this(), attempt] {
    auto self = weak.lock();
    if (self && self->attempt_ == attempt) self->try_next_address();
  });
}

void redis_connection::on_resolved(const boost::system::error_code& ec,
                                   const net::ip::tcp::resolver::results_type& results) {
  if (ec) {
    last_error_ = where() + ": cannot resolve the host: " + ec.message();
  } else {
    for (const auto& entry : results) addresses_.push_back(entry.endpoint());
  }
  try_next_address();
}

void redis_connection::try_next_address() {
  while (next_address_ < addresses_.size()) {
    const auto address = addresses_[next_address_++];
    const std::string ip = address.address().to_string();
    std::unique_ptr<redisAsyncContext, context_free> context(redisAsyncConnect(ip.c_str(), address.port()));
    if (!context) {
      last_error_ = where() + ": out of memory";
      continue;
    }
    if (context->err) {  // failed at once, e.g. a refused connect on loopback
      last_error_ = where() + " (" + ip + "): " + context->errstr;
      continue;
    }
    if (const auto ec = socket_events::attach(executor_, context.get(), &hiredis_callbacks::on_ended)) {
      last_error_ = where() + ": cannot watch the socket: " + ec.message();
      continue;
    }
    context->data = this;
    current_ = context.get();
    attached_.push_back(current_);
    context_ = std::move(context);
    connect_failed_ = false;
    state_ = state::connecting;
    redisAsyncSetConnectCallback(current_, &hiredis_callbacks::on_connect);  // waits for writability
    send_handshake(current_);
    return;
  }
  state_ = state::idle;
  report_ready(false, last_error_.empty() ? where() + ": no address to connect to" : last_error_);
}

// Queued before the TCP connect completes; hiredis sends it first. A PING when there is neither
// AUTH nor SELECT, so that on_ready(true) always means Redis itself answered.
void redis_connection::send_handshake(redisAsyncContext* context) {
  std::vector<std::pair<const char*, std::vector<std::string>>> steps;
  if (!endpoint_.password.empty()) steps.push_back({"AUTH", {"AUTH", endpoint_.password}});
  if (endpoint_.db != 0) steps.push_back({"SELECT", {"SELECT", std::to_string(endpoint_.db)}});
  if (steps.empty()) steps.push_back({"PING", {"PING"}});
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const char* what = steps[i].first;
    const bool last = i + 1 == steps.size();
    reply_handler handler = [this, context, what, last](const redisReply* reply) {
      on_handshake_reply(context, reply, what, last);
    };
    if (!submit(context, steps[i].second, handler)) {
      fail_current(where() + ": cannot queue " + what);
      return;
    }
  }
}

void redis_connection::on_handshake_reply(redisAsyncContext* context, const redisReply* reply, const char* what,
                                          bool last) {
  if (!reply || context != current_) return;  // a dying context is reported by context_ended()
  if (reply->type == REDIS_REPLY_ERROR) {
    fail_current(where() + ": " + what + " failed: " + std::string(reply->str, reply->len));
    return;
  }
  if (last) {
    state_ = state::ready;
    report_ready(true, {});
  }
}

// Gives up the current context (handshake refused): on_ready(false), no on_lost.
void redis_connection::fail_current(const std::string& error) {
  state_ = state::idle;
  current_ = nullptr;
  if (auto* context = context_.release()) redisAsyncFree(context);
  report_ready(false, error);
}

// hiredis started freeing the context (failed connect, I/O error, our redisAsyncFree): it is no
// longer ours to free, and if it is the current one, the connection is no longer usable.
void redis_connection::context_failing(redisAsyncContext* context) {
  if (context_.get() == context) (void)context_.release();
  if (context == current_) state_ = state::ending;
}

void redis_connection::context_ended(redisAsyncContext* context) {
  std::erase(attached_, context);
  context->data = nullptr;
  if (context_.get() == context) (void)context_.release();
  if (context != current_) return;  // closed or abandoned: nothing to report
  current_ = nullptr;
  const std::string error = where() + ": " + (context->c.err ? context->c.errstr : "connection closed");
  subscriber_ = false;
  channels_.clear();
  pending_subscribes_.clear();
  if (connect_failed_ && next_address_ < addresses_.size()) {
    last_error_ = error;
    try_next_address();  // a fresh context; this one's fd is still open, so it gets another fd
    return;
  }
  state_ = state::idle;
  if (on_ready_) {
    report_ready(false, error);
  } else if (auto on_lost = std::exchange(on_lost_, nullptr)) {
    on_lost(error);
  }
}

void redis_connection::report_ready(bool ok, const std::string& error) {
  auto on_ready = std::exchange(on_ready_, nullptr);
  if (!ok) on_lost_ = nullptr;
  if (on_ready) on_ready(ok, error);
}

bool redis_connection::submit(redisAsyncContext* context, const std::vector<std::string>& argv,
                              reply_handler& handler) {
  auto owned = std::make_unique<reply_handler>(std::move(handler));
  if (send_argv(context, &hiredis_callbacks::on_reply, owned.get(), argv) != REDIS_OK) {
    handler = std::move(*owned);
    return false;
  }
  (void)owned.release();  // hiredis hands it back to on_reply exactly once
  return true;
}

void redis_connection::command(std::vector<std::string> argv, reply_handler handler) {
  if (state_ != state::ready || subscriber_ || argv.empty() || refused_command(argv.front()) ||
      !submit(current_, argv, handler)) {
    answer_later(std::move(handler));
  }
}

void redis_connection::answer_later(reply_handler handler) {
  if (!handler) return;
  net::post(executor_, [weak = weak_from_this(), handler = std::move(handler)] {
    if (auto self = weak.lock()) handler(nullptr);
  });
}

void redis_connection::subscribe(std::vector<std::string> channels, message_handler on_message,
                                 std::function<void()> on_subscribed) {
  if (state_ != state::ready || channels.empty()) return;
  std::vector<std::string> argv;
  argv.reserve(channels.size() + 1);
  argv.emplace_back("SUBSCRIBE");
  argv.insert(argv.end(), channels.begin(), channels.end());
  if (send_argv(current_, &hiredis_callbacks::on_pubsub, nullptr, argv) != REDIS_OK) return;
  subscriber_ = true;
  auto handler = std::make_shared<message_handler>(std::move(on_message));
  for (auto& channel : channels) channels_[std::move(channel)] = handler;
  // Redis confirms every channel argument, repeated ones included, in order.
  pending_subscribes_.push_back({argv.size() - 1, std::move(on_subscribed)});
}

void redis_connection::on_pubsub(const redisReply* reply) {
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) return;
  const redisReply* kind = reply->element[0];
  const redisReply* channel = reply->element[1];
  if (kind->type != REDIS_REPLY_STRING || channel->type != REDIS_REPLY_STRING) return;
  const std::string_view type(kind->str, kind->len);
  if (type == "message") {
    const redisReply* payload = reply->element[2];
    if (payload->type != REDIS_REPLY_STRING) return;
    std::string name(channel->str, channel->len);
    const auto it = channels_.find(name);
    if (it == channels_.end()) return;
    const auto handler = it->second;  // a copy: the handler may subscribe again or close() while it runs
    if (*handler) (*handler)(name, std::string(payload->str, payload->len));
  } else if (type == "subscribe" && !pending_subscribes_.empty()) {
    if (--pending_subscribes_.front().confirmations_left > 0) return;
    auto on_subscribed = std::move(pending_subscribes_.front().on_subscribed);
    pending_subscribes_.pop_front();
    if (on_subscribed) on_subscribed();
  }
}

void redis_connection::close() {
  ++attempt_;
  resolver_.cancel();
  state_ = state::idle;
  on_ready_ = nullptr;
  on_lost_ = nullptr;
  current_ = nullptr;
  subscriber_ = false;
  channels_.clear();
  pending_subscribes_.clear();
  // Runs the pending handlers with nullptr now, or after the hiredis callback we are inside.
  if (auto* context = context_.release()) redisAsyncFree(context);
}

std::string redis_connection::where() const { return "redis " + endpoint_.host + ":" + std::to_string(endpoint_.port); }

}  // namespace cohort::bus
