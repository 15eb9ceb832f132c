// The Q&A channel: members ask questions (qa.ask) and upvote them (qa.vote, one vote per
// registrant, withdrawable); whoever runs the room marks one answered, dismisses it or pins it
// as "now answering" (qa.moderate, or the organizer's routes); the asker may delete their own
// (qa.delete). Everything is a state frame on the bus, so every node converges whatever the
// order or repeats:
//   x.qa.question  the question (never changes)               field "q:<id>"
//   x.qa.status    answered < dismissed < deleted (max wins)   field "qs:<id>"
//   x.qa.vote      (question, voter) -> up, latest `at` wins   field "qv:<id>:<voter>"
//   x.qa.pin       the pinned question or null, latest wins    field "pin"
//   x.qa.settings  anonymous asking allowed, latest wins       field "settings"
// A vote is set membership, so a repeated vote event changes nothing. Count changes reach
// members coalesced (qa.counts, at most one frame per `counts_interval` per room).
// On the primary the room writes every change it applies to the store (frames that came from
// the store carry "stored":true and are not written again); stored_state is what a room starts
// from. The routes (primary) write first, then publish.
#pragma once

#include "live_room/channel.hpp"
#include "live_room/channels/chat/rate_limiter.hpp"
#include "registration/api_support.hpp"
#include "store/reader_pool.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace cohort::live_room {

struct qa_options {
  rate_limiter::limits asks{2, std::chrono::milliseconds(60000), std::chrono::milliseconds(30000)};
  rate_limiter::limits votes{20, std::chrono::milliseconds(10000), std::chrono::milliseconds(10000)};
  std::chrono::milliseconds counts_interval{250};
  std::size_t hello_questions = 100;   // the top N by votes, then time
  std::size_t max_questions = 1000;    // per room, every status; asking past it is refused
  std::size_t max_votes = 500000;      // per room, (question, voter) entries
};

// What the primary's Q&A has; an edge's has none of it.
class qa_channel : public channel {
 public:
  qa_channel(qa_options options, room_bus* bus, std::optional<store_access> store);

  std::string_view name() const override { return "qa"; }
  channel_types types() const override;
  std::string state_field(const boost::json::object& frame) const override;
  std::vector<std::string> stored_state(std::int64_t webinar_id) const override;
  std::unique_ptr<channel_room> open(room_context& room) override;
  void add_routes(http::router& r) override;

 private:
  class part;
  void set_status(http::request& req, http::responder& respond);
  void pin(http::request& req, http::responder& respond);
  void settings(http::request& req, http::responder& respond);
  void export_csv(http::request& req, http::responder& respond);
  void publish(std::int64_t webinar_id, const std::string& frame);

  qa_options options_;
  room_bus* bus_;
  std::optional<store_access> store_;
};

// Checks question text: valid UTF-8, 1..300 characters after trimming, no control characters.
std::optional<std::string> valid_question_text(std::string_view raw, std::string& why);

// The state frames (see above). `at` is unix milliseconds.
std::string question_frame(const std::string& id, std::int64_t asker, const std::string& name, bool anonymous, const std::string& text,
                           std::int64_t asked_at_ms);
std::string status_frame(const std::string& id, std::string_view status);
std::string vote_frame(const std::string& id, std::int64_t voter, bool up, std::int64_t at_ms);
std::string pin_frame(const std::optional<std::string>& id, std::int64_t at_ms);
std::string settings_frame(bool anonymous, std::int64_t at_ms);
// open 0, answered 1, dismissed 2, deleted 3; -1 for anything else.
int status_rank(std::string_view status);

}  // namespace cohort::live_room
