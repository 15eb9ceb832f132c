#include "email/outbox_sender.hpp"

#include "../store/migrated_file.hpp"
#include "../store/temp_database_file.hpp"
#include "email/mime.hpp"
#include "smtp_servers.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace cohort::email;
using namespace cohort::email::testing;
using cohort::store::database;
using cohort::store::sqlite_writer;
using cohort::test::commit;
using namespace std::chrono_literals;

constexpr std::int64_t t0 = 1768471200;

outbox_message message(int n) {
  const auto key = "confirm:" + std::to_string(n);
  mail_message m;
  m.from = {"Cohort", "team@cohort.example.org"};
  m.to = {"Maya", "maya" + std::to_string(n) + "@example.org"};
  m.subject = "You are registered (" + std::to_string(n) + ")";
  m.text_body = "Hi Maya, the secret join link is https://cohort.example.org/join?t=" + std::to_string(n);
  m.message_id = make_message_id("confirm-" + std::to_string(n) + "-" + std::to_string(t0), "cohort.example.org");
  m.date = t0;
  outbox_message out;
  out.message_id = m.message_id;
  out.dedupe_key = key;
  out.kind = "confirmation";
  out.webinar_id = 1;
  out.registration_id = n;
  out.to_addr = m.to.address;
  out.subject = m.subject;
  out.mime = render_mime(m);
  return out;
}

// A database file with the schema, its writer, and a reader for the test's own checks.
struct outbox_fixture {
  cohort::test::temp_database_file file;
  sqlite_writer writer{cohort::test::open_migrated(file.path()), sqlite_writer::options{}};
  database reader{file.path(), cohort::store::open_options{.read_only = true}};

  std::vector<outbox_message> enqueue_messages(int count, std::int64_t now) {
    std::vector<outbox_message> messages;
    for (int n = 1; n <= count; ++n) messages.push_back(message(n));
    commit(writer, [&](database& db) {
      for (const auto& m : messages)
        if (!enqueue(db, m, now)) throw std::runtime_error("already queued: " + m.dedupe_key);
    });
    return messages;
  }

  // Oldest first.
  std::vector<outbox_entry> rows() {
    auto out = list_outbox(reader, 1);
    std::reverse(out.begin(), out.end());
    return out;
  }

  bool all_in(outbox_state state) {
    const auto all = rows();
    return !all.empty() && std::all_of(all.begin(), all.end(), [&](const auto& e) { return e.state == state; });
  }

  outbox_sender::options sender_options() {
    outbox_sender::options o;
    o.db_path = file.path();
    o.writer = &writer;
    o.envelope_from = "team@cohort.example.org";
    return o;
  }
};

template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

smtp_config plain(int port) {
  smtp_config c;
  c.host = "127.0.0.1";
  c.port = port;
  c.tls = smtp_tls::none;
  c.connect_timeout = 5s;
  c.timeout = 15s;
  return c;
}

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

// What the sender logs, read after it stopped (joining its thread orders its writes before ours).
class captured_cerr {
 public:
  captured_cerr() : previous_(std::cerr.rdbuf(buffer_.rdbuf())) {}
  ~captured_cerr() { std::cerr.rdbuf(previous_); }
  captured_cerr(const captured_cerr&) = delete;
  captured_cerr& operator=(const captured_cerr&) = delete;
  std::string text() const { return buffer_.str(); }

 private:
  std::ostringstream buffer_;
  std::streambuf* previous_;
};

class temp_dir {
 public:
  temp_dir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("cohort-outbox-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }

  std::set<std::string> files() const {
    std::set<std::string> names;
    for (const auto& f : std::filesystem::directory_iterator(path_)) names.insert(f.path().filename().string());
    return names;
  }

 private:
  std::filesystem::path path_;
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A relay port that is down (nothing listens) until bring_up() forwards it to a real server, so
// the sender keeps one configuration across the outage. One connection at a time, like the sender.
class relay_outage {
 public:
  relay_outage() : port_(redis_server::free_port()) {}
  ~relay_outage() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }
  relay_outage(const relay_outage&) = delete;
  relay_outage& operator=(const relay_outage&) = delete;

  int port() const { return port_; }

  void bring_up(int upstream_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int on = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port_));
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listen_fd_, 4) == 0);
    thread_ = std::thread([this, upstream_port] { serve(upstream_port); });
  }

 private:
  void serve(int upstream_port) {
    pollfd p{listen_fd_, POLLIN, 0};
    while (!stopping_) {
      if (::poll(&p, 1, 50) <= 0) continue;
      const int client = ::accept(listen_fd_, nullptr, nullptr);
      if (client < 0) continue;
      if (const int server = connect_loopback(upstream_port); server >= 0) {
        forward(client, server);
        ::close(server);
      }
      ::close(client);
    }
  }

  void forward(int client, int server) {
    pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    char chunk[8192];
    while (!stopping_) {
      if (::poll(fds, 2, 50) <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].revents == 0) continue;
        const auto n = ::recv(fds[i].fd, chunk, sizeof chunk, 0);
        if (n <= 0 || ::send(fds[1 - i].fd, chunk, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) return;
      }
    }
  }

  int port_;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace

TEST_CASE("without a relay each message becomes one .eml file, right after wake()", "[email][outbox_sender]") {
  outbox_fixture f;
  temp_dir dir;
  std::mutex results_mutex;
  std::vector<std::pair<std::int64_t, outbox_state>> results;
  auto o = f.sender_options();
  o.eml_dir = dir.path();
  o.idle_poll = 30s;  // so only wake() can explain a prompt delivery
  o.on_result = [&](const outbox_entry& e, outbox_state s) {
    std::lock_guard lock(results_mutex);
    results.emplace_back(e.id, s);
  };
  captured_cerr log;
  outbox_sender sender(o);
  sender.start();
  std::this_thread::sleep_for(300ms);  // let the first pass find nothing and go to sleep

  const auto messages = f.enqueue_messages(3, std::time(nullptr));
  const auto woken = std::chrono::steady_clock::now();
  sender.wake();
  REQUIRE(eventually([&] { return f.all_in(outbox_state::sent); }));
  CHECK(std::chrono::steady_clock::now() - woken < 5s);
  sender.stop();

  const auto rows = f.rows();
  REQUIRE(rows.size() == 3);
  std::set<std::string> expected;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CHECK(rows[i].attempts == 1);
    CHECK(rows[i].sent_at.has_value());
    const auto name = safe_file_name(std::to_string(rows[i].id) + "-" + rows[i].message_id) + ".eml";
    expected.insert(name);
    CHECK(read_file(dir.path() / name) == messages[i].mime);
  }
  CHECK(dir.files() == expected);  // and no temporary files left behind
  CHECK(results.size() == 3);
  CHECK(std::all_of(results.begin(), results.end(), [](const auto& r) { return r.second == outbox_state::sent; }));

  const auto logged = log.text();
  INFO(logged);
  const auto first_line = "cohort: email " + std::to_string(rows[0].id) + " to maya1@example.org sent";
  CHECK_THAT(logged, Catch::Matchers::Contains(first_line));
  CHECK(occurrences(logged, " sent\n") == 3);
  CHECK_THAT(logged, !Catch::Matchers::Contains("join?t="));  // never the body
}

TEST_CASE("delivering a row again (a crash before its record) replaces its .eml file", "[email][outbox_sender]") {
  outbox_fixture f;
  temp_dir dir;
  auto o = f.sender_options();
  o.eml_dir = dir.path();
  captured_cerr log;
  outbox_sender sender(o);
  sender.start();
  f.enqueue_messages(2, std::time(nullptr));
  sender.wake();
  REQUIRE(eventually([&] { return f.all_in(outbox_state::sent); }));
  const auto first = dir.files();
  REQUIRE(first.size() == 2);

  commit(f.writer, [](database& db) { db.exec("UPDATE outbox SET state = 'queued', sent_at = NULL"); });
  sender.wake();
  REQUIRE(eventually([&] { return f.all_in(outbox_state::sent); }));
  sender.stop();
  for (const auto& row : f.rows()) CHECK(row.attempts == 2);
  CHECK(dir.files() == first);
}

TEST_CASE("a real SMTP server (aiosmtpd) receives each message once, with the row's Message-ID",
          "[email][outbox_sender][smtp]") {
  outbox_fixture f;
  aiosmtpd_server server;
  auto o = f.sender_options();
  o.smtp = plain(server.port());
  captured_cerr log;
  outbox_sender sender(o);
  sender.start();
  const auto messages = f.enqueue_messages(3, std::time(nullptr));
  sender.wake();
  REQUIRE(eventually([&] { return f.all_in(outbox_state::sent); }));
  sender.stop();

  const auto output = server.stop_and_read_output();
  INFO(output);
  for (const auto& m : messages) {
    CHECK(occurrences(output, "Message-ID: " + m.message_id) == 1);
    CHECK_THAT(output, Catch::Matchers::Contains("Subject: " + m.subject));
  }
  CHECK_THAT(output, Catch::Matchers::Contains("team@cohort.example.org"));
}

TEST_CASE("while the relay is down rows wait with the error and backoff; once it is up each arrives exactly once",
          "[email][outbox_sender][smtp]") {
  outbox_fixture f;
  relay_outage relay;
  aiosmtpd_server server;
  std::atomic<std::int64_t> clock{t0};
  auto o = f.sender_options();
  o.smtp = plain(relay.port());
  o.policy.first_delay_seconds = 1;
  o.policy.jitter = 0;
  o.clock = [&clock] { return clock.load(); };
  captured_cerr log;
  outbox_sender sender(o);
  sender.start();
  const auto messages = f.enqueue_messages(3, t0);
  sender.wake();

  REQUIRE(eventually([&] {
    const auto rows = f.rows();
    return std::all_of(rows.begin(), rows.end(), [](const auto& e) { return e.attempts == 1; });
  }));
  for (const auto& row : f.rows()) {
    CHECK(row.state == outbox_state::queued);
    CHECK_FALSE(row.last_error.value_or("").empty());
    CHECK(row.next_attempt_at == t0 + 1);  // in the future of the sender's clock
  }
  std::this_thread::sleep_for(1200ms);  // the sender wakes for the retry time, which has not come
  for (const auto& row : f.rows()) CHECK(row.attempts == 1);

  relay.bring_up(server.port());
  clock = t0 + 1;  // no wake(): the sender is already sleeping until then
  REQUIRE(eventually([&] { return f.all_in(outbox_state::sent); }));
  sender.stop();
  for (const auto& row : f.rows()) {
    CHECK(row.attempts == 2);
    CHECK_FALSE(row.last_error.has_value());
  }
  const auto output = server.stop_and_read_output();
  INFO(output);
  for (const auto& m : messages) CHECK(occurrences(output, "Message-ID: " + m.message_id) == 1);
}

TEST_CASE("a permanent refusal (550) fails the row once; it is not tried again", "[email][outbox_sender][smtp]") {
  outbox_fixture f;
  scripted_smtp_server server("550 5.1.1 no such user");
  std::atomic<std::int64_t> clock{t0};
  std::atomic<int> failed{0};
  auto o = f.sender_options();
  o.smtp = plain(server.port());
  o.clock = [&clock] { return clock.load(); };
  o.on_result = [&](const outbox_entry&, outbox_state s) { failed += s == outbox_state::failed; };
  captured_cerr log;
  outbox_sender sender(o);
  sender.start();
  f.enqueue_messages(1, t0);
  sender.wake();
  REQUIRE(eventually([&] { return f.all_in(outbox_state::failed); }));

  clock = t0 + 3600;  // long past any retry time
  sender.wake();
  std::this_thread::sleep_for(300ms);
  sender.stop();
  const auto rows = f.rows();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].attempts == 1);
  CHECK_THAT(rows[0].last_error.value_or(""), Catch::Matchers::Contains("550"));
  CHECK(occurrences(server.transcript(), "RCPT TO:") == 1);
  CHECK(failed == 1);
  CHECK_THAT(log.text(), Catch::Matchers::Contains("to maya1@example.org failed: "));
}

TEST_CASE("a failing pass is logged and retried: the thread keeps going", "[email][outbox_sender]") {
  cohort::test::temp_database_file file;
  sqlite_writer writer{database(file.path()), sqlite_writer::options{}};  // no outbox table yet
  temp_dir dir;
  outbox_sender::options o;
  o.db_path = file.path();
  o.writer = &writer;
  o.eml_dir = dir.path();
  captured_cerr log;
  outbox_sender sender(o);
  sender.start();
  std::this_thread::sleep_for(200ms);  // the first pass fails: no such table

  cohort::test::open_migrated(file.path());
  commit(writer, [](database& db) { enqueue(db, message(1), std::time(nullptr)); });
  sender.wake();
  REQUIRE(eventually([&] { return dir.files().size() == 1; }));
  sender.stop();
  CHECK_THAT(log.text(), Catch::Matchers::Contains("no such table: outbox"));
}

TEST_CASE("stop() while idle returns promptly", "[email][outbox_sender]") {
  outbox_fixture f;
  temp_dir dir;
  auto o = f.sender_options();
  o.eml_dir = dir.path();
  o.idle_poll = 60s;
  outbox_sender sender(o);
  sender.start();
  std::this_thread::sleep_for(200ms);
  const auto started = std::chrono::steady_clock::now();
  sender.stop();
  CHECK(std::chrono::steady_clock::now() - started < 1s);
}

TEST_CASE("a configuration that cannot work is refused at construction", "[email][outbox_sender]") {
  outbox_fixture f;
  auto o = f.sender_options();
  o.smtp = plain(25);
  o.envelope_from = "team@cohort.example.org>\r\nRCPT TO:<x@y.example";
  CHECK_THROWS_AS(outbox_sender(o), std::invalid_argument);
  auto no_writer = f.sender_options();
  no_writer.writer = nullptr;
  CHECK_THROWS_AS(outbox_sender(no_writer), std::invalid_argument);
}

TEST_CASE("a failure mid-batch queues only that row again; the others of its batch are sent once",
          "[email][outbox_sender]") {
  outbox_fixture f;
  temp_dir dir;
  auto o = f.sender_options();
  o.eml_dir = dir.path();
  o.idle_poll = 30s;
  captured_cerr log;
  outbox_sender sender(o);  // creates the directory
  f.enqueue_messages(3, std::time(nullptr));
  const auto queued = f.rows();
  REQUIRE(queued.size() == 3);
  // A directory where the second row's file belongs: that delivery fails, the other two do not.
  const auto blocked = dir.path() / (safe_file_name(std::to_string(queued[1].id) + "-" + queued[1].message_id) + ".eml");
  std::filesystem::create_directories(blocked / "occupied");
  sender.start();
  sender.wake();
  REQUIRE(eventually([&] {
    const auto rows = f.rows();
    return rows[0].state == outbox_state::sent && rows[2].state == outbox_state::sent && rows[1].attempts == 1;
  }));
  auto rows = f.rows();
  CHECK(rows[1].state == outbox_state::queued);
  CHECK_THAT(rows[1].last_error.value_or(""), Catch::Matchers::Contains("cannot rename"));
  CHECK(rows[1].next_attempt_at > std::time(nullptr));  // backoff, as for any failure

  // Once the way is clear and the retry is due, only that row is delivered again.
  std::filesystem::remove_all(blocked);
  commit(f.writer, [](database& db) { db.exec("UPDATE outbox SET next_attempt_at = 0 WHERE state = 'queued'"); });
  sender.wake();
  REQUIRE(eventually([&] { return f.all_in(outbox_state::sent); }));
  sender.stop();
  rows = f.rows();
  CHECK(rows[0].attempts == 1);
  CHECK(rows[1].attempts == 2);
  CHECK(rows[2].attempts == 1);
  CHECK(dir.files().size() == 3);
}

TEST_CASE("a batch is recorded only once its files are in place, all in one pass", "[email][outbox_sender]") {
  outbox_fixture f;
  temp_dir dir;
  auto o = f.sender_options();
  o.eml_dir = dir.path();
  o.batch = 50;
  std::mutex mutex;
  std::vector<std::string> missing;
  std::size_t reported = 0;
  // on_result runs after the batch's commit: each row's file must be complete by then.
  o.on_result = [&](const outbox_entry& e, outbox_state s) {
    std::lock_guard lock(mutex);
    ++reported;
    const auto path = dir.path() / (safe_file_name(std::to_string(e.id) + "-" + e.message_id) + ".eml");
    if (s != outbox_state::sent || read_file(path) != e.mime) missing.push_back(path.string());
  };
  captured_cerr log;
  outbox_sender sender(o);
  f.enqueue_messages(120, std::time(nullptr));  // three passes: 50, 50, 20
  sender.start();
  sender.wake();
  REQUIRE(eventually([&] { return f.all_in(outbox_state::sent); }));
  sender.stop();
  CHECK(reported == 120);
  CHECK(missing.empty());
  CHECK(dir.files().size() == 120);
  for (const auto& row : f.rows()) CHECK(row.attempts == 1);
}

TEST_CASE("one SMTP connection carries several messages", "[email][outbox_sender][smtp]") {
  outbox_fixture f;
  aiosmtpd_server server;
  auto o = f.sender_options();
  o.smtp = plain(server.port());
  captured_cerr log;
  outbox_sender sender(o);
  f.enqueue_messages(5, std::time(nullptr));
  sender.start();
  sender.wake();
  REQUIRE(eventually([&] { return f.all_in(outbox_state::sent); }));
  sender.stop();
  const auto output = server.stop_and_read_output();
  INFO(output);
  // aiosmtpd's debugging handler names the client's address and port with each message.
  std::set<std::string> peers;
  for (auto at = output.find("X-Peer: "); at != std::string::npos; at = output.find("X-Peer: ", at + 1))
    peers.insert(output.substr(at, output.find('\n', at) - at));
  CHECK(occurrences(output, "X-Peer: ") == 5);
  CHECK(peers.size() == 1);
}
