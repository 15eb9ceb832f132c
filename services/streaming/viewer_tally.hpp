// Who watches one webinar's live stream: the distinct viewers that fetched its playlist in the
// last 30 s, united with the registrants present in its live room (reported by every node's
// room, see chat_hub::recently_present). A registrant who does both counts once: playlist
// fetches are keyed by registration id, like presence; a caller without one (the organizer's
// token) is keyed by a hash of its token.
// Pure and not thread-safe: hls_origin holds it under its mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <variant>

namespace cohort::streaming {

class viewer_tally {
 public:
  using clock = std::chrono::steady_clock;
  using viewer = std::variant<std::int64_t, std::string>;  // registration id, or a token hash
  static constexpr std::chrono::seconds fetch_window{30};

  void fetched(viewer who, clock::time_point now);
  // |playlist fetchers of the last 30 s ∪ present|; forgets older fetches.
  std::size_t count(std::span<const std::int64_t> present, clock::time_point now);
  bool empty() const { return last_fetch_.empty(); }

 private:
  std::map<viewer, clock::time_point> last_fetch_;
};

}  // namespace cohort::streaming
