#include "config/config.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

using cohort::config;
using cohort::config_error;
using Catch::Matchers::Contains;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::filesystem::path source_dir() {
  const char* dir = std::getenv("COHORT_SOURCE_DIR");
  INFO("set COHORT_SOURCE_DIR to the repository root (ctest does)");
  REQUIRE(dir != nullptr);
  return dir;
}

// A TOML file in the temp folder, removed when the test ends.
class temp_toml {
 public:
  explicit temp_toml(const std::string& text) {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("cohort-config-test-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + "-" +
             std::to_string(counter++) + ".toml");
    std::ofstream(path_) << text;
  }
  ~temp_toml() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  temp_toml(const temp_toml&) = delete;
  temp_toml& operator=(const temp_toml&) = delete;
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// The message of the config_error `f` throws; fails the test when it throws nothing.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const config_error& e) {
    return e.what();
  }
  FAIL("expected config_error");
  return {};
}

config apply(const std::string& toml) {
  config cfg;
  cohort::apply_toml(cfg, toml, "test.toml");
  return cfg;
}

cohort::command_line parse(std::vector<std::string> args) {
  args.insert(args.begin(), "cohort");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return cohort::parse_command_line(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST_CASE("parse_listen reads HOST:PORT", "[config]") {
  auto a = cohort::parse_listen("0.0.0.0:9000", "server.listen");
  CHECK(a.host == "0.0.0.0");
  CHECK(a.port == 9000);

  a = cohort::parse_listen("localhost:0", "server.listen");
  CHECK(a.host == "localhost");
  CHECK(a.port == 0);

  a = cohort::parse_listen("example.org:65535", "server.listen");
  CHECK(a.port == 65535);
}

TEST_CASE("parse_listen reads a bracketed IPv6 address", "[config]") {
  auto a = cohort::parse_listen("[::1]:80", "server.listen");
  CHECK(a.host == "::1");
  CHECK(a.port == 80);

  a = cohort::parse_listen("[2001:db8::7]:8443", "server.listen");
  CHECK(a.host == "2001:db8::7");
  CHECK(a.port == 8443);
}

TEST_CASE("parse_listen rejects bad input with a message naming the key", "[config]") {
  for (const std::string bad : {"127.0.0.1:65536", "127.0.0.1:http", "127.0.0.1:-1", "127.0.0.1:80x", "127.0.0.1:",
                                "127.0.0.1", "localhost", ":8080", "", "[::1]", "[::1]80", "[::1]:", "[::1"}) {
    INFO("input: \"" << bad << "\"");
    const auto msg = error_of([&] { cohort::parse_listen(bad, "server.listen"); });
    CHECK_THAT(msg, Contains("server.listen"));
  }
  CHECK_THAT(error_of([] { cohort::parse_listen("h:99999", "listen"); }), Contains("65535"));
  CHECK_THAT(error_of([] { cohort::parse_listen("h:99999", "my.key"); }), Contains("my.key"));
}

TEST_CASE("apply_toml overrides only the keys the document holds", "[config]") {
  const auto cfg = apply(R"(
[server]
listen = "[::1]:9100"
io_threads = 3
[storage]
synchronous = "normal"
batch_max = 50
[auth]
admin_token = "0123456789abcdef"
)");
  CHECK(cfg.server.listen.host == "::1");
  CHECK(cfg.server.listen.port == 9100);
  CHECK(cfg.server.io_threads == 3);
  CHECK(cfg.storage.synchronous == "normal");
  CHECK(cfg.storage.batch_max == 50);
  CHECK(cfg.auth.admin_token == "0123456789abcdef");
  // untouched keys keep their defaults
  const config defaults;
  CHECK(cfg.storage.data_dir == defaults.storage.data_dir);
  CHECK(cfg.limits.body_max_bytes == defaults.limits.body_max_bytes);
  CHECK(cfg.storage.write_queue_max == defaults.storage.write_queue_max);
}

TEST_CASE("apply_toml rejects an unknown key, naming it", "[config]") {
  const auto msg = error_of([] { apply("[server]\nlisten_port = 80\n"); });
  CHECK_THAT(msg, Contains("server.listen_port"));
  CHECK_THAT(msg, Contains("not a known setting"));
  // a nested table inside a known section is not a setting either
  CHECK_THAT(error_of([] { apply("[storage.extra]\nx = 1\n"); }), Contains("storage.extra"));
}

TEST_CASE("apply_toml rejects an unknown section, naming it", "[config]") {
  const auto msg = error_of([] { apply("[redis]\nurl = \"redis://localhost\"\n"); });
  CHECK_THAT(msg, Contains("redis"));
  CHECK_THAT(msg, Contains("not a known section"));
  CHECK_THAT(error_of([] { apply("server = 5\n"); }), Contains("server"));
}

TEST_CASE("apply_toml rejects a value of the wrong type, naming the key", "[config]") {
  auto msg = error_of([] { apply("[server]\nio_threads = \"4\"\n"); });
  CHECK_THAT(msg, Contains("server.io_threads"));
  CHECK_THAT(msg, Contains("integer"));

  msg = error_of([] { apply("[server]\nio_threads = 4.5\n"); });
  CHECK_THAT(msg, Contains("server.io_threads"));

  msg = error_of([] { apply("[server]\nlisten = 8080\n"); });
  CHECK_THAT(msg, Contains("server.listen"));
  CHECK_THAT(msg, Contains("string"));

  msg = error_of([] { apply("[storage]\nsynchronous = true\n"); });
  CHECK_THAT(msg, Contains("storage.synchronous"));
}

TEST_CASE("apply_toml rejects an out-of-range value with the key and the range", "[config]") {
  const auto msg = error_of([] { apply("[server]\nio_threads = 9999\n"); });
  CHECK_THAT(msg, Contains("server.io_threads"));
  CHECK_THAT(msg, Contains("0 and 256"));
  CHECK_THAT(msg, Contains("9999"));

  // a value beyond int range must not wrap around into the allowed range
  CHECK_THAT(error_of([] { apply("[limits]\nbody_max_bytes = 4294968320\n"); }), Contains("limits.body_max_bytes"));
  CHECK_THAT(error_of([] { apply("[storage]\nreader_connections = 0\n"); }), Contains("storage.reader_connections"));
  CHECK_THAT(error_of([] { apply("[storage]\nbusy_timeout_ms = -1\n"); }), Contains("storage.busy_timeout_ms"));
}

TEST_CASE("apply_toml reports a TOML syntax error with the source name and line", "[config]") {
  config cfg;
  const auto msg = error_of([&] { cohort::apply_toml(cfg, "[server]\n\nlisten = \n", "site.toml"); });
  CHECK_THAT(msg, Contains("site.toml:3"));
}

TEST_CASE("validate accepts the compiled-in defaults", "[config]") {
  CHECK_NOTHROW(cohort::validate(config{}));
}

TEST_CASE("validate requires storage.synchronous to be full or normal", "[config]") {
  config cfg;
  cfg.storage.synchronous = "normal";
  CHECK_NOTHROW(cohort::validate(cfg));
  cfg.storage.synchronous = "off";
  const auto msg = error_of([&] { cohort::validate(cfg); });
  CHECK_THAT(msg, Contains("storage.synchronous"));
  CHECK_THAT(msg, Contains("off"));
  cfg.storage.synchronous = "FULL";
  CHECK_THAT(error_of([&] { cohort::validate(cfg); }), Contains("storage.synchronous"));
}

TEST_CASE("validate refuses short secrets", "[config]") {
  config cfg;
  cfg.auth.admin_token = "short-token";
  CHECK_THAT(error_of([&] { cohort::validate(cfg); }), Contains("auth.admin_token"));
  cfg.auth.admin_token = std::string(15, 'x');
  CHECK_THAT(error_of([&] { cohort::validate(cfg); }), Contains("16"));
  cfg.auth.admin_token = std::string(16, 'x');
  CHECK_NOTHROW(cohort::validate(cfg));

  cfg.auth.token_secret = std::string(31, 's');
  CHECK_THAT(error_of([&] { cohort::validate(cfg); }), Contains("auth.token_secret"));
  cfg.auth.token_secret = std::string(32, 's');
  CHECK_NOTHROW(cohort::validate(cfg));
}

TEST_CASE("validate checks ranges, hosts and URLs set directly in code", "[config]") {
  config cfg;
  cfg.server.io_threads = 257;
  CHECK_THAT(error_of([&] { cohort::validate(cfg); }), Contains("server.io_threads"));
  cfg = config{};
  cfg.limits.body_max_bytes = 100;
  CHECK_THAT(error_of([&] { cohort::validate(cfg); }), Contains("limits.body_max_bytes"));
  cfg = config{};
  cfg.server.listen.host.clear();
  CHECK_THAT(error_of([&] { cohort::validate(cfg); }), Contains("server.listen"));
  cfg = config{};
  cfg.server.public_url = "webinars.example.org";
  CHECK_THAT(error_of([&] { cohort::validate(cfg); }), Contains("server.public_url"));
  cfg.server.public_url = "https://webinars.example.org";
  CHECK_NOTHROW(cohort::validate(cfg));
  cfg = config{};
  cfg.storage.data_dir.clear();
  CHECK_THAT(error_of([&] { cohort::validate(cfg); }), Contains("storage.data_dir"));
}

TEST_CASE("parse_command_line without arguments serves with the defaults", "[config]") {
  const auto cl = parse({});
  CHECK(cl.command == "serve");
  CHECK(cl.cfg.server.listen.host == "127.0.0.1");
  CHECK(cl.cfg.server.listen.port == 8080);
  CHECK_FALSE(cl.cfg.demo);
}

TEST_CASE("parse_command_line applies the --config file, then lets flags override it", "[config]") {
  temp_toml file(R"(
[server]
listen = "127.0.0.1:1234"
io_threads = 3
public_url = "http://from-file.example"
[storage]
data_dir = "/var/lib/from-file"
)");
  const auto cl = parse({"--config", file.path(), "--listen", "[::]:9000", "--data-dir", "/tmp/cohort-flag", "--admin-token",
                         "flag-token-0123456789", "--web-root", "/srv/web", "--demo"});
  CHECK(cl.command == "serve");
  CHECK(cl.cfg.server.listen.host == "::");
  CHECK(cl.cfg.server.listen.port == 9000);
  CHECK(cl.cfg.storage.data_dir == "/tmp/cohort-flag");
  CHECK(cl.cfg.auth.admin_token == "flag-token-0123456789");
  CHECK(cl.cfg.server.web_root == "/srv/web");
  CHECK(cl.cfg.demo);
  // keys no flag touched come from the file
  CHECK(cl.cfg.server.io_threads == 3);
  CHECK(cl.cfg.server.public_url == "http://from-file.example");
}

TEST_CASE("parse_command_line validates the result", "[config]") {
  CHECK_THAT(error_of([] { parse({"--admin-token", "tooshort"}); }), Contains("auth.admin_token"));
  CHECK_THAT(error_of([] { parse({"--public-url", "ftp://x"}); }), Contains("server.public_url"));
  CHECK_THAT(error_of([] { parse({"--listen", "nowhere"}); }), Contains("listen"));
  temp_toml file("[storage]\nsynchronous = \"extra\"\n");
  CHECK_THAT(error_of([&] { parse({"--config", file.path()}); }), Contains("storage.synchronous"));
}

TEST_CASE("parse_command_line reads commands and rejects unknown ones", "[config]") {
  CHECK(parse({"routes"}).command == "routes");
  CHECK(parse({"serve"}).command == "serve");
  const auto help = parse({"--help"});
  CHECK(help.command == "help");
  CHECK_THAT(help.help_text, Contains("--listen"));
  CHECK_THAT(help.help_text, Contains("--config"));
  CHECK_THAT(error_of([] { parse({"migrate"}); }), Contains("migrate"));
  CHECK_THAT(error_of([] { parse({"--no-such-flag"}); }), Contains("no-such-flag"));
  CHECK_THAT(error_of([] { parse({"--config", "/nonexistent/cohort-test.toml"}); }), Contains("/nonexistent/cohort-test.toml"));
}

TEST_CASE("config/cohort.toml sets every key to the compiled-in default", "[config]") {
  const auto text = read_file(source_dir() / "config" / "cohort.toml");

  // Start from values that differ from every default, so a key missing from the file shows up.
  config cfg;
  cfg.server.listen = {"192.0.2.1", 1};
  cfg.server.public_url = "http://changed.example";
  cfg.server.io_threads = 77;
  cfg.server.web_root = "/changed";
  cfg.server.allowed_origins = {"https://changed.example"};
  cfg.server.role = "edge";
  cfg.server.primary_url = "http://changed.example";
  cfg.server.trusted_proxies = {"192.0.2.0/24"};
  cfg.drops.file_max_bytes = 12345;
  cfg.attendance.min_minutes = 77;
  cfg.streaming = {{"192.0.2.9", 9}, "rtmp://changed.example/live", "/changed/ffmpeg", "h264", 5, 55, 55, 55, true, 99, 99, 999};
  cfg.limits = {1111, 2222, 33, 44, 55, 66, 77, 88};
  cfg.storage = {"/changed", "normal", 55, 66, 77, 8};
  cfg.auth = {"changed-admin-token", "changed-secret-changed-secret-changed", 99, 99, std::string(64, 'c')};
  cfg.bus.redis_url = "redis://changed.example:1";
  cfg.chat = {9, 999, 99, 99, 9, 99999, 99};
  cfg.email = {"changed.example", 25, "none", "u", "p", "N", "a@changed.example", "/changed", {5}, 9};
  cfg.registration = {77, 777, true, 7.5};
  cfg.privacy.retention_days = 77;
  cfg.ce.records_years = 77;
  cohort::apply_toml(cfg, text, "config/cohort.toml");

  const config defaults;
  // Structured bindings stop compiling when a field is added, so this list cannot fall behind.
  const auto& [listen, public_url, io_threads, web_root, allowed_origins, role, primary_url, trusted_proxies] = cfg.server;
  CHECK(trusted_proxies == defaults.server.trusted_proxies);
  CHECK(role == defaults.server.role);
  CHECK(primary_url == defaults.server.primary_url);
  CHECK(allowed_origins == defaults.server.allowed_origins);
  CHECK(listen.host == defaults.server.listen.host);
  CHECK(listen.port == defaults.server.listen.port);
  CHECK(public_url == defaults.server.public_url);
  CHECK(io_threads == defaults.server.io_threads);
  CHECK(web_root == defaults.server.web_root);

  const auto& [body_max_bytes, header_max_bytes, read_timeout_seconds, keepalive_timeout_seconds, connections_per_ip, uploads_max,
               upload_min_bytes_per_second, upload_rate_window_seconds] = cfg.limits;
  CHECK(connections_per_ip == defaults.limits.connections_per_ip);
  CHECK(uploads_max == defaults.limits.uploads_max);
  CHECK(upload_min_bytes_per_second == defaults.limits.upload_min_bytes_per_second);
  CHECK(upload_rate_window_seconds == defaults.limits.upload_rate_window_seconds);
  CHECK(body_max_bytes == defaults.limits.body_max_bytes);
  CHECK(header_max_bytes == defaults.limits.header_max_bytes);
  CHECK(read_timeout_seconds == defaults.limits.read_timeout_seconds);
  CHECK(keepalive_timeout_seconds == defaults.limits.keepalive_timeout_seconds);

  const auto& [data_dir, synchronous, busy_timeout_ms, write_queue_max, batch_max, reader_connections] = cfg.storage;
  CHECK(data_dir == defaults.storage.data_dir);
  CHECK(synchronous == defaults.storage.synchronous);
  CHECK(busy_timeout_ms == defaults.storage.busy_timeout_ms);
  CHECK(write_queue_max == defaults.storage.write_queue_max);
  CHECK(batch_max == defaults.storage.batch_max);
  CHECK(reader_connections == defaults.storage.reader_connections);

  const auto& [admin_token, token_secret, session_hours, login_attempts_per_minute, token_public_key] = cfg.auth;
  CHECK(token_public_key == defaults.auth.token_public_key);
  CHECK(admin_token == defaults.auth.admin_token);
  CHECK(token_secret == defaults.auth.token_secret);
  CHECK(session_hours == defaults.auth.session_hours);
  CHECK(login_attempts_per_minute == defaults.auth.login_attempts_per_minute);

  const auto& [redis_url] = cfg.bus;
  CHECK(redis_url == defaults.bus.redis_url);

  const auto& [file_max_bytes] = cfg.drops;
  CHECK(file_max_bytes == defaults.drops.file_max_bytes);
  const auto& [min_minutes] = cfg.attendance;
  CHECK(min_minutes == defaults.attendance.min_minutes);

  const auto& [rtmp_listen, rtmp_public_url, ffmpeg, video, segment_seconds, live_segments, session_before_minutes,
               session_after_minutes, extra_360p, rtmp_handshake_seconds, rtmp_connections_per_ip,
               rtmp_connections_max] = cfg.streaming;
  CHECK(rtmp_listen.host == defaults.streaming.rtmp_listen.host);
  CHECK(rtmp_listen.port == defaults.streaming.rtmp_listen.port);
  CHECK(rtmp_public_url == defaults.streaming.rtmp_public_url);
  CHECK(ffmpeg == defaults.streaming.ffmpeg);
  CHECK(video == defaults.streaming.video);
  CHECK(segment_seconds == defaults.streaming.segment_seconds);
  CHECK(live_segments == defaults.streaming.live_segments);
  CHECK(session_before_minutes == defaults.streaming.session_before_minutes);
  CHECK(session_after_minutes == defaults.streaming.session_after_minutes);
  CHECK(extra_360p == defaults.streaming.extra_360p);
  CHECK(rtmp_handshake_seconds == defaults.streaming.rtmp_handshake_seconds);
  CHECK(rtmp_connections_per_ip == defaults.streaming.rtmp_connections_per_ip);
  CHECK(rtmp_connections_max == defaults.streaming.rtmp_connections_max);

  const auto& [flood_messages, flood_window_ms, flood_block_seconds, history_messages, history_hours, ws_queue_max_bytes,
               sockets_per_token, room_idle_seconds] = cfg.chat;
  CHECK(sockets_per_token == defaults.chat.sockets_per_token);
  CHECK(room_idle_seconds == defaults.chat.room_idle_seconds);
  CHECK(flood_messages == defaults.chat.flood_messages);
  CHECK(flood_window_ms == defaults.chat.flood_window_ms);
  CHECK(flood_block_seconds == defaults.chat.flood_block_seconds);
  CHECK(history_messages == defaults.chat.history_messages);
  CHECK(history_hours == defaults.chat.history_hours);
  CHECK(ws_queue_max_bytes == defaults.chat.ws_queue_max_bytes);

  const auto& [smtp_host, smtp_port, smtp_tls, smtp_username, smtp_password, from_name, from_address, templates_dir,
               reminder_minutes, retry_first_seconds] = cfg.email;
  CHECK(smtp_host == defaults.email.smtp_host);
  CHECK(smtp_port == defaults.email.smtp_port);
  CHECK(smtp_tls == defaults.email.smtp_tls);
  CHECK(smtp_username == defaults.email.smtp_username);
  CHECK(smtp_password == defaults.email.smtp_password);
  CHECK(from_name == defaults.email.from_name);
  CHECK(from_address == defaults.email.from_address);
  CHECK(templates_dir == defaults.email.templates_dir);
  CHECK(reminder_minutes == defaults.email.reminder_minutes);
  CHECK(retry_first_seconds == defaults.email.retry_first_seconds);

  const auto& [ip_per_minute, series_per_minute, confirm_email, confirm_hours] = cfg.registration;
  CHECK(ip_per_minute == defaults.registration.ip_per_minute);
  CHECK(series_per_minute == defaults.registration.series_per_minute);
  CHECK(confirm_email == defaults.registration.confirm_email);
  CHECK(confirm_hours == defaults.registration.confirm_hours);

  const auto& [retention_days] = cfg.privacy;
  CHECK(retention_days == defaults.privacy.retention_days);
  const auto& [records_years] = cfg.ce;
  CHECK(records_years == defaults.ce.records_years);

  // demo is a command-line switch only, not a TOML setting.
  const auto& [server, chat, bus, limits, storage, auth, drops, attendance, streaming, email, registration, privacy, ce, demo] = defaults;
  (void)server, (void)chat, (void)bus, (void)limits, (void)storage, (void)auth, (void)drops, (void)attendance, (void)streaming,
      (void)email, (void)registration, (void)privacy, (void)ce;
  CHECK_FALSE(demo);
}

TEST_CASE("the ranges documented in config/cohort.toml are the ones enforced", "[config]") {
  const auto text = read_file(source_dir() / "config" / "cohort.toml");
  // e.g.   io_threads = 0                   # 0..256, 0 = one per core
  const std::regex documented(R"(^(\w+)\s*=\s*-?\d+\s*#\s*(\d+)\.\.(\d+))");
  std::istringstream lines(text);
  std::string line, section;
  int checked = 0;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (line.size() > 2 && line.front() == '[') section = line.substr(1, line.find(']') - 1);
    if (!std::regex_search(line, m, documented)) continue;
    const std::string key = section + "." + m[1].str();
    const long long lo = std::stoll(m[2].str()), hi = std::stoll(m[3].str());
    INFO(key << " documented as " << lo << ".." << hi);
    auto doc = [&](long long v) { return "[" + section + "]\n" + m[1].str() + " = " + std::to_string(v) + "\n"; };
    CHECK_NOTHROW(apply(doc(lo)));
    CHECK_NOTHROW(apply(doc(hi)));
    const auto below = error_of([&] { apply(doc(lo - 1)); });
    CHECK_THAT(below, Contains(key));
    CHECK_THAT(below, Contains(std::to_string(lo) + " and " + std::to_string(hi)));
    CHECK_THAT(error_of([&] { apply(doc(hi + 1)); }), Contains(key));
    ++checked;
  }
  // io_threads, body/header max, two timeouts, busy timeout, queue, batch, readers, the eight chat
  // settings (sockets_per_token and room_idle_seconds included), the drop file limit, the attendance minutes, four
  // streaming settings, the three RTMP limits and the two login settings, the SMTP port and the
  // first retry delay, the two signup rates, the connection and upload limits, privacy.retention_days
  // and ce.records_years
  CHECK(checked == 38);
}

TEST_CASE("server.allowed_origins takes origins without a path", "[config]") {
  config cfg;
  cohort::apply_toml(cfg, "[server]\nallowed_origins = [\"https://a.example\", \"http://b.example:8080\"]\n", "t.toml");
  CHECK(cfg.server.allowed_origins == std::vector<std::string>{"https://a.example", "http://b.example:8080"});
  CHECK_NOTHROW(cohort::validate(cfg));
  cfg.server.allowed_origins = {"https://a.example/"};
  CHECK_THROWS_WITH(cohort::validate(cfg), Contains("server.allowed_origins"));
  cfg.server.allowed_origins = {"a.example"};
  CHECK_THROWS_WITH(cohort::validate(cfg), Contains("server.allowed_origins"));
  config other;
  CHECK_THROWS_WITH(cohort::apply_toml(other, "[server]\nallowed_origins = \"https://a.example\"\n", "t.toml"),
                    Contains("server.allowed_origins"));
}

TEST_CASE("an edge node needs Redis, the primary's URL and the token public key, never the master secret", "[config]") {
  CHECK_THAT(error_of([] { parse({"--role", "relay"}); }), Contains("server.role"));
  CHECK_THAT(error_of([] { parse({"--role", "edge"}); }), Contains("bus.redis_url"));
  CHECK_THAT(error_of([] { parse({"--role", "edge", "--redis", "redis://127.0.0.1:6379"}); }), Contains("server.primary_url"));
  CHECK_THAT(error_of([] { parse({"--role", "edge", "--redis", "redis://127.0.0.1:6379", "--primary", "http://p:8080"}); }),
             Contains("auth.token_public_key"));
  CHECK_THAT(error_of([] { parse({"--primary", "ftp://p"}); }), Contains("server.primary_url"));
  temp_toml secret("[auth]\ntoken_secret = \"0123456789abcdef0123456789abcdef\"\ntoken_public_key = \"" + std::string(64, 'a') + "\"\n");
  CHECK_THAT(error_of([&] { parse({"--config", secret.path(), "--role", "edge", "--redis", "redis://127.0.0.1:6379", "--primary", "http://p:8080"}); }),
             Contains("auth.token_secret"));
  temp_toml short_key("[auth]\ntoken_public_key = \"abc\"\n");
  CHECK_THAT(error_of([&] { parse({"--config", short_key.path()}); }), Contains("auth.token_public_key"));
  temp_toml public_key("[auth]\ntoken_public_key = \"" + std::string(64, 'a') + "\"\n\n[chat]\nsockets_per_token = 2\n");
  const auto cl = parse({"--config", public_key.path(), "--role", "edge", "--redis", "redis://127.0.0.1:6379", "--primary", "http://p:8080"});
  CHECK(cl.cfg.chat.sockets_per_token == 2);
  CHECK(config{}.chat.sockets_per_token == 5);
  temp_toml idle("[chat]\nroom_idle_seconds = 30\n");
  CHECK(parse({"--config", idle.path()}).cfg.chat.room_idle_seconds == 30);
  CHECK(config{}.chat.room_idle_seconds == 600);
  temp_toml idle_bad("[chat]\nroom_idle_seconds = -1\n");
  CHECK_THAT(error_of([&] { parse({"--config", idle_bad.path()}); }), Contains("chat.room_idle_seconds"));
  temp_toml no_sockets("[chat]\nsockets_per_token = 0\n");
  CHECK_THAT(error_of([&] { parse({"--config", no_sockets.path()}); }), Contains("chat.sockets_per_token"));
  CHECK(parse({"keys", "public"}).command == "keys");
  CHECK_THAT(error_of([] { parse({"keys", "private"}); }), Contains("keys"));
  CHECK(cl.cfg.server.role == "edge");
  CHECK(cl.cfg.server.primary_url == "http://p:8080");
}

TEST_CASE("streaming.video is auto, copy or h264, auto by default", "[config]") {
  CHECK(config{}.streaming.video == "auto");
  for (const std::string v : {"auto", "copy", "h264"}) {
    config cfg;
    cohort::apply_toml(cfg, "[streaming]\nvideo = \"" + v + "\"\n", "t.toml");
    CHECK(cfg.streaming.video == v);
    CHECK_NOTHROW(cohort::validate(cfg));
  }
  config cfg;
  cfg.streaming.video = "hevc";
  CHECK_THROWS_WITH(cohort::validate(cfg), Contains("streaming.video") && Contains("auto"));
}

TEST_CASE("[registration] reads the signup limits and the confirmation window, fractions of an hour included", "[config]") {
  config cfg;
  cohort::apply_toml(cfg, "[registration]\nip_per_minute = 3\nseries_per_minute = 0\nconfirm_email = true\nconfirm_hours = 0.01\n", "t");
  CHECK(cfg.registration.ip_per_minute == 3);
  CHECK(cfg.registration.series_per_minute == 0);
  CHECK(cfg.registration.confirm_email);
  CHECK(cfg.registration.confirm_hours == 0.01);
  cohort::apply_toml(cfg, "[registration]\nconfirm_hours = 48\n", "t");
  CHECK(cfg.registration.confirm_hours == 48.0);
  CHECK_NOTHROW(cohort::validate(cfg));
  CHECK_THAT(error_of([&] { cohort::apply_toml(cfg, "[registration]\nconfirm_hours = \"soon\"\n", "t"); }),
             Contains("registration.confirm_hours"));
  cfg.registration.confirm_hours = 0;
  CHECK_THAT(error_of([&] { cohort::validate(cfg); }), Contains("registration.confirm_hours"));
  const config defaults;
  CHECK(defaults.registration.ip_per_minute == 10);
  CHECK(defaults.registration.series_per_minute == 300);
  CHECK_FALSE(defaults.registration.confirm_email);
  CHECK(defaults.registration.confirm_hours == 24.0);
}

TEST_CASE("server.trusted_proxies takes CIDR networks and refuses anything else, naming the key", "[config]") {
  config cfg;
  cohort::apply_toml(cfg, "[server]\ntrusted_proxies = [\"127.0.0.1/32\", \"10.0.0.0/8\", \"::1\"]\n", "t.toml");
  CHECK(cfg.server.trusted_proxies == std::vector<std::string>{"127.0.0.1/32", "10.0.0.0/8", "::1"});
  CHECK_NOTHROW(cohort::validate(cfg));
  for (const char* bad : {"10.0.0.0/33", "proxy.example.org", "10.0.0.1/8", ""}) {
    cfg.server.trusted_proxies = {bad};
    INFO(bad);
    CHECK_THROWS_WITH(cohort::validate(cfg), Contains("server.trusted_proxies") && Contains(bad));
  }
  config other;
  CHECK_THROWS_WITH(cohort::apply_toml(other, "[server]\ntrusted_proxies = \"127.0.0.1/32\"\n", "t.toml"),
                    Contains("server.trusted_proxies"));
}

TEST_CASE("the RTMP port's limits have safe defaults and are range-checked", "[config]") {
  const config defaults;
  CHECK(defaults.streaming.rtmp_handshake_seconds == 10);
  CHECK(defaults.streaming.rtmp_connections_per_ip == 4);
  CHECK(defaults.streaming.rtmp_connections_max == 200);
  config cfg;
  cohort::apply_toml(cfg, "[streaming]\nrtmp_handshake_seconds = 3\nrtmp_connections_per_ip = 2\nrtmp_connections_max = 50\n", "t.toml");
  CHECK(cfg.streaming.rtmp_handshake_seconds == 3);
  CHECK(cfg.streaming.rtmp_connections_per_ip == 2);
  CHECK(cfg.streaming.rtmp_connections_max == 50);
  CHECK_NOTHROW(cohort::validate(cfg));
  const auto refused = [](void (*set)(config&), const char* key) {
    config bad;
    set(bad);
    CHECK_THROWS_WITH(cohort::validate(bad), Contains(key));
  };
  refused([](config& c) { c.streaming.rtmp_handshake_seconds = 0; }, "streaming.rtmp_handshake_seconds");
  refused([](config& c) { c.streaming.rtmp_connections_per_ip = 0; }, "streaming.rtmp_connections_per_ip");
  refused([](config& c) { c.streaming.rtmp_connections_max = 0; }, "streaming.rtmp_connections_max");
}
