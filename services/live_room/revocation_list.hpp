// What a node without a database (an edge) knows of the cluster's revocation list (room_bus::
// revoke): cancelled tokens, bans, the waitlist, deleted series. It only grows: a list loaded
// from a Redis that lost its data is smaller, not newer, so a load adds to what the node held
// and never replaces it. It is trusted only once a list carrying the primary's generation marker
// was loaded (proto/redis.md); until then the edge admits no one (fail closed). Not thread-safe:
// the owner (room_hub) locks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace cohort::live_room {

class revocation_list {
 public:
  struct refusal {
    int status = 0;             // the HTTP answer at upgrade: 401, 403 or 404
    const char* code = "";      // the error code
    std::string message;
    std::uint16_t close_code = 0;  // for a socket already open: 4001 (not active) or 4003 (banned)
  };

  void add(std::string entry) { entries_.insert(std::move(entry)); }
  void add(std::vector<std::string> entries) {
    for (auto& e : entries) entries_.insert(std::move(e));
  }
  bool contains(const std::string& entry) const { return entries_.count(entry) > 0; }
  std::size_t size() const { return entries_.size(); }

  bool trusted() const { return trusted_; }
  void set_trusted(bool trusted) { trusted_ = trusted; }

  // Why a registrant's token (its claims) may not be in the chat, or nullopt.
  std::optional<refusal> refuses(std::int64_t webinar_id, std::int64_t registration_id, std::string_view token_nonce_hash) const;
  // Why the organizer may not open this webinar's room, or nullopt.
  std::optional<refusal> refuses_organizer(std::int64_t webinar_id) const;

 private:
  std::unordered_set<std::string> entries_;
  bool trusted_ = false;
};

}  // namespace cohort::live_room
