// One webinar's live chat on one node: its members, its copy of the history, and delivery.
// Everything runs on the room's own strand, so the room needs no lock. The order comes from the
// bus (chat_bus.hpp): the room publishes, then applies every event the bus feeds back — its own
// and other nodes' — in the bus's order, appending it to the history and queueing the same
// serialized bytes to every member.
#pragma once

#include "chat/chat_bus.hpp"
#include "chat/rate_limiter.hpp"
#include "chat/room_history.hpp"
#include "chat/room_state.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace cohort::metrics { struct registry; }

namespace cohort::chat {

struct chat_identity {
  std::int64_t id = 0;  // registration id; 0 for the organizer
  std::string name;
  std::string role;     // registrant | organizer
  std::string token_nonce_hash;  // registrant: its token's, to re-check open sockets against the revocation list
};

// What a room needs from a connection (chat_client implements it).
class room_member {
 public:
  virtual ~room_member() = default;
  virtual const chat_identity& who() const = 0;
  // Queues a frame; it goes out at the next flush(). The room flushes once per strand turn, so
  // frames queued meanwhile reach the kernel in one write.
  virtual void deliver(std::shared_ptr<const std::string> frame) = 0;
  virtual void flush() = 0;
  // deliver() each of `frames`, then flush().
  virtual void send_batch(const std::vector<std::shared_ptr<const std::string>>& frames) = 0;
  virtual void disconnect(std::uint16_t code, std::string reason) = 0;
};

// A sequenced message, for the durable transcript (written by the primary, whichever node it came from).
struct transcript_entry {
  std::int64_t webinar_id = 0;
  std::int64_t seq = 0;
  std::string id;
  std::int64_t sent_at = 0;
  chat_identity from;
  std::string text;
};

struct room_options {
  room_history::limits history;
  rate_limiter::limits flood;
  std::size_t hello_messages = 50;
  std::chrono::milliseconds presence_interval{1000};
};

// What the primary's rooms do with the database; an edge's rooms have none of it. The primary
// hosts every room in use on any node (node_feed::on_room), so these see all nodes' traffic.
struct room_records {
  // Every sequenced message, once or more (the insert ignores repeats).
  std::function<void(const transcript_entry&)> transcript;
  // These registrants were in the live room during this minute (unix time / 60).
  std::function<void(std::int64_t webinar_id, std::vector<std::int64_t> registration_ids, std::int64_t minute)> attendance;
  // State frames the database holds (mutes, released drops, seen markers), read when the room starts.
  std::function<std::vector<std::string>(std::int64_t webinar_id)> initial_state;
};

class chat_room : public std::enable_shared_from_this<chat_room> {
 public:
  chat_room(boost::asio::io_context& ioc, std::int64_t webinar_id, room_options options, chat_bus& bus,
            metrics::registry* metrics, room_records records);
  // Registers with the bus; call once after construction.
  void start();

  // All of these may be called from any thread; they run on the room's strand.
  void join(std::shared_ptr<room_member> m, std::optional<std::int64_t> since, std::optional<std::string> epoch);
  void leave(std::shared_ptr<room_member> m);
  // `text` is already validated; client_id may be empty.
  void post_message(std::shared_ptr<room_member> from, std::string text, std::string client_id);
  // These fan out through the bus to this webinar's room on every node.
  void remove_message(const std::string& id);
  void kick(std::int64_t registration_id);  // closes every connection of this person (4003)
  void cancelled(std::int64_t registration_id);  // the registration ended: close its connections (4001)
  void series_deleted();  // the series is gone: close every registrant's connection, on every node (4001)
  // This node only: closes every registrant connection `refused` answers for, with its close code
  // and reason (an edge re-checking its sockets against a revocation list it loaded).
  using refusal_check = std::function<std::optional<std::pair<std::uint16_t, std::string>>(const chat_identity&)>;
  void recheck(refusal_check refused);

 private:
  struct pending_join {
    std::shared_ptr<room_member> member;
    std::optional<std::int64_t> since;
    std::optional<std::string> epoch;
  };
  void do_join(const pending_join& j);
  void admit_pending();
  void do_post_message(const std::shared_ptr<room_member>& from, const std::string& text, const std::string& client_id);
  void on_loaded(std::string epoch, std::int64_t last_seq, std::vector<std::string> frames, std::vector<std::string> deleted,
                 std::vector<std::string> state);
  void apply_state(const boost::json::object& frame, bool broadcast_new);
  // Every registrant connection of this person (nullopt: of everyone).
  void close_member(std::optional<std::int64_t> registration_id, std::uint16_t code, const char* reason);
  void report_present(std::vector<std::int64_t> ids);
  void note_arrival(std::int64_t registration_id);
  void arm_attendance();
  void on_event(const std::string& frame, bool replay);
  void apply_event(const std::string& frame, bool replay);
  void apply_message(std::shared_ptr<const std::string> frame, const boost::json::object& parsed, bool broadcast_it);
  void broadcast(const std::shared_ptr<const std::string>& frame);
  void send_to(const std::shared_ptr<room_member>& m, std::shared_ptr<const std::string> frame);
  void schedule_flush();
  void flush_members();
  void queue_pending();
  void restart_members();
  void presence_changed();
  void send_presence();
  void on_presence_total(std::size_t total, std::size_t local_reported, bool local_changed);
  void arm_presence_heartbeat();
  void refuse(const std::shared_ptr<room_member>& to, const char* code, const std::string& message,
              std::optional<std::int64_t> until_unix);

  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  std::int64_t webinar_id_;
  room_options options_;
  chat_bus& bus_;
  metrics::registry* metrics_;
  room_records records_;
  room_history history_;
  room_state state_;
  bool loaded_ = false;                        // the bus delivered the history
  bool state_loaded_ = false;                  // the database's state frames are applied (primary)
  std::vector<pending_join> pending_joins_;    // joins that came before it
  std::vector<std::string> early_events_;      // events that came before it
  std::unordered_set<std::shared_ptr<room_member>> members_;
  // Broadcasts of this strand turn, not yet queued to anyone: at the turn's end each member gets
  // them all in one call and one write. `own` (when set) is the sender's variant of `frame`.
  struct pending_broadcast {
    std::shared_ptr<const std::string> frame;
    std::shared_ptr<const std::string> own;
    std::int64_t sender = 0;
    bool sent_by(std::int64_t member) const { return own && member == sender; }
    const std::shared_ptr<const std::string>& for_member(std::int64_t member) const { return sent_by(member) ? own : frame; }
  };
  std::vector<pending_broadcast> pending_;
  // Queued-to and not yet flushed: everyone or these few.
  bool flush_posted_ = false;
  bool flush_all_ = false;
  std::vector<std::shared_ptr<room_member>> flush_some_;
  std::unordered_map<std::int64_t, rate_limiter> limiters_;  // by sender
  std::set<std::pair<std::int64_t, std::string>> in_flight_;  // (sender, client_id) being published
  // Presence is the count across all nodes (the bus adds them up). It goes out at most once per
  // interval and only when it changed; a heartbeat keeps this node's share fresh in the bus.
  boost::asio::steady_timer presence_timer_;
  boost::asio::steady_timer presence_heartbeat_;
  boost::asio::steady_timer attendance_timer_;  // each minute: who is here (for the primary's records)
  bool attendance_armed_ = false;
  boost::asio::steady_timer arrivals_timer_;   // joins are reported in batches, a second after the first
  bool arrivals_armed_ = false;
  std::set<std::int64_t> arrivals_;
  bool presence_timer_armed_ = false;
  bool heartbeat_armed_ = false;
  std::size_t presence_sent_ = 0;       // the total members last heard
  std::size_t presence_total_ = 0;      // the last total the bus reported
  std::size_t local_reported_ = 0;      // this node's count in that report
  std::chrono::steady_clock::time_point presence_sent_at_{};
};

}  // namespace cohort::chat
