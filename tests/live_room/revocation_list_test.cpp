#include "live_room/revocation_list.hpp"

#include "live_room/revocations.hpp"

#include <catch2/catch.hpp>

namespace {

using cohort::live_room::revocation_list;
using namespace cohort::live_room;

const std::string nonce(32, 'n');

TEST_CASE("revocation_list starts untrusted and only grows: a smaller list loaded later removes nothing", "[chat]") {
  revocation_list list;
  CHECK_FALSE(list.trusted());
  list.add({token_entry(nonce), ban_entry(4, 9)});
  list.set_trusted(true);
  // Redis came back empty: the load is empty and unconfirmed.
  list.set_trusted(false);
  list.add(std::vector<std::string>{});
  CHECK_FALSE(list.trusted());
  CHECK(list.size() == 2);
  REQUIRE(list.refuses(4, 1, nonce));
  CHECK(list.refuses(4, 1, nonce)->status == 401);
  CHECK(list.refuses(4, 1, nonce)->close_code == 4001);
}

TEST_CASE("revocation_list refuses cancelled, deleted, waitlisted and banned registrants as the edge answers them", "[chat]") {
  revocation_list list;
  const std::string other(32, 'o');
  CHECK_FALSE(list.refuses(4, 1, nonce));

  list.add(waitlist_entry(nonce));
  REQUIRE(list.refuses(4, 1, nonce));
  CHECK(std::string(list.refuses(4, 1, nonce)->code) == "waitlisted");
  CHECK(list.refuses(4, 1, nonce)->status == 403);
  list.add(seated_entry(nonce));
  CHECK_FALSE(list.refuses(4, 1, nonce));

  list.add(ban_entry(4, 1));
  REQUIRE(list.refuses(4, 1, nonce));
  CHECK(list.refuses(4, 1, nonce)->status == 403);
  CHECK(list.refuses(4, 1, nonce)->close_code == 4003);
  CHECK_FALSE(list.refuses(5, 1, other));  // a ban is per series

  list.add(deleted_entry(6));
  CHECK(list.refuses(6, 2, other)->status == 401);
  CHECK(list.refuses_organizer(6)->status == 404);
  CHECK_FALSE(list.refuses_organizer(4));

  list.add(token_entry(other));
  CHECK(list.refuses(5, 3, other)->status == 401);
}

}  // namespace
