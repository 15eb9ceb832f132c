#include "accounts/password.hpp"

#include <catch2/catch.hpp>

using namespace cohort::accounts;

TEST_CASE("passwords are stored as argon2id hashes that verify only the same password", "[accounts]") {
  const auto hash = hash_password("correct horse battery staple");
  CHECK(hash.rfind("$argon2id$", 0) == 0);
  CHECK(hash.find("correct horse") == std::string::npos);
  CHECK(verify_password("correct horse battery staple", hash));
  CHECK_FALSE(verify_password("correct horse battery stapl", hash));
  CHECK_FALSE(verify_password("", hash));
}

TEST_CASE("the same password hashes differently each time (a salt per hash)", "[accounts]") {
  const auto a = hash_password("same password here");
  const auto b = hash_password("same password here");
  CHECK(a != b);
  CHECK(verify_password("same password here", a));
  CHECK(verify_password("same password here", b));
}

TEST_CASE("a malformed stored hash never verifies", "[accounts]") {
  CHECK_FALSE(verify_password("anything", ""));
  CHECK_FALSE(verify_password("anything", "not a hash"));
  CHECK_FALSE(verify_password("anything", std::string(500, '$')));
  CHECK_NOTHROW(verify_dummy("anything"));
}
