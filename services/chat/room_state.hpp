// What a room remembers besides its messages: mutes, the bonus drops released to it (and whom
// each is for), and how far each registrant has seen the drops. Every change arrives as a state
// frame — x.mute, x.drop, x.seen (proto/redis.md) — from the bus or, on the primary, from the
// database. The state only grows and applying a frame twice changes nothing, so a node may load
// the same state from several sources, in any order, any number of times.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace cohort::chat {

struct chat_identity;

// State frames, and the field each is kept under in the bus (one per registrant or drop).
std::string mute_frame(std::int64_t registration_id, std::int64_t until);
std::string seen_frame(std::int64_t registration_id, std::int64_t at);
std::string state_field(const boost::json::object& frame);  // "mute:7", "seen:7", "drop:3", "stream"
// The stream's status; `at_ms` orders changes (the newest wins everywhere).
std::string stream_frame(bool live, std::int64_t at_ms, std::int64_t started_at, std::optional<int> session);

class room_state {
 public:
  struct drop {
    std::int64_t id = 0;
    std::int64_t released_at = 0;
    std::optional<std::unordered_set<std::int64_t>> audience;  // registration ids; nullopt = everyone
    boost::json::object body;                                  // the registrant's view, without "seen"
    std::shared_ptr<const std::string> event;                  // {"type":"drop","drop":{...,"seen":false}}, serialized once
  };

  // Applies one state frame. Returns the drop this frame released for the first time (to push
  // to the members it is for), else nullptr. Throws std::exception on a malformed frame.
  const drop* apply(const boost::json::object& frame);
  static bool is_state_frame(std::string_view type) {
    return type == "x.mute" || type == "x.drop" || type == "x.seen" || type == "x.stream";
  }

  // x.stream: the live stream started or stopped. Unlike the rest it is not grow-only: the
  // frame with the latest "at" (ms) wins. True when this frame changed the status.
  bool apply_stream(const boost::json::object& frame);
  // {"type":"stream.status",...} for the current status, serialized once; null before any.
  std::shared_ptr<const std::string> stream_event() const { return stream_event_; }
  bool stream_live() const { return stream_live_; }

  // Unix time until which this person is muted, if they are.
  std::optional<std::int64_t> muted_until(std::int64_t registration_id, std::int64_t now) const;
  bool is_for(const drop& d, const chat_identity& who) const;
  // The drops released to `who`, newest first, each with "seen" (always true for the organizer).
  boost::json::array drops_for(const chat_identity& who) const;

 private:
  std::unordered_map<std::int64_t, std::int64_t> muted_until_;  // registration -> unix
  std::unordered_map<std::int64_t, std::int64_t> seen_until_;   // registration -> unix
  std::map<std::pair<std::int64_t, std::int64_t>, drop> drops_;  // (released_at, id) -> drop, oldest first
  std::unordered_set<std::int64_t> drop_ids_;
  std::int64_t stream_at_ms_ = 0;
  bool stream_live_ = false;
  std::shared_ptr<const std::string> stream_event_;
};

}  // namespace cohort::chat
