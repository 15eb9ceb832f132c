#include "live_room/room_history.hpp"

#include <algorithm>
#include <stdexcept>

namespace cohort::live_room {

void room_history::append(stored_message m, std::int64_t now) {
  if (m.seq != next_seq()) throw std::logic_error("room_history: out-of-order seq");
  last_seq_ = m.seq;
  if (!m.client_id.empty()) client_keys_.insert(client_key(m.sender_id, m.client_id));
  messages_.push_back(std::move(m));
  trim(now);
}

void room_history::reset(std::string epoch, std::int64_t last_seq) {
  epoch_ = std::move(epoch);
  last_seq_ = last_seq;
  messages_.clear();
  client_keys_.clear();
}

void room_history::pop_oldest() {
  const auto& m = messages_.front();
  if (!m.client_id.empty()) client_keys_.erase(client_key(m.sender_id, m.client_id));
  messages_.pop_front();
}

std::string room_history::client_key(std::int64_t sender_id, const std::string& client_id) {
  return std::to_string(sender_id) + ":" + client_id;
}

void room_history::trim(std::int64_t now) {
  while (messages_.size() > limits_.max_messages) pop_oldest();
  while (!messages_.empty() && messages_.front().ts < now - limits_.max_age_seconds) pop_oldest();
}

catch_up room_history::since(std::optional<std::int64_t> since_seq, const std::optional<std::string>& client_epoch,
                             std::size_t fallback_count, std::int64_t now) {
  trim(now);
  catch_up out;
  const bool same_epoch = !client_epoch || *client_epoch == epoch_;
  // Covered when nothing after since_seq has been trimmed away: the oldest held message is at
  // most since_seq + 1 (or nothing was missed at all).
  const std::int64_t oldest = messages_.empty() ? last_seq_ + 1 : messages_.front().seq;
  if (since_seq && same_epoch && *since_seq <= last_seq_ && *since_seq >= 0 && oldest <= *since_seq + 1) {
    out.recovered = true;
    for (const auto& m : messages_)
      if (m.seq > *since_seq && !m.deleted) out.messages.push_back(&m);
    return out;
  }
  for (auto it = messages_.rbegin(); it != messages_.rend() && out.messages.size() < fallback_count; ++it)
    if (!it->deleted) out.messages.push_back(&*it);
  std::reverse(out.messages.begin(), out.messages.end());
  return out;
}

bool room_history::remove(const std::string& id) {
  for (auto& m : messages_)
    if (m.id == id && !m.deleted) {
      m.deleted = true;
      m.frame.reset();
      return true;
    }
  return false;
}

void room_history::withdraw(const std::string& id) {
  for (auto& m : messages_)
    if (m.id == id) {
      if (!m.client_id.empty()) client_keys_.erase(client_key(m.sender_id, m.client_id));
      m.client_id.clear();
      m.deleted = true;
      m.frame.reset();
      return;
    }
}

bool room_history::has_client_id(std::int64_t sender_id, const std::string& client_id) const {
  return client_keys_.count(client_key(sender_id, client_id)) > 0;
}

}  // namespace cohort::live_room
