#include "bus/redis_url.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

namespace {

using cohort::bus::parse_redis_url;

std::string error_of(const std::string& url) {
  try {
    parse_redis_url(url);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  FAIL("no exception for " << url);
  return {};
}

}  // namespace

TEST_CASE("a bare host gets the default port, db 0 and no password", "[bus]") {
  const auto endpoint = parse_redis_url("redis://cache.internal");
  CHECK(endpoint.host == "cache.internal");
  CHECK(endpoint.port == 6379);
  CHECK(endpoint.db == 0);
  CHECK(endpoint.password.empty());
}

TEST_CASE("password, port and db are all read", "[bus]") {
  const auto endpoint = parse_redis_url("redis://:s3cret@10.0.0.7:6380/4");
  CHECK(endpoint.host == "10.0.0.7");
  CHECK(endpoint.port == 6380);
  CHECK(endpoint.db == 4);
  CHECK(endpoint.password == "s3cret");
}

TEST_CASE("the scheme is case-insensitive and a trailing slash means db 0", "[bus]") {
  const auto endpoint = parse_redis_url("REDIS://localhost:7000/");
  CHECK(endpoint.host == "localhost");
  CHECK(endpoint.port == 7000);
  CHECK(endpoint.db == 0);
}

TEST_CASE("a bracketed IPv6 host, with and without port", "[bus]") {
  CHECK(parse_redis_url("redis://[::1]").host == "::1");
  const auto endpoint = parse_redis_url("redis://[fe80::1]:6390/2");
  CHECK(endpoint.host == "fe80::1");
  CHECK(endpoint.port == 6390);
  CHECK(endpoint.db == 2);
}

TEST_CASE("the password is percent-decoded and may hold '@' and '/'", "[bus]") {
  CHECK(parse_redis_url("redis://:p%40ss%2Fw%3Ad@h").password == "p@ss/w:d");
  // The last '@' ends the credentials, so an unencoded '@' still works.
  CHECK(parse_redis_url("redis://:a@b/c@host:1/3").password == "a@b/c");
  CHECK(parse_redis_url("redis://:a@b/c@host:1/3").host == "host");
  CHECK(parse_redis_url("redis://:@host").password.empty());
}

TEST_CASE("port limits", "[bus]") {
  CHECK(parse_redis_url("redis://h:1").port == 1);
  CHECK(parse_redis_url("redis://h:65535").port == 65535);
  CHECK_THAT(error_of("redis://h:0"), Catch::Contains("port must be a number 1..65535"));
  CHECK_THAT(error_of("redis://h:65536"), Catch::Contains("port must be a number 1..65535"));
  CHECK_THAT(error_of("redis://h:"), Catch::Contains("port"));
  CHECK_THAT(error_of("redis://h:-1"), Catch::Contains("port"));
  CHECK_THAT(error_of("redis://h:63a"), Catch::Contains("port"));
  CHECK_THAT(error_of("redis://h:99999999999999999999"), Catch::Contains("port"));
}

TEST_CASE("db must be a non-negative integer", "[bus]") {
  CHECK(parse_redis_url("redis://h/15").db == 15);
  CHECK_THAT(error_of("redis://h/x"), Catch::Contains("database must be a non-negative integer"));
  CHECK_THAT(error_of("redis://h/-1"), Catch::Contains("database"));
  CHECK_THAT(error_of("redis://h/1/2"), Catch::Contains("database"));
  CHECK_THAT(error_of("redis://h/3000000000"), Catch::Contains("database"));
}

TEST_CASE("malformed URLs are rejected with the reason", "[bus]") {
  CHECK_THAT(error_of(""), Catch::Contains("scheme must be redis://"));
  CHECK_THAT(error_of("http://h"), Catch::Contains("scheme must be redis://"));
  CHECK_THAT(error_of("h:6379"), Catch::Contains("scheme must be redis://"));
  CHECK_THAT(error_of("rediss://h"), Catch::Contains("TLS"));
  CHECK_THAT(error_of("redis://"), Catch::Contains("host is missing"));
  CHECK_THAT(error_of("redis://:6379"), Catch::Contains("host is missing"));
  CHECK_THAT(error_of("redis://:pw@"), Catch::Contains("host is missing"));
  CHECK_THAT(error_of("redis://h?db=1"), Catch::Contains("query"));
  CHECK_THAT(error_of("redis://h#x"), Catch::Contains("query"));
  CHECK_THAT(error_of("redis://user:pw@h"), Catch::Contains("user name is not supported"));
  CHECK_THAT(error_of("redis://pw@h"), Catch::Contains(":password@"));
  CHECK_THAT(error_of("redis://:p%4@h"), Catch::Contains("percent-encoding"));
  CHECK_THAT(error_of("redis://:p%zz@h"), Catch::Contains("percent-encoding"));
  CHECK_THAT(error_of("redis://ho st"), Catch::Contains("host may only hold"));
  CHECK_THAT(error_of("redis://::1"), Catch::Contains("host"));
  CHECK_THAT(error_of("redis://[::1"), Catch::Contains("closing ']'"));
  CHECK_THAT(error_of("redis://[nothex]"), Catch::Contains("not an IPv6 address"));
  CHECK_THAT(error_of("redis://[::1]x"), Catch::Contains("only :port"));
}

TEST_CASE("error messages name the URL but never the password", "[bus]") {
  const auto message = error_of("redis://:hunter2@h:70000");
  CHECK_THAT(message, Catch::Contains("redis://***@h:70000"));
  CHECK_THAT(message, !Catch::Contains("hunter2"));
  CHECK_THAT(error_of("redis://:hunter2%zz@h"), !Catch::Contains("hunter2"));
}
