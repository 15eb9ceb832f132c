#include "gateway/connection_limits.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

using namespace cohort::http;

TEST_CASE("connections per address are capped, and a slot gives its place back when it ends", "[gateway]") {
  auto counts = std::make_shared<connections_per_address>(2);
  auto a = counts->admit("192.0.2.1", false);
  auto b = counts->admit("192.0.2.1", false);
  REQUIRE(a);
  REQUIRE(b);
  CHECK_FALSE(counts->admit("192.0.2.1", false));
  // Another address has its own count; an exempt one (a trusted proxy) is never refused.
  CHECK(counts->admit("192.0.2.2", false));
  std::vector<std::shared_ptr<connection_slot>> proxied;
  for (int i = 0; i < 5; ++i) proxied.push_back(counts->admit("192.0.2.1", true));
  for (const auto& slot : proxied) CHECK(slot);
  a.reset();
  CHECK(counts->admit("192.0.2.1", false));
}

TEST_CASE("a cap of zero admits every connection", "[gateway]") {
  auto counts = std::make_shared<connections_per_address>(0);
  std::vector<std::shared_ptr<connection_slot>> open;
  for (int i = 0; i < 10; ++i) open.push_back(counts->admit("192.0.2.1", false));
  for (const auto& slot : open) CHECK(slot);
}

TEST_CASE("a slot outlives the count it belongs to", "[gateway]") {
  auto counts = std::make_shared<connections_per_address>(1);
  auto slot = counts->admit("192.0.2.1", false);
  counts.reset();
  slot.reset();  // releases into the count it still holds
  SUCCEED();
}

TEST_CASE("upload slots take one of max places and give it back once", "[gateway]") {
  std::atomic<int> in_flight{0};
  upload_slot first, second, third;
  CHECK(first.take(in_flight, 2));
  CHECK(first.take(in_flight, 2));  // already held: not counted twice
  CHECK(second.take(in_flight, 2));
  CHECK_FALSE(third.take(in_flight, 2));
  CHECK(in_flight == 2);
  first.release();
  first.release();
  CHECK(in_flight == 1);
  CHECK(third.take(in_flight, 2));
  { upload_slot scoped; CHECK_FALSE(scoped.take(in_flight, 2)); }
  CHECK(in_flight == 2);
}

TEST_CASE("a spool file is removed on release, on reassignment and in the destructor", "[gateway]") {
  const auto dir = std::filesystem::temp_directory_path() / ("cohort-spool-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto touch = [](const std::filesystem::path& p) { std::ofstream(p) << "body"; };
  const auto a = dir / "a", b = dir / "b", c = dir / "c";
  touch(a);
  touch(b);
  touch(c);
  {
    spool_file spool;
    spool.assign(a.string());
    spool.assign(b.string());
    CHECK_FALSE(std::filesystem::exists(a));
    CHECK(spool.path() == b.string());
    spool.remove();
    CHECK_FALSE(std::filesystem::exists(b));
    CHECK(spool.path().empty());
    spool.assign(c.string());
  }
  CHECK_FALSE(std::filesystem::exists(c));
  std::filesystem::remove_all(dir);
}
