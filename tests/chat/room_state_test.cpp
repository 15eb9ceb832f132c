#include "chat/room_state.hpp"

#include "chat/chat_room.hpp"
#include "common/rfc3339.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

namespace {

namespace json = boost::json;
using cohort::chat::chat_identity;
using cohort::chat::room_state;

constexpr std::int64_t t0 = 1768471200;  // 2026-01-15T10:00:00Z

json::object parse(const std::string& text) { return json::parse(text).as_object(); }

// An x.drop frame as drop_store::drop_frame writes it; `to` absent = for everyone.
json::object drop_frame(std::int64_t id, std::int64_t released_at, std::optional<std::vector<std::int64_t>> to = {},
                        std::string title = "Drop") {
  json::object drop{{"id", id},
                    {"title", std::move(title)},
                    {"body", "text"},
                    {"url", nullptr},
                    {"file", nullptr},
                    {"released_at", cohort::common::format_rfc3339(released_at)}};
  json::object frame{{"type", "x.drop"}, {"drop", std::move(drop)}, {"to", nullptr}};
  if (to) {
    json::array ids;
    for (auto i : *to) ids.push_back(i);
    frame["to"] = std::move(ids);
  }
  return frame;
}

chat_identity registrant(std::int64_t id) { return chat_identity{id, "Person " + std::to_string(id), "registrant", {}}; }
chat_identity organizer() { return chat_identity{0, "Host", "organizer", {}}; }

std::vector<std::int64_t> ids_of(const json::array& drops) {
  std::vector<std::int64_t> out;
  for (const auto& d : drops) out.push_back(d.at("id").to_number<std::int64_t>());
  return out;
}

std::vector<bool> seen_of(const json::array& drops) {
  std::vector<bool> out;
  for (const auto& d : drops) out.push_back(d.at("seen").as_bool());
  return out;
}

}  // namespace

TEST_CASE("room_state: x.mute keeps the latest until, and muted_until respects now", "[chat][room_state]") {
  room_state s;
  CHECK_FALSE(s.muted_until(7, t0));
  CHECK(s.apply(parse(cohort::chat::mute_frame(7, t0 + 600))) == nullptr);
  CHECK(s.muted_until(7, t0) == t0 + 600);
  CHECK(s.muted_until(7, t0 + 599) == t0 + 600);
  CHECK_FALSE(s.muted_until(7, t0 + 600));  // over at `until`
  CHECK_FALSE(s.muted_until(8, t0));         // per registrant

  // An older (shorter) mute arriving later does not shorten it; a longer one extends it.
  s.apply(parse(cohort::chat::mute_frame(7, t0 + 60)));
  CHECK(s.muted_until(7, t0) == t0 + 600);
  s.apply(parse(cohort::chat::mute_frame(7, t0 + 3600)));
  CHECK(s.muted_until(7, t0 + 600) == t0 + 3600);
  // Applying the same frame again changes nothing.
  s.apply(parse(cohort::chat::mute_frame(7, t0 + 3600)));
  CHECK(s.muted_until(7, t0 + 600) == t0 + 3600);
}

TEST_CASE("room_state: x.seen keeps the latest marker", "[chat][room_state]") {
  room_state s;
  s.apply(drop_frame(1, t0 + 100));
  s.apply(drop_frame(2, t0 + 200));
  const auto who = registrant(5);
  CHECK(seen_of(s.drops_for(who)) == std::vector<bool>{false, false});

  CHECK(s.apply(parse(cohort::chat::seen_frame(5, t0 + 200))) == nullptr);
  CHECK(seen_of(s.drops_for(who)) == std::vector<bool>{true, true});
  // An older marker arriving later does not move it back.
  s.apply(parse(cohort::chat::seen_frame(5, t0 + 100)));
  CHECK(seen_of(s.drops_for(who)) == std::vector<bool>{true, true});
  // Another registrant's marker is theirs.
  CHECK(seen_of(s.drops_for(registrant(6))) == std::vector<bool>{false, false});
}

TEST_CASE("room_state: x.drop is released once, a repeat returns nullptr", "[chat][room_state]") {
  room_state s;
  const auto frame = drop_frame(3, t0, std::vector<std::int64_t>{10, 11}, "Slides");
  const auto* d = s.apply(frame);
  REQUIRE(d != nullptr);
  CHECK(d->id == 3);
  CHECK(d->released_at == t0);
  REQUIRE(d->audience);
  CHECK(d->audience->size() == 2);
  CHECK(d->audience->count(10) == 1);
  CHECK(d->audience->count(11) == 1);
  CHECK(d->body.at("title").as_string() == "Slides");
  CHECK_FALSE(d->body.contains("seen"));
  REQUIRE(d->event);
  const auto event = parse(*d->event);
  CHECK(event.at("type").as_string() == "drop");
  CHECK(event.at("drop").at("id").to_number<std::int64_t>() == 3);
  CHECK(event.at("drop").at("seen").as_bool() == false);
  CHECK(event.at("drop").at("title").as_string() == "Slides");

  CHECK(s.apply(frame) == nullptr);
  // Even with a different body or audience: the first release stands.
  CHECK(s.apply(drop_frame(3, t0 + 50, std::nullopt, "Other")) == nullptr);
  const auto list = s.drops_for(registrant(10));
  REQUIRE(list.size() == 1);
  CHECK(list[0].at("title").as_string() == "Slides");
  CHECK(s.drops_for(registrant(12)).empty());
}

TEST_CASE("room_state: a drop with to null is for everyone", "[chat][room_state]") {
  room_state s;
  const auto* d = s.apply(drop_frame(1, t0));
  REQUIRE(d != nullptr);
  CHECK_FALSE(d->audience);
  CHECK(s.is_for(*d, registrant(1)));
  CHECK(s.is_for(*d, registrant(999)));
  CHECK(s.is_for(*d, organizer()));

  // A frame without "to" at all, too.
  auto frame = drop_frame(2, t0);
  frame.erase("to");
  const auto* d2 = s.apply(frame);
  REQUIRE(d2 != nullptr);
  CHECK_FALSE(d2->audience);
  CHECK(s.is_for(*d2, registrant(5)));
}

TEST_CASE("room_state: is_for a targeted drop", "[chat][room_state]") {
  room_state s;
  const auto* d = s.apply(drop_frame(1, t0, std::vector<std::int64_t>{4, 6}));
  REQUIRE(d != nullptr);
  CHECK(s.is_for(*d, registrant(4)));
  CHECK(s.is_for(*d, registrant(6)));
  CHECK_FALSE(s.is_for(*d, registrant(5)));
  CHECK(s.is_for(*d, organizer()));
  // Nobody attended: for no registrant, but the organizer still sees it.
  const auto* none = s.apply(drop_frame(2, t0, std::vector<std::int64_t>{}));
  REQUIRE(none != nullptr);
  REQUIRE(none->audience);
  CHECK_FALSE(s.is_for(*none, registrant(4)));
  CHECK(s.is_for(*none, organizer()));
}

TEST_CASE("room_state: drops_for filters by audience, newest first, with seen", "[chat][room_state]") {
  room_state s;
  // Applied out of order: the list is ordered by release time, not arrival.
  s.apply(drop_frame(3, t0 + 300));                                  // everyone
  s.apply(drop_frame(1, t0 + 100, std::vector<std::int64_t>{7}));    // attended: 7
  s.apply(drop_frame(2, t0 + 200, std::vector<std::int64_t>{8}));    // missed: 8
  s.apply(drop_frame(4, t0 + 400, std::vector<std::int64_t>{7, 8}));  // both
  s.apply(drop_frame(5, t0 + 400));                                  // same second as 4
  s.apply(parse(cohort::chat::seen_frame(7, t0 + 300)));

  const auto for7 = s.drops_for(registrant(7));
  CHECK(ids_of(for7) == std::vector<std::int64_t>{5, 4, 3, 1});
  CHECK(seen_of(for7) == std::vector<bool>{false, false, true, true});

  const auto for8 = s.drops_for(registrant(8));
  CHECK(ids_of(for8) == std::vector<std::int64_t>{5, 4, 3, 2});
  CHECK(seen_of(for8) == std::vector<bool>{false, false, false, false});

  const auto for9 = s.drops_for(registrant(9));
  CHECK(ids_of(for9) == std::vector<std::int64_t>{5, 3});

  const auto org = s.drops_for(organizer());
  CHECK(ids_of(org) == std::vector<std::int64_t>{5, 4, 3, 2, 1});
  CHECK(seen_of(org) == std::vector<bool>{true, true, true, true, true});

  // Each entry is the registrant's view plus "seen".
  CHECK(for7[0].at("title").as_string() == "Drop");
  CHECK(for7[0].at("released_at").as_string() == cohort::common::format_rfc3339(t0 + 400));
}

TEST_CASE("room_state: malformed frames throw", "[chat][room_state]") {
  room_state s;
  CHECK_THROWS(s.apply(json::object{}));                                           // no type
  CHECK_THROWS(s.apply(json::object{{"type", 5}}));                                // type not a string
  CHECK_THROWS(s.apply(json::object{{"type", "x.mute"}, {"until", t0}}));          // no registration_id
  CHECK_THROWS(s.apply(json::object{{"type", "x.mute"}, {"registration_id", 1}}));  // no until
  CHECK_THROWS(s.apply(json::object{{"type", "x.mute"}, {"registration_id", "1"}, {"until", t0}}));
  CHECK_THROWS(s.apply(json::object{{"type", "x.seen"}, {"registration_id", 1}}));
  CHECK_THROWS(s.apply(json::object{{"type", "x.seen"}, {"at", t0}}));
  CHECK_THROWS(s.apply(json::object{{"type", "x.drop"}}));
  CHECK_THROWS(s.apply(json::object{{"type", "x.drop"}, {"drop", "not an object"}}));

  auto no_id = drop_frame(1, t0);
  no_id["drop"].as_object().erase("id");
  CHECK_THROWS(s.apply(no_id));

  auto bad_time = drop_frame(2, t0);
  bad_time["drop"].as_object()["released_at"] = "yesterday";
  CHECK_THROWS(s.apply(bad_time));

  auto no_time = drop_frame(3, t0);
  no_time["drop"].as_object().erase("released_at");
  CHECK_THROWS(s.apply(no_time));

  auto bad_to = drop_frame(4, t0);
  bad_to["to"] = json::array{"seven"};
  CHECK_THROWS(s.apply(bad_to));

  // None of them left a drop behind, so the valid frames still apply.
  CHECK(s.drops_for(organizer()).empty());
  CHECK(s.apply(drop_frame(4, t0)) != nullptr);
  CHECK(s.apply(drop_frame(2, t0)) != nullptr);
  CHECK(s.apply(drop_frame(3, t0)) != nullptr);
  CHECK_FALSE(s.muted_until(1, t0 - 1));
}

TEST_CASE("room_state: frames that are not state frames change nothing", "[chat][room_state]") {
  room_state s;
  CHECK(s.apply(json::object{{"type", "chat.message"}, {"seq", 1}}) == nullptr);
  CHECK(s.apply(json::object{{"type", "x.ban"}, {"registration_id", 1}}) == nullptr);
  CHECK(s.drops_for(organizer()).empty());
}

TEST_CASE("state_field names the field of each state frame", "[chat][room_state]") {
  CHECK(cohort::chat::state_field(parse(cohort::chat::mute_frame(7, t0))) == "mute:7");
  CHECK(cohort::chat::state_field(parse(cohort::chat::seen_frame(12, t0))) == "seen:12");
  CHECK(cohort::chat::state_field(drop_frame(3, t0)) == "drop:3");
  CHECK(cohort::chat::state_field(drop_frame(42, t0, std::vector<std::int64_t>{1})) == "drop:42");
  CHECK_THROWS(cohort::chat::state_field(json::object{{"type", "chat.message"}}));
  CHECK_THROWS(cohort::chat::state_field(json::object{{"type", "x.mute"}}));
  CHECK_THROWS(cohort::chat::state_field(json::object{}));
}

TEST_CASE("mute_frame and seen_frame are what apply reads", "[chat][room_state]") {
  const auto mute = parse(cohort::chat::mute_frame(7, t0));
  CHECK(mute.at("type").as_string() == "x.mute");
  CHECK(mute.at("registration_id").to_number<std::int64_t>() == 7);
  CHECK(mute.at("until").to_number<std::int64_t>() == t0);
  const auto seen = parse(cohort::chat::seen_frame(8, t0 + 1));
  CHECK(seen.at("type").as_string() == "x.seen");
  CHECK(seen.at("registration_id").to_number<std::int64_t>() == 8);
  CHECK(seen.at("at").to_number<std::int64_t>() == t0 + 1);
}

TEST_CASE("is_state_frame knows the three state frames", "[chat][room_state]") {
  CHECK(room_state::is_state_frame("x.mute"));
  CHECK(room_state::is_state_frame("x.drop"));
  CHECK(room_state::is_state_frame("x.seen"));
  CHECK_FALSE(room_state::is_state_frame("x.ban"));
  CHECK_FALSE(room_state::is_state_frame("x.present"));
  CHECK_FALSE(room_state::is_state_frame("chat.message"));
  CHECK_FALSE(room_state::is_state_frame("drop"));
  CHECK_FALSE(room_state::is_state_frame(""));
}
