// One Redis connection: a hiredis async context (redisAsyncContext) whose socket is watched by
// the Asio executor it was created with. No side thread and no second event loop: hiredis'
// addRead/delRead/addWrite/delWrite/cleanup hooks become stream_descriptor::async_wait calls.
//
// Ownership: the caller's shared_ptr alone keeps the connection alive (socket waits and posted
// answers do not). Destroying it frees the context and drops every pending handler uncalled.
// Destroy connections before their io_context.
// Handlers must not throw: most run inside hiredis (C code), so a throw calls std::terminate.
#pragma once

#include "bus/redis_url.hpp"

#include <hiredis/hiredis.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

struct redisAsyncContext;

namespace cohort::bus {

// Not thread-safe: create and use it from one strand (the executor you pass).
class redis_connection : public std::enable_shared_from_this<redis_connection> {
 public:
  // reply == nullptr: the command failed (disconnected)
  using reply_handler = std::function<void(const redisReply* reply)>;
  using message_handler = std::function<void(const std::string& channel, const std::string& payload)>;

  static std::shared_ptr<redis_connection> create(boost::asio::any_io_executor executor, redis_endpoint endpoint);

  redis_connection(const redis_connection&) = delete;
  redis_connection& operator=(const redis_connection&) = delete;
  ~redis_connection();

  // Resolves the host (asynchronously unless it is an IP address), connects without blocking,
  // trying each resolved address in turn, then sends AUTH and SELECT if the endpoint sets them
  // (PING otherwise), so on_ready(true) means Redis answered. on_ready(ok, error) is called
  // exactly once, never from inside connect(). on_lost(error) is called once if a connection that
  // was ready drops. After close() neither is called. connect() may be called again once the
  // previous connection ended (failed, lost or closed); a second call while one is under way
  // answers on_ready(false, ...).
  void connect(std::function<void(bool ok, const std::string& error)> on_ready,
               std::function<void(const std::string& error)> on_lost);

  // argv-style command, binary-safe (lengths are passed, NULs survive); handler called exactly
  // once while the object lives. Commands are pipelined: replies come in the order sent.
  // Answered with nullptr (posted, never inline) when the connection is not ready, is in
  // subscriber mode, or for commands this class must do itself or cannot support over hiredis
  // 0.14: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE (use subscribe()), MONITOR, HELLO (RESP3).
  void command(std::vector<std::string> argv, reply_handler handler);

  // Puts the connection in subscriber mode (only subscribe() is allowed afterwards):
  // on_message(channel, payload) for every message, on_subscribed() once the server confirmed
  // all the channels of this call. Callable several times; a channel subscribed again gets the
  // newer on_message. Ignored when the connection is not ready. Subscriptions end with the
  // connection: after on_lost, connect() and subscribe() again.
  void subscribe(std::vector<std::string> channels, message_handler on_message,
                 std::function<void()> on_subscribed = {});

  bool connected() const;

  // Disconnects. Pending command handlers get nullptr, before close() returns or, when close()
  // is called from inside a handler, right after that handler returns. Safe from any handler.
  void close();

 private:
  struct private_tag {};
  struct hiredis_callbacks;  // the C callbacks; defined in the .cpp
  struct context_free {
    void operator()(redisAsyncContext* context) const noexcept;
  };
  struct pending_subscribe {
    std::size_t confirmations_left;
    std::function<void()> on_subscribed;
  };
  enum class state { idle, resolving, connecting, ready, ending };

 public:
  redis_connection(private_tag, boost::asio::any_io_executor executor, redis_endpoint endpoint);

 private:
  void on_resolved(const boost::system::error_code& ec, const boost::asio::ip::tcp::resolver::results_type& results);
  void try_next_address();
  bool submit(redisAsyncContext* context, const std::vector<std::string>& argv, reply_handler& handler);
  void send_handshake(redisAsyncContext* context);
  void on_handshake_reply(redisAsyncContext* context, const redisReply* reply, const char* what, bool last);
  void fail_current(const std::string& error);
  void context_failing(redisAsyncContext* context);
  void context_ended(redisAsyncContext* context);
  void on_pubsub(const redisReply* reply);
  void answer_later(reply_handler handler);
  void report_ready(bool ok, const std::string& error);
  std::string where() const;

  boost::asio::any_io_executor executor_;
  redis_endpoint endpoint_;
  boost::asio::ip::tcp::resolver resolver_;
  std::vector<boost::asio::ip::tcp::endpoint> addresses_;
  std::size_t next_address_ = 0;
  std::uint64_t attempt_ = 0;  // bumped by connect() and close(): stale async steps compare it

  std::unique_ptr<redisAsyncContext, context_free> context_;  // set while this object must free it
  redisAsyncContext* current_ = nullptr;                      // the context the state below is about
  std::vector<redisAsyncContext*> attached_;                  // contexts whose callbacks still reach this object
  state state_ = state::idle;
  bool connect_failed_ = false;  // the TCP connect of current_ failed: try the next address
  bool subscriber_ = false;
  std::string last_error_;

  std::function<void(bool, const std::string&)> on_ready_;  // empty once reported
  std::function<void(const std::string&)> on_lost_;
  std::unordered_map<std::string, std::shared_ptr<message_handler>> channels_;
  std::deque<pending_subscribe> pending_subscribes_;
};

}  // namespace cohort::bus
