// The polls channel: the organizer prepares polls for a session (single or multiple choice, 2 to
// 8 options) and opens, closes and shows their results through the routes; members vote with
// poll.vote. A poll's life is the state frame x.poll ("poll:<id>", ordered by its rev) and each
// answer the state frame x.vote ("vote:<poll>:<registration>", the newest vote wins), so every
// node counts each registrant once and a room that starts later has every answer. Results go to
// the organizers as they change and to attendees once shown, coalesced into at most one
// poll.results frame per `push_interval` per room whatever the vote rate. On the primary the
// channel stores every answer (the attendance report counts them) and serves the routes.
#pragma once

#include "live_room/channel.hpp"
#include "live_room/channels/chat/rate_limiter.hpp"
#include "live_room/channels/polls/polls_store.hpp"
#include "registration/api_support.hpp"
#include "store/reader_pool.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace cohort::live_room {

struct polls_options {
  rate_limiter::limits votes{5, std::chrono::milliseconds(10000), std::chrono::milliseconds(10000)};
  std::chrono::milliseconds push_interval{500};
  std::size_t polls_per_webinar = 200;
};

class polls_channel : public channel {
 public:
  polls_channel(polls_options options, room_bus* bus, std::optional<store_access> store);

  std::string_view name() const override { return "polls"; }
  channel_types types() const override { return {{"poll.vote"}, {}, {}, {"x.poll", "x.vote"}}; }
  std::string state_field(const boost::json::object& frame) const override;
  std::vector<std::string> stored_state(std::int64_t webinar_id) const override;
  std::unique_ptr<channel_room> open(room_context& room) override;
  void add_routes(http::router& r) override;

 private:
  class part;
  void create(http::request& req, http::responder& respond);
  void list(http::request& req, http::responder& respond);
  void edit(http::request& req, http::responder& respond);
  void open_poll(http::request& req, http::responder& respond);
  void close_poll(http::request& req, http::responder& respond);
  void show_results(http::request& req, http::responder& respond);
  void export_csv(http::request& req, http::responder& respond);
  // open | close | show: moves the poll on, stores it and publishes its x.poll frame.
  void advance(http::request& req, http::responder& respond, std::string action);
  // The body's fields over `base` (all required when creating). Throws validation_error.
  poll_input read_input(http::request& req, const poll_input* base);

  polls_options options_;
  room_bus* bus_;
  std::optional<store_access> store_;
};

// {"type":"x.poll","rev":R,"poll":{"id","session","question","kind","options","state","shown","opened_ms","closed_ms"}}
std::string poll_frame(const poll_row& poll);
// {"type":"x.vote","poll_id":P,"registration_id":R,"choices":[...],"at":UNIX_MS}
std::string vote_frame(std::int64_t poll_id, std::int64_t registration_id, const std::vector<int>& choices, std::int64_t at_ms);

}  // namespace cohort::live_room
