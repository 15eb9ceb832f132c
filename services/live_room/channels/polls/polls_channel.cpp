#include "live_room/channels/polls/polls_channel.hpp"

#include "common/csv.hpp"
#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "common/text.hpp"
#include "gateway/router.hpp"
#include "registration/validation.hpp"
#include "registration/webinar_store.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <iostream>
#include <map>
#include <set>
#include <unordered_map>

namespace cohort::live_room {
namespace json = boost::json;
using http::response;
using common::unix_now;

namespace {

std::int64_t int_member(const json::object& o, std::string_view name) { return o.at(name).to_number<std::int64_t>(); }

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

json::value optional_json(const std::optional<std::int64_t>& v) { return v ? json::value(*v) : json::value(nullptr); }

// What members and the API see of a poll.
json::object public_view(const poll_row& p) {
  json::array options;
  for (const auto& o : p.input.options) options.emplace_back(o);
  return json::object{{"id", p.id},       {"session", p.input.session}, {"question", p.input.question}, {"kind", p.input.kind},
                      {"options", options}, {"state", p.state},           {"shown", p.shown}};
}

json::object results_json(const std::vector<std::int64_t>& counts, std::int64_t voters) {
  json::array c;
  for (auto n : counts) c.emplace_back(n);
  return json::object{{"counts", std::move(c)}, {"voters", voters}};
}

}  // namespace

std::string poll_frame(const poll_row& poll) {
  auto view = public_view(poll);
  view["opened_ms"] = optional_json(poll.opened_ms);
  view["closed_ms"] = optional_json(poll.closed_ms);
  return json::serialize(json::object{{"type", "x.poll"}, {"rev", poll.rev}, {"poll", std::move(view)}});
}

std::string vote_frame(std::int64_t poll_id, std::int64_t registration_id, const std::vector<int>& choices, std::int64_t at_ms) {
  json::array c;
  for (auto i : choices) c.emplace_back(i);
  return json::serialize(
      json::object{{"type", "x.vote"}, {"poll_id", poll_id}, {"registration_id", registration_id}, {"choices", std::move(c)}, {"at", at_ms}});
}

// One room's polls: the polls past draft, every registrant's newest answer, the tallies and the
// timer that coalesces result pushes.
class polls_channel::part : public channel_room {
 public:
  part(polls_channel& channel, room_context& room) : channel_(channel), room_(room), timer_(room.executor()) {}

  void on_client(const member_ptr& from, std::string_view, const json::object& msg) override {
    const auto& who = from->who();
    if (who.runs_room()) return room_.refuse(from, "forbidden", "only registrants vote", std::nullopt);
    const auto* pid = msg.if_contains("poll_id");
    if (!pid || !pid->is_int64()) return room_.refuse(from, "invalid", "poll_id must be a poll's id", std::nullopt);
    const auto it = polls_.find(pid->get_int64());
    if (it == polls_.end()) return room_.refuse(from, "not_found", "no such poll", std::nullopt);
    const auto& poll = it->second;
    if (poll.state != "open") return room_.refuse(from, "closed", "the poll is closed", std::nullopt);
    const auto* raw = msg.if_contains("choices");
    if (!raw || !raw->is_array()) return room_.refuse(from, "invalid", "choices must be an array of option indexes", std::nullopt);
    std::vector<int> choices;
    for (const auto& c : raw->get_array()) {
      if (!c.is_int64() || c.get_int64() < 0 || c.get_int64() >= static_cast<std::int64_t>(poll.options))
        return room_.refuse(from, "invalid", "choices must be indexes of the poll's options", std::nullopt);
      choices.push_back(static_cast<int>(c.get_int64()));
    }
    std::sort(choices.begin(), choices.end());
    if (std::adjacent_find(choices.begin(), choices.end()) != choices.end())
      return room_.refuse(from, "invalid", "choose each option at most once", std::nullopt);
    if (choices.empty() || (!poll.multiple && choices.size() != 1))
      return room_.refuse(from, "invalid", poll.multiple ? "choose at least one option" : "choose exactly one option", std::nullopt);
    auto& limiter = limiters_.try_emplace(who.id, channel_.options_.votes).first->second;
    const auto steady_now = rate_limiter::clock::now();
    if (!limiter.allow(steady_now)) {
      const auto wait = std::chrono::ceil<std::chrono::seconds>(limiter.blocked_until() - steady_now).count();
      return room_.refuse(from, "rate_limited", "slow down: too many votes", unix_now() + wait);
    }
    if (!room_.bus().available()) return room_.refuse(from, "unavailable", "voting is briefly unavailable, try again", std::nullopt);
    // Counted when it comes back through the bus, on every node alike.
    // The newest vote wins by its stamp: a person's votes through this node get increasing stamps
    // even within one millisecond, so a quick change of mind is never beaten by the vote it replaces.
    auto& stamp = last_stamp_[who.id];
    stamp = std::max(now_ms(), stamp + 1);
    if (const auto a = answers_.find(poll.id); a != answers_.end())
      if (const auto mine = a->second.find(who.id); mine != a->second.end()) stamp = std::max(stamp, mine->second.at + 1);
    room_.bus().publish_state(room_.webinar_id(), "vote:" + std::to_string(poll.id) + ":" + std::to_string(who.id),
                              vote_frame(poll.id, who.id, choices, stamp));
  }

  void on_state(const json::object& frame, bool live) override {
    if (frame.at("type").as_string() == "x.poll") return apply_poll(frame, live);
    apply_vote(frame, live);
  }

  void add_to_hello(const member_identity& who, json::object& hello) override {
    json::array out;
    for (auto& [id, poll] : polls_) {
      if (!who.runs_room() && poll.state != "open" && !poll.shown) continue;
      json::object p = poll.view;
      if (who.runs_room() || poll.shown) p["results"] = results_of(id, poll);
      json::value answer = nullptr;
      if (!who.runs_room())
        if (const auto a = answers_.find(id); a != answers_.end())
          if (const auto mine = a->second.find(who.id); mine != a->second.end()) answer = choices_array(mine->second.choices);
      p["answer"] = std::move(answer);
      out.push_back(std::move(p));
    }
    hello["polls"] = std::move(out);
  }

  void on_stop() override { timer_.cancel(); }

 private:
  struct poll_view {
    std::int64_t id = 0;
    std::int64_t rev = -1;
    json::object view;  // public_view
    std::string state;
    bool shown = false;
    std::size_t options = 0;
    bool multiple = false;
    std::optional<std::int64_t> closed_ms;
  };
  struct answer {
    std::int64_t at = 0;
    std::vector<int> choices;
    std::string text;  // choices as JSON, "[0,2]": breaks a tie of `at` the way the store does (byte order)
  };
  struct tally {
    std::vector<std::int64_t> counts;
    std::int64_t voters = 0;
    bool stale = true;
  };

  static json::array choices_array(const std::vector<int>& choices) {
    json::array a;
    for (auto c : choices) a.emplace_back(c);
    return a;
  }

  void apply_poll(const json::object& frame, bool live) {
    const auto& p = frame.at("poll").as_object();
    const auto id = int_member(p, "id");
    const auto rev = int_member(frame, "rev");
    auto& poll = polls_[id];
    if (poll.rev >= rev) return;  // older or the same: changes nothing
    poll.id = id;
    poll.rev = rev;
    poll.state = std::string(p.at("state").as_string());
    poll.shown = p.at("shown").as_bool();
    poll.options = p.at("options").as_array().size();
    poll.multiple = p.at("kind").as_string() == "multiple";
    poll.closed_ms = p.at("closed_ms").is_null() ? std::nullopt : std::optional<std::int64_t>(int_member(p, "closed_ms"));
    poll.view = p;
    poll.view.erase("opened_ms");
    poll.view.erase("closed_ms");
    tallies_[id].stale = true;  // closing cuts off later votes
    if (!live) return;
    json::object for_all = poll.view;
    json::object for_organizers = poll.view;
    for_organizers["results"] = results_of(id, poll);
    if (poll.shown) for_all["results"] = for_organizers["results"];
    room_.send_where(std::make_shared<const std::string>(json::serialize(json::object{{"type", "poll"}, {"poll", std::move(for_organizers)}})),
                     [](const member_identity& w) { return w.runs_room(); });
    room_.send_where(std::make_shared<const std::string>(json::serialize(json::object{{"type", "poll"}, {"poll", std::move(for_all)}})),
                     [](const member_identity& w) { return !w.runs_room(); });
  }

  void apply_vote(const json::object& frame, bool live) {
    const auto poll_id = int_member(frame, "poll_id");
    const auto registration_id = int_member(frame, "registration_id");
    answer a{int_member(frame, "at"), {}, {}};
    for (const auto& c : frame.at("choices").as_array()) a.choices.push_back(c.to_number<int>());
    a.text = json::serialize(choices_array(a.choices));
    auto& by_registrant = answers_[poll_id];
    const auto it = by_registrant.find(registration_id);
    // The newest vote wins, whatever order the frames come in; a repeat changes nothing.
    if (it != by_registrant.end() && std::tie(it->second.at, it->second.text) >= std::tie(a.at, a.text)) return;
    if (channel_.store_ &&
        !channel_.store_->writes.writer->submit(
            [webinar = room_.webinar_id(), poll_id, registration_id, a](store::database& db) {
              upsert_answer(db, webinar, poll_id, registration_id, a.choices, a.at);
            },
            nullptr))
      std::cerr << "cohort: poll answer write dropped (queue full)\n";
    if (live) {
      auto mine = std::make_shared<const std::string>(
          json::serialize(json::object{{"type", "poll.answer"}, {"poll_id", poll_id}, {"choices", choices_array(a.choices)}}));
      room_.send_where(mine, [registration_id](const member_identity& w) { return !w.runs_room() && w.id == registration_id; });
    }
    by_registrant[registration_id] = std::move(a);
    tallies_[poll_id].stale = true;
    changed_.insert(poll_id);
    if (live) schedule_push();
  }

  json::object results_of(std::int64_t id, const poll_view& poll) {
    auto& t = tallies_[id];
    if (t.stale) {
      t.counts.assign(poll.options, 0);
      t.voters = 0;
      if (const auto a = answers_.find(id); a != answers_.end())
        for (const auto& [registrant, ans] : a->second) {
          if (poll.closed_ms && ans.at > *poll.closed_ms) continue;  // after the close
          ++t.voters;
          for (auto c : ans.choices)
            if (c >= 0 && static_cast<std::size_t>(c) < t.counts.size()) ++t.counts[static_cast<std::size_t>(c)];
        }
      t.stale = false;
    }
    return results_json(t.counts, t.voters);
  }

  // At most one push per interval: the first change after a quiet spell goes out at once, the
  // rest wait for the interval to end and go out together.
  void schedule_push() {
    if (timer_armed_) return;
    timer_armed_ = true;
    const auto due = last_push_ + channel_.options_.push_interval;
    timer_.expires_at(std::max(due, std::chrono::steady_clock::now()));
    timer_.async_wait([this, keep = room_.keep_alive()](boost::system::error_code ec) {
      timer_armed_ = false;
      if (!ec) push();
    });
  }

  void push() {
    last_push_ = std::chrono::steady_clock::now();
    json::array for_organizers, for_all;
    for (const auto id : changed_) {
      const auto it = polls_.find(id);
      if (it == polls_.end() || it->second.rev < 0) continue;
      auto r = results_of(id, it->second);
      r["poll_id"] = id;
      if (it->second.shown) for_all.push_back(r);
      for_organizers.push_back(std::move(r));
    }
    changed_.clear();
    if (!for_organizers.empty())
      room_.send_where(std::make_shared<const std::string>(json::serialize(json::object{{"type", "poll.results"}, {"results", std::move(for_organizers)}})),
                       [](const member_identity& w) { return w.runs_room(); });
    if (!for_all.empty())
      room_.send_where(std::make_shared<const std::string>(json::serialize(json::object{{"type", "poll.results"}, {"results", std::move(for_all)}})),
                       [](const member_identity& w) { return !w.runs_room(); });
  }

  polls_channel& channel_;
  room_context& room_;
  std::map<std::int64_t, poll_view> polls_;  // by id; rev -1: only votes seen so far
  std::unordered_map<std::int64_t, std::unordered_map<std::int64_t, answer>> answers_;  // poll -> registrant -> answer
  std::unordered_map<std::int64_t, tally> tallies_;
  std::set<std::int64_t> changed_;  // polls whose results changed since the last push
  std::unordered_map<std::int64_t, rate_limiter> limiters_;  // by voter
  std::unordered_map<std::int64_t, std::int64_t> last_stamp_;  // by voter: the last vote's "at" from this node
  boost::asio::steady_timer timer_;
  bool timer_armed_ = false;
  std::chrono::steady_clock::time_point last_push_{};
};

polls_channel::polls_channel(polls_options options, room_bus* bus, std::optional<store_access> store)
    : options_(options), bus_(bus), store_(std::move(store)) {}

std::string polls_channel::state_field(const json::object& frame) const {
  if (frame.at("type").as_string() == "x.poll") return "poll:" + std::to_string(int_member(frame.at("poll").as_object(), "id"));
  return "vote:" + std::to_string(int_member(frame, "poll_id")) + ":" + std::to_string(int_member(frame, "registration_id"));
}

std::vector<std::string> polls_channel::stored_state(std::int64_t webinar_id) const {
  if (!store_) return {};
  auto db = store_->readers->acquire();
  return poll_state_frames(*db, webinar_id);
}

std::unique_ptr<channel_room> polls_channel::open(room_context& room) { return std::make_unique<part>(*this, room); }

void polls_channel::add_routes(http::router& r) {
  using http::access;
  using http::verb;
  r.add(verb::post, "/api/webinars/{id}/polls", {access::organizer, true}, &polls_channel::create, this);
  r.add(verb::get, "/api/webinars/{id}/polls", {access::organizer, false}, &polls_channel::list, this);
  r.add(verb::get, "/api/webinars/{id}/polls.csv", {access::organizer, false}, &polls_channel::export_csv, this);
  r.add(verb::patch, "/api/webinars/{id}/polls/{poll_id}", {access::organizer, true}, &polls_channel::edit, this);
  r.add(verb::post, "/api/webinars/{id}/polls/{poll_id}/open", {access::organizer, false}, &polls_channel::open_poll, this);
  r.add(verb::post, "/api/webinars/{id}/polls/{poll_id}/close", {access::organizer, false}, &polls_channel::close_poll, this);
  r.add(verb::post, "/api/webinars/{id}/polls/{poll_id}/show", {access::organizer, false}, &polls_channel::show_results, this);
}

namespace {

json::object api_view(store::database& db, const poll_row& p) {
  auto v = public_view(p);
  v["opened_at"] = p.opened_ms ? json::value(common::format_rfc3339(*p.opened_ms / 1000)) : json::value(nullptr);
  v["closed_at"] = p.closed_ms ? json::value(common::format_rfc3339(*p.closed_ms / 1000)) : json::value(nullptr);
  if (p.state != "draft") {
    const auto t = tally_poll(db, p);
    v["results"] = results_json(t.counts, t.voters);
  } else {
    v["results"] = nullptr;
  }
  return v;
}

const registration::webinar& webinar_or_404(const std::optional<registration::webinar>& w) {
  if (!w) throw common::not_found("no such webinar");
  return *w;
}

}  // namespace

poll_input polls_channel::read_input(http::request& req, const poll_input* base) {
  poll_input in = base ? *base : poll_input{};
  const auto& body = req.json;
  if (const auto* s = body.if_contains("session")) {
    if (!s->is_int64() || s->get_int64() < 1) throw common::invalid("session", "session must be a session number");
    in.session = static_cast<int>(s->get_int64());
  } else if (!base) {
    throw common::invalid("session", "session is required");
  }
  if (const auto* q = body.if_contains("question"); q || !base) {
    if (!q || !q->is_string()) throw common::invalid("question", "question must be a string");
    in.question = common::required_text(q->get_string(), "question", 300);
  }
  if (const auto* k = body.if_contains("kind"); k || !base) {
    if (!k || !k->is_string() || (k->get_string() != "single" && k->get_string() != "multiple"))
      throw common::invalid("kind", "kind must be single or multiple");
    in.kind = std::string(k->get_string());
  }
  if (const auto* o = body.if_contains("options"); o || !base) {
    if (!o || !o->is_array() || o->get_array().size() < 2 || o->get_array().size() > 8)
      throw common::invalid("options", "options must be an array of 2 to 8 strings");
    in.options.clear();
    for (const auto& v : o->get_array()) {
      if (!v.is_string()) throw common::invalid("options", "options must be an array of 2 to 8 strings");
      in.options.push_back(common::required_text(v.get_string(), "options", 120));
    }
  }
  return in;
}

void polls_channel::create(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  auto in = read_input(req, nullptr);
  {
    auto db = store_->readers->acquire();
    const auto found = registration::find_webinar(*db, webinar_id);
    const auto& w = webinar_or_404(found);
    if (std::none_of(w.sessions.begin(), w.sessions.end(), [&](const auto& s) { return s.number == in.session; }))
      throw common::invalid("session", "the series has no session " + std::to_string(in.session));
  }
  registration::queue_write<json::object>(
      store_->writes, respond,
      [webinar_id, in = std::move(in), max = options_.polls_per_webinar](store::database& db) {
        if (static_cast<std::size_t>(count_polls(db, webinar_id)) >= max)
          throw http::api_error(409, "too_many", "a series has at most " + std::to_string(max) + " polls");
        const auto id = insert_poll(db, webinar_id, in, unix_now());
        return api_view(db, *find_poll(db, webinar_id, id));
      },
      [](json::object poll) { return response::json(201, std::move(poll)); });
}

void polls_channel::list(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  int session = 0;
  if (const auto* s = req.query_param("session")) {
    try {
      session = std::stoi(*s);
    } catch (const std::exception&) {
      session = -1;
    }
    if (session < 1) throw common::invalid("session", "session must be a session number");
  }
  auto db = store_->readers->acquire();
  webinar_or_404(registration::find_webinar(*db, webinar_id));
  json::array out;
  for (const auto& p : list_polls(*db, webinar_id, session)) out.push_back(api_view(*db, p));
  respond(response::json(200, json::object{{"polls", std::move(out)}}));
}

void polls_channel::edit(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0), poll_id = req.id_param(1);
  poll_input in;
  {
    auto db = store_->readers->acquire();
    const auto found = registration::find_webinar(*db, webinar_id);
    const auto& w = webinar_or_404(found);
    const auto p = find_poll(*db, webinar_id, poll_id);
    if (!p) throw common::not_found("no such poll");
    in = read_input(req, &p->input);
    if (std::none_of(w.sessions.begin(), w.sessions.end(), [&](const auto& s) { return s.number == in.session; }))
      throw common::invalid("session", "the series has no session " + std::to_string(in.session));
  }
  registration::queue_write<json::object>(
      store_->writes, respond,
      [webinar_id, poll_id, in = std::move(in)](store::database& db) {
        const auto p = find_poll(db, webinar_id, poll_id);
        if (!p) throw common::not_found("no such poll");
        if (p->state != "draft") throw http::api_error(409, "conflict", "a poll can be edited only before it is opened");
        update_poll(db, poll_id, in);
        return api_view(db, *find_poll(db, webinar_id, poll_id));
      },
      [](json::object poll) { return response::json(200, std::move(poll)); });
}

void polls_channel::open_poll(http::request& req, http::responder& respond) { advance(req, respond, "open"); }
void polls_channel::close_poll(http::request& req, http::responder& respond) { advance(req, respond, "close"); }
void polls_channel::show_results(http::request& req, http::responder& respond) { advance(req, respond, "show"); }

void polls_channel::advance(http::request& req, http::responder& respond, std::string action) {
  const auto webinar_id = req.id_param(0), poll_id = req.id_param(1);
  struct outcome {
    json::object view;
    std::string frame;
  };
  registration::queue_write<outcome>(
      store_->writes, respond,
      [webinar_id, poll_id, action](store::database& db) {
        auto p = find_poll(db, webinar_id, poll_id);
        if (!p) throw common::not_found("no such poll");
        if (action == "open") {
          if (p->state != "draft") throw http::api_error(409, "conflict", "the poll was already opened");
          p->state = "open";
          p->opened_ms = now_ms();
        } else if (action == "close") {
          if (p->state != "open") throw http::api_error(409, "conflict", "only an open poll can be closed");
          p->state = "closed";
          p->closed_ms = now_ms();
        } else {
          if (p->state == "draft") throw http::api_error(409, "conflict", "open the poll before showing its results");
          p->shown = true;
        }
        p->rev = save_poll_state(db, *p);
        return outcome{api_view(db, *p), poll_frame(*p)};
      },
      [bus = bus_, webinar_id, poll_id](outcome o) {
        bus->publish_state(webinar_id, "poll:" + std::to_string(poll_id), std::move(o.frame));
        return response::json(200, std::move(o.view));
      });
}

void polls_channel::export_csv(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  auto db = store_->readers->acquire();
  webinar_or_404(registration::find_webinar(*db, webinar_id));
  std::string csv;
  common::append_csv_row(csv, {"poll_id", "session", "question", "registration_id", "name", "email", "answer", "answered_at"});
  for_each_answer(*db, webinar_id, [&csv](const answer_row& row) {
    common::append_csv_row(csv, {std::to_string(row.poll_id), std::to_string(row.session), row.question, std::to_string(row.registration_id),
                                       row.name, row.email, row.answer, common::format_rfc3339(row.answered_ms / 1000)});
  });
  auto res = response::text(200, std::move(csv), "text/csv; charset=utf-8");
  res.headers.emplace_back("Content-Disposition", "attachment; filename=\"webinar-" + std::to_string(webinar_id) + "-polls.csv\"");
  respond(std::move(res));
}

}  // namespace cohort::live_room
