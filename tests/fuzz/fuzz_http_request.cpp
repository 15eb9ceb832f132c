// The HTTP request path of a primary: raw bytes through Beast's request parser (the session's
// header and body limits), the session's conversion into http::request, router.precheck when a
// body is to come (as the session does before reading it), then router.dispatch on a primary
// with every module that serves routes, on a SQLite database in /dev/shm (a real writer thread).
// Input: byte 0 bit 0 set: the request carries the organizer's bearer token (unless it has an
// Authorization header of its own), so organizer-only body validation is reached; the rest is
// the request as sent on the socket.
// Invariants: exactly one answer per dispatched request, within a bounded number of loop rounds;
// its status is in 100..599 and never 500 (a 500 is an exception that escaped a route); every
// answer >= 400 has the one JSON error shape {"error":{"code":"…","message":"…"}}.
// The primary is built here from the modules' public constructors, in main.cpp's order
// (services/main.cpp serve_primary): main.cpp stays the one place that lists a role's modules.
// Background work (module start(): schedulers, sweeps, the RTMP listener) is not started.
// The database is bounded: the whole primary (data dir included) is rebuilt every 256 inputs.
#include "accounts/accounts_module.hpp"
#include "assessment/assessment_module.hpp"
#include "attendance/attendance_module.hpp"
#include "ce/ce_module.hpp"
#include "common/rfc3339.hpp"
#include "certificates/certificates_module.hpp"
#include "config/config.hpp"
#include "drops/drops_module.hpp"
#include "email/email_service.hpp"
#include "gateway/beast_request.hpp"
#include "gateway/static_site.hpp"
#include "live_room/channels/attendance/attendance_channel.hpp"
#include "live_room/channels/chat/chat_channel.hpp"
#include "live_room/channels/drops/drops_channel.hpp"
#include "live_room/channels/polls/polls_channel.hpp"
#include "live_room/channels/presence/presence_channel.hpp"
#include "live_room/channels/qa/qa_channel.hpp"
#include "live_room/channels/stream/stream_channel.hpp"
#include "live_room/live_room_module.hpp"
#include "metrics/metrics.hpp"
#include "node/addresses.hpp"
#include "node/node_core.hpp"
#include "node/secrets.hpp"
#include "privacy/privacy_module.hpp"
#include "registration/demo_seed.hpp"
#include "registration/registration_module.hpp"
#include "streaming/streaming_module.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

namespace fs = std::filesystem;
namespace bhttp = boost::beast::http;
using namespace cohort;

namespace {

[[noreturn]] void finding(const char* what, unsigned status, const std::string& target, const std::string& body) {
  std::fprintf(stderr, "fuzz_http_request: %s: status %u for %s: %.400s\n", what, status, target.c_str(), body.c_str());
  std::abort();
}

// /dev/shm/cohort-fuzz-http-<pid>. A run that stopped on a finding (abort) left its directory:
// those of processes that are gone are removed here.
fs::path scratch_root() {
  const fs::path shm = "/dev/shm";
  std::error_code ec;
  const auto base = fs::is_directory(shm, ec) ? shm : fs::temp_directory_path();
  const std::string prefix = "cohort-fuzz-http-";
  for (const auto& e : fs::directory_iterator(base, ec)) {
    const auto name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove_all(e.path(), ec);
  }
  return base / (prefix + std::to_string(::getpid()));
}

// A primary as serve_primary builds it (services/main.cpp), minus listening for connections and
// the modules' background work.
struct primary {
  explicit primary(const fs::path& dir) : cfg(make_config(dir)), keys(load_keys(cfg)), tokens(*keys.keys) {
    core.emplace(cfg, authenticate_ref(), node::primary_server_options(cfg));
    // The demo series (webinar 1, with sessions): routes under /api/webinars/1/ reach their bodies'
    // validation instead of stopping at "no such webinar".
    auto db = node::open_database(cfg);
    registration::seed_demo(db, common::unix_now());
    writer.emplace(std::move(db),
                   store::sqlite_writer::options{static_cast<std::size_t>(cfg.storage.write_queue_max), static_cast<std::size_t>(cfg.storage.batch_max)},
                   &core->metrics);
    readers.emplace(node::database_path(cfg), static_cast<std::size_t>(cfg.storage.reader_connections), cfg.storage.busy_timeout_ms);
    node.emplace(node::node_services{cfg, core->ioc, core->metrics, *core->bus, authenticate_ref(), node::allowed_origins(cfg, core->port),
                                     node::public_url(cfg, core->port), cfg.storage.data_dir, &*writer, &*readers, &*keys.keys, &tokens, &events});
    accounts_module.emplace(*node);
    accounts = &*accounts_module;
    mail.emplace(*node);
    registration.emplace(*node);
    drops.emplace(*node, mail->mailer());
    attendance.emplace(*node);
    ce_credit.emplace(*node);
    privacy.emplace(*node);
    assessment.emplace(*node);
    assessment->on_progress(ce_credit->settler());
    certificates.emplace(*node, mail->mailer());
    ce_credit->on_credit([issue = certificates->issuer()](store::database& db, const ce::credit& c, std::int64_t now) {
      issue(db, {c.webinar_id, c.registration_id, c.session_number, c.kind, c.score_percent}, now);
    });
    room.emplace(*node);
    room->add(live_room::make_chat_channel(*node));
    room->add_channel<live_room::drops_channel>(drops->room_state_loader());
    room->add_channel<live_room::stream_channel>();
    room->add_channel<live_room::presence_channel>();
    auto present = room->add_channel<live_room::attendance_channel>(drops->attendance_recorder());
    room->add_channel<live_room::qa_channel>(live_room::qa_options{}, &node->bus, live_room::store_of(*node));
    room->add_channel<live_room::polls_channel>(live_room::polls_options{}, &node->bus, live_room::store_of(*node));
    stream.emplace(*node, drops->watching_recorder(),
                   [present](std::int64_t webinar) { return present->recently_present(webinar, std::chrono::seconds(90)); });
    room->on_republish([this](live_room::room_bus& bus) { stream->republish(bus); });
    auto& routes = core->routes;
    http::add_ops_routes(routes, [this] { return room->ready(); }, core->metrics);
    const std::vector<node::module*> modules{&*accounts_module, &*stream,      &*registration, &*room,    &*drops, &*attendance,
                                             &*ce_credit,       &*assessment, &*certificates,  &*privacy, &*mail};
    for (auto* m : modules) {
      m->add_routes(routes);
      if (m == &*stream) http::add_static_routes(routes, node::web_root(cfg));
    }
  }

  ~primary() {
    // Writes still queued complete (or are refused) before the modules they call back go.
    writer->stop();
    core->ioc.restart();
    core->ioc.poll();
  }

  static config make_config(const fs::path& dir) {
    config c;
    fs::create_directories(dir);
    c.storage.data_dir = dir.string();
    c.server.listen = {"127.0.0.1", 0};
    c.bus.redis_url.clear();
    c.email.templates_dir = (fs::path(COHORT_SOURCE_DIR) / "config" / "email").string();
    if (!fs::is_directory(c.email.templates_dir)) c.email.templates_dir.clear();
    c.server.web_root = (fs::path(COHORT_SOURCE_DIR) / "web").string();
    c.auth.token_secret = "fuzz-http-request-master-secret";
    c.auth.admin_token = "fuzz-organizer-token";
    c.storage.synchronous = "normal";
    return c;
  }
  static node::secrets load_keys(const config& c) {
    auto k = node::load_secrets(c, false);
    if (!k) std::abort();
    return std::move(*k);
  }
  http::authenticator authenticate_ref() {
    return [this](const http::request& req, std::string_view token) {
      if (!token.empty()) return http::authenticate(token, keys.admin_token, tokens);
      if (auto who = accounts->from_cookie(req)) return *who;
      return http::identity{};
    };
  }

  config cfg;
  node::secrets keys;
  http::token_codec tokens;
  accounts::accounts_module* accounts = nullptr;
  // In main.cpp's order: the registration events' listeners hold the modules' timers, so they go
  // before the io_context does.
  std::optional<node::node_core> core;
  std::optional<store::sqlite_writer> writer;
  std::optional<store::reader_pool> readers;
  registration::events events;
  std::optional<node::node_services> node;
  std::optional<accounts::accounts_module> accounts_module;
  std::optional<email::email_service> mail;
  std::optional<registration::registration_module> registration;
  std::optional<drops::drops_module> drops;
  std::optional<attendance::attendance_module> attendance;
  std::optional<ce::ce_module> ce_credit;
  std::optional<privacy::privacy_module> privacy;
  std::optional<assessment::assessment_module> assessment;
  std::optional<certificates::certificates_module> certificates;
  std::optional<live_room::live_room_module> room;
  std::optional<streaming::streaming_module> stream;
};

// Destroyed in reverse: the modules before the writer and the loop they use.
struct world {
  explicit world(fs::path d) : dir(std::move(d)), p(dir) {}
  ~world() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  fs::path dir;
  primary p;
};

std::unique_ptr<world> the_world;
std::size_t inputs_since_fresh = 0;

// The session's conversion (gateway/beast_request.hpp), with a fixed loopback peer.
bool to_request(const bhttp::request_parser<bhttp::string_body>& parser, http::request& out) {
  if (!http::read_request_head(parser.get(), parser.content_length(), out)) return false;
  out.peer_address = "127.0.0.1";
  out.peer_port = 40000;
  out.remote_address = out.peer_address;  // no trusted proxies: forwarding headers are not believed
  return true;
}

void check_answer(const http::response& r, const std::string& target) {
  static const bool verbose = std::getenv("FUZZ_HTTP_VERBOSE") != nullptr;  // replay: what each input got
  if (verbose) std::fprintf(stderr, "  -> %u %s %.160s\n", r.status, target.c_str(), r.body.c_str());
  if (r.status < 100 || r.status > 599) finding("status out of range", r.status, target, r.body);
  if (r.status == 500) finding("500 (an exception escaped a route)", r.status, target, r.body);
  if (r.status < 400) return;
  const std::string body = r.shared_body ? *r.shared_body : r.body;
  boost::system::error_code ec;
  const auto v = boost::json::parse(body, ec);
  const auto* o = ec ? nullptr : v.if_object();
  const auto* e = o ? o->if_contains("error") : nullptr;
  const auto* eo = e ? e->if_object() : nullptr;
  const auto* code = eo ? eo->if_contains("code") : nullptr;
  const auto* message = eo ? eo->if_contains("message") : nullptr;
  if (!code || !code->is_string() || !message || !message->is_string()) finding("error answer without the JSON error shape", r.status, target, body);
}

// Runs the loop until `done` or about 5 s of waiting (the writer thread answers in far less).
// A work guard keeps each wait from returning at once while the answer is on the writer thread.
void run_until(boost::asio::io_context& ioc, const bool& done) {
  ioc.restart();
  {
    auto guard = boost::asio::make_work_guard(ioc);
    for (int round = 0; round < 5000 && !done; ++round) ioc.run_one_for(std::chrono::milliseconds(1));
  }
  ioc.restart();
  ioc.poll();  // what the answer left queued (events, metrics)
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  the_world = std::make_unique<world>(scratch_root());
  // Registered after OpenSSL initialised (building the world derived the keys), so it runs before
  // OpenSSL's own exit cleanup: the writer thread's OpenSSL state is freed while OpenSSL still can
  // (else LeakSanitizer reports it at exit).
  std::atexit([] { the_world.reset(); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  if (++inputs_since_fresh > 256) {
    const auto dir = the_world->dir;
    the_world.reset();
    the_world = std::make_unique<world>(dir);
    inputs_since_fresh = 1;
  }
  auto& p = the_world->p;
  const bool organizer = (data[0] & 1) != 0;
  const auto* bytes = reinterpret_cast<const char*>(data + 1);
  const std::size_t n = size - 1;
  const auto& o = *p.core;
  const auto header_max = p.cfg.limits.header_max_bytes;
  const std::uint64_t body_max = p.cfg.limits.body_max_bytes;
  const std::uint64_t upload_max = p.cfg.drops.file_max_bytes;

  // The header, with the session's limit; no body limit until the route is known.
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(header_max);
  parser.body_limit(boost::none);
  parser.eager(false);
  boost::beast::error_code ec;
  std::size_t used = 0;
  while (used < n && !parser.is_header_done()) {
    const auto k = parser.put(boost::asio::buffer(bytes + used, n - used), ec);
    used += k;
    if (ec == bhttp::error::need_more) { ec = {}; break; }
    if (ec || k == 0) break;
  }
  if (ec || !parser.is_header_done()) return 0;  // answered 400/431 or waited on by the session: no route reached

  http::request req;
  if (!to_request(parser, req)) return 0;  // the session answers 400 itself
  if (organizer && req.authorization.empty()) req.authorization = "Bearer " + p.keys.admin_token;
  const bool body_coming = !parser.is_done();
  const bool is_ws = req.segments.size() == 1 && req.segments[0] == "ws" && boost::beast::websocket::is_upgrade(parser.get());
  if (is_ws) return 0;  // the live room's upgrade, not an HTTP route
  if (body_coming) {
    if (auto early = o.routes.precheck(req, http::body_limits{body_max, upload_max})) {
      check_answer(*early, req.target);
      return 0;
    }
  }
  const bool upload = body_coming && o.routes.takes_file(req.method, req.segments);
  if (body_coming) {
    const auto limit = upload ? upload_max : body_max;
    if (parser.content_length() && *parser.content_length() > limit) return 0;  // 413 from the session
    parser.body_limit(limit);
    parser.eager(true);
    while (used < n && !parser.is_done()) {
      const auto k = parser.put(boost::asio::buffer(bytes + used, n - used), ec);
      used += k;
      if (ec || k == 0) break;
    }
    if (!ec && !parser.is_done()) parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;  // 413/400 from the session, or it waits for more
  }
  req.body = std::move(parser.get().body());
  std::string spool;
  if (upload) {
    spool = (fs::path(p.cfg.storage.data_dir) / "uploads" / "fuzz-upload").string();
    std::ofstream(spool, std::ios::binary | std::ios::trunc).write(req.body.data(), static_cast<std::streamsize>(req.body.size()));
    req.body.clear();
    req.body_file = spool;
  }

  // Shared with the responder: a second, late answer must not write into a finished run's stack.
  struct outcome {
    bool done = false;
    int answers = 0;
    std::optional<http::response> answer;
  };
  const auto out = std::make_shared<outcome>();
  const std::string target = req.target;
  o.routes.dispatch(req, [out](http::response r) {
    ++out->answers;
    out->answer = std::move(r);
    out->done = true;
  });
  run_until(p.core->ioc, out->done);
  const bool done = out->done;
  const int answers = out->answers;
  const auto& answer = out->answer;
  if (!spool.empty()) {
    std::error_code fec;
    fs::remove(spool, fec);
  }
  if (!done) finding("no answer within the loop's bound", 0, target, "");
  if (answers != 1) finding("more than one answer", static_cast<unsigned>(answers), target, "");
  check_answer(*answer, target);
  return 0;
}
