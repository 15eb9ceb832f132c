#include "live_room/socket_quota.hpp"

#include <catch2/catch.hpp>

#include <vector>

namespace {

using cohort::live_room::socket_quota;

TEST_CASE("socket_quota gives each key at most its cap and takes a slot back when its handle goes", "[chat]") {
  auto quota = std::make_shared<socket_quota>(3);
  std::vector<socket_quota::slot> held;
  for (int i = 0; i < 3; ++i) {
    auto s = quota->acquire("token-a");
    REQUIRE(s);
    held.push_back(std::move(s));
  }
  CHECK(quota->open("token-a") == 3);
  CHECK_FALSE(quota->acquire("token-a"));  // the 4th
  CHECK(quota->acquire("token-b"));        // another token is not affected (and its slot is freed at once)
  CHECK(quota->open("token-b") == 0);
  auto copy = held.back();
  held.pop_back();
  CHECK(quota->open("token-a") == 3);  // a copy still holds it
  copy.reset();
  CHECK(quota->open("token-a") == 2);
  CHECK(quota->acquire("token-a"));
}

TEST_CASE("socket_quota slots outlive the quota's owner", "[chat]") {
  auto quota = std::make_shared<socket_quota>(1);
  auto slot = quota->acquire("k");
  std::weak_ptr<socket_quota> weak = quota;
  quota.reset();
  CHECK_FALSE(weak.expired());
  slot.reset();
  CHECK(weak.expired());
}

}  // namespace
