// One webinar's live room on one node: its members, its copy of the history, and delivery.
// Everything runs on the room's own strand, so the room needs no lock. The order comes from the
// bus (room_bus.hpp): a channel publishes, then the room applies every event the bus feeds back —
// its own node's and other nodes' — in the bus's order. Sequenced events go into the history
// for catch-up; every event is handed to the channel that declared its type (channel.hpp), and
// broadcasts reach each member as the same serialized bytes, one write per member per turn.
#pragma once

#include "live_room/channel.hpp"
#include "live_room/channel_registry.hpp"
#include "live_room/member.hpp"
#include "live_room/room_bus.hpp"
#include "live_room/room_history.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace cohort::metrics { struct registry; }

namespace cohort::live_room {

struct room_options {
  room_history::limits history;
  std::size_t hello_messages = 50;
  bool load_stored_state = false;  // primary: start from the channels' stored state
};

class room : public std::enable_shared_from_this<room>, private room_context {
 public:
  room(boost::asio::io_context& ioc, std::int64_t webinar_id, room_options options, room_bus& bus, metrics::registry* metrics,
       const channel_registry& channels);
  // Registers with the bus; call once after construction.
  void start();
  // Unsubscribes from the bus, closes whoever is left (with `code`) and stops the channels' timers.
  void stop(std::uint16_t code = 1001, std::string reason = "the room closed");

  // All of these may be called from any thread; they run on the room's strand.
  void join(member_ptr m, std::optional<std::int64_t> since, std::optional<std::string> epoch);
  void leave(member_ptr m);
  // A client message; `route` from the registry's client_route for its type.
  void client_message(member_ptr from, const channel_registry::route& route, boost::json::object msg);
  // These fan out through the bus to this webinar's room on every node.
  void cancelled(std::int64_t registration_id);  // the registration ended: close its connections (4001)
  void series_deleted();  // the series is gone: close every registrant's connection, on every node (4001)
  // This node only: closes every registrant connection `refused` answers for, with its close code
  // and reason (an edge re-checking its sockets against a revocation list it loaded).
  using refusal_check = std::function<std::optional<std::pair<std::uint16_t, std::string>>(const member_identity&)>;
  void recheck(refusal_check refused);
  // Since when the room has had no member (nullopt: it has members or joins waiting). Any thread.
  std::optional<std::chrono::steady_clock::time_point> idle_since() const;
  // Someone is about to join (the hub handed the room out): an idle room's clock restarts, so
  // it is not dropped between the upgrade and the join. Any thread.
  void touch();

 private:
  struct pending_join {
    member_ptr member;
    std::optional<std::int64_t> since;
    std::optional<std::string> epoch;
  };
  void do_join(const pending_join& j);
  void admit_pending();
  void on_loaded(std::string epoch, std::int64_t last_seq, std::vector<std::string> frames, std::vector<std::string> deleted,
                 std::vector<std::string> state);
  void on_event(const std::string& frame, bool replay);
  void apply_event(const std::string& frame, bool replay);
  void apply_sequenced(std::size_t channel, std::shared_ptr<const std::string> frame, const boost::json::object& parsed,
                       bool broadcast_it);
  void apply_state(const boost::json::object& frame, bool live);
  void erase_member(std::unordered_set<member_ptr>::iterator it);
  void queue_pending();
  void restart_members();
  void schedule_flush();
  void flush_members();
  void note_membership();

  // room_context
  std::int64_t webinar_id() const override { return webinar_id_; }
  room_bus& bus() override { return bus_; }
  metrics::registry* metrics() const override { return metrics_; }
  const room_executor& executor() const override { return strand_; }
  std::shared_ptr<void> keep_alive() override { return shared_from_this(); }
  void post(std::function<void()> task) override;
  const std::unordered_set<member_ptr>& members() const override { return members_; }
  void broadcast(frame_ptr frame) override;
  void send_to(const member_ptr& m, frame_ptr frame) override;
  void send_where(frame_ptr frame, const std::function<bool(const member_identity&)>& wants) override;
  void refuse(const member_ptr& to, std::string_view code, const std::string& message, std::optional<std::int64_t> until_unix) override;
  void close_members(std::optional<std::int64_t> registration_id, std::uint16_t code, const char* reason) override;
  void publish_sequenced(std::string type, std::string tail, flood_limit limit, std::function<void(published)> done) override;
  void publish_control(std::string frame) override;
  bool in_history(std::int64_t sender, const std::string& client_id) const override;
  bool remove_from_history(const std::string& id) override;
  void release_sequenced(const std::string& id, std::function<void()> withdrawn) override;
  // The seq a newcomer's hello is at: the last one that went out.
  std::int64_t delivered_seq() const;

  room_executor strand_;
  std::int64_t webinar_id_;
  room_options options_;
  room_bus& bus_;
  metrics::registry* metrics_;
  const channel_registry& channels_;
  std::vector<std::unique_ptr<channel_room>> parts_;  // one per channel, by registry index
  room_history history_;
  bool loaded_ = false;                        // the bus delivered the history
  bool state_loaded_ = false;                  // the stored state frames are applied (primary)
  bool stopped_ = false;
  std::vector<pending_join> pending_joins_;    // joins that came before both
  std::vector<std::string> early_events_;      // events that came before the history
  std::unordered_set<member_ptr> members_;
  // Broadcasts of this strand turn, not yet queued to anyone: at the turn's end each member gets
  // them all in one call and one write. `own` (when set) is the sender's variant of `frame`.
  struct pending_broadcast {
    frame_ptr frame;
    frame_ptr own;
    std::int64_t sender = 0;
    bool sent_by(std::int64_t member) const { return own && member == sender; }
    const frame_ptr& for_member(std::int64_t member) const { return sent_by(member) ? own : frame; }
  };
  std::vector<pending_broadcast> pending_;
  // Sequenced broadcasts held back by their channel, and every one after them, in the bus's
  // order: members see seqs in order. Bounded by the writes they wait for (the writer's queue).
  struct held_broadcast {
    std::string id;
    std::int64_t seq = 0;
    pending_broadcast out;
    bool released = false;
    std::function<void()> withdrawn;  // set: never goes out, this runs in its place
  };
  std::deque<held_broadcast> held_;
  // Queued-to and not yet flushed: everyone or these few.
  bool flush_posted_ = false;
  bool flush_all_ = false;
  std::vector<member_ptr> flush_some_;
  // For idle_since(): written on the strand, read by the hub's sweep.
  mutable std::mutex idle_mutex_;
  std::optional<std::chrono::steady_clock::time_point> idle_since_;
};

}  // namespace cohort::live_room
