#include "config/config.hpp"

#include "gateway/trusted_proxies.hpp"

#include <boost/program_options.hpp>
#include <toml++/toml.h>

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace cohort {
namespace {

namespace po = boost::program_options;

[[noreturn]] void fail(const std::string& key, const std::string& what) {
  throw config_error("config: " + key + " " + what);
}

template <class T>
T read_value(const toml::node& node, const std::string& key) {
  if constexpr (std::is_same_v<T, std::string>) {
    if (auto v = node.value<std::string>()) return *v;
    fail(key, "must be a string");
  } else if constexpr (std::is_same_v<T, bool>) {
    if (auto v = node.value<bool>()) return *v;
    fail(key, "must be true or false");
  } else {
    if (!node.is_integer()) fail(key, "must be an integer");
    return static_cast<T>(*node.value<std::int64_t>());
  }
}

// Range-checked integer read so a huge TOML value cannot wrap around before validation.
std::int64_t read_int(const toml::node& node, const std::string& key) {
  if (!node.is_integer()) fail(key, "must be an integer");
  return *node.value<std::int64_t>();
}

void check_range(const std::string& key, std::int64_t v, std::int64_t lo, std::int64_t hi) {
  if (v < lo || v > hi)
    fail(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + " (got " +
                  std::to_string(v) + ")");
}

}  // namespace

listen_address parse_listen(const std::string& text, const std::string& key) {
  listen_address out;
  std::string host, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      fail(key, "must be HOST:PORT or [IPv6]:PORT (got \"" + text + "\")");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0)
      fail(key, "must be HOST:PORT, e.g. 127.0.0.1:8080 (got \"" + text + "\")");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || ptr != port.data() + port.size() || value > 65535)
    fail(key, "port must be between 0 and 65535 (got \"" + port + "\")");
  out.host = host;
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

void apply_toml(config& cfg, const std::string& toml_text, const std::string& source_name) {
  toml::table doc;
  try {
    doc = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "config: " << source_name << ":" << e.source().begin.line << ": " << e.description();
    throw config_error(msg.str());
  }
  static const std::set<std::string> sections{"server", "limits", "storage", "auth", "chat", "bus", "drops", "attendance", "streaming", "email", "registration", "privacy", "ce"};
  for (auto&& [section_key, section_node] : doc) {
    std::string section{section_key.str()};
    if (!sections.count(section)) fail(section, "is not a known section (server, limits, storage, auth, chat, bus, drops, attendance, streaming, email, registration, privacy, ce)");
    auto* table = section_node.as_table();
    if (!table) fail(section, "must be a table");
    for (auto&& [k, node] : *table) {
      const std::string key = section + "." + std::string{k.str()};
      if (key == "server.listen") cfg.server.listen = parse_listen(read_value<std::string>(node, key), key);
      else if (key == "server.public_url") cfg.server.public_url = read_value<std::string>(node, key);
      else if (key == "server.io_threads") { auto v = read_int(node, key); check_range(key, v, 0, 256); cfg.server.io_threads = int(v); }
      else if (key == "server.web_root") cfg.server.web_root = read_value<std::string>(node, key);
      else if (key == "server.allowed_origins") {
        auto* list = node.as_array();
        if (!list) fail(key, "must be a list of origins such as [\"https://webinars.example.org\"]");
        cfg.server.allowed_origins.clear();
        for (auto&& item : *list) cfg.server.allowed_origins.push_back(read_value<std::string>(item, key));
      }
      else if (key == "server.trusted_proxies") {
        auto* list = node.as_array();
        if (!list) fail(key, "must be a list of networks such as [\"127.0.0.1/32\", \"10.0.0.0/8\"]");
        cfg.server.trusted_proxies.clear();
        for (auto&& item : *list) cfg.server.trusted_proxies.push_back(read_value<std::string>(item, key));
      }
      else if (key == "server.role") cfg.server.role = read_value<std::string>(node, key);
      else if (key == "server.primary_url") cfg.server.primary_url = read_value<std::string>(node, key);
      else if (key == "drops.file_max_bytes") { auto v = read_int(node, key); check_range(key, v, 1024, 4ll << 30); cfg.drops.file_max_bytes = std::uint64_t(v); }
      else if (key == "attendance.min_minutes") { auto v = read_int(node, key); check_range(key, v, 1, 600); cfg.attendance.min_minutes = int(v); }
      else if (key == "privacy.retention_days") { auto v = read_int(node, key); check_range(key, v, 0, 36500); cfg.privacy.retention_days = int(v); }
      else if (key == "ce.records_years") { auto v = read_int(node, key); check_range(key, v, 1, 100); cfg.ce.records_years = int(v); }
      else if (key == "streaming.rtmp_listen") cfg.streaming.rtmp_listen = parse_listen(read_value<std::string>(node, key), key);
      else if (key == "streaming.rtmp_public_url") cfg.streaming.rtmp_public_url = read_value<std::string>(node, key);
      else if (key == "streaming.rtmp_handshake_seconds") { auto v = read_int(node, key); check_range(key, v, 1, 300); cfg.streaming.rtmp_handshake_seconds = int(v); }
      else if (key == "streaming.rtmp_connections_per_ip") { auto v = read_int(node, key); check_range(key, v, 1, 10000); cfg.streaming.rtmp_connections_per_ip = int(v); }
      else if (key == "streaming.rtmp_connections_max") { auto v = read_int(node, key); check_range(key, v, 1, 100000); cfg.streaming.rtmp_connections_max = int(v); }
      else if (key == "streaming.ffmpeg") cfg.streaming.ffmpeg = read_value<std::string>(node, key);
      else if (key == "streaming.video") cfg.streaming.video = read_value<std::string>(node, key);
      else if (key == "streaming.extra_360p") cfg.streaming.extra_360p = read_value<bool>(node, key);
      else if (key == "streaming.segment_seconds") { auto v = read_int(node, key); check_range(key, v, 1, 6); cfg.streaming.segment_seconds = int(v); }
      else if (key == "streaming.live_segments") { auto v = read_int(node, key); check_range(key, v, 3, 60); cfg.streaming.live_segments = int(v); }
      else if (key == "streaming.session_before_minutes") { auto v = read_int(node, key); check_range(key, v, 0, 1440); cfg.streaming.session_before_minutes = int(v); }
      else if (key == "streaming.session_after_minutes") { auto v = read_int(node, key); check_range(key, v, 0, 1440); cfg.streaming.session_after_minutes = int(v); }
      else if (key == "limits.body_max_bytes") { auto v = read_int(node, key); check_range(key, v, 1024, 64 << 20); cfg.limits.body_max_bytes = std::uint32_t(v); }
      else if (key == "limits.header_max_bytes") { auto v = read_int(node, key); check_range(key, v, 1024, 1 << 20); cfg.limits.header_max_bytes = std::uint32_t(v); }
      else if (key == "limits.read_timeout_seconds") { auto v = read_int(node, key); check_range(key, v, 1, 3600); cfg.limits.read_timeout_seconds = int(v); }
      else if (key == "limits.keepalive_timeout_seconds") { auto v = read_int(node, key); check_range(key, v, 1, 3600); cfg.limits.keepalive_timeout_seconds = int(v); }
      else if (key == "limits.connections_per_ip") { auto v = read_int(node, key); check_range(key, v, 1, 1000000); cfg.limits.connections_per_ip = int(v); }
      else if (key == "limits.uploads_max") { auto v = read_int(node, key); check_range(key, v, 1, 1024); cfg.limits.uploads_max = int(v); }
      else if (key == "limits.upload_min_bytes_per_second") { auto v = read_int(node, key); check_range(key, v, 0, 1 << 30); cfg.limits.upload_min_bytes_per_second = int(v); }
      else if (key == "limits.upload_rate_window_seconds") { auto v = read_int(node, key); check_range(key, v, 1, 3600); cfg.limits.upload_rate_window_seconds = int(v); }
      else if (key == "storage.data_dir") cfg.storage.data_dir = read_value<std::string>(node, key);
      else if (key == "storage.synchronous") cfg.storage.synchronous = read_value<std::string>(node, key);
      else if (key == "storage.busy_timeout_ms") { auto v = read_int(node, key); check_range(key, v, 0, 600000); cfg.storage.busy_timeout_ms = int(v); }
      else if (key == "storage.write_queue_max") { auto v = read_int(node, key); check_range(key, v, 1, 1000000); cfg.storage.write_queue_max = int(v); }
      else if (key == "storage.batch_max") { auto v = read_int(node, key); check_range(key, v, 1, 100000); cfg.storage.batch_max = int(v); }
      else if (key == "storage.reader_connections") { auto v = read_int(node, key); check_range(key, v, 1, 64); cfg.storage.reader_connections = int(v); }
      else if (key == "auth.admin_token") cfg.auth.admin_token = read_value<std::string>(node, key);
      else if (key == "auth.token_secret") cfg.auth.token_secret = read_value<std::string>(node, key);
      else if (key == "auth.token_public_key") cfg.auth.token_public_key = read_value<std::string>(node, key);
      else if (key == "chat.room_idle_seconds") { auto v = read_int(node, key); check_range(key, v, 0, 604800); cfg.chat.room_idle_seconds = int(v); }
      else if (key == "chat.sockets_per_token") { auto v = read_int(node, key); check_range(key, v, 1, 1000); cfg.chat.sockets_per_token = int(v); }
      else if (key == "auth.session_hours") { auto v = read_int(node, key); check_range(key, v, 1, 720); cfg.auth.session_hours = int(v); }
      else if (key == "auth.login_attempts_per_minute") { auto v = read_int(node, key); check_range(key, v, 1, 1000); cfg.auth.login_attempts_per_minute = int(v); }
      else if (key == "chat.flood_messages") { auto v = read_int(node, key); check_range(key, v, 1, 1000); cfg.chat.flood_messages = int(v); }
      else if (key == "chat.flood_window_ms") { auto v = read_int(node, key); check_range(key, v, 100, 600000); cfg.chat.flood_window_ms = int(v); }
      else if (key == "chat.flood_block_seconds") { auto v = read_int(node, key); check_range(key, v, 0, 86400); cfg.chat.flood_block_seconds = int(v); }
      else if (key == "chat.history_messages") { auto v = read_int(node, key); check_range(key, v, 50, 100000); cfg.chat.history_messages = int(v); }
      else if (key == "chat.history_hours") { auto v = read_int(node, key); check_range(key, v, 1, 720); cfg.chat.history_hours = int(v); }
      else if (key == "chat.ws_queue_max_bytes") { auto v = read_int(node, key); check_range(key, v, 65536, 64 << 20); cfg.chat.ws_queue_max_bytes = int(v); }
      else if (key == "bus.redis_url") cfg.bus.redis_url = read_value<std::string>(node, key);
      else if (key == "email.smtp_host") cfg.email.smtp_host = read_value<std::string>(node, key);
      else if (key == "email.smtp_port") { auto v = read_int(node, key); check_range(key, v, 1, 65535); cfg.email.smtp_port = int(v); }
      else if (key == "email.smtp_tls") cfg.email.smtp_tls = read_value<std::string>(node, key);
      else if (key == "email.smtp_username") cfg.email.smtp_username = read_value<std::string>(node, key);
      else if (key == "email.smtp_password") cfg.email.smtp_password = read_value<std::string>(node, key);
      else if (key == "email.from_name") cfg.email.from_name = read_value<std::string>(node, key);
      else if (key == "email.from_address") cfg.email.from_address = read_value<std::string>(node, key);
      else if (key == "email.templates_dir") cfg.email.templates_dir = read_value<std::string>(node, key);
      else if (key == "email.retry_first_seconds") { auto v = read_int(node, key); check_range(key, v, 1, 3600); cfg.email.retry_first_seconds = int(v); }
      else if (key == "email.reminder_minutes") {
        auto* list = node.as_array();
        if (!list) fail(key, "must be a list of minutes such as [1440, 60]");
        cfg.email.reminder_minutes.clear();
        for (auto&& item : *list) {
          const auto v = read_int(item, key);
          check_range(key, v, 1, 43200);
          cfg.email.reminder_minutes.push_back(int(v));
        }
      }
      else if (key == "registration.ip_per_minute") { auto v = read_int(node, key); check_range(key, v, 0, 100000); cfg.registration.ip_per_minute = int(v); }
      else if (key == "registration.series_per_minute") { auto v = read_int(node, key); check_range(key, v, 0, 100000); cfg.registration.series_per_minute = int(v); }
      else if (key == "registration.confirm_email") cfg.registration.confirm_email = read_value<bool>(node, key);
      else if (key == "registration.confirm_hours") {
        // Fractions let a test watch a hold lapse in seconds.
        auto v = node.value<double>();
        if (!v) fail(key, "must be a number of hours such as 24 or 0.5");
        cfg.registration.confirm_hours = *v;
      }
      else fail(key, "is not a known setting");
    }
  }
}

void validate(const config& cfg) {
  check_range("server.io_threads", cfg.server.io_threads, 0, 256);
  if (cfg.server.listen.host.empty()) fail("server.listen", "needs a host");
  if (!cfg.server.public_url.empty() && cfg.server.public_url.rfind("http://", 0) != 0 &&
      cfg.server.public_url.rfind("https://", 0) != 0)
    fail("server.public_url", "must start with http:// or https:// (got \"" + cfg.server.public_url + "\")");
  for (const auto& origin : cfg.server.allowed_origins)
    if ((origin.rfind("http://", 0) != 0 && origin.rfind("https://", 0) != 0) || origin.back() == '/')
      fail("server.allowed_origins", "entries must be origins like https://example.org, without a path (got \"" + origin + "\")");
  if (cfg.server.role != "primary" && cfg.server.role != "edge")
    fail("server.role", "must be \"primary\" or \"edge\" (got \"" + cfg.server.role + "\")");
  if (!cfg.server.primary_url.empty() && cfg.server.primary_url.rfind("http://", 0) != 0 &&
      cfg.server.primary_url.rfind("https://", 0) != 0)
    fail("server.primary_url", "must start with http:// or https:// (got \"" + cfg.server.primary_url + "\")");
  if (cfg.server.role == "edge") {
    // An edge has no database: it needs the cluster (Redis), the primary's token public key to
    // verify registrant tokens, and the primary to send API requests to. It must not hold the
    // master secret, which mints tokens and derives every other key.
    if (cfg.bus.redis_url.empty()) fail("server.role", "\"edge\" needs bus.redis_url (--redis)");
    if (cfg.server.primary_url.empty()) fail("server.role", "\"edge\" needs server.primary_url (--primary)");
    if (!cfg.auth.token_secret.empty())
      fail("auth.token_secret", "an edge must not hold the master secret: remove it and set auth.token_public_key (`cohort keys public` on the primary)");
    if (cfg.auth.token_public_key.empty())
      fail("auth.token_public_key", "\"edge\" needs the primary's token public key (`cohort keys public` on the primary)");
  }
  if (!cfg.auth.token_public_key.empty() &&
      (cfg.auth.token_public_key.size() != 64 || cfg.auth.token_public_key.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos))
    fail("auth.token_public_key", "must be 64 hex digits (`cohort keys public` on the primary)");
  check_range("drops.file_max_bytes", static_cast<std::int64_t>(cfg.drops.file_max_bytes), 1024, 4ll << 30);
  check_range("attendance.min_minutes", cfg.attendance.min_minutes, 1, 600);
  check_range("privacy.retention_days", cfg.privacy.retention_days, 0, 36500);
  check_range("ce.records_years", cfg.ce.records_years, 1, 100);
  if (cfg.streaming.video != "auto" && cfg.streaming.video != "copy" && cfg.streaming.video != "h264")
    fail("streaming.video", "must be \"auto\", \"copy\" or \"h264\" (got \"" + cfg.streaming.video + "\")");
  if (cfg.streaming.ffmpeg.empty()) fail("streaming.ffmpeg", "must name the ffmpeg program");
  if (!cfg.streaming.rtmp_public_url.empty() && cfg.streaming.rtmp_public_url.rfind("rtmp://", 0) != 0)
    fail("streaming.rtmp_public_url", "must start with rtmp:// (got \"" + cfg.streaming.rtmp_public_url + "\")");
  check_range("streaming.rtmp_handshake_seconds", cfg.streaming.rtmp_handshake_seconds, 1, 300);
  check_range("streaming.rtmp_connections_per_ip", cfg.streaming.rtmp_connections_per_ip, 1, 10000);
  check_range("streaming.rtmp_connections_max", cfg.streaming.rtmp_connections_max, 1, 100000);
  check_range("streaming.segment_seconds", cfg.streaming.segment_seconds, 1, 6);
  check_range("streaming.live_segments", cfg.streaming.live_segments, 3, 60);
  check_range("streaming.session_before_minutes", cfg.streaming.session_before_minutes, 0, 1440);
  check_range("streaming.session_after_minutes", cfg.streaming.session_after_minutes, 0, 1440);
  check_range("limits.body_max_bytes", cfg.limits.body_max_bytes, 1024, 64 << 20);
  check_range("limits.header_max_bytes", cfg.limits.header_max_bytes, 1024, 1 << 20);
  check_range("limits.read_timeout_seconds", cfg.limits.read_timeout_seconds, 1, 3600);
  check_range("limits.keepalive_timeout_seconds", cfg.limits.keepalive_timeout_seconds, 1, 3600);
  check_range("limits.connections_per_ip", cfg.limits.connections_per_ip, 1, 1000000);
  check_range("limits.uploads_max", cfg.limits.uploads_max, 1, 1024);
  check_range("limits.upload_min_bytes_per_second", cfg.limits.upload_min_bytes_per_second, 0, 1 << 30);
  check_range("limits.upload_rate_window_seconds", cfg.limits.upload_rate_window_seconds, 1, 3600);
  for (const auto& network : cfg.server.trusted_proxies)
    if (!http::address_network::parse(network))
      fail("server.trusted_proxies", "entries must be addresses or CIDR networks such as 127.0.0.1/32 or 10.0.0.0/8 (got \"" + network + "\")");
  if (cfg.storage.data_dir.empty()) fail("storage.data_dir", "must not be empty");
  if (cfg.storage.synchronous != "full" && cfg.storage.synchronous != "normal")
    fail("storage.synchronous", "must be \"full\" or \"normal\" (got \"" + cfg.storage.synchronous + "\")");
  check_range("storage.busy_timeout_ms", cfg.storage.busy_timeout_ms, 0, 600000);
  check_range("storage.write_queue_max", cfg.storage.write_queue_max, 1, 1000000);
  check_range("storage.batch_max", cfg.storage.batch_max, 1, 100000);
  check_range("storage.reader_connections", cfg.storage.reader_connections, 1, 64);
  check_range("chat.flood_messages", cfg.chat.flood_messages, 1, 1000);
  check_range("chat.flood_window_ms", cfg.chat.flood_window_ms, 100, 600000);
  check_range("chat.flood_block_seconds", cfg.chat.flood_block_seconds, 0, 86400);
  check_range("chat.history_messages", cfg.chat.history_messages, 50, 100000);
  check_range("chat.history_hours", cfg.chat.history_hours, 1, 720);
  check_range("chat.ws_queue_max_bytes", cfg.chat.ws_queue_max_bytes, 65536, 64 << 20);
  check_range("chat.sockets_per_token", cfg.chat.sockets_per_token, 1, 1000);
  check_range("chat.room_idle_seconds", cfg.chat.room_idle_seconds, 0, 604800);
  if (!cfg.bus.redis_url.empty() && cfg.bus.redis_url.rfind("redis://", 0) != 0)
    fail("bus.redis_url", "must be a redis://host[:port][/db] URL");
  if (!cfg.auth.admin_token.empty() && cfg.auth.admin_token.size() < 16)
    fail("auth.admin_token", "must be at least 16 characters");
  if (!cfg.auth.token_secret.empty() && cfg.auth.token_secret.size() < 32)
    fail("auth.token_secret", "must be at least 32 characters");
  check_range("auth.session_hours", cfg.auth.session_hours, 1, 720);
  check_range("email.smtp_port", cfg.email.smtp_port, 1, 65535);
  check_range("email.retry_first_seconds", cfg.email.retry_first_seconds, 1, 3600);
  if (cfg.email.smtp_tls != "starttls" && cfg.email.smtp_tls != "tls" && cfg.email.smtp_tls != "none")
    fail("email.smtp_tls", "must be \"starttls\", \"tls\" or \"none\" (got \"" + cfg.email.smtp_tls + "\")");
  if (cfg.email.reminder_minutes.size() > 10) fail("email.reminder_minutes", "takes at most 10 reminders");
  for (int m : cfg.email.reminder_minutes) check_range("email.reminder_minutes", m, 1, 43200);
  check_range("auth.login_attempts_per_minute", cfg.auth.login_attempts_per_minute, 1, 1000);
  check_range("registration.ip_per_minute", cfg.registration.ip_per_minute, 0, 100000);
  check_range("registration.series_per_minute", cfg.registration.series_per_minute, 0, 100000);
  if (!(cfg.registration.confirm_hours >= 0.0005 && cfg.registration.confirm_hours <= 720))
    fail("registration.confirm_hours", "must be between 0.0005 and 720 (got " + std::to_string(cfg.registration.confirm_hours) + ")");
}

command_line parse_command_line(int argc, const char* const argv[]) {
  po::options_description opts(
      "Usage: cohort [options]                      run the server\n"
      "       cohort routes [access]                list the HTTP routes [and who may call them]\n"
      "       cohort organizer add --email E        create a console account (password from the prompt or stdin)\n"
      "       cohort organizer password --email E   set a new password (ends its sessions)\n"
      "       cohort organizer list | remove --email E\n"
      "       cohort keys public                    print the token public key an edge needs (auth.token_public_key)\nOptions");
  opts.add_options()
      ("help,h", "show this help")
      ("config", po::value<std::string>(), "TOML configuration file (see config/cohort.toml)")
      ("listen", po::value<std::string>(), "HOST:PORT to listen on (server.listen)")
      ("data-dir", po::value<std::string>(), "directory for the SQLite database and secrets (storage.data_dir)")
      ("admin-token", po::value<std::string>(), "organizer bearer token (auth.admin_token)")
      ("web-root", po::value<std::string>(), "directory of the web pages (server.web_root)")
      ("public-url", po::value<std::string>(), "public base URL for links (server.public_url)")
      ("redis", po::value<std::string>(), "redis://host:port to fan the chat out across nodes (bus.redis_url)")
      ("role", po::value<std::string>(), "primary (default) or edge (server.role)")
      ("rtmp", po::value<std::string>(), "HOST:PORT where OBS publishes (streaming.rtmp_listen)")
      ("primary", po::value<std::string>(), "edge: the primary's base URL (server.primary_url)")
      ("demo", "seed the demo webinar series when the database has none")
      ("signups-per-ip", po::value<int>(), "signups per client address per minute, 0 = no limit (registration.ip_per_minute)")
      ("email", po::value<std::string>(), "organizer commands: the account's email");
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::string>(), "")("action", po::value<std::string>(), "");
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add("command", 1).add("action", 1);

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw config_error(std::string("command line: ") + e.what() + " (see --help)");
  }

  command_line out;
  std::ostringstream help;
  help << opts;
  out.help_text = help.str();
  if (vm.count("help")) { out.command = "help"; return out; }
  if (vm.count("command")) {
    out.command = vm["command"].as<std::string>();
    if (out.command != "serve" && out.command != "routes" && out.command != "organizer" && out.command != "keys")
      throw config_error("command line: unknown command \"" + out.command + "\" (serve, routes, organizer, keys)");
  }
  if (vm.count("action")) out.action = vm["action"].as<std::string>();
  if (out.command == "organizer") {
    static const std::set<std::string> actions{"add", "password", "list", "remove"};
    if (!actions.count(out.action))
      throw config_error("command line: organizer needs one of add, password, list, remove (got \"" + out.action + "\")");
    if (out.action != "list" && !vm.count("email"))
      throw config_error("command line: organizer " + out.action + " needs --email");
  } else if (out.command == "keys") {
    if (out.action != "public") throw config_error("command line: keys needs \"public\" (got \"" + out.action + "\")");
  } else if (out.command == "routes" && (out.action.empty() || out.action == "access")) {
    // `cohort routes access` adds who may call each route
  } else if (!out.action.empty()) {
    throw config_error("command line: unexpected argument \"" + out.action + "\" (see --help)");
  }
  if (vm.count("email")) out.email = vm["email"].as<std::string>();

  config& cfg = out.cfg;
  if (vm.count("config")) {
    const auto path = vm["config"].as<std::string>();
    std::ifstream in(path);
    if (!in) throw config_error("config: cannot read --config file \"" + path + "\"");
    std::ostringstream text;
    text << in.rdbuf();
    apply_toml(cfg, text.str(), path);
  }
  if (vm.count("listen")) cfg.server.listen = parse_listen(vm["listen"].as<std::string>(), "listen");
  if (vm.count("data-dir")) cfg.storage.data_dir = vm["data-dir"].as<std::string>();
  if (vm.count("admin-token")) cfg.auth.admin_token = vm["admin-token"].as<std::string>();
  if (vm.count("web-root")) cfg.server.web_root = vm["web-root"].as<std::string>();
  if (vm.count("public-url")) cfg.server.public_url = vm["public-url"].as<std::string>();
  if (vm.count("redis")) cfg.bus.redis_url = vm["redis"].as<std::string>();
  if (vm.count("role")) cfg.server.role = vm["role"].as<std::string>();
  if (vm.count("rtmp")) cfg.streaming.rtmp_listen = parse_listen(vm["rtmp"].as<std::string>(), "rtmp");
  if (vm.count("primary")) cfg.server.primary_url = vm["primary"].as<std::string>();
  if (vm.count("signups-per-ip")) cfg.registration.ip_per_minute = vm["signups-per-ip"].as<int>();
  cfg.demo = vm.count("demo") > 0;
  validate(cfg);
  return out;
}

}  // namespace cohort
