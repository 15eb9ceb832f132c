#include "live_room/channels/qa/qa_channel.hpp"

#include "common/csv.hpp"
#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "common/text.hpp"
#include "gateway/router.hpp"
#include "live_room/channels/qa/qa_store.hpp"
#include "registration/validation.hpp"
#include "registration/webinar_store.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <iostream>
#include <random>
#include <unordered_map>
#include <unordered_set>

namespace cohort::live_room {
namespace json = boost::json;
using http::response;
using common::format_rfc3339;

namespace {

std::int64_t int_member(const json::object& o, std::string_view name) { return o.at(name).to_number<std::int64_t>(); }
std::string str_member(const json::object& o, std::string_view name) { return std::string(o.at(name).as_string()); }

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// 16 hex digits: unique across nodes without asking anyone.
std::string new_question_id() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  auto v = gen();
  std::string out(16, '0');
  for (auto& c : out) {
    c = hex[v & 15];
    v >>= 4;
  }
  return out;
}

bool valid_question_id(const json::value* v) {
  if (!v || !v->is_string()) return false;
  const auto& s = v->get_string();
  return s.size() == 16 && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

const char* status_name(int rank) {
  switch (rank) {
    case 1: return "answered";
    case 2: return "dismissed";
    case 3: return "deleted";
    default: return "open";
  }
}

bool is_stored(const json::object& frame) {
  const auto* s = frame.if_contains("stored");
  return s && s->is_bool() && s->get_bool();
}

}  // namespace

int status_rank(std::string_view status) {
  if (status == "open") return 0;
  if (status == "answered") return 1;
  if (status == "dismissed") return 2;
  if (status == "deleted") return 3;
  return -1;
}

std::optional<std::string> valid_question_text(std::string_view raw, std::string& why) {
  auto text = common::trim(raw);
  if (text.empty()) {
    why = "the question is empty";
    return std::nullopt;
  }
  if (!common::valid_utf8(text)) {
    why = "the question is not valid UTF-8";
    return std::nullopt;
  }
  if (common::has_control_chars(text)) {
    why = "the question must not contain control characters or line breaks";
    return std::nullopt;
  }
  if (common::utf8_length(text) > 300) {
    why = "the question is longer than 300 characters";
    return std::nullopt;
  }
  return text;
}

std::string question_frame(const std::string& id, std::int64_t asker, const std::string& name, bool anonymous, const std::string& text,
                           std::int64_t asked_at_ms) {
  return json::serialize(json::object{{"type", "x.qa.question"}, {"id", id},   {"asker", asker}, {"name", name},
                                      {"anonymous", anonymous},  {"text", text}, {"at", asked_at_ms}});
}

std::string status_frame(const std::string& id, std::string_view status) {
  return json::serialize(json::object{{"type", "x.qa.status"}, {"id", id}, {"status", status}});
}

std::string vote_frame(const std::string& id, std::int64_t voter, bool up, std::int64_t at_ms) {
  return json::serialize(json::object{{"type", "x.qa.vote"}, {"id", id}, {"voter", voter}, {"up", up}, {"at", at_ms}});
}

std::string pin_frame(const std::optional<std::string>& id, std::int64_t at_ms) {
  json::value v = nullptr;
  if (id) v = *id;
  return json::serialize(json::object{{"type", "x.qa.pin"}, {"id", std::move(v)}, {"at", at_ms}});
}

std::string settings_frame(bool anonymous, std::int64_t at_ms) {
  return json::serialize(json::object{{"type", "x.qa.settings"}, {"anonymous", anonymous}, {"at", at_ms}});
}

// One room's Q&A. Everything it shows comes from state frames; a member's action only publishes one.
class qa_channel::part : public channel_room {
 public:
  part(qa_channel& channel, room_context& room) : channel_(channel), room_(room), counts_timer_(room.executor()) {}

  void on_stop() override { counts_timer_.cancel(); }

  void on_client(const member_ptr& from, std::string_view type, const json::object& msg) override {
    if (type == "qa.ask") return ask(from, msg);
    if (type == "qa.vote") return vote(from, msg);
    const auto* idv = msg.if_contains("id");
    if (type == "qa.delete") {
      if (!valid_question_id(idv)) return refuse(from, "invalid", "id must be a question's id");
      const auto it = questions_.find(std::string(idv->get_string()));
      if (it == questions_.end() || rank_of(it->first) >= 2) return refuse(from, "not_found", "no such question");
      const auto& who = from->who();
      if (!who.runs_room() && (who.id == 0 || who.id != it->second.asker))
        return refuse(from, "forbidden", "only the asker or the organizer may delete a question");
      return publish_status(it->first, "deleted");
    }
    if (type == "qa.moderate") return moderate(from, msg);
  }

  void on_state(const json::object& frame, bool live) override {
    const auto type = frame.at("type").as_string();
    if (type == "x.qa.question") apply_question(frame, live);
    else if (type == "x.qa.status") apply_status(frame, live);
    else if (type == "x.qa.vote") apply_vote(frame, live);
    else if (type == "x.qa.pin") apply_pin(frame, live);
    else if (type == "x.qa.settings") apply_settings(frame, live);
  }

  void add_to_hello(const member_identity& who, json::object& hello) override {
    std::vector<const question*> shown;
    for (const auto& [id, q] : questions_)
      if (rank_of(id) < 2) shown.push_back(&q);
    const auto n = std::min(shown.size(), channel_.options_.hello_questions);
    std::partial_sort(shown.begin(), shown.begin() + static_cast<std::ptrdiff_t>(n), shown.end(), [this](const question* a, const question* b) {
      const auto va = count_of(a->id), vb = count_of(b->id);
      if (va != vb) return va > vb;
      if (a->at != b->at) return a->at < b->at;
      return a->id < b->id;
    });
    json::array list;
    json::array voted;
    for (std::size_t i = 0; i < n; ++i) {
      list.push_back(view(*shown[i], is_mine(*shown[i], who)));
      if (voted_up(shown[i]->id, who.id)) voted.push_back(json::string(shown[i]->id));
    }
    hello["qa"] = json::object{{"questions", std::move(list)},
                               {"voted", std::move(voted)},
                               {"pinned", pinned_view()},
                               {"anonymous", anonymous_},
                               {"total", shown.size()}};
  }

 private:
  struct question {
    std::string id;
    std::int64_t asker = 0;
    std::string name;
    bool anonymous = false;
    std::string text;
    std::int64_t at = 0;  // ms
  };
  struct vote_entry {
    std::int64_t at = 0;
    bool up = false;
  };

  // --- what members send ---

  void ask(const member_ptr& from, const json::object& msg) {
    const auto& who = from->who();
    const auto* body = msg.if_contains("text");
    if (!body || !body->is_string()) return refuse(from, "invalid", "text must be a string");
    bool anonymous = false;
    if (const auto* a = msg.if_contains("anonymous"); a && !a->is_null()) {
      if (!a->is_bool()) return refuse(from, "invalid", "anonymous must be true or false");
      anonymous = a->get_bool();
    }
    std::string why;
    auto text = valid_question_text(body->get_string(), why);
    if (!text) return refuse(from, "invalid", why);
    if (anonymous && !anonymous_) return refuse(from, "invalid", "this series does not allow anonymous questions");
    if (questions_.size() >= channel_.options_.max_questions) return refuse(from, "full", "this room takes no more questions");
    if (!limited(from, ask_limits_, channel_.options_.asks, "questions")) return;
    const auto id = new_question_id();
    room_.bus().publish_state(room_.webinar_id(), "q:" + id, question_frame(id, who.id, who.name, anonymous, *text, now_ms()));
  }

  void vote(const member_ptr& from, const json::object& msg) {
    const auto& who = from->who();
    const auto* idv = msg.if_contains("id");
    if (!valid_question_id(idv)) return refuse(from, "invalid", "id must be a question's id");
    bool up = true;
    if (const auto* u = msg.if_contains("up"); u && !u->is_null()) {
      if (!u->is_bool()) return refuse(from, "invalid", "up must be true or false");
      up = u->get_bool();
    }
    if (who.id == 0) return refuse(from, "forbidden", "only registrants vote");
    const std::string id(idv->get_string());
    if (!questions_.count(id) || rank_of(id) >= 2) return refuse(from, "not_found", "no such question");
    std::int64_t last = 0;
    if (const auto* e = find_vote(id, who.id)) {
      if (e->up == up) return;  // already so: nothing to publish
      last = e->at;
    }
    if (!limited(from, vote_limits_, channel_.options_.votes, "votes")) return;
    // Later than this voter's last change, so it wins wherever it is applied.
    const auto at = std::max(now_ms(), last + 1);
    room_.bus().publish_state(room_.webinar_id(), "qv:" + id + ":" + std::to_string(who.id), vote_frame(id, who.id, up, at));
  }

  void moderate(const member_ptr& from, const json::object& msg) {
    if (!from->who().runs_room()) return refuse(from, "forbidden", "only the organizer moderates questions");
    const auto* action = msg.if_contains("action");
    if (!action || !action->is_string()) return refuse(from, "invalid", "action must be answered, dismissed, pin or unpin");
    const auto a = action->get_string();
    if (a == "unpin") return publish_pin(std::nullopt);
    const auto* idv = msg.if_contains("id");
    if (!valid_question_id(idv)) return refuse(from, "invalid", "id must be a question's id");
    const std::string id(idv->get_string());
    if (!questions_.count(id) || rank_of(id) >= 2) return refuse(from, "not_found", "no such question");
    if (a == "answered" || a == "dismissed") return publish_status(id, a);
    if (a == "pin") return publish_pin(id);
    refuse(from, "invalid", "action must be answered, dismissed, pin or unpin");
  }

  void publish_status(const std::string& id, std::string_view status) {
    room_.bus().publish_state(room_.webinar_id(), "qs:" + id, status_frame(id, status));
  }
  void publish_pin(const std::optional<std::string>& id) {
    room_.bus().publish_state(room_.webinar_id(), "pin", pin_frame(id, std::max(now_ms(), pinned_at_ + 1)));
  }

  // False (and the member told) when over the limit; whoever runs the room is never limited.
  bool limited(const member_ptr& from, std::unordered_map<std::int64_t, rate_limiter>& limiters, const rate_limiter::limits& l,
               const char* what) {
    const auto& who = from->who();
    if (who.runs_room()) return true;
    // Bounded: a limiter per member who acted; dropped when they leave the room.
    auto& limiter = limiters.try_emplace(who.id, l).first->second;
    const auto now = rate_limiter::clock::now();
    if (limiter.allow(now)) return true;
    const auto wait = std::chrono::ceil<std::chrono::seconds>(limiter.blocked_until() - now).count();
    room_.refuse(from, "rate_limited",
                 std::string("slow down: at most ") + std::to_string(l.burst) + " " + what + " per " + std::to_string(l.window.count() / 1000) + " s",
                 common::unix_now() + wait);
    return false;
  }

  void on_leave(const member_ptr& m) override {
    const auto id = m->who().id;
    if (!ask_limits_.count(id) && !vote_limits_.count(id)) return;  // most leave without having asked or voted
    for (const auto& other : room_.members())
      if (other->who().id == id) return;
    ask_limits_.erase(id);
    vote_limits_.erase(id);
  }

  // --- state ---

  void apply_question(const json::object& f, bool live) {
    question q{str_member(f, "id"), int_member(f, "asker"), str_member(f, "name"), f.at("anonymous").as_bool(), str_member(f, "text"),
               int_member(f, "at")};
    if (questions_.count(q.id)) return;
    if (questions_.size() >= channel_.options_.max_questions) {
      std::cerr << "cohort: qa: room " << room_.webinar_id() << " is full, question " << q.id << " ignored\n";
      return;
    }
    const auto& stored = questions_.emplace(q.id, q).first->second;
    if (!is_stored(f))
      write([w = room_.webinar_id(), s = stored_question{q.id, q.asker, q.name, q.anonymous, q.text, q.at}](store::database& db) {
        insert_question(db, w, s);
      });
    if (!live || rank_of(q.id) >= 2) return;
    const auto mine = std::make_shared<const std::string>(json::serialize(json::object{{"type", "qa.question"}, {"question", view(stored, true)}}));
    const auto theirs = std::make_shared<const std::string>(json::serialize(json::object{{"type", "qa.question"}, {"question", view(stored, false)}}));
    const auto asker = q.asker;
    room_.send_where(mine, [asker](const member_identity& who) { return asker != 0 && who.id == asker; });
    room_.send_where(theirs, [asker](const member_identity& who) { return asker == 0 || who.id != asker; });
  }

  void apply_status(const json::object& f, bool live) {
    const auto id = str_member(f, "id");
    const auto status = str_member(f, "status");
    const int rank = status_rank(status);
    if (rank < 1) throw std::invalid_argument("x.qa.status: bad status");
    if (!status_.count(id) && status_.size() >= 2 * channel_.options_.max_questions) return;
    auto& cur = status_[id];
    if (rank <= cur) return;
    const bool was_pinned_shown = pinned_ && *pinned_ == id && rank_of(id) < 2;
    cur = rank;
    if (!is_stored(f)) write([w = room_.webinar_id(), id, status](store::database& db) { raise_status(db, w, id, status); });
    if (!live || !questions_.count(id)) return;
    room_.broadcast(frame(json::object{{"type", "qa.status"}, {"id", id}, {"status", status}}));
    if (was_pinned_shown && rank >= 2) room_.broadcast(frame(json::object{{"type", "qa.pinned"}, {"question", nullptr}}));
  }

  void apply_vote(const json::object& f, bool live) {
    const auto id = str_member(f, "id");
    const auto voter = int_member(f, "voter");
    const bool up = f.at("up").as_bool();
    const auto at = int_member(f, "at");
    auto& of_question = votes_[id];
    auto it = of_question.find(voter);
    if (it == of_question.end()) {
      if (vote_entries_ >= channel_.options_.max_votes) {
        if (of_question.empty()) votes_.erase(id);
        return;
      }
      it = of_question.emplace(voter, vote_entry{}).first;
      ++vote_entries_;
    } else if (!(at > it->second.at || (at == it->second.at && !up && it->second.up))) {
      return;  // an older or repeated change: the set is as it was
    }
    const bool was_up = it->second.up;
    it->second = {at, up};
    if (was_up != up) counts_[id] += up ? 1 : -1;
    if (!is_stored(f)) write([w = room_.webinar_id(), id, voter, up, at](store::database& db) { put_vote(db, w, id, voter, up, at); });
    if (!live || was_up == up) return;
    room_.send_where(frame(json::object{{"type", "qa.voted"}, {"id", id}, {"up", up}}),
                     [voter](const member_identity& who) { return who.id == voter; });
    dirty_.insert(id);
    arm_counts();
  }

  void apply_pin(const json::object& f, bool live) {
    const auto at = int_member(f, "at");
    if (at <= pinned_at_) return;
    std::optional<std::string> id;
    if (const auto& v = f.at("id"); v.is_string()) id = std::string(v.get_string());
    pinned_ = id;
    pinned_at_ = at;
    if (!is_stored(f)) write([w = room_.webinar_id(), id, at](store::database& db) { put_pin(db, w, id, at); });
    if (live) room_.broadcast(frame(json::object{{"type", "qa.pinned"}, {"question", pinned_view()}}));
  }

  void apply_settings(const json::object& f, bool live) {
    const auto at = int_member(f, "at");
    if (at <= anonymous_at_) return;
    anonymous_ = f.at("anonymous").as_bool();
    anonymous_at_ = at;
    if (!is_stored(f)) write([w = room_.webinar_id(), a = anonymous_, at](store::database& db) { put_anonymous(db, w, a, at); });
    if (live) room_.broadcast(frame(json::object{{"type", "qa.settings"}, {"anonymous", anonymous_}}));
  }

  // The primary writes what its room applied; the Q&A never waits for the database.
  void write(std::function<void(store::database&)> w) {
    if (!channel_.store_) return;
    if (!channel_.store_->writes.writer->submit(std::move(w), nullptr)) std::cerr << "cohort: qa write dropped (queue full)\n";
  }

  // Counts go out coalesced: one frame per interval with every count that changed.
  void arm_counts() {
    if (counts_armed_) return;
    counts_armed_ = true;
    counts_timer_.expires_after(channel_.options_.counts_interval);
    counts_timer_.async_wait([this, keep = room_.keep_alive()](boost::system::error_code ec) {
      counts_armed_ = false;
      if (ec) return;
      json::object counts;
      for (const auto& id : dirty_)
        if (questions_.count(id) && rank_of(id) < 2) counts[id] = count_of(id);
      dirty_.clear();
      if (!counts.empty()) room_.broadcast(frame(json::object{{"type", "qa.counts"}, {"votes", std::move(counts)}}));
    });
  }

  // --- views ---

  int rank_of(const std::string& id) const {
    const auto it = status_.find(id);
    return it == status_.end() ? 0 : it->second;
  }
  std::int64_t count_of(const std::string& id) const {
    const auto it = counts_.find(id);
    return it == counts_.end() ? 0 : it->second;
  }
  const vote_entry* find_vote(const std::string& id, std::int64_t voter) const {
    const auto q = votes_.find(id);
    if (q == votes_.end()) return nullptr;
    const auto v = q->second.find(voter);
    return v == q->second.end() ? nullptr : &v->second;
  }
  bool voted_up(const std::string& id, std::int64_t voter) const {
    const auto* v = find_vote(id, voter);
    return v && v->up;
  }
  static bool is_mine(const question& q, const member_identity& who) { return q.asker != 0 && q.asker == who.id; }

  // What members see: never the asker's id, nor the name of an anonymous asker.
  json::object view(const question& q, bool mine) const {
    json::object o{{"id", q.id},
                   {"text", q.text},
                   {"from", q.anonymous ? json::value(nullptr) : json::value(q.name)},
                   {"ts", format_rfc3339(q.at / 1000)},
                   {"votes", count_of(q.id)},
                   {"status", status_name(rank_of(q.id))}};
    if (mine) o["mine"] = true;
    return o;
  }
  json::value pinned_view() const {
    if (!pinned_) return nullptr;
    const auto it = questions_.find(*pinned_);
    if (it == questions_.end() || rank_of(*pinned_) >= 2) return nullptr;
    return view(it->second, false);
  }
  static frame_ptr frame(const json::object& o) { return std::make_shared<const std::string>(json::serialize(o)); }

  void refuse(const member_ptr& to, const char* code, const std::string& message) { room_.refuse(to, code, message, std::nullopt); }

  qa_channel& channel_;
  room_context& room_;
  std::unordered_map<std::string, question> questions_;
  std::unordered_map<std::string, int> status_;  // may come before its question
  std::unordered_map<std::string, std::unordered_map<std::int64_t, vote_entry>> votes_;
  std::unordered_map<std::string, std::int64_t> counts_;
  std::size_t vote_entries_ = 0;
  std::optional<std::string> pinned_;
  std::int64_t pinned_at_ = 0;
  bool anonymous_ = false;
  std::int64_t anonymous_at_ = 0;
  std::unordered_map<std::int64_t, rate_limiter> ask_limits_;
  std::unordered_map<std::int64_t, rate_limiter> vote_limits_;
  std::unordered_set<std::string> dirty_;
  boost::asio::steady_timer counts_timer_;
  bool counts_armed_ = false;
};

qa_channel::qa_channel(qa_options options, room_bus* bus, std::optional<store_access> store)
    : options_(options), bus_(bus), store_(std::move(store)) {}

channel_types qa_channel::types() const {
  return {{"qa.ask", "qa.vote", "qa.delete", "qa.moderate"}, {}, {}, {"x.qa.question", "x.qa.status", "x.qa.vote", "x.qa.pin", "x.qa.settings"}};
}

std::string qa_channel::state_field(const json::object& frame) const {
  const auto type = frame.at("type").as_string();
  if (type == "x.qa.question") return "q:" + str_member(frame, "id");
  if (type == "x.qa.status") return "qs:" + str_member(frame, "id");
  if (type == "x.qa.vote") return "qv:" + str_member(frame, "id") + ":" + std::to_string(int_member(frame, "voter"));
  if (type == "x.qa.pin") return "pin";
  if (type == "x.qa.settings") return "settings";
  throw std::invalid_argument("not a qa state frame");
}

std::vector<std::string> qa_channel::stored_state(std::int64_t webinar_id) const {
  if (!store_) return {};
  auto db = store_->readers->acquire();
  return qa_state_frames(*db, webinar_id);
}

std::unique_ptr<channel_room> qa_channel::open(room_context& room) { return std::make_unique<part>(*this, room); }

void qa_channel::add_routes(http::router& r) {
  using http::access;
  using http::verb;
  r.add(verb::post, "/api/webinars/{id}/questions/{question}/status", {access::organizer, true}, &qa_channel::set_status, this);
  r.add(verb::put, "/api/webinars/{id}/questions/pinned", {access::organizer, true}, &qa_channel::pin, this);
  r.add(verb::put, "/api/webinars/{id}/qa-settings", {access::organizer, true}, &qa_channel::settings, this);
  r.add(verb::get, "/api/webinars/{id}/questions.csv", {access::organizer, false}, &qa_channel::export_csv, this);
}

void qa_channel::publish(std::int64_t webinar_id, const std::string& frame) {
  auto o = json::parse(frame).as_object();
  const auto field = state_field(o);
  o["stored"] = true;  // written before it is published: the primary's room need not write it again
  bus_->publish_state(webinar_id, field, json::serialize(o));
}

void qa_channel::set_status(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  const auto question_id = req.params.at(1);
  const auto* s = req.json.if_contains("status");
  if (!s || !s->is_string() || (s->get_string() != "answered" && s->get_string() != "dismissed"))
    throw common::invalid("status", "status must be answered or dismissed");
  const std::string status(s->get_string());
  {
    auto db = store_->readers->acquire();
    if (!registration::find_webinar(*db, webinar_id)) throw common::not_found("no such webinar");
    if (!question_exists(*db, webinar_id, question_id)) throw common::not_found("no such question");
  }
  registration::queue_write<bool>(
      store_->writes, respond,
      [webinar_id, question_id, status](store::database& db) {
        raise_status(db, webinar_id, question_id, status);
        return true;
      },
      [this, webinar_id, question_id, status](bool) {
        publish(webinar_id, status_frame(question_id, status));
        return response::json(200, json::object{{"id", question_id}, {"status", status}});
      });
}

void qa_channel::pin(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  const auto* v = req.json.if_contains("id");
  if (!v || !(v->is_null() || valid_question_id(v)))
    throw common::invalid("id", "id must be a question's id, or null to unpin");
  std::optional<std::string> id;
  if (v->is_string()) id = std::string(v->get_string());
  {
    auto db = store_->readers->acquire();
    if (!registration::find_webinar(*db, webinar_id)) throw common::not_found("no such webinar");
    if (id && !question_exists(*db, webinar_id, *id)) throw common::not_found("no such question");
  }
  const auto at = now_ms();
  registration::queue_write<bool>(
      store_->writes, respond,
      [webinar_id, id, at](store::database& db) {
        put_pin(db, webinar_id, id, at);
        return true;
      },
      [this, webinar_id, id, at](bool) {
        publish(webinar_id, pin_frame(id, at));
        return response::json(200, json::object{{"id", id ? json::value(*id) : json::value(nullptr)}});
      });
}

void qa_channel::settings(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  const auto* v = req.json.if_contains("anonymous");
  if (!v || !v->is_bool()) throw common::invalid("anonymous", "anonymous must be true or false");
  const bool anonymous = v->get_bool();
  {
    auto db = store_->readers->acquire();
    if (!registration::find_webinar(*db, webinar_id)) throw common::not_found("no such webinar");
  }
  const auto at = now_ms();
  registration::queue_write<bool>(
      store_->writes, respond,
      [webinar_id, anonymous, at](store::database& db) {
        put_anonymous(db, webinar_id, anonymous, at);
        return true;
      },
      [this, webinar_id, anonymous, at](bool) {
        publish(webinar_id, settings_frame(anonymous, at));
        return response::json(200, json::object{{"anonymous", anonymous}});
      });
}

void qa_channel::export_csv(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  auto db = store_->readers->acquire();
  if (!registration::find_webinar(*db, webinar_id)) throw common::not_found("no such webinar");
  std::string csv;
  common::append_csv_row(csv, {"id", "asked_at", "asker_id", "asker_name", "anonymous", "text", "status", "votes"});
  for_each_question(*db, webinar_id, [&csv](const question_row& row) {
    common::append_csv_row(csv, {row.q.id, format_rfc3339(row.q.asked_at_ms / 1000), std::to_string(row.q.asker_id), row.q.asker_name,
                                       row.q.anonymous ? "true" : "false", row.q.text, row.status, std::to_string(row.votes)});
  });
  auto res = response::text(200, std::move(csv), "text/csv; charset=utf-8");
  res.headers.emplace_back("Content-Disposition", "attachment; filename=\"webinar-" + std::to_string(webinar_id) + "-questions.csv\"");
  respond(std::move(res));
}

}  // namespace cohort::live_room
