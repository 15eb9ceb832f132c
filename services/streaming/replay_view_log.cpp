#include "streaming/replay_view_log.hpp"

#include "common/describe.hpp"

#include <charconv>
#include <iostream>

namespace cohort::streaming {

std::optional<std::int64_t> replay_segment_index(std::string_view name) {
  // The recorder's names: seg_%06d.m4s, numbered from 1 in playlist order.
  constexpr std::string_view prefix = "seg_", suffix = ".m4s";
  if (name.size() <= prefix.size() + suffix.size() || name.substr(0, prefix.size()) != prefix ||
      name.substr(name.size() - suffix.size()) != suffix)
    return std::nullopt;
  const auto digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || end != digits.data() + digits.size() || n < 1) return std::nullopt;
  return n - 1;
}

bool replay_view_log::note(const replay_view& view, std::int64_t now) {
  if (!writer_) return false;  // a node without a database (tests of the routes alone)
  bool submit = false;
  {
    std::lock_guard lock(mutex_);
    if (seen_.count(view.key())) return false;
    if (pending_.size() >= limits_.pending_max) return false;  // not remembered: the next fetch tries again
    if (seen_.size() >= limits_.seen_max) seen_.clear();
    seen_.emplace(view.key());
    pending_.push_back(queued{view, now});
    submit = !flush_queued_;
    flush_queued_ = true;
  }
  // One job drains whatever is pending when it runs, so fetches arriving meanwhile share it.
  if (submit) {
    auto self = shared_from_this();
    const bool ok = writer_->submit([self](store::database& db) { self->flush(db); }, [](std::exception_ptr ep) {
      if (ep) std::cerr << "cohort: recording replay views failed: " << common::describe(ep) << "\n";
    });
    if (!ok) {
      // The writer is full or stopping: give the batch up; the next fetches note it again.
      std::vector<queued> dropped;
      {
        std::lock_guard lock(mutex_);
        dropped.swap(pending_);
        flush_queued_ = false;
      }
      forget(dropped);
    }
  }
  return true;
}

void replay_view_log::flush(store::database& db) {
  std::vector<queued> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(pending_);
    flush_queued_ = false;
  }
  // The recording is found by its folder; a segment past an ended recording's count (a file the
  // playlist never listed) is not a view of it.
  auto& insert = db.cached(
      "INSERT OR IGNORE INTO replay_views (recording_id, registration_id, segment, webinar_id, first_at)"
      " SELECT id, ?1, ?2, webinar_id, ?3 FROM recordings"
      " WHERE webinar_id = ?4 AND dir = ?5 AND (ended_at IS NULL OR ?2 < segments)");
  try {
    for (const auto& q : batch) {
      insert.bind(1, q.view.registration_id).bind(2, q.view.segment).bind(3, q.at).bind(4, q.view.webinar_id).bind(5, q.view.recording_dir).run();
      insert.reset();
    }
  } catch (...) {
    forget(batch);
    throw;
  }
}

void replay_view_log::forget(const std::vector<queued>& views) {
  std::lock_guard lock(mutex_);
  for (const auto& q : views) seen_.erase(q.view.key());
}

std::size_t replay_view_log::pending() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

std::size_t replay_view_log::remembered() const {
  std::lock_guard lock(mutex_);
  return seen_.size();
}

}  // namespace cohort::streaming
