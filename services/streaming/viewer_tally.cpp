#include "streaming/viewer_tally.hpp"

#include <set>

namespace cohort::streaming {

void viewer_tally::fetched(viewer who, clock::time_point now) { last_fetch_[std::move(who)] = now; }

std::size_t viewer_tally::count(std::span<const std::int64_t> present, clock::time_point now) {
  std::erase_if(last_fetch_, [cutoff = now - fetch_window](const auto& kv) { return kv.second < cutoff; });
  std::set<std::int64_t> others;  // present, without a fetch of their own
  for (const auto id : present)
    if (!last_fetch_.contains(viewer(id))) others.insert(id);
  return last_fetch_.size() + others.size();
}

}  // namespace cohort::streaming
