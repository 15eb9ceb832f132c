#include "streaming/rtmp_admission.hpp"

#include <catch2/catch.hpp>

using namespace cohort::streaming;

TEST_CASE("rtmp_admission: one address gets per_ip waiting connections, another address its own", "[streaming]") {
  rtmp_admission a({4, 200});
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 4; ++i) {
    const auto d = a.admit("127.0.0.2");
    REQUIRE(d.admitted);
    CHECK_FALSE(d.evicted);
    ids.push_back(d.id);
  }
  const auto fifth = a.admit("127.0.0.2");
  CHECK_FALSE(fifth.admitted);
  CHECK(fifth.id == 0);
  CHECK(a.admit("127.0.0.3").admitted);
  CHECK(a.waiting_from("127.0.0.2") == 4);
  CHECK(a.waiting() == 5);

  // One publishes (or closes): its address may connect again.
  a.release(ids[1]);
  a.release(ids[1]);  // twice does nothing
  CHECK(a.waiting_from("127.0.0.2") == 3);
  CHECK(a.admit("127.0.0.2").admitted);
  CHECK_FALSE(a.admit("127.0.0.2").admitted);
}

TEST_CASE("rtmp_admission: at the total, a newcomer closes the oldest waiting connection", "[streaming]") {
  rtmp_admission a({2, 3});
  const auto first = a.admit("10.0.0.1");
  const auto second = a.admit("10.0.0.2");
  const auto third = a.admit("10.0.0.3");
  REQUIRE(third.admitted);
  CHECK_FALSE(third.evicted);

  const auto fourth = a.admit("10.0.0.4");
  CHECK(fourth.admitted);
  REQUIRE(fourth.evicted);
  CHECK(*fourth.evicted == first.id);
  CHECK(a.waiting() == 3);
  CHECK(a.waiting_from("10.0.0.1") == 0);
  a.release(first.id);  // the evicted one closing later changes nothing
  CHECK(a.waiting() == 3);

  a.release(second.id);  // a publish: room again, nobody evicted
  const auto fifth = a.admit("10.0.0.5");
  CHECK(fifth.admitted);
  CHECK_FALSE(fifth.evicted);
  // The per-address cap still refuses before the total evicts anyone.
  a.admit("10.0.0.5");
  CHECK(a.waiting_from("10.0.0.5") == 2);
  const auto refused = a.admit("10.0.0.5");
  CHECK_FALSE(refused.admitted);
  CHECK_FALSE(refused.evicted);
}
