#include "bus/redis_connection.hpp"

#include "redis_server.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;
using cohort::bus::redis_connection;
using cohort::bus::redis_endpoint;
using cohort::bus::testing::redis_server;

// One io_context run by the test thread. Handlers run only inside run_until/run_for; they use
// CHECK, never REQUIRE: a throw would cross hiredis' C frames.
class io_loop {
 public:
  net::any_io_executor executor() { return io_.get_executor(); }

  template <class Predicate>
  bool run_until(Predicate done, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      io_.run_one_for(10ms);
    }
    return true;
  }

  // Runs whatever becomes ready for a while: to show that nothing more happens.
  void run_for(std::chrono::milliseconds duration) { io_.run_for(duration); }

 private:
  net::io_context io_;
  net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(io_);
};

redis_endpoint local(int port, int db = 0, std::string password = {}) {
  return redis_endpoint{"127.0.0.1", port, db, std::move(password)};
}

// What a reply said, copied out of hiredis' memory (which is freed when the handler returns).
struct reply_copy {
  bool failed = true;  // the handler got nullptr
  int type = 0;
  std::string str;
  long long integer = 0;
  std::vector<reply_copy> elements;
};

reply_copy copy_of(const redisReply* reply) {
  reply_copy copy;
  if (!reply) return copy;
  copy.failed = false;
  copy.type = reply->type;
  if (reply->str) copy.str.assign(reply->str, reply->len);
  copy.integer = reply->integer;
  for (std::size_t i = 0; i < reply->elements; ++i) copy.elements.push_back(copy_of(reply->element[i]));
  return copy;
}

struct connect_result {
  std::optional<bool> ok;
  std::string error;
  int lost = 0;
  std::string lost_error;
};

// Connects; the result lives in `result`, which must outlive the connection's callbacks.
std::shared_ptr<redis_connection> start_connect(io_loop& loop, const redis_endpoint& endpoint, connect_result& result) {
  auto connection = redis_connection::create(loop.executor(), endpoint);
  connection->connect(
      [&result](bool ok, const std::string& error) {
        CHECK(!result.ok.has_value());  // once
        result.ok = ok;
        result.error = error;
      },
      [&result](const std::string& error) {
        ++result.lost;
        result.lost_error = error;
      });
  return connection;
}

std::shared_ptr<redis_connection> connect_ready(io_loop& loop, const redis_endpoint& endpoint, connect_result& result) {
  auto connection = start_connect(loop, endpoint, result);
  REQUIRE(loop.run_until([&] { return result.ok.has_value(); }));
  INFO(result.error);
  REQUIRE(*result.ok);
  REQUIRE(connection->connected());
  return connection;
}

reply_copy run_command(io_loop& loop, redis_connection& connection, std::vector<std::string> argv) {
  std::optional<reply_copy> answer;
  connection.command(std::move(argv), [&answer](const redisReply* reply) { answer = copy_of(reply); });
  REQUIRE(loop.run_until([&] { return answer.has_value(); }));
  return *answer;
}

std::string random_bytes(std::size_t size) {
  std::mt19937 generator(42);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string bytes(size, '\0');
  for (auto& c : bytes) c = static_cast<char>(byte(generator));
  return bytes;
}

}  // namespace

TEST_CASE("SET then GET returns the value", "[bus][redis]") {
  io_loop loop;
  redis_server server;
  connect_result result;
  auto connection = connect_ready(loop, local(server.port()), result);

  const auto set = run_command(loop, *connection, {"SET", "greeting", "hello webinar"});
  REQUIRE_FALSE(set.failed);
  CHECK(set.type == REDIS_REPLY_STATUS);
  CHECK(set.str == "OK");

  const auto get = run_command(loop, *connection, {"GET", "greeting"});
  CHECK(get.type == REDIS_REPLY_STRING);
  CHECK(get.str == "hello webinar");

  const auto missing = run_command(loop, *connection, {"GET", "nobody-set-this"});
  CHECK_FALSE(missing.failed);
  CHECK(missing.type == REDIS_REPLY_NIL);

  const auto error = run_command(loop, *connection, {"INCR", "greeting"});
  CHECK_FALSE(error.failed);
  CHECK(error.type == REDIS_REPLY_ERROR);
  CHECK(result.lost == 0);
}

TEST_CASE("keys and values are binary-safe: embedded NULs and a 1 MiB value", "[bus][redis]") {
  io_loop loop;
  redis_server server;
  connect_result result;
  auto connection = connect_ready(loop, local(server.port()), result);

  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
  const std::string key("k\0ey", 4);
  const std::string value = std::string("a\0b\r\n\0", 6) + all_bytes;
  CHECK(run_command(loop, *connection, {"SET", key, value}).str == "OK");
  const auto small = run_command(loop, *connection, {"GET", key});
  CHECK(small.str.size() == value.size());
  CHECK(small.str == value);
  CHECK(run_command(loop, *connection, {"GET", "k"}).type == REDIS_REPLY_NIL);  // the key was not cut at the NUL

  const std::string big = random_bytes(1024 * 1024);
  CHECK(run_command(loop, *connection, {"SET", "big", big}).str == "OK");
  CHECK(run_command(loop, *connection, {"STRLEN", "big"}).integer == 1024 * 1024);
  const auto back = run_command(loop, *connection, {"GET", "big"});
  CHECK(back.str.size() == big.size());
  CHECK(back.str == big);
}

TEST_CASE("EVAL runs a Lua script and returns its integer", "[bus][redis]") {
  io_loop loop;
  redis_server server;
  connect_result result;
  auto connection = connect_ready(loop, local(server.port()), result);

  const auto doubled = run_command(loop, *connection, {"EVAL", "return tonumber(ARGV[1]) * 2", "0", "21"});
  CHECK(doubled.type == REDIS_REPLY_INTEGER);
  CHECK(doubled.integer == 42);

  const std::string add = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
  CHECK(run_command(loop, *connection, {"EVAL", add, "1", "seats", "5"}).integer == 5);
  CHECK(run_command(loop, *connection, {"EVAL", add, "1", "seats", "-2"}).integer == 3);

  const auto broken = run_command(loop, *connection, {"EVAL", "return nosuchfunction()", "0"});
  CHECK(broken.type == REDIS_REPLY_ERROR);
}

TEST_CASE("10 000 pipelined INCRs are all answered, in order", "[bus][redis]") {
  io_loop loop;
  redis_server server;
  connect_result result;
  auto connection = connect_ready(loop, local(server.port()), result);

  constexpr int count = 10000;
  std::vector<long long> answers;
  int failures = 0;
  // All queued before the loop runs once: hiredis pipelines them over one socket.
  for (int i = 0; i < count; ++i) {
    connection->command({"INCR", "counter"}, [&](const redisReply* reply) {
      if (reply && reply->type == REDIS_REPLY_INTEGER) {
        answers.push_back(reply->integer);
      } else {
        ++failures;
      }
    });
  }
  REQUIRE(loop.run_until([&] { return answers.size() + failures == count; }));
  CHECK(failures == 0);
  bool in_order = true;
  for (int i = 0; i < count; ++i) in_order = in_order && answers[i] == i + 1;
  CHECK(in_order);
  CHECK(run_command(loop, *connection, {"GET", "counter"}).str == "10000");
}

TEST_CASE("PUBLISH on one connection reaches SUBSCRIBE on another, every message in order", "[bus][redis]") {
  io_loop loop;
  redis_server server;
  connect_result publisher_result;
  connect_result subscriber_result;
  auto publisher = connect_ready(loop, local(server.port()), publisher_result);
  auto subscriber = connect_ready(loop, local(server.port()), subscriber_result);

  std::vector<std::pair<std::string, std::string>> received;
  bool subscribed = false;
  subscriber->subscribe(
      {"room.1", "room.2"},
      [&](const std::string& channel, const std::string& payload) { received.emplace_back(channel, payload); },
      [&] { subscribed = true; });
  REQUIRE(loop.run_until([&] { return subscribed; }));

  constexpr int count = 2000;
  std::vector<std::pair<std::string, std::string>> sent;
  int delivered_to = 0;
  int answered = 0;
  for (int i = 0; i < count; ++i) {
    const std::string channel = i % 2 ? "room.2" : "room.1";
    const std::string payload = i == 7 ? std::string("bin\0ary\r\n", 9) : "message " + std::to_string(i);
    sent.emplace_back(channel, payload);
    publisher->command({"PUBLISH", channel, payload}, [&](const redisReply* reply) {
      ++answered;
      if (reply && reply->type == REDIS_REPLY_INTEGER) delivered_to += static_cast<int>(reply->integer);
    });
    if (i == 100) publisher->command({"PUBLISH", "room.3", "not for us"}, {});
  }
  REQUIRE(loop.run_until([&] { return received.size() == sent.size() && answered == count; }));
  CHECK(delivered_to == count);  // every PUBLISH reached exactly one subscriber
  CHECK(received == sent);
  loop.run_for(50ms);
  CHECK(received.size() == sent.size());  // room.3 was never delivered
  CHECK(subscriber_result.lost == 0);
}

TEST_CASE("subscribe() may be called again, a subscriber refuses ordinary commands", "[bus][redis]") {
  io_loop loop;
  redis_server server;
  connect_result publisher_result;
  connect_result subscriber_result;
  auto publisher = connect_ready(loop, local(server.port()), publisher_result);
  auto subscriber = connect_ready(loop, local(server.port()), subscriber_result);

  std::vector<std::string> first;
  std::vector<std::string> second;
  int confirmations = 0;
  subscriber->subscribe(
      {"a"}, [&](const std::string&, const std::string& payload) { first.push_back(payload); },
      [&] { ++confirmations; });
  subscriber->subscribe(
      {"b", "b"}, [&](const std::string&, const std::string& payload) { second.push_back(payload); },
      [&] { ++confirmations; });
  REQUIRE(loop.run_until([&] { return confirmations == 2; }));

  std::optional<reply_copy> refused;
  subscriber->command({"GET", "x"}, [&](const redisReply* reply) { refused = copy_of(reply); });
  REQUIRE(loop.run_until([&] { return refused.has_value(); }));
  CHECK(refused->failed);
  CHECK(subscriber->connected());

  CHECK(run_command(loop, *publisher, {"PUBLISH", "a", "1"}).integer == 1);
  CHECK(run_command(loop, *publisher, {"PUBLISH", "b", "2"}).integer == 1);
  REQUIRE(loop.run_until([&] { return first.size() == 1 && second.size() == 1; }));
  CHECK(first.front() == "1");
  CHECK(second.front() == "2");
}

TEST_CASE("commands that would break hiredis' reply routing are refused with nullptr", "[bus][redis]") {
  io_loop loop;
  redis_server server;
  connect_result result;
  auto connection = connect_ready(loop, local(server.port()), result);

  for (const char* name : {"SUBSCRIBE", "psubscribe", "Unsubscribe", "MONITOR", "hello"}) {
    INFO(name);
    std::optional<reply_copy> answer;
    bool inline_call = true;
    connection->command({name, "x"}, [&](const redisReply* reply) {
      CHECK_FALSE(inline_call);  // posted, never called from inside command()
      answer = copy_of(reply);
    });
    inline_call = false;
    REQUIRE(loop.run_until([&] { return answer.has_value(); }));
    CHECK(answer->failed);
  }
  CHECK(run_command(loop, *connection, {"PING"}).str == "PONG");  // still an ordinary connection
}

TEST_CASE("connecting to a closed port fails with on_ready(false, ...)", "[bus][redis]") {
  io_loop loop;
  connect_result result;
  bool inside_connect = true;
  auto connection = redis_connection::create(loop.executor(), local(redis_server::free_port()));
  connection->connect(
      [&](bool ok, const std::string& error) {
        CHECK_FALSE(inside_connect);
        result.ok = ok;
        result.error = error;
      },
      [&](const std::string&) { ++result.lost; });
  inside_connect = false;
  REQUIRE(loop.run_until([&] { return result.ok.has_value(); }));
  CHECK_FALSE(*result.ok);
  CHECK_THAT(result.error, Catch::Contains("127.0.0.1") && Catch::Contains("refused"));
  CHECK_FALSE(connection->connected());

  std::optional<reply_copy> answer;
  connection->command({"PING"}, [&](const redisReply* reply) { answer = copy_of(reply); });
  REQUIRE(loop.run_until([&] { return answer.has_value(); }));
  CHECK(answer->failed);
  loop.run_for(50ms);
  CHECK(result.lost == 0);
}

TEST_CASE("a host name is resolved before connecting", "[bus][redis]") {
  io_loop loop;
  redis_server server;
  connect_result result;
  auto connection = connect_ready(loop, redis_endpoint{"localhost", server.port(), 0, {}}, result);
  CHECK(run_command(loop, *connection, {"PING"}).str == "PONG");
}

TEST_CASE("AUTH and SELECT come from the endpoint, a wrong password fails on_ready", "[bus][redis]") {
  io_loop loop;
  redis_server server({"--requirepass", "s3cret"});

  connect_result in_db5_result;
  auto in_db5 = connect_ready(loop, local(server.port(), 5, "s3cret"), in_db5_result);
  CHECK(run_command(loop, *in_db5, {"SET", "where", "five"}).str == "OK");

  connect_result in_db0_result;
  auto in_db0 = connect_ready(loop, local(server.port(), 0, "s3cret"), in_db0_result);
  CHECK(run_command(loop, *in_db0, {"GET", "where"}).type == REDIS_REPLY_NIL);
  CHECK(run_command(loop, *in_db5, {"GET", "where"}).str == "five");

  connect_result wrong;
  auto refused = start_connect(loop, local(server.port(), 0, "guess"), wrong);
  REQUIRE(loop.run_until([&] { return wrong.ok.has_value(); }));
  CHECK_FALSE(*wrong.ok);
  CHECK_THAT(wrong.error, Catch::Contains("AUTH failed"));
  CHECK_FALSE(refused->connected());

  connect_result no_password;
  auto anonymous = start_connect(loop, local(server.port()), no_password);
  REQUIRE(loop.run_until([&] { return no_password.ok.has_value(); }));
  CHECK_FALSE(*no_password.ok);
  CHECK_THAT(no_password.error, Catch::Contains("NOAUTH"));

  connect_result bad_db;
  auto beyond = start_connect(loop, local(server.port(), 99, "s3cret"), bad_db);
  REQUIRE(loop.run_until([&] { return bad_db.ok.has_value(); }));
  CHECK_FALSE(*bad_db.ok);
  CHECK_THAT(bad_db.error, Catch::Contains("SELECT failed"));
  loop.run_for(50ms);
  CHECK(wrong.lost + no_password.lost + bad_db.lost == 0);
}

TEST_CASE(
    "redis-server killed mid-traffic: pending handlers get nullptr, on_lost fires once, a new connection works after "
    "restart",
    "[bus][redis]") {
  io_loop loop;
  redis_server server;
  connect_result result;
  auto connection = connect_ready(loop, local(server.port()), result);

  // 100 INCRs, then a BLPOP that blocks forever, then 1000 more INCRs Redis never gets to.
  int answered = 0;
  int failed = 0;
  bool lost_before_failures_done = false;
  auto count = [&](const redisReply* reply) {
    if (result.lost > 0) lost_before_failures_done = true;
    reply ? ++answered : ++failed;
  };
  for (int i = 0; i < 100; ++i) connection->command({"INCR", "n"}, count);
  connection->command({"BLPOP", "never-pushed", "0"}, count);
  for (int i = 0; i < 1000; ++i) connection->command({"INCR", "n"}, count);
  REQUIRE(loop.run_until([&] { return answered == 100; }));
  loop.run_for(20ms);
  CHECK(answered == 100);

  server.kill9();
  REQUIRE(loop.run_until([&] { return result.lost > 0; }));
  CHECK(failed == 1001);
  CHECK_FALSE(lost_before_failures_done);  // every pending handler ran before on_lost
  CHECK_FALSE(connection->connected());
  CHECK_FALSE(result.lost_error.empty());

  std::optional<reply_copy> after;
  connection->command({"PING"}, [&](const redisReply* reply) { after = copy_of(reply); });
  REQUIRE(loop.run_until([&] { return after.has_value(); }));
  CHECK(after->failed);
  loop.run_for(100ms);
  CHECK(result.lost == 1);

  server.restart();
  connect_result fresh_result;
  auto fresh = connect_ready(loop, local(server.port()), fresh_result);
  CHECK(run_command(loop, *fresh, {"SET", "k", "v"}).str == "OK");
  CHECK(run_command(loop, *fresh, {"GET", "k"}).str == "v");

  // The old object may connect again, too.
  connect_result again;
  connection->connect([&](bool ok, const std::string&) { again.ok = ok; }, [&](const std::string&) { ++again.lost; });
  REQUIRE(loop.run_until([&] { return again.ok.has_value(); }));
  CHECK(*again.ok);
  CHECK(run_command(loop, *connection, {"GET", "k"}).str == "v");
  CHECK(result.lost == 1);
}

TEST_CASE("a subscriber whose server dies gets on_lost once", "[bus][redis]") {
  io_loop loop;
  redis_server server;
  connect_result result;
  auto subscriber = connect_ready(loop, local(server.port()), result);
  bool subscribed = false;
  int messages = 0;
  subscriber->subscribe(
      {"x", "y", "z"}, [&](const std::string&, const std::string&) { ++messages; }, [&] { subscribed = true; });
  REQUIRE(loop.run_until([&] { return subscribed; }));

  server.kill9();
  REQUIRE(loop.run_until([&] { return result.lost > 0; }));
  loop.run_for(100ms);
  CHECK(result.lost == 1);
  CHECK(messages == 0);
  CHECK_FALSE(subscriber->connected());
}

TEST_CASE("large writes queued for a server that was just killed all get nullptr, on_lost fires once", "[bus][redis]") {
  io_loop loop;
  redis_server server;
  connect_result result;
  auto connection = connect_ready(loop, local(server.port()), result);

  server.kill9();  // the connection does not know yet
  const std::string big = random_bytes(8 * 1024 * 1024);
  int failed = 0;
  for (int i = 0; i < 4; ++i) {
    connection->command({"SET", "big", big}, [&](const redisReply* reply) { failed += reply ? 0 : 1; });
  }
  REQUIRE(loop.run_until([&] { return result.lost > 0; }));
  CHECK(failed == 4);
  CHECK(result.lost == 1);
}

TEST_CASE("on_lost may connect again at once, and a failed connect may retry from on_ready", "[bus][redis]") {
  io_loop loop;
  redis_server server;
  auto connection = redis_connection::create(loop.executor(), local(server.port()));
  std::optional<bool> first;
  int lost = 0;
  std::vector<std::string> retries;  // errors of the reconnect attempts made while the server is down
  std::function<void(bool, const std::string&)> retry = [&](bool ok, const std::string& error) {
    if (ok) return;
    retries.push_back(error);
    if (retries.size() < 3) connection->connect(retry, {});
  };
  connection->connect([&](bool ok, const std::string&) { first = ok; },
                      [&](const std::string&) {
                        ++lost;
                        connection->connect(retry, {});  // from inside hiredis' teardown of the old context
                      });
  REQUIRE(loop.run_until([&] { return first.has_value(); }));
  REQUIRE(*first);

  server.kill9();
  REQUIRE(loop.run_until([&] { return retries.size() == 3; }));
  CHECK(lost == 1);
  CHECK_THAT(retries.back(), Catch::Contains("refused"));

  server.restart();
  std::optional<bool> back;
  connection->connect([&](bool ok, const std::string&) { back = ok; }, {});
  REQUIRE(loop.run_until([&] { return back.has_value(); }));
  CHECK(*back);
  CHECK(run_command(loop, *connection, {"PING"}).str == "PONG");
}

TEST_CASE("an address the kernel refuses at once fails on_ready(false)", "[bus][redis]") {
  io_loop loop;
  connect_result result;
  // connect(2) to the broadcast address fails inside redisAsyncConnect(), before any event.
  auto connection = start_connect(loop, redis_endpoint{"255.255.255.255", 6379, 0, {}}, result);
  REQUIRE(loop.run_until([&] { return result.ok.has_value(); }));
  CHECK_FALSE(*result.ok);
  CHECK_THAT(result.error, Catch::Contains("255.255.255.255"));
  CHECK_FALSE(connection->connected());
}

TEST_CASE("the socket is closed exactly once: no descriptor leaks, none is closed twice", "[bus][redis]") {
  io_loop loop;
  redis_server server;
  const auto open_descriptors = [] {
    return std::distance(std::filesystem::directory_iterator("/proc/self/fd"), std::filesystem::directory_iterator{});
  };
  std::optional<long> before;  // taken after round 0: Asio opens its epoll, eventfd and timerfd on first use
  for (int round = 0; round < 4; ++round) {
    if (round == 1) before = open_descriptors();
    connect_result result;
    auto connection = connect_ready(loop, local(server.port()), result);
    CHECK(run_command(loop, *connection, {"PING"}).str == "PONG");
    connection->close();
    // hiredis closed the socket; a new descriptor now takes the lowest free number, likely the
    // same. It must survive the old waits finishing, which would close it if Asio still owned it.
    const int reused = ::open("/dev/null", O_RDONLY);
    REQUIRE(reused >= 0);
    loop.run_for(50ms);
    CHECK(::fcntl(reused, F_GETFD) != -1);
    ::close(reused);
  }
  loop.run_for(50ms);
  CHECK(open_descriptors() == *before);
}

TEST_CASE("close() from inside a reply handler is safe, the other pending handlers get nullptr", "[bus][redis]") {
  io_loop loop;
  redis_server server;
  connect_result result;
  auto connection = connect_ready(loop, local(server.port()), result);

  std::vector<reply_copy> answers;
  connection->command({"SET", "a", "1"}, [&](const redisReply* reply) {
    answers.push_back(copy_of(reply));
    connection->close();
    CHECK_FALSE(connection->connected());
    connection->close();  // twice is harmless
  });
  for (int i = 0; i < 5; ++i) {
    connection->command({"GET", "a"}, [&](const redisReply* reply) {
      answers.push_back(copy_of(reply));
      // Called with nullptr while close() unwinds: new commands are refused, not crashed on.
      connection->command({"GET", "a"}, {});
    });
  }
  REQUIRE(loop.run_until([&] { return answers.size() == 6; }));
  CHECK_FALSE(answers[0].failed);
  for (int i = 1; i < 6; ++i) CHECK(answers[i].failed);
  loop.run_for(100ms);
  CHECK(answers.size() == 6);
  CHECK(result.lost == 0);  // close() is not a loss

  // The server is fine, and so is the object: it connects again.
  connect_result again;
  connection->connect([&](bool ok, const std::string&) { again.ok = ok; }, {});
  REQUIRE(loop.run_until([&] { return again.ok.has_value(); }));
  CHECK(*again.ok);
  CHECK(run_command(loop, *connection, {"GET", "a"}).str == "1");
}

TEST_CASE("close() from inside on_ready and from inside on_message", "[bus][redis]") {
  io_loop loop;
  redis_server server;

  std::shared_ptr<redis_connection> connection = redis_connection::create(loop.executor(), local(server.port()));
  std::optional<bool> ready;
  int lost = 0;
  connection->connect(
      [&](bool ok, const std::string&) {
        ready = ok;
        connection->close();
      },
      [&](const std::string&) { ++lost; });
  REQUIRE(loop.run_until([&] { return ready.has_value(); }));
  CHECK(*ready);
  CHECK_FALSE(connection->connected());

  connect_result publisher_result;
  auto publisher = connect_ready(loop, local(server.port()), publisher_result);
  connect_result subscriber_result;
  auto subscriber = connect_ready(loop, local(server.port()), subscriber_result);
  int messages = 0;
  bool subscribed = false;
  subscriber->subscribe(
      {"c"},
      [&](const std::string&, const std::string&) {
        ++messages;
        subscriber->close();
      },
      [&] { subscribed = true; });
  REQUIRE(loop.run_until([&] { return subscribed; }));
  for (int i = 0; i < 10; ++i) publisher->command({"PUBLISH", "c", "m"}, {});
  REQUIRE(loop.run_until([&] { return messages > 0; }));
  loop.run_for(100ms);
  CHECK(messages == 1);
  CHECK(lost + subscriber_result.lost == 0);
}

// No weak_ptr to the connection may outlive it in these tests: make_shared keeps the storage of
// an expired object while weak references remain, which would hide a use-after-free from ASan.
// Destruction is observed through a token that only the connection's on_lost holds.
std::shared_ptr<redis_connection> connect_with_token(io_loop& loop, int port, std::weak_ptr<int>& token) {
  auto owned_token = std::make_shared<int>(0);
  token = owned_token;
  auto connection = redis_connection::create(loop.executor(), local(port));
  std::optional<bool> ready;
  connection->connect([&ready](bool ok, const std::string&) { ready = ok; }, [owned_token](const std::string&) {});
  REQUIRE(loop.run_until([&] { return ready.has_value(); }));
  REQUIRE(*ready);
  return connection;
}

TEST_CASE("dropping the last reference inside a handler destroys the connection, later handlers are not called",
          "[bus][redis]") {
  io_loop loop;
  redis_server server;
  std::weak_ptr<int> token;
  auto connection = connect_with_token(loop, server.port(), token);

  int called = 0;
  connection->command({"PING"}, [&](const redisReply* reply) {
    ++called;
    CHECK(reply);
    connection.reset();  // destroyed as soon as this handler returns
  });
  for (int i = 0; i < 10; ++i) connection->command({"PING"}, [&](const redisReply*) { ++called; });
  REQUIRE(loop.run_until([&] { return called > 0; }));
  loop.run_for(100ms);
  CHECK(called == 1);
  CHECK(token.expired());
}

TEST_CASE("close() and then dropping the last reference inside a handler", "[bus][redis]") {
  io_loop loop;
  redis_server server;
  std::weak_ptr<int> token;
  auto connection = connect_with_token(loop, server.port(), token);

  int called = 0;
  connection->command({"PING"}, [&](const redisReply*) {
    ++called;
    connection->close();  // hiredis frees the context only after this handler returns...
    connection.reset();   // ...by which time the object is gone: the other handlers are dropped
  });
  for (int i = 0; i < 10; ++i) connection->command({"PING"}, [&](const redisReply*) { ++called; });
  REQUIRE(loop.run_until([&] { return called > 0; }));
  loop.run_for(100ms);
  CHECK(called == 1);
  CHECK(token.expired());
}

TEST_CASE("handlers are never called after the connection is destroyed", "[bus][redis]") {
  io_loop loop;
  redis_server server;
  int called = 0;
  {
    std::weak_ptr<int> token;
    auto connection = connect_with_token(loop, server.port(), token);
    for (int i = 0; i < 100; ++i) connection->command({"INCR", "n"}, [&](const redisReply*) { ++called; });
    connection.reset();
    CHECK(token.expired());
    loop.run_for(200ms);
    CHECK(called == 0);
  }
  {
    std::weak_ptr<int> token;
    auto connection = connect_with_token(loop, server.port(), token);
    connection->command({"MONITOR"}, [&](const redisReply*) { ++called; });  // refused: answered by a post
    connection.reset();
    loop.run_for(200ms);
    CHECK(called == 0);
  }

  // Destroyed while still connecting, and while resolving a name.
  connect_result early;
  start_connect(loop, local(server.port()), early);
  start_connect(loop, redis_endpoint{"localhost", server.port(), 0, {}}, early);
  loop.run_for(200ms);
  CHECK_FALSE(early.ok.has_value());

  connect_result check;
  auto other = connect_ready(loop, local(server.port()), check);
  CHECK(run_command(loop, *other, {"GET", "n"}).type != REDIS_REPLY_ERROR);
}

TEST_CASE("close() before ready: neither on_ready nor on_lost", "[bus][redis]") {
  io_loop loop;
  redis_server server;
  connect_result result;
  auto connection = start_connect(loop, local(server.port()), result);
  connection->close();
  loop.run_for(200ms);
  CHECK_FALSE(result.ok.has_value());
  CHECK(result.lost == 0);
  CHECK_FALSE(connection->connected());

  connect_result resolving;
  auto by_name = start_connect(loop, redis_endpoint{"localhost", server.port(), 0, {}}, resolving);
  by_name->close();
  loop.run_for(200ms);
  CHECK_FALSE(resolving.ok.has_value());
}

TEST_CASE("a second connect() while one is under way is refused, the first one goes on", "[bus][redis]") {
  io_loop loop;
  redis_server server;
  connect_result result;
  auto connection = start_connect(loop, local(server.port()), result);

  std::optional<std::pair<bool, std::string>> second;
  connection->connect([&](bool ok, const std::string& error) { second.emplace(ok, error); }, {});
  REQUIRE(loop.run_until([&] { return second.has_value() && result.ok.has_value(); }));
  CHECK_FALSE(second->first);
  CHECK_THAT(second->second, Catch::Contains("connection is active"));
  CHECK(*result.ok);
  CHECK(connection->connected());
}
