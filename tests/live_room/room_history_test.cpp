#include "live_room/room_history.hpp"

#include <catch2/catch.hpp>

using cohort::live_room::room_history;
using cohort::live_room::stored_message;

namespace {

stored_message message(std::int64_t seq, std::int64_t ts, std::int64_t sender = 1, std::string client_id = {}) {
  stored_message m;
  m.seq = seq;
  m.id = "e-" + std::to_string(seq);
  m.sender_id = sender;
  m.client_id = std::move(client_id);
  m.ts = ts;
  m.frame = std::make_shared<const std::string>("{\"seq\":" + std::to_string(seq) + "}");
  return m;
}

std::vector<std::int64_t> seqs(const cohort::live_room::catch_up& c) {
  std::vector<std::int64_t> out;
  for (const auto* m : c.messages) out.push_back(m->seq);
  return out;
}

}  // namespace

TEST_CASE("catch-up returns exactly the messages after since, oldest first", "[chat]") {
  room_history h("ep", {});
  for (int i = 1; i <= 10; ++i) h.append(message(i, 1000), 1000);
  auto c = h.since(7, std::string("ep"), 50, 1000);
  CHECK(c.recovered);
  CHECK(seqs(c) == std::vector<std::int64_t>{8, 9, 10});
  // Nothing missed is still a recovery.
  c = h.since(10, std::nullopt, 50, 1000);
  CHECK(c.recovered);
  CHECK(c.messages.empty());
}

TEST_CASE("a gap older than the history, a wrong epoch or a future seq is not recovered", "[chat]") {
  room_history h("ep", {5, 24 * 3600});
  for (int i = 1; i <= 12; ++i) h.append(message(i, 1000), 1000);  // keeps 8..12
  auto c = h.since(6, std::string("ep"), 3, 1000);
  CHECK_FALSE(c.recovered);
  CHECK(seqs(c) == std::vector<std::int64_t>{10, 11, 12});  // the last 3
  CHECK(h.since(7, std::string("ep"), 50, 1000).recovered);  // 8..12 still held
  CHECK_FALSE(h.since(11, std::string("other"), 50, 1000).recovered);
  CHECK_FALSE(h.since(13, std::string("ep"), 50, 1000).recovered);
}

TEST_CASE("messages older than the age limit leave the history", "[chat]") {
  room_history h("ep", {1000, 60});
  h.append(message(1, 1000), 1000);
  h.append(message(2, 1050), 1050);
  auto c = h.since(0, std::nullopt, 50, 1070);  // message 1 is 70 s old
  CHECK_FALSE(c.recovered);
  CHECK(seqs(c) == std::vector<std::int64_t>{2});
}

TEST_CASE("deleted messages are skipped by catch-up and the hello fallback", "[chat]") {
  room_history h("ep", {});
  for (int i = 1; i <= 4; ++i) h.append(message(i, 1000), 1000);
  CHECK(h.remove("e-2"));
  CHECK_FALSE(h.remove("e-2"));
  CHECK_FALSE(h.remove("nope"));
  CHECK(seqs(h.since(0, std::nullopt, 50, 1000)) == std::vector<std::int64_t>{1, 3, 4});
  CHECK(seqs(h.since(std::nullopt, std::nullopt, 50, 1000)) == std::vector<std::int64_t>{1, 3, 4});
}

TEST_CASE("seq must grow by one, client ids are found per sender", "[chat]") {
  room_history h("ep", {});
  h.append(message(1, 1000, 7, "abc"), 1000);
  CHECK_THROWS(h.append(message(3, 1000), 1000));
  CHECK(h.has_client_id(7, "abc"));
  CHECK_FALSE(h.has_client_id(8, "abc"));
  CHECK(h.next_seq() == 2);
}

TEST_CASE("a client id is forgotten when its message leaves the history", "[chat]") {
  room_history h("ep", {50, 24 * 3600});
  h.append(message(1, 1000, 7, "first"), 1000);
  for (int i = 2; i <= 51; ++i) h.append(message(i, 1000, 7, "m" + std::to_string(i)), 1000);
  CHECK_FALSE(h.has_client_id(7, "first"));  // trimmed away with message 1
  CHECK(h.has_client_id(7, "m51"));
  h.reset("new", 0);
  CHECK_FALSE(h.has_client_id(7, "m51"));
}
