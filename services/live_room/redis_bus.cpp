#include "live_room/redis_bus.hpp"

#include "bus/redis_connection.hpp"
#include "common/bytes.hpp"
#include "gateway/auth.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <charconv>
#include <iostream>
#include <unordered_map>

namespace cohort::live_room {
namespace {

namespace net = boost::asio;

// The key layout is documented in proto/redis.md. A room's epoch, seq counter, stream and
// deleted set vanish together when Redis loses its data, and the next script call starts a
// new epoch, which tells every client its old seq means nothing here any more.
std::string key(std::int64_t webinar, const char* what) {
  return "cohort:chat:" + std::to_string(webinar) + ":" + what;
}
std::string channel(std::int64_t webinar) { return "cohort:chat:" + std::to_string(webinar); }
// Node-wide: revocations and "a room is in use" announcements.
constexpr const char* node_channel = "cohort:node";
constexpr const char* revoked_key = "cohort:revoked";
constexpr const char* rooms_key = "cohort:rooms";
// Set by the primary after it re-published the whole revocation list (a fresh random id each
// time): a list without it may have lost entries, and edges do not trust it.
constexpr const char* generation_key = "cohort:revocations:generation";

// The marker and the list in one step, so the list read belongs to the marker read.
constexpr const char* load_revocations_lua =
    "return {redis.call('GET', KEYS[1]) or '', redis.call('SMEMBERS', KEYS[2])}";
constexpr const char* mark_generation_lua =
    "redis.call('SET', KEYS[1], ARGV[1]) redis.call('PUBLISH', ARGV[2], ARGV[3]) return 1";
// How often a node checks the marker is still there (Redis may be flushed without a disconnect).
constexpr std::chrono::seconds generation_poll{2};
// A Redis that keeps the connection but stops answering (paused, hung) counts as lost after this
// long without an answer to the poll: the node stops trusting its revocation list and refuses new
// sockets (an edge) instead of admitting tokens revoked meanwhile, and reports not ready.
constexpr std::chrono::seconds answer_timeout{3};

constexpr const char* ensure_epoch_lua =
    "local epoch = redis.call('GET', KEYS[1]) "
    "if not epoch then epoch = ARGV[1]; redis.call('SET', KEYS[1], epoch); redis.call('DEL', KEYS[2], KEYS[3], KEYS[4]) end ";

// Append and publish in one step: the stream is both the order and the catch-up history. First
// the sender's flood limit across all nodes (fixed window; ARGV[5..8] = sender, burst, window
// ms, block ms; sender 0 is not limited): {-1, ms blocked} instead of {seq, id}. ARGV[9]: the
// event's type (chat.message).
const std::string publish_lua = std::string(ensure_epoch_lua) +
    "if ARGV[5] ~= '0' then "
    "  local blocked = redis.call('PTTL', KEYS[6]) "
    "  if blocked > 0 then return {-1, blocked} end "
    "  local n = redis.call('INCR', KEYS[5]) "
    "  if n == 1 then redis.call('PEXPIRE', KEYS[5], ARGV[7]) end "
    "  if n > tonumber(ARGV[6]) then "
    "    if tonumber(ARGV[8]) > 0 then redis.call('SET', KEYS[6], '1', 'PX', ARGV[8]) end "
    "    return {-1, math.max(tonumber(ARGV[8]), redis.call('PTTL', KEYS[5]))} "
    "  end "
    "end "
    "local seq = redis.call('INCR', KEYS[2]) "
    "local id = epoch .. '-' .. seq "
    "local frame = '{\"type\":\"' .. ARGV[9] .. '\",\"seq\":' .. seq .. ',\"id\":\"' .. id .. '\",' .. ARGV[2] "
    "redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'f', frame) "
    "redis.call('PUBLISH', ARGV[4], frame) "
    "return {seq, id}";

// Also announces the room (once) so the primary hosts it and keeps its transcript.
const std::string load_lua = std::string(ensure_epoch_lua) +
    "local seq = tonumber(redis.call('GET', KEYS[2]) or '0') "
    "local entries = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', ARGV[2]) "
    "local frames = {} "
    "for i = #entries, 1, -1 do frames[#frames + 1] = entries[i][2][2] end "
    "if redis.call('SADD', KEYS[6], ARGV[3]) == 1 then "
    "  redis.call('PUBLISH', ARGV[4], '{\"type\":\"x.room\",\"webinar\":' .. ARGV[3] .. '}') end "
    "return {epoch, seq, frames, redis.call('SMEMBERS', KEYS[4]), redis.call('HVALS', KEYS[5])}";

// State and revocations: remember, then fan out, in one step.
constexpr const char* publish_state_lua =
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) redis.call('PUBLISH', ARGV[3], ARGV[2]) return 1";
constexpr const char* revoke_lua =
    "if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then redis.call('PUBLISH', ARGV[2], ARGV[3]) end return 1";

// Presence: each node keeps "count:unix_ms" in the room's hash and refreshes it at least every
// 10 s; the total counts the fields refreshed in the last 30 s, so a node that died drops out.
constexpr const char* presence_lua =
    "local now = redis.call('TIME') "
    "local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) "
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. ms) "
    "redis.call('PEXPIRE', KEYS[1], 60000) "
    "local total = 0 "
    "local all = redis.call('HGETALL', KEYS[1]) "
    "for i = 1, #all, 2 do "
    "  local count, at = string.match(all[i + 1], '(%d+):(%d+)') "
    "  if count and ms - tonumber(at) <= 30000 then total = total + tonumber(count) else redis.call('HDEL', KEYS[1], all[i]) end "
    "end "
    "return total";

std::string reply_string(const redisReply* r) { return r && r->str ? std::string(r->str, r->len) : std::string(); }

class redis_bus : public room_bus, public std::enable_shared_from_this<redis_bus> {
 public:
  redis_bus(net::io_context& ioc, bus::redis_endpoint endpoint, std::size_t history_max)
      : strand_(net::make_strand(ioc)),
        endpoint_(std::move(endpoint)),
        history_max_(history_max),
        retry_(strand_),
        generation_timer_(strand_),
        answer_deadline_(strand_) {}

  void start() {
    net::post(strand_, [self = shared_from_this()] { self->do_connect(); });
  }

  // The connections' callbacks hold this object: closing and dropping them (and the rooms'
  // feeds) ends the cycle, so everything is freed.
  void stop() {
    net::post(strand_, [self = shared_from_this()] {
      self->stopped_ = true;
      self->available_ = false;
      self->subscribed_ = false;
      self->retry_.cancel();
      self->generation_timer_.cancel();
      self->answer_deadline_.cancel();
      auto cmd = std::move(self->cmd_), sub = std::move(self->sub_);
      if (cmd) cmd->close();
      if (sub) sub->close();
      self->rooms_.clear();
      self->node_ = {};
    });
  }

  void watch(std::int64_t webinar_id, room_feed feed) override {
    net::post(strand_, [self = shared_from_this(), webinar_id, feed = std::move(feed)]() mutable {
      self->rooms_[webinar_id] = std::move(feed);
      if (self->subscribed_) self->subscribe_and_load({webinar_id});
    });
  }

  void unwatch(std::int64_t webinar_id) override {
    net::post(strand_, [self = shared_from_this(), webinar_id] { self->rooms_.erase(webinar_id); });
  }

  void publish(std::int64_t webinar_id, std::string type, std::string tail, flood_limit limit,
               std::function<void(published)> done) override {
    net::post(strand_, [self = shared_from_this(), webinar_id, type = std::move(type), tail = std::move(tail), limit,
                        done = std::move(done)] {
      if (!self->available_) return done({});
      const auto sender = std::to_string(limit.sender);
      self->cmd_->command({"EVAL", publish_lua, "6", key(webinar_id, "epoch"), key(webinar_id, "seq"), key(webinar_id, "log"),
                           key(webinar_id, "deleted"), key(webinar_id, "flood:") + sender, key(webinar_id, "blocked:") + sender,
                           common::hex(common::random_bytes(4)), tail, std::to_string(self->history_max_), channel(webinar_id), sender,
                           std::to_string(limit.burst), std::to_string(limit.window_ms), std::to_string(limit.block_ms), type},
                          [done](const redisReply* r) {
                            if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) return done({});
                            if (r->element[0]->integer < 0) return done({false, 0, {}, std::max<long long>(1, r->element[1]->integer)});
                            done({true, r->element[0]->integer, reply_string(r->element[1]), 0});
                          });
    });
  }

  void publish_control(std::int64_t webinar_id, std::string frame) override {
    net::post(strand_, [self = shared_from_this(), webinar_id, frame = std::move(frame)] {
      if (!self->available_) {
        std::cerr << "cohort: chat control event dropped, Redis unavailable\n";
        return;
      }
      // A deletion is also remembered, so a node that loads the history later leaves it out.
      boost::system::error_code ec;
      const auto value = boost::json::parse(frame, ec);
      if (!ec && value.is_object() && value.as_object().contains("id") && value.at("type") == "chat.deleted")
        self->cmd_->command({"SADD", key(webinar_id, "deleted"), std::string(value.at("id").as_string())}, [](const redisReply*) {});
      self->cmd_->command({"PUBLISH", channel(webinar_id), frame}, [](const redisReply*) {});
    });
  }

  void publish_state(std::int64_t webinar_id, std::string field, std::string frame) override {
    net::post(strand_, [self = shared_from_this(), webinar_id, field = std::move(field), frame = std::move(frame)] {
      // Connected is enough (the primary re-publishes from on_connected, before its rooms' subscriptions are confirmed).
      if (!self->subscribed_) {
        // The primary re-publishes all state when the bus is back (node_feed::on_connected).
        std::cerr << "cohort: room state change not fanned out yet, Redis unavailable\n";
        return;
      }
      self->cmd_->command({"EVAL", publish_state_lua, "1", key(webinar_id, "state"), field, frame, channel(webinar_id)},
                          [](const redisReply*) {});
    });
  }

  void watch_node(node_feed feed) override {
    net::post(strand_, [self = shared_from_this(), feed = std::move(feed)]() mutable { self->node_ = std::move(feed); });
  }

  void revoke(std::string entry) override {
    net::post(strand_, [self = shared_from_this(), entry = std::move(entry)] {
      if (!self->subscribed_) return;  // re-published by the primary on reconnect
      const auto frame = boost::json::serialize(boost::json::object{{"type", "x.revoke"}, {"entry", entry}});
      self->cmd_->command({"EVAL", revoke_lua, "1", revoked_key, entry, node_channel, frame}, [](const redisReply*) {});
    });
  }

  void revocations_published() override {
    net::post(strand_, [self = shared_from_this()] {
      if (!self->subscribed_) return;  // the next connect re-publishes and marks again
      self->generation_ = common::hex(common::random_bytes(8));
      const auto frame = boost::json::serialize(boost::json::object{{"type", "x.generation"}, {"generation", self->generation_}});
      self->cmd_->command({"EVAL", mark_generation_lua, "1", generation_key, self->generation_, node_channel, frame},
                          [](const redisReply*) {});
    });
  }

  // After the x.deleted frame (the same connection keeps the order): history, state, the room's
  // place in cohort:rooms. Flood counters expire by themselves.
  void forget(std::int64_t webinar_id) override {
    net::post(strand_, [self = shared_from_this(), webinar_id] {
      if (!self->available_) return;
      self->cmd_->command({"DEL", key(webinar_id, "epoch"), key(webinar_id, "seq"), key(webinar_id, "log"), key(webinar_id, "deleted"),
                           key(webinar_id, "presence"), key(webinar_id, "state")},
                          [](const redisReply*) {});
      self->cmd_->command({"SREM", rooms_key, std::to_string(webinar_id)}, [](const redisReply*) {});
    });
  }

  void count_presence(std::int64_t webinar_id, std::size_t local, std::function<void(std::size_t)> done) override {
    net::post(strand_, [self = shared_from_this(), webinar_id, local, done = std::move(done)] {
      if (!self->available_) return done(local);
      self->cmd_->command({"EVAL", presence_lua, "1", key(webinar_id, "presence"), self->node_id_, std::to_string(local)},
                          [done, local](const redisReply* r) {
                            done(r && r->type == REDIS_REPLY_INTEGER ? static_cast<std::size_t>(r->integer) : local);
                          });
    });
  }

  bool available() const override { return available_; }

 private:
  void do_connect() {
    if (stopped_) return;
    subscribed_ = false;
    ready_count_ = 0;
    cmd_ = bus::redis_connection::create(strand_, endpoint_);
    sub_ = bus::redis_connection::create(strand_, endpoint_);
    for (auto* conn : {&cmd_, &sub_}) {
      (*conn)->connect(
          [self = shared_from_this(), c = *conn](bool ok, const std::string& error) {
            if (c != self->cmd_ && c != self->sub_) return;  // a previous attempt
            if (!ok) return self->lost("cannot connect: " + error);
            if (++self->ready_count_ == 2) self->on_connected();
          },
          [self = shared_from_this(), c = *conn](const std::string& error) {
            if (c == self->cmd_ || c == self->sub_) self->lost(error);
          });
    }
  }

  // Node channel first, then the revocation list (an edge must not accept a revoked token),
  // then the rooms; only then is the bus available.
  void on_connected() {
    backoff_ = std::chrono::milliseconds(200);
    std::cerr << "cohort: chat bus connected to Redis " << endpoint_.host << ":" << endpoint_.port << "\n";
    sub_->subscribe(
        {node_channel}, [self = shared_from_this()](const std::string&, const std::string& payload) { self->on_node_message(payload); },
        [self = shared_from_this()] { self->load_revocations([self] { self->on_revocations_loaded(); }); });
  }

  // The list with its generation marker. Without the marker the entries are still added (they
  // are revocations all the same) but the node is told the list is unconfirmed.
  void load_revocations(std::function<void()> then) {
    if (!cmd_) return;
    cmd_->command({"EVAL", load_revocations_lua, "2", generation_key, revoked_key}, [self = shared_from_this(), then](const redisReply* r) {
      if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[1]->type != REDIS_REPLY_ARRAY) return;  // lost: reconnect starts over
      std::vector<std::string> entries;
      for (std::size_t i = 0; i < r->element[1]->elements; ++i) entries.push_back(reply_string(r->element[1]->element[i]));
      self->generation_ = reply_string(r->element[0]);
      if (self->generation_.empty() && self->node_.on_unconfirmed) self->node_.on_unconfirmed();
      if (self->node_.on_revoked) self->node_.on_revoked(std::move(entries), !self->generation_.empty());
      if (then) then();
    });
  }

  // Redis can lose its data without dropping the connection (FLUSHALL, a failover): the primary
  // re-publishes when the marker is gone, an edge reloads when it changed.
  void arm_generation_poll() {
    if (stopped_) return;
    generation_timer_.expires_after(generation_poll);
    generation_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->stopped_ || !self->subscribed_) return;  // a reconnect arms it again
      self->answer_deadline_.expires_after(answer_timeout);
      self->answer_deadline_.async_wait([self, c = self->cmd_](boost::system::error_code ec) {
        if (!ec && c == self->cmd_ && !self->stopped_) self->lost("no answer from Redis within 3 s");
      });
      self->cmd_->command({"GET", generation_key}, [self](const redisReply* r) {
        self->answer_deadline_.cancel();
        if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL)) return;
        const auto seen = reply_string(r);
        if (seen != self->generation_) {
          if (seen.empty() && self->node_.on_connected) {
            std::cerr << "cohort: the revocation list's generation marker is gone from Redis, re-publishing\n";
            self->node_.on_connected();
          }
          if (self->node_.on_revoked) self->load_revocations({});
        }
        self->arm_generation_poll();
      });
    });
  }

  void on_revocations_loaded() {
    subscribed_ = true;
    std::vector<std::int64_t> all;
    for (const auto& [id, feed] : rooms_) all.push_back(id);
    if (all.empty()) {
      available_ = true;
    } else {
      subscribe_and_load(all);
    }
    cmd_->command({"SMEMBERS", rooms_key}, [self = shared_from_this()](const redisReply* r) {
      if (!r || r->type != REDIS_REPLY_ARRAY || !self->node_.on_room) return;
      for (std::size_t i = 0; i < r->elements; ++i) self->announce_room(reply_string(r->element[i]));
    });
    if (node_.on_connected) node_.on_connected();
    generation_timer_.cancel();
    arm_generation_poll();
  }

  void announce_room(const std::string& text) {
    std::int64_t id = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec == std::errc{} && id > 0) node_.on_room(id);
  }

  void on_node_message(const std::string& payload) {
    boost::system::error_code ec;
    const auto value = boost::json::parse(payload, ec);
    if (ec || !value.is_object()) return;
    const auto& o = value.as_object();
    const auto* type = o.if_contains("type");
    if (!type || !type->is_string()) return;
    if (*type == "x.revoke" && node_.on_revoked && o.contains("entry") && o.at("entry").is_string())
      node_.on_revoked({std::string(o.at("entry").as_string())}, false);
    else if (*type == "x.generation" && node_.on_revoked && subscribed_)
      load_revocations({});  // the primary re-published the whole list: load it with its marker
    else if (*type == "x.room" && node_.on_room && o.contains("webinar") && o.at("webinar").is_int64())
      node_.on_room(o.at("webinar").as_int64());
  }

  // One subscription per room per node; after the server confirmed it, load the history, so no
  // message falls between the two (the room drops what it already holds).
  void subscribe_and_load(std::vector<std::int64_t> rooms) {
    std::vector<std::string> channels;
    for (auto id : rooms) channels.push_back(channel(id));
    sub_->subscribe(
        channels,
        [self = shared_from_this()](const std::string& ch, const std::string& payload) {
          const auto id = std::stoll(ch.substr(ch.rfind(':') + 1));
          if (auto it = self->rooms_.find(id); it != self->rooms_.end()) it->second.on_event(payload);
        },
        [self = shared_from_this(), rooms] {
          for (auto id : rooms) self->load(id);
          self->available_ = true;
        });
  }

  void load(std::int64_t webinar_id) {
    cmd_->command({"EVAL", load_lua, "6", key(webinar_id, "epoch"), key(webinar_id, "seq"), key(webinar_id, "log"),
                   key(webinar_id, "deleted"), key(webinar_id, "state"), rooms_key, common::hex(common::random_bytes(4)),
                   std::to_string(history_max_), std::to_string(webinar_id), node_channel},
                  [self = shared_from_this(), webinar_id](const redisReply* r) {
                    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 5) return;  // lost: reconnect reloads
                    auto strings = [](const redisReply* list) {
                      std::vector<std::string> out;
                      for (std::size_t i = 0; i < list->elements; ++i) out.push_back(reply_string(list->element[i]));
                      return out;
                    };
                    if (auto it = self->rooms_.find(webinar_id); it != self->rooms_.end())
                      it->second.on_loaded(reply_string(r->element[0]), r->element[1]->integer, strings(r->element[2]),
                                           strings(r->element[3]), strings(r->element[4]));
                  });
  }

  // Redis went away: keep the clients, refuse sends, reconnect with backoff, then reload.
  void lost(const std::string& error) {
    if (available_ || subscribed_ || ready_count_ > 0)
      std::cerr << "cohort: chat bus lost Redis (" << error << "), reconnecting\n";
    available_ = false;
    subscribed_ = false;
    ready_count_ = 0;
    generation_timer_.cancel();
    answer_deadline_.cancel();
    // Revocations published while this node was away never reached it: not confirmed until reloaded.
    if (node_.on_unconfirmed) node_.on_unconfirmed();
    auto cmd = std::move(cmd_), sub = std::move(sub_);
    if (cmd) cmd->close();
    if (sub) sub->close();
    if (stopped_ || retry_pending_) return;
    retry_pending_ = true;
    retry_.expires_after(backoff_);
    backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(2000));
    retry_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      self->retry_pending_ = false;
      if (!ec) self->do_connect();
    });
  }

  net::strand<net::io_context::executor_type> strand_;
  bus::redis_endpoint endpoint_;
  std::size_t history_max_;
  std::shared_ptr<bus::redis_connection> cmd_, sub_;  // commands; the subscription
  std::unordered_map<std::int64_t, room_feed> rooms_;
  node_feed node_;
  std::atomic<bool> available_{false};
  bool subscribed_ = false;
  bool stopped_ = false;
  int ready_count_ = 0;
  net::steady_timer retry_;
  bool retry_pending_ = false;
  net::steady_timer generation_timer_;
  net::steady_timer answer_deadline_;  // armed while the poll's GET is unanswered
  std::string generation_;  // the marker last seen or written; empty = none
  std::chrono::milliseconds backoff_{200};
  const std::string node_id_ = common::hex(common::random_bytes(8));
};

// Keeps the shared state alive for its callbacks and stops it when the owner lets go.
class redis_bus_handle : public room_bus {
 public:
  explicit redis_bus_handle(std::shared_ptr<redis_bus> bus) : bus_(std::move(bus)) { bus_->start(); }
  ~redis_bus_handle() override { bus_->stop(); }
  void stop() override { bus_->stop(); }
  void watch(std::int64_t w, room_feed f) override { bus_->watch(w, std::move(f)); }
  void unwatch(std::int64_t w) override { bus_->unwatch(w); }
  void publish(std::int64_t w, std::string type, std::string t, flood_limit l, std::function<void(published)> d) override {
    bus_->publish(w, std::move(type), std::move(t), l, std::move(d));
  }
  void publish_control(std::int64_t w, std::string f) override { bus_->publish_control(w, std::move(f)); }
  void publish_state(std::int64_t w, std::string field, std::string f) override {
    bus_->publish_state(w, std::move(field), std::move(f));
  }
  void watch_node(node_feed feed) override { bus_->watch_node(std::move(feed)); }
  void revoke(std::string entry) override { bus_->revoke(std::move(entry)); }
  void revocations_published() override { bus_->revocations_published(); }
  void forget(std::int64_t webinar_id) override { bus_->forget(webinar_id); }
  void count_presence(std::int64_t w, std::size_t n, std::function<void(std::size_t)> d) override {
    bus_->count_presence(w, n, std::move(d));
  }
  bool available() const override { return bus_->available(); }

 private:
  std::shared_ptr<redis_bus> bus_;
};

}  // namespace

std::unique_ptr<room_bus> make_redis_bus(boost::asio::io_context& ioc, bus::redis_endpoint endpoint, std::size_t history_max) {
  return std::make_unique<redis_bus_handle>(std::make_shared<redis_bus>(ioc, std::move(endpoint), history_max));
}

}  // namespace cohort::live_room
