// Cohort's configuration: one aggregate with safe laptop defaults, filled from config/cohort.toml
// and the command line, validated once at start-up (see load_config).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cohort {

struct listen_address {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
};

struct server_config {
  listen_address listen;
  std::string public_url;   // e.g. "https://webinars.example.org"; empty = derived from listen
  int io_threads = 0;       // 0 = one per core
  std::string web_root;     // empty = the web/ folder next to the build folder
  std::vector<std::string> allowed_origins;  // extra browser origins for /ws besides public_url's
  std::string role = "primary";  // primary (database, organizer API, schedule) | edge (WebSockets only)
  std::string primary_url;       // edge: the primary's base URL; /api requests are redirected there
  // Reverse proxies (CIDR networks) whose X-Forwarded-For / Forwarded header names the client;
  // empty = the socket peer is the client. Their own connections skip limits.connections_per_ip.
  std::vector<std::string> trusted_proxies;
};

struct limits_config {
  std::uint32_t body_max_bytes = 64 * 1024;
  std::uint32_t header_max_bytes = 16 * 1024;
  int read_timeout_seconds = 10;      // whole request, so a byte-per-second client is dropped
  int keepalive_timeout_seconds = 30;
  int connections_per_ip = 256;        // HTTP + WebSocket connections open at once per client address
  int uploads_max = 4;                 // upload bodies being received at once; more answer 503
  int upload_min_bytes_per_second = 10 * 1024;  // an upload slower than this (0 = no minimum), averaged ...
  int upload_rate_window_seconds = 10;          // ... over each window of this length (the first is the grace), is dropped
};

struct storage_config {
  std::string data_dir = "./data";
  std::string synchronous = "full";   // full | normal
  int busy_timeout_ms = 5000;
  int write_queue_max = 10000;        // queued writes beyond this answer 503
  int batch_max = 1000;               // writes per group-commit transaction
  int reader_connections = 4;
};

struct auth_config {
  std::string admin_token;            // empty = env COHORT_ADMIN_TOKEN, else generated in data_dir
  std::string token_secret;           // primary: the master secret every key derives from; empty = generated in data_dir
  int session_hours = 12;             // an organizer's console login lasts this long
  int login_attempts_per_minute = 5;  // failed logins per account and per IP before 429
  std::string token_public_key;       // edge: the primary's token public key (64 hex; `cohort keys public`)
};

struct chat_config {
  int flood_messages = 3;             // per sender within flood_window_ms ...
  int flood_window_ms = 2000;
  int flood_block_seconds = 10;       // ... else blocked this long
  int history_messages = 1000;        // catch-up history per room
  int history_hours = 24;
  int ws_queue_max_bytes = 1 << 20;   // per connection; a slower consumer is closed (1008)
  int sockets_per_token = 5;          // open chat sockets per registrant token on one node; more get 429
  int room_idle_seconds = 600;        // a live room without members this long leaves memory (0 = never)
};

struct bus_config {
  std::string redis_url;              // empty = in-process bus (one node); redis://host:port[/db]
};

struct drops_config {
  std::uint64_t file_max_bytes = 200ull << 20;  // per uploaded bonus file; larger uploads get 413
};

struct attendance_config {
  int min_minutes = 5;                // minutes in the live room during a session that count as attended
};

struct streaming_config {
  listen_address rtmp_listen{"127.0.0.1", 1935};  // where OBS publishes; 0.0.0.0:1935 in production
  std::string rtmp_public_url;       // what the organizer is told to put in OBS; empty = derived
  std::string ffmpeg = "ffmpeg";     // the program that turns RTMP into HLS
  // auto: browser-playable H.264 (8-bit 4:2:0) passes through, anything else is transcoded |
  // copy: always pass through | h264: always transcode (the output is always yuv420p when transcoded)
  std::string video = "auto";
  int segment_seconds = 1;           // HLS segment length
  int live_segments = 6;             // segments per live playlist (and kept in memory)
  int session_before_minutes = 30;   // a publish this long before a session's start belongs to it ...
  int session_after_minutes = 60;    // ... and this long after its end
  bool extra_360p = false;           // also a 640x360 transcode, with a master playlist (more CPU)
  // Until a connection publishes with a valid stream key, Cohort answers it itself (no ffmpeg):
  int rtmp_handshake_seconds = 10;   // handshake + connect + publish must be done within this
  int rtmp_connections_per_ip = 4;   // such connections at once from one address; more are refused
  int rtmp_connections_max = 200;    // such connections at once in all; a new one closes the oldest
};

struct email_config {
  std::string smtp_host;              // empty = write .eml files under data_dir/outbox (nothing is sent)
  int smtp_port = 587;
  std::string smtp_tls = "starttls";  // starttls (required) | tls (implicit, port 465) | none (loopback relays only)
  std::string smtp_username;          // empty = no AUTH
  std::string smtp_password;          // prefer env COHORT_SMTP_PASSWORD
  std::string from_name = "Cohort";
  std::string from_address;           // empty = webinars@<host of the public URL>
  std::string templates_dir;          // empty = config/email next to the build folder
  std::vector<int> reminder_minutes{1440, 60};  // before each session
  int retry_first_seconds = 30;       // first retry delay; doubles up to an hour
};

// The public signup route against floods (issue 12): per-client and per-series rates, and
// optional confirmation by email before a signup counts.
struct registration_config {
  int ip_per_minute = 10;             // signups per client address per minute, then 429 (0 = no limit)
  int series_per_minute = 300;        // signups per series per minute, then 429 (0 = no limit)
  bool confirm_email = false;         // a signup holds its place only until the link in a mail is opened
  double confirm_hours = 24;          // ... for this long (fractions allowed), then the hold lapses
};

// Registrant data (issue 15): how long personal data is kept, and CE records.
struct privacy_config {
  int retention_days = 0;             // a series' personal data is erased this long after its last session; 0 = kept until the series is deleted
};

struct ce_config {
  int records_years = 6;              // issued CE certificates keep their personal fields this long after issue
};

struct config {
  server_config server;
  chat_config chat;
  bus_config bus;
  limits_config limits;
  storage_config storage;
  auth_config auth;
  drops_config drops;
  attendance_config attendance;
  streaming_config streaming;
  email_config email;
  registration_config registration;
  privacy_config privacy;
  ce_config ce;
  bool demo = false;                  // seed the demo series on first start
};

// A bad value: names the key and what is allowed. main prints it and exits 2.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What the command line asked for besides the configuration itself.
struct command_line {
  config cfg;
  std::string command = "serve";      // serve | routes | organizer | keys | help
  std::string action;                 // organizer: add | password | list | remove; keys: public
  std::string email;                  // organizer add/password/remove
  std::string help_text;
};

// Parses argv (and the TOML file it names with --config), applies the overrides, validates.
// Throws config_error.
command_line parse_command_line(int argc, const char* const argv[]);

// Reads a TOML document into cfg, overriding only the keys it holds; unknown keys are errors.
void apply_toml(config& cfg, const std::string& toml_text, const std::string& source_name);

// Parses "HOST:PORT" / "[v6]:PORT". Throws config_error naming `key`.
listen_address parse_listen(const std::string& text, const std::string& key);

// Checks every value against its allowed range. Throws config_error naming the key.
void validate(const config& cfg);

}  // namespace cohort
