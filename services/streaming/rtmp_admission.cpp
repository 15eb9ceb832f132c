#include "streaming/rtmp_admission.hpp"

namespace cohort::streaming {

rtmp_admission::decision rtmp_admission::admit(const std::string& address) {
  decision d;
  if (waiting_from(address) >= limits_.per_ip) return d;
  if (waiting_.size() >= limits_.total && !waiting_.empty()) {
    d.evicted = waiting_.begin()->first;
    erase(waiting_.begin());
  }
  d.admitted = true;
  d.id = next_id_++;
  waiting_.emplace(d.id, address);
  ++per_address_[address];
  return d;
}

void rtmp_admission::release(std::uint64_t id) {
  if (const auto it = waiting_.find(id); it != waiting_.end()) erase(it);
}

std::size_t rtmp_admission::waiting_from(const std::string& address) const {
  const auto it = per_address_.find(address);
  return it == per_address_.end() ? 0 : it->second;
}

void rtmp_admission::erase(std::map<std::uint64_t, std::string>::iterator it) {
  const auto count = per_address_.find(it->second);
  if (count != per_address_.end() && --count->second == 0) per_address_.erase(count);
  waiting_.erase(it);
}

}  // namespace cohort::streaming
