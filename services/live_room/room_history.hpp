// A room's recent messages for catch-up, Centrifugo-style: every message has a seq (+1 each);
// the history keeps the last `max_messages` not older than `max_age`, under an epoch that names
// this particular history. A client that comes back with (since, epoch) gets exactly what it
// missed when the history still covers it, else it is told it was not recovered.
// Pure and single-threaded: the owning room serializes access.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace cohort::live_room {

struct stored_message {
  std::int64_t seq = 0;
  std::string id;
  std::int64_t sender_id = 0;
  std::string client_id;
  std::int64_t ts = 0;                          // unix seconds
  std::shared_ptr<const std::string> frame;     // the serialized chat.message, shared with every send
  bool deleted = false;
};

struct catch_up {
  bool recovered = false;
  std::vector<const stored_message*> messages;  // oldest first, deleted ones left out
};

class room_history {
 public:
  struct limits {
    std::size_t max_messages = 1000;
    std::int64_t max_age_seconds = 24 * 3600;
  };

  room_history(std::string epoch, limits l) : epoch_(std::move(epoch)), limits_(l) {}

  const std::string& epoch() const { return epoch_; }
  std::int64_t last_seq() const { return last_seq_; }
  std::int64_t next_seq() const { return last_seq_ + 1; }

  // Starts over: a new epoch (the history was lost) or a gap this copy cannot fill.
  void reset(std::string epoch, std::int64_t last_seq);
  // Appends a message whose seq must be next_seq(); trims to the limits at `now`.
  void append(stored_message m, std::int64_t now);
  // The last `count` live messages (recovered=false), or with since: the ones after it.
  catch_up since(std::optional<std::int64_t> since_seq, const std::optional<std::string>& client_epoch,
                 std::size_t fallback_count, std::int64_t now);
  // Marks a message deleted; false when it is not (or no longer) in the history.
  bool remove(const std::string& id);
  // Removes a message that never went out (its channel withdrew it): like remove, and its
  // client_id no longer counts, so a resend with it is taken as new.
  void withdraw(const std::string& id);
  // Whether the history still holds a message from this sender with this client_id (O(1)).
  bool has_client_id(std::int64_t sender_id, const std::string& client_id) const;

 private:
  void trim(std::int64_t now);
  void pop_oldest();
  static std::string client_key(std::int64_t sender_id, const std::string& client_id);

  std::string epoch_;
  limits limits_;
  std::deque<stored_message> messages_;
  std::unordered_set<std::string> client_keys_;  // sender:client_id of the held messages that had one
  std::int64_t last_seq_ = 0;
};

}  // namespace cohort::live_room
