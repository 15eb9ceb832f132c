// The replay segments each registrant fetched, for recorded CE credit (replay_views, schema step
// 15): the replay API notes every segment fetch made with a registrant's signed URL (r=), and this
// log writes each (recording, registration, segment) once, INSERT OR IGNORE through the single
// writer. Fetches seen already (a Range request, a seek back) are answered from a bounded set in
// memory and cost no write; new ones wait in a bounded batch, one writer job per batch.
// Thread-safe (request threads note, the writer thread drains).
#pragma once

#include "store/sqlite_writer.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace cohort::streaming {

// The index in its recording's VOD playlist of a segment file the recorder wrote
// (seg_000001.m4s is 0); nullopt for any other file (init.mp4, the playlist).
std::optional<std::int64_t> replay_segment_index(std::string_view file_name);

struct replay_view {
  std::int64_t webinar_id = 0;
  std::string recording_dir;  // the recording's folder: recordings/<webinar>/<dir>/
  std::int64_t registration_id = 0;
  std::int64_t segment = 0;
  auto key() const { return std::tie(webinar_id, recording_dir, registration_id, segment); }
};

class replay_view_log : public std::enable_shared_from_this<replay_view_log> {
 public:
  struct limits {
    std::size_t seen_max = 200000;  // remembered fetches; when full the set starts over (the
                                    // rows stay: a repeat then costs one ignored insert)
    std::size_t pending_max = 10000;  // queued for the writer; more are dropped and tried again on the next fetch
  };

  replay_view_log(store::sqlite_writer* writer, limits l) : writer_(writer), limits_(l) {}
  explicit replay_view_log(store::sqlite_writer* writer) : replay_view_log(writer, limits{}) {}

  // A segment was served to a registrant at `now`. True when it was new to the log (queued).
  bool note(const replay_view& view, std::int64_t now);

  // For tests and metrics: how many views are waiting for the writer, how many are remembered.
  std::size_t pending() const;
  std::size_t remembered() const;

 private:
  struct queued {
    replay_view view;
    std::int64_t at = 0;
  };
  void flush(store::database& db);
  void forget(const std::vector<queued>& views);

  store::sqlite_writer* writer_;
  limits limits_;
  mutable std::mutex mutex_;
  std::set<std::tuple<std::int64_t, std::string, std::int64_t, std::int64_t>> seen_;
  std::vector<queued> pending_;
  bool flush_queued_ = false;
};

}  // namespace cohort::streaming
