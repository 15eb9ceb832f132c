// Chat load client for tests/bench/run: one libwebsockets event loop (one core) that holds N chat
// WebSockets, has M of them send at a set total rate with the send time inside the text, and
// measures what comes back (deliveries/s, latency percentiles, delivered %) together with the
// server's RSS and CPU (utime+stime) read from /proc/<pid>. Independent of the server's Beast code.
//
// Protocols (--proto):
//   cohort    Cohort's room (proto/ws): first frame {"type":"hello",...}; we send
//             {"type":"chat.send","text":...}; every member gets {"type":"chat.message",...,"text":...}.
//   socketio  Engine.IO 4 over a WebSocket-only transport (?EIO=4&transport=websocket): the server
//             opens with `0{...}`, we join namespace "/" with `40`, answer pings `2` with `3`, send
//             42["chat.send",{"text":...}] and receive 42["chat.message",{...}]; `40{...}` = hello.
// The npm peers (tests/bench/peers) speak the cohort protocol, so `cohort` drives them too.
//
// Registrants: --mint http://host:port --admin-token T creates a webinar and signs up N people
// through the public API (HTTP/1.1, keep-alive, --mint-threads connections), or --tokens FILE
// (one token per line); each connection i opens urls[i % urls] + "?token=<token i>".
//
// Output: one JSON object (stdout or --out). See tests/bench/README.md for every field.
#include <libwebsockets.h>
#include <uv.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <dirent.h>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

std::int64_t now_us() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

[[noreturn]] void die(const std::string& what) {
  std::cerr << "loadclient: " << what << "\n";
  std::exit(2);
}

struct Url {
  std::string host;
  int port = 80;
  std::string path = "/";
};

Url parse_url(const std::string& text) {
  Url u;
  auto rest = text;
  for (const char* scheme : {"ws://", "http://"})
    if (rest.rfind(scheme, 0) == 0) rest = rest.substr(std::strlen(scheme));
  const auto slash = rest.find('/');
  const auto hostport = rest.substr(0, slash);
  if (slash != std::string::npos) u.path = rest.substr(slash);
  const auto colon = hostport.rfind(':');
  if (colon == std::string::npos) die("URL needs a port: " + text);
  u.host = hostport.substr(0, colon);
  u.port = std::atoi(hostport.c_str() + colon + 1);
  return u;
}

struct Options {
  std::vector<std::string> urls;
  std::string proto = "cohort";
  std::string tokens_file;
  std::string mint;
  std::string admin_token;
  int connections = 2000;
  int senders = 20;
  std::vector<double> rates;
  double duration = 30;
  double drain = 5;
  double settle = 2;
  double connect_timeout = 300;
  std::vector<int> pids;
  int sources = 1;
  int pending_max = 256;
  int mint_threads = 16;
  double p99_limit_ms = 100;
  double min_delivered_pct = 95;
  bool stop_on_fail = false;
  std::string out;
  std::string label;
  std::string loop = "uv";
};

// ---- /proc readings of the server processes -------------------------------------------------

long rss_kb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

double cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');  // the command name may hold spaces
  if (paren == std::string::npos) return 0;
  std::istringstream fields(text.substr(paren + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; fields >> f; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stoull(f);
    if (i == 15) { stime = std::stoull(f); break; }
  }
  return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

// Seconds the process's threads were runnable but waiting for a CPU (/proc/<pid>/task/*/schedstat,
// second field, ns): on a shared machine, how much of a run was lost to other work on the core.
double runqueue_wait_seconds(int pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  double sum = 0;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream in(dir + "/" + e->d_name + "/schedstat");
      unsigned long long run = 0, wait = 0;
      if (in >> run >> wait) sum += double(wait) / 1e9;
    }
    closedir(d);
  }
  return sum;
}

double total_wait(const std::vector<int>& pids) {
  double sum = 0;
  for (int p : pids) sum += runqueue_wait_seconds(p);
  return sum;
}

long total_rss_kb(const std::vector<int>& pids) {
  long sum = 0;
  for (int p : pids) sum += rss_kb(p);
  return sum;
}

double total_cpu(const std::vector<int>& pids) {
  double sum = 0;
  for (int p : pids) sum += cpu_seconds(p);
  return sum;
}

double self_cpu() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// ---- Minting registrants through Cohort's API (plain blocking HTTP/1.1, keep-alive) -----------

class Http {
 public:
  explicit Http(const Url& u) : url_(u) { reconnect(); }
  ~Http() { if (fd_ >= 0) ::close(fd_); }
  Http(const Http&) = delete;
  Http& operator=(const Http&) = delete;

  // Returns {status, body}. Needs a Content-Length answer (Cohort's API always gives one).
  std::pair<int, std::string> request(const std::string& method, const std::string& path, const std::string& body,
                                      const std::string& bearer) {
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + url_.host + ":" + std::to_string(url_.port) +
                      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    if (!bearer.empty()) req += "Authorization: Bearer " + bearer + "\r\n";
    req += "\r\n" + body;
    for (std::size_t off = 0; off < req.size();) {
      const auto n = ::send(fd_, req.data() + off, req.size() - off, MSG_NOSIGNAL);
      if (n <= 0) die("mint: send failed: " + std::string(std::strerror(errno)));
      off += std::size_t(n);
    }
    std::string in;
    std::size_t header_end = std::string::npos, need = 0;
    char buf[8192];
    for (;;) {
      if (header_end != std::string::npos && in.size() >= header_end + 4 + need) break;
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) die("mint: connection closed while reading the answer");
      in.append(buf, std::size_t(n));
      if (header_end == std::string::npos && (header_end = in.find("\r\n\r\n")) != std::string::npos) {
        std::string head = in.substr(0, header_end);
        std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
        const auto cl = head.find("content-length:");
        if (cl == std::string::npos) die("mint: an answer without Content-Length");
        need = std::strtoull(head.c_str() + cl + 15, nullptr, 10);
      }
    }
    const int status = std::atoi(in.c_str() + 9);
    std::string out = in.substr(header_end + 4, need);
    if (in.find("Connection: close") != std::string::npos || in.find("connection: close") != std::string::npos) reconnect();
    return {status, out};
  }

 private:
  void reconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(std::uint16_t(url_.port));
    if (inet_pton(AF_INET, url_.host == "localhost" ? "127.0.0.1" : url_.host.c_str(), &sa.sin_addr) != 1)
      die("mint: needs a numeric IPv4 host, got " + url_.host);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
      die("mint: connect failed: " + std::string(std::strerror(errno)));
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  Url url_;
  int fd_ = -1;
};

std::string json_string_field(const std::string& body, const std::string& key) {
  const auto k = body.find("\"" + key + "\":");
  if (k == std::string::npos) return {};
  auto p = k + key.size() + 3;
  while (p < body.size() && body[p] == ' ') ++p;
  if (p < body.size() && body[p] == '"') {
    const auto end = body.find('"', p + 1);
    return body.substr(p + 1, end - p - 1);
  }
  auto end = p;
  while (end < body.size() && (std::isdigit(static_cast<unsigned char>(body[end])) || body[end] == '-')) ++end;
  return body.substr(p, end - p);
}

std::vector<std::string> mint(const Options& o) {
  const Url api = parse_url(o.mint);
  std::string webinar;
  {
    Http http(api);
    const std::time_t tomorrow = std::time(nullptr) + 86400;
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&tomorrow));
    const auto [status, body] = http.request(
        "POST", "/api/webinars",
        std::string(R"({"title":"Chat bench","capacity":null,"sessions":[{"starts_at":")") + when +
            R"(","duration_minutes":60}]})",
        o.admin_token);
    if (status != 201) die("mint: POST /api/webinars answered " + std::to_string(status) + ": " + body);
    webinar = json_string_field(body, "id");
  }
  std::vector<std::string> tokens(std::size_t(o.connections));
  const std::string tag = std::to_string(std::time(nullptr)) + "-" + std::to_string(getpid());
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < o.mint_threads; ++t)
    threads.emplace_back([&, t] {
      Http http(api);
      for (int i = t; i < o.connections; i += o.mint_threads) {
        const auto [status, body] = http.request(
            "POST", "/api/webinars/" + webinar + "/registrations",
            R"({"name":"Attendee )" + std::to_string(i) + R"(","email":"a)" + std::to_string(i) + "-" + tag +
                R"(@bench.example","consent":true})",
            "");
        if (status != 201) {
          if (failed++ == 0) std::cerr << "loadclient: signup answered " << status << ": " << body << "\n";
          continue;
        }
        tokens[std::size_t(i)] = json_string_field(body, "token");
      }
    });
  for (auto& th : threads) th.join();
  if (failed) die("mint: " + std::to_string(failed.load()) + " signups failed");
  return tokens;
}

// ---- The WebSocket side -----------------------------------------------------------------------

enum class State : std::uint8_t { idle, connecting, open, ready, failed, closed };

struct Conn {
  lws* wsi = nullptr;
  int index = 0;
  int sender = -1;           // slot in Run::sendq, or -1
  State state = State::idle;
  bool sio_join = false;     // socketio: owe "40"
  std::uint16_t pongs = 0;   // socketio: owe this many "3"
  std::string partial;       // a message arriving in several fragments (kept up to 4 KiB)
};

struct Step {
  double rate = 0;
  int id = 0;
  std::int64_t t0 = 0, window_end = 0;
  long long sent = 0, expected = 0, delivered = 0, in_window = 0, stale = 0, delivered_bytes = 0;
  std::int64_t send_lag_sum_us = 0, send_lag_max_us = 0;  // scheduled send time to our write
  std::vector<std::uint32_t> latency_us;
};

struct Run {
  Options o;
  lws_context* ctx = nullptr;
  uv_loop_t* uv = nullptr;  // null: lws's own poll() loop
  std::vector<Url> urls;
  std::vector<std::string> tokens;
  std::vector<std::string> paths;  // per connection
  std::vector<Conn> conns;
  std::vector<std::deque<std::int64_t>> sendq;
  std::vector<std::string> sources;
  int pending = 0, ready = 0, connect_errors = 0, closed_after_ready = 0, server_errors = 0, parse_errors = 0;
  std::string first_error, last_close;
  Step step;
  bool sending = false;
  std::string text_pad = " from the benchmark, a short chat line";
};

Run* g_run = nullptr;

bool starts_with(const char* p, std::size_t n, const char* lit) {
  const auto l = std::strlen(lit);
  return n >= l && std::memcmp(p, lit, l) == 0;
}

// The text of every benchmark message is "b<step>.<scheduled send time, µs, CLOCK_MONOTONIC><pad>".
void on_chat_message(Run& r, const char* p, std::size_t n) {
  static const char key[] = "\"text\":\"b";
  const char* end = p + n;
  const char* k = std::search(p, end, key, key + sizeof key - 1);
  if (k == end) { ++r.parse_errors; return; }
  const char* q = k + sizeof key - 1;
  long step = 0;
  while (q < end && *q >= '0' && *q <= '9') step = step * 10 + (*q++ - '0');
  if (q >= end || *q != '.') { ++r.parse_errors; return; }
  ++q;
  std::int64_t sent = 0;
  while (q < end && *q >= '0' && *q <= '9') sent = sent * 10 + (*q++ - '0');
  if (step != r.step.id) { ++r.step.stale; return; }
  const auto now = now_us();
  ++r.step.delivered;
  r.step.delivered_bytes += (long long)n;
  if (now <= r.step.window_end) ++r.step.in_window;
  r.step.latency_us.push_back(std::uint32_t(std::min<std::int64_t>(std::max<std::int64_t>(now - sent, 0), UINT32_MAX)));
}

void on_message(Run& r, Conn& c, const char* p, std::size_t n) {
  if (r.o.proto == "socketio") {
    if (starts_with(p, n, "42[\"chat.message\"")) return on_chat_message(r, p, n);
    if (starts_with(p, n, "2") && n == 1) { ++c.pongs; lws_callback_on_writable(c.wsi); return; }
    if (starts_with(p, n, "0{")) { c.sio_join = true; lws_callback_on_writable(c.wsi); return; }
    if (starts_with(p, n, "40")) {
      if (c.state == State::open) { c.state = State::ready; ++r.ready; --r.pending; }
      return;
    }
    if (starts_with(p, n, "44") || starts_with(p, n, "42[\"error\"")) {
      if (r.first_error.empty()) r.first_error.assign(p, std::min<std::size_t>(n, 200));
      ++r.server_errors;
    }
    return;
  }
  if (starts_with(p, n, "{\"type\":\"chat.message\"")) return on_chat_message(r, p, n);
  if (starts_with(p, n, "{\"type\":\"hello\"")) {
    if (c.state == State::open) { c.state = State::ready; ++r.ready; --r.pending; }
    return;
  }
  if (starts_with(p, n, "{\"type\":\"error\"")) {
    if (r.first_error.empty()) r.first_error.assign(p, std::min<std::size_t>(n, 200));
    ++r.server_errors;
  }
}

int write_text(lws* wsi, const std::string& text) {
  std::vector<unsigned char> buf(LWS_PRE + text.size());
  std::memcpy(buf.data() + LWS_PRE, text.data(), text.size());
  return lws_write(wsi, buf.data() + LWS_PRE, text.size(), LWS_WRITE_TEXT) < int(text.size()) ? -1 : 0;
}

int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len) {
  Run& r = *g_run;
  auto* c = static_cast<Conn*>(user);
  switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      if (c) c->state = State::open;
      break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
      if (c && (c->state == State::connecting || c->state == State::open)) {
        c->state = State::failed;
        --r.pending;
        ++r.connect_errors;
        if (r.first_error.empty()) r.first_error = in ? std::string(static_cast<const char*>(in), len ? len : std::strlen(static_cast<const char*>(in))) : "connection error";
      }
      if (c) c->wsi = nullptr;
      break;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      if (len >= 2) {
        const auto* b = static_cast<const unsigned char*>(in);
        r.last_close = std::to_string((b[0] << 8) | b[1]) + " " + std::string(reinterpret_cast<const char*>(b + 2), len - 2);
      }
      break;
    case LWS_CALLBACK_CLIENT_CLOSED:
      if (c) {
        if (c->state == State::ready) ++r.closed_after_ready;
        else if (c->state == State::open || c->state == State::connecting) { --r.pending; ++r.connect_errors; }
        if (c->state == State::ready) --r.ready;
        c->state = State::closed;
        c->wsi = nullptr;
      }
      break;
    case LWS_CALLBACK_CLIENT_RECEIVE: {
      if (!c) break;
      const bool first = lws_is_first_fragment(wsi), last = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
      const char* p = static_cast<const char*>(in);
      if (first && last) { on_message(r, *c, p, len); break; }
      if (first) c->partial.clear();
      if (c->partial.size() < 4096) c->partial.append(p, std::min<std::size_t>(len, 4096 - c->partial.size()));
      if (last) {
        on_message(r, *c, c->partial.data(), c->partial.size());
        std::string().swap(c->partial);
      }
      break;
    }
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
      if (!c) break;
      bool more = false;
      if (c->sio_join) {
        c->sio_join = false;
        if (write_text(wsi, "40")) return -1;
      } else if (c->pongs) {
        --c->pongs;
        if (write_text(wsi, "3")) return -1;
      } else if (c->sender >= 0 && !r.sendq[std::size_t(c->sender)].empty()) {
        auto& q = r.sendq[std::size_t(c->sender)];
        const auto lag = now_us() - q.front();
        r.step.send_lag_sum_us += lag;
        r.step.send_lag_max_us = std::max(r.step.send_lag_max_us, lag);
        const std::string text = "b" + std::to_string(r.step.id) + "." + std::to_string(q.front()) + r.text_pad;
        q.pop_front();
        const std::string msg = r.o.proto == "socketio" ? "42[\"chat.send\",{\"text\":\"" + text + "\"}]"
                                                        : "{\"type\":\"chat.send\",\"text\":\"" + text + "\"}";
        if (write_text(wsi, msg)) return -1;
        ++r.step.sent;
      }
      more = c->sio_join || c->pongs || (c->sender >= 0 && !r.sendq[std::size_t(c->sender)].empty());
      if (more) lws_callback_on_writable(wsi);
      break;
    }
    default:
      break;
  }
  return 0;
}

const lws_protocols protocols[] = {
    {"bench", callback, 0, 4096, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

lws_sorted_usec_list_t wake_timer;
void wake(lws_sorted_usec_list_t* sul) { lws_sul_schedule(g_run->ctx, 0, sul, wake, 1000); }

void open_connection(Run& r, Conn& c) {
  const Url& u = r.urls[std::size_t(c.index) % r.urls.size()];
  lws_client_connect_info ci{};
  ci.context = r.ctx;
  ci.address = u.host.c_str();
  ci.port = u.port;
  ci.path = r.paths[std::size_t(c.index)].c_str();
  ci.host = u.host.c_str();
  ci.local_protocol_name = "bench";
  ci.userdata = &c;
  ci.pwsi = &c.wsi;
  if (!r.sources.empty()) ci.iface = r.sources[std::size_t(c.index) % r.sources.size()].c_str();
  c.state = State::connecting;
  ++r.pending;
  if (!lws_client_connect_via_info(&ci) && c.state == State::connecting) {
    c.state = State::failed;
    --r.pending;
    ++r.connect_errors;
  }
}

// Connection i talks to urls[i % urls]; sender s sits at s * stride, moved to node s % urls.
std::size_t sender_index(const Run& r, int s) {
  const std::size_t n = r.conns.size(), nodes = r.urls.size(), stride = n / std::size_t(std::max(1, r.o.senders));
  std::size_t i = std::size_t(s) * stride;
  i += (std::size_t(s) % nodes + nodes - i % nodes) % nodes;
  return std::min(i, n - 1);
}

// Services the loop until done() or the deadline; tick() runs after every wake-up (at least 1/ms).
void pump(Run& r, std::int64_t deadline, const std::function<bool()>& done, const std::function<void()>& tick = {}) {
  while (now_us() < deadline && !(done && done())) {
    // poll() walks every fd on each wake-up, which at thousands of sockets costs more than the
    // frames; libuv (epoll) does not: the default.
    if (r.uv) uv_run(r.uv, UV_RUN_ONCE);
    else lws_service(r.ctx, 0);
    if (tick) tick();
  }
}

double percentile_ms(std::vector<std::uint32_t>& v, double p) {
  if (v.empty()) return -1;
  const auto k = std::min(v.size() - 1, std::size_t(p / 100.0 * double(v.size())));
  std::nth_element(v.begin(), v.begin() + long(k), v.end());
  return v[k] / 1000.0;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') { out += '\\'; out += ch; }
    else if (static_cast<unsigned char>(ch) < 0x20) out += ' ';
    else out += ch;
  }
  return out;
}

void usage() {
  std::cerr <<
      "usage: loadclient --url ws://HOST:PORT/ws [--url ...] [--proto cohort|socketio]\n"
      "         [--mint http://HOST:PORT --admin-token T | --tokens FILE]\n"
      "         [--connections N] [--senders M] [--rates R1,R2,...] [--duration S] [--drain S]\n"
      "         [--settle S] [--pid P]... [--sources K] [--stop-on-fail] [--p99-limit-ms 100]\n"
      "         [--min-delivered-pct 95] [--label TEXT] [--out FILE] [--loop uv|poll]\n"
      "Without --rates it only opens N connections and measures the server's memory.\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { if (i + 1 >= argc) usage(); return argv[++i]; };
    if (a == "--url") o.urls.push_back(next());
    else if (a == "--proto") o.proto = next();
    else if (a == "--tokens") o.tokens_file = next();
    else if (a == "--mint") o.mint = next();
    else if (a == "--admin-token") o.admin_token = next();
    else if (a == "--connections") o.connections = std::stoi(next());
    else if (a == "--senders") o.senders = std::stoi(next());
    else if (a == "--rates") { std::stringstream ss(next()); std::string x; while (std::getline(ss, x, ',')) if (!x.empty()) o.rates.push_back(std::stod(x)); }
    else if (a == "--duration") o.duration = std::stod(next());
    else if (a == "--drain") o.drain = std::stod(next());
    else if (a == "--settle") o.settle = std::stod(next());
    else if (a == "--connect-timeout") o.connect_timeout = std::stod(next());
    else if (a == "--pid") o.pids.push_back(std::stoi(next()));
    else if (a == "--sources") o.sources = std::stoi(next());
    else if (a == "--pending-max") o.pending_max = std::stoi(next());
    else if (a == "--mint-threads") o.mint_threads = std::stoi(next());
    else if (a == "--p99-limit-ms") o.p99_limit_ms = std::stod(next());
    else if (a == "--min-delivered-pct") o.min_delivered_pct = std::stod(next());
    else if (a == "--stop-on-fail") o.stop_on_fail = true;
    else if (a == "--out") o.out = next();
    else if (a == "--label") o.label = next();
    else if (a == "--loop") o.loop = next();
    else usage();
  }
  if (o.urls.empty() || o.connections < 1 || o.senders < 0 || (o.proto != "cohort" && o.proto != "socketio")) usage();
  o.senders = std::min(o.senders, o.connections);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Run r;
  r.o = parse(argc, argv);
  g_run = &r;
  const Options& o = r.o;
  for (const auto& u : o.urls) r.urls.push_back(parse_url(u));
  for (int s = 1; s <= o.sources; ++s) if (o.sources > 1) r.sources.push_back("127.0.0." + std::to_string(s));

  if (!o.mint.empty()) r.tokens = mint(o);
  else if (!o.tokens_file.empty()) {
    std::ifstream in(o.tokens_file);
    for (std::string line; std::getline(in, line);) if (!line.empty()) r.tokens.push_back(line);
    if (int(r.tokens.size()) < o.connections) die("fewer tokens than --connections in " + o.tokens_file);
  }
  for (int i = 0; i < o.connections; ++i) {
    std::string path = r.urls[std::size_t(i) % r.urls.size()].path;
    if (!r.tokens.empty()) path += std::string(path.find('?') == std::string::npos ? "?" : "&") + "token=" + r.tokens[std::size_t(i)];
    r.paths.push_back(std::move(path));
  }
  r.tokens.clear();
  r.tokens.shrink_to_fit();

  lws_set_log_level(LLL_ERR, nullptr);
  lws_context_creation_info info{};
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = protocols;
  info.gid = -1;
  info.uid = -1;
  void* foreign[1] = {nullptr};
  if (o.loop == "uv") {
    r.uv = new uv_loop_t;
    uv_loop_init(r.uv);
    foreign[0] = r.uv;
    info.options |= LWS_SERVER_OPTION_LIBUV;
    info.foreign_loops = foreign;
  }
  r.ctx = lws_create_context(&info);
  if (!r.ctx) die("lws_create_context failed");
  lws_sul_schedule(r.ctx, 0, &wake_timer, wake, 1000);

  r.conns.resize(std::size_t(o.connections));
  r.sendq.resize(std::size_t(o.senders));
  for (int i = 0; i < o.connections; ++i) r.conns[std::size_t(i)].index = i;
  // Senders spread over the connections, and round robin over the nodes when there are several URLs.
  for (int s = 0; s < o.senders; ++s) r.conns[sender_index(r, s)].sender = s;

  // Idle baseline, then the ramp: at most pending_max handshakes in flight.
  std::int64_t t = now_us();
  pump(r, t + 300000, {});
  const long rss_before = total_rss_kb(o.pids);
  const double cpu_before_connect = total_cpu(o.pids);
  const std::int64_t ramp_start = now_us();
  int next = 0;
  pump(r, ramp_start + std::int64_t(o.connect_timeout * 1e6),
       [&] { return next == o.connections && r.pending == 0; },
       [&] { while (next < o.connections && r.pending < o.pending_max) open_connection(r, r.conns[std::size_t(next++)]); });
  const double connect_s = double(now_us() - ramp_start) / 1e6;
  const double connect_cpu = total_cpu(o.pids) - cpu_before_connect;
  pump(r, now_us() + std::int64_t(o.settle * 1e6), {});
  const long rss_connected = total_rss_kb(o.pids);
  const int connected = r.ready;
  std::cerr << "loadclient: " << connected << "/" << o.connections << " connected in " << connect_s << " s"
            << (r.connect_errors ? ", " + std::to_string(r.connect_errors) + " failed: " + r.first_error : "") << "\n";

  std::ostringstream steps;
  int step_id = 0;
  for (double rate : o.rates) {
    Step& s = r.step;
    s = Step{};
    s.rate = rate;
    s.id = ++step_id;
    s.latency_us.reserve(std::size_t(std::min(rate * o.duration * connected * 1.05, 5e7)));
    const int ready_at_start = r.ready;
    const double cpu0 = total_cpu(o.pids), self0 = self_cpu();
    const double wait0 = total_wait(o.pids), self_wait0 = runqueue_wait_seconds(getpid());
    const int errors0 = r.server_errors, closed0 = r.closed_after_ready;
    s.t0 = now_us();
    s.window_end = s.t0 + std::int64_t(o.duration * 1e6);
    long long scheduled = 0;
    int rr = 0;
    // Each wake-up queues every message due by now (scheduled time = t0 + k / rate), round robin
    // over the senders, so a slow loop does not lower the offered rate.
    pump(r, s.window_end, {}, [&] {
      const auto due = (long long)(double(now_us() - s.t0) * rate / 1e6) + 1;  // message k is due at t0 + k / rate
      for (; scheduled < due; ++scheduled) {
        const int sender = rr++ % o.senders;
        r.sendq[std::size_t(sender)].push_back(s.t0 + std::int64_t(double(scheduled) * 1e6 / rate));
        Conn& c = r.conns[sender_index(r, sender)];
        if (c.wsi && c.state == State::ready) lws_callback_on_writable(c.wsi);
      }
    });
    const double cpu_window = total_cpu(o.pids) - cpu0;
    pump(r, now_us() + std::int64_t(o.drain * 1e6), [&] { return s.delivered >= s.sent * (long long)r.ready && r.ready > 0; },
         [&] {
           for (auto& q : r.sendq) q.clear();  // what was not written by the end of the window is not sent
         });
    const std::int64_t t_end = now_us();
    const double cpu_total = total_cpu(o.pids) - cpu0, self_total = self_cpu() - self0;
    const double wait_total = total_wait(o.pids) - wait0, self_wait = runqueue_wait_seconds(getpid()) - self_wait0;
    s.expected = s.sent * (long long)ready_at_start;
    const double pct = s.expected ? 100.0 * double(s.delivered) / double(s.expected) : 0;
    const double p50 = percentile_ms(s.latency_us, 50), p99 = percentile_ms(s.latency_us, 99),
                 p999 = percentile_ms(s.latency_us, 99.9);
    const double maxv = s.latency_us.empty() ? -1 : *std::max_element(s.latency_us.begin(), s.latency_us.end()) / 1000.0;
    const bool ok = pct >= o.min_delivered_pct && p99 >= 0 && p99 <= o.p99_limit_ms;
    if (step_id > 1) steps << ",";
    char line[2048];
    std::snprintf(line, sizeof line,
                  "\n    {\"rate\": %.3f, \"duration_s\": %.3f, \"measured_s\": %.3f, \"connections\": %d, \"sent\": %lld, "
                  "\"expected\": %lld, \"delivered\": %lld, \"delivered_pct\": %.3f, \"deliveries_per_s\": %.1f, "
                  "\"offered_deliveries_per_s\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"p999_ms\": %.3f, \"max_ms\": %.3f, "
                  "\"server_cpu_s\": %.3f, \"server_cpu_window_s\": %.3f, \"deliveries_per_server_cpu_s\": %.1f, "
                  "\"server_cpu_us_per_delivery\": %.3f, \"client_cpu_s\": %.3f, \"client_cpu_us_per_delivery\": %.3f, "
                  "\"server_rss_kb\": %ld, \"server_errors\": %d, \"closed\": %d, \"stale\": %lld, "
                  "\"send_lag_mean_ms\": %.3f, \"send_lag_max_ms\": %.3f, \"bytes_per_delivery\": %.1f, "
                  "\"server_runqueue_wait_s\": %.3f, \"client_runqueue_wait_s\": %.3f, \"ok\": %s}",
                  rate, o.duration, double(t_end - s.t0) / 1e6, ready_at_start, s.sent, s.expected, s.delivered, pct,
                  double(s.in_window) / o.duration, rate * ready_at_start, p50, p99, p999, maxv, cpu_total, cpu_window,
                  cpu_total > 0 ? double(s.delivered) / cpu_total : 0.0,
                  s.delivered ? cpu_total * 1e6 / double(s.delivered) : 0.0, self_total,
                  s.delivered ? self_total * 1e6 / double(s.delivered) : 0.0, total_rss_kb(o.pids),
                  r.server_errors - errors0, r.closed_after_ready - closed0, s.stale,
                  s.sent ? double(s.send_lag_sum_us) / double(s.sent) / 1000.0 : 0.0, double(s.send_lag_max_us) / 1000.0,
                  s.delivered ? double(s.delivered_bytes) / double(s.delivered) : 0.0, wait_total, self_wait,
                  ok ? "true" : "false");
    steps << line;
    std::cerr << "loadclient: rate " << rate << "/s: " << s.delivered << "/" << s.expected << " delivered (" << pct
              << " %), p50 " << p50 << " ms, p99 " << p99 << " ms, server " << cpu_total << " s CPU\n";
    std::vector<std::uint32_t>().swap(s.latency_us);
    if (!ok && o.stop_on_fail) break;
    // Let a backlog from this step clear before the next one (stale messages are not counted).
    pump(r, now_us() + 1000000, {});
  }

  char head[2048];
  std::snprintf(head, sizeof head,
                "{\n  \"label\": \"%s\", \"proto\": \"%s\", \"nodes\": %zu, \"connections_requested\": %d, \"connected\": %d, "
                "\"connect_errors\": %d, \"connect_s\": %.3f, \"connect_server_cpu_s\": %.3f, \"senders\": %d, "
                "\"server_rss_before_kb\": %ld, \"server_rss_connected_kb\": %ld, \"rss_per_connection_bytes\": %.1f, "
                "\"server_errors\": %d, \"closed_after_ready\": %d, \"parse_errors\": %d, \"first_error\": \"%s\", "
                "\"last_close\": \"%s\",\n  \"steps\": [",
                json_escape(o.label).c_str(), o.proto.c_str(), r.urls.size(), o.connections, connected, r.connect_errors,
                connect_s, connect_cpu, o.senders, rss_before, rss_connected,
                connected ? double(rss_connected - rss_before) * 1024.0 / connected : 0.0, r.server_errors,
                r.closed_after_ready, r.parse_errors, json_escape(r.first_error).c_str(), json_escape(r.last_close).c_str());
  const std::string doc = std::string(head) + steps.str() + "\n  ]\n}\n";
  if (o.out.empty()) std::cout << doc;
  else std::ofstream(o.out) << doc;
  std::cout.flush();
  // No teardown: closing thousands of sockets one by one measures nothing, the kernel does it.
  std::_Exit(connected == o.connections ? 0 : 1);
}
