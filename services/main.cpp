// cohort: one binary. A primary (the embedded default: SQLite under the data dir, no other
// service needed) or an edge (WebSockets and pages; the API is the primary's). Each role is the
// list of its modules (node/module.hpp), built from what the node has (node/node_services.hpp).
#include "accounts/accounts_module.hpp"
#include "accounts/organizer_cli.hpp"
#include "assessment/assessment_module.hpp"
#include "attendance/attendance_module.hpp"
#include "ce/ce_module.hpp"
#include "certificates/certificates_module.hpp"
#include "common/bytes.hpp"
#include "common/rfc3339.hpp"
#include "config/config.hpp"
#include "drops/drops_module.hpp"
#include "email/email_service.hpp"
#include "gateway/open_files_limit.hpp"
#include "gateway/static_site.hpp"
#include "live_room/channels/attendance/attendance_channel.hpp"
#include "live_room/channels/chat/chat_channel.hpp"
#include "live_room/channels/drops/drops_channel.hpp"
#include "live_room/channels/polls/polls_channel.hpp"
#include "live_room/channels/presence/presence_channel.hpp"
#include "live_room/channels/qa/qa_channel.hpp"
#include "live_room/channels/stream/stream_channel.hpp"
#include "live_room/live_room_module.hpp"
#include "privacy/privacy_module.hpp"
#include "metrics/metrics.hpp"
#include "node/addresses.hpp"
#include "node/node_core.hpp"
#include "node/run_loop.hpp"
#include "node/secrets.hpp"
#include "registration/demo_seed.hpp"
#include "registration/registration_module.hpp"
#include "streaming/streaming_module.hpp"

#include <sys/statvfs.h>
#include <unistd.h>

#include <csignal>
#include <iostream>

namespace fs = std::filesystem;
using namespace cohort;

namespace {

// The live room's channels. On the primary they keep their state in its database (the drops'
// and attendance tables are the drops module's); an edge's get everything through the bus.
std::shared_ptr<live_room::attendance_channel> add_channels(live_room::live_room_module& room, const node::node_services& node,
                                                            const drops::drops_module* drops) {
  const bool primary = drops != nullptr;
  room.add(live_room::make_chat_channel(node));
  room.add_channel<live_room::drops_channel>(primary ? drops->room_state_loader() : nullptr);
  room.add_channel<live_room::stream_channel>();
  room.add_channel<live_room::presence_channel>();
  auto present = room.add_channel<live_room::attendance_channel>(primary ? drops->attendance_recorder() : nullptr);
  room.add_channel<live_room::qa_channel>(live_room::qa_options{}, &node.bus, live_room::store_of(node));
  room.add_channel<live_room::polls_channel>(live_room::polls_options{}, &node.bus, live_room::store_of(node));
  return present;
}

// Not ready while the data directory is (all but) full: every write would answer 507. statvfs is
// cheap enough for a probe; when it cannot tell, the writes will.
bool data_dir_has_space(const fs::path& dir) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return true;
  return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize >= 64 * 1024;
}

// An edge: WebSockets and pages, no database. Tokens are checked by signature and against the
// cluster's revocation list; /api/... is redirected to the primary (307 keeps method and body).
int serve_edge(const config& cfg, const node::secrets& keys) {
  const http::token_verifier tokens(keys.token_public_key);  // verifies, cannot mint
  // No database here, so no console sessions: an organizer uses the admin token on an edge.
  const http::authenticator authenticate = [&](const http::request&, std::string_view token) {
    return http::authenticate(token, keys.admin_token, tokens);
  };
  node::node_core core(cfg, authenticate, node::server_options(cfg));
  const node::node_services node{cfg, core.ioc, core.metrics, *core.bus, authenticate, node::allowed_origins(cfg, core.port),
                                 node::public_url(cfg, core.port), {}};
  // The channels get their state through the bus; the channels' routes are the primary's.
  live_room::live_room_module room(node);
  add_channels(room, node, nullptr);
  core.server.set_upgrade_handler([&room](http::request& req) { return room.upgrade(req); });
  // Not ready without Redis, nor while the revocation list is not confirmed by the primary.
  http::add_ops_routes(core.routes, [&room] { return room.ready(); }, core.metrics);
  http::add_static_routes(core.routes, node::web_root(cfg));
  room.add_routes(core.routes);
  const auto primary = http::redirect_api_to(core.routes, cfg.server.primary_url);
  room.start();
  core.server.start_accepting();
  std::cout << "cohort: edge listening on " << node::base_url(cfg.server.listen, core.port) << "\n";
  std::cout << "cohort: the primary is " << primary << "\n" << std::flush;
  node::run_until_signal(core.ioc, core.threads, core.server, *core.bus, {&room});
  std::cout << "cohort: stopped" << std::endl;
  return 0;
}

// serve, or (`cohort routes`) print the routes of a primary built in a scratch data dir.
enum class run_mode { serve, list_routes, list_routes_with_access };

// The primary: the database, the organizer API, the drop schedule, and every room's records.
int serve_primary(const config& cfg, const node::secrets& keys, run_mode mode = run_mode::serve) {
  const bool list_routes = mode != run_mode::serve;
  const fs::path data_dir = cfg.storage.data_dir;
  const auto& ring = *keys.keys;
  const http::token_codec tokens(ring);
  auto db = node::open_database(cfg);
  if (cfg.demo && !list_routes)
    if (auto id = registration::seed_demo(db, common::unix_now())) std::cout << "cohort: seeded the demo webinar series (id " << id << ")\n";
  // A token when one is given (automation, registrants), else the console's session cookie.
  accounts::accounts_module* accounts = nullptr;  // built once the bound port gives the allowed origins
  auto authenticate = [&](const http::request& req, std::string_view token) {
    if (!token.empty()) return http::authenticate(token, keys.admin_token, tokens);
    if (auto who = accounts->from_cookie(req)) return *who;
    return http::identity{};
  };
  node::node_core core(cfg, authenticate, node::primary_server_options(cfg));
  store::sqlite_writer writer(std::move(db), {static_cast<std::size_t>(cfg.storage.write_queue_max), static_cast<std::size_t>(cfg.storage.batch_max)},
                              &core.metrics);
  store::reader_pool readers(node::database_path(cfg), static_cast<std::size_t>(cfg.storage.reader_connections), cfg.storage.busy_timeout_ms);
  registration::events events;
  node::node_services node{cfg,      core.ioc, core.metrics, *core.bus, authenticate, node::allowed_origins(cfg, core.port),
                           node::public_url(cfg, core.port), data_dir, &writer, &readers, &ring, &tokens, &events};

  // The modules, in the order their routes are matched.
  accounts::accounts_module accounts_module(node);
  accounts = &accounts_module;
  email::email_service mail(node);
  registration::registration_module registration(node);
  drops::drops_module drops(node, mail.mailer());
  attendance::attendance_module attendance(node);
  ce::ce_module ce_credit(node);
  privacy::privacy_module privacy(node);
  assessment::assessment_module assessment(node);
  // A passed post-test or a sent evaluation may complete a session's credit: settled in the same write.
  assessment.on_progress(ce_credit.settler());
  certificates::certificates_module certificates(node, mail.mailer());
  // A session's credit earned: its certificate is issued (and mailed) in the same write.
  ce_credit.on_credit([issue = certificates.issuer()](store::database& db, const ce::credit& c, std::int64_t now) {
    issue(db, {c.webinar_id, c.registration_id, c.session_number, c.kind, c.score_percent}, now);
  });
  live_room::live_room_module room(node);
  const auto present = add_channels(room, node, &drops);
  // Watching the stream counts as attendance, like being in the live room; the room's recent
  // presence counts as viewers while it is live.
  streaming::streaming_module stream(node, drops.watching_recorder(),
                                     [present](std::int64_t webinar) { return present->recently_present(webinar, std::chrono::seconds(90)); });
  room.on_republish([&stream](live_room::room_bus& bus) { stream.republish(bus); });

  http::add_ops_routes(core.routes, [&room, data_dir] { return room.ready() && data_dir_has_space(data_dir); }, core.metrics);
  const std::vector<node::module*> modules{&accounts_module, &stream, &registration, &room, &drops, &attendance, &ce_credit, &assessment, &certificates, &privacy, &mail};
  for (auto* m : modules) {
    m->add_routes(core.routes);
    // After the stream's: /live/{id}/index.m3u8 is a stream, /live/{id} stays a page.
    if (m == &stream) http::add_static_routes(core.routes, node::web_root(cfg));
  }
  if (list_routes) {
    for (const auto& line : core.routes.describe(mode == run_mode::list_routes_with_access)) std::cout << line << "\n";
    return 0;
  }
  core.server.set_upgrade_handler([&room](http::request& req) { return room.upgrade(req); });
  for (auto* m : modules) m->start();  // before the first request: a stream-key answer names the RTMP port
  core.server.start_accepting();

  std::cout << "cohort: listening on " << node::base_url(cfg.server.listen, core.port) << "\n";
  std::cout << "cohort: data in " << fs::absolute(data_dir).lexically_normal().string() << ", pages from " << node::web_root(cfg).string() << "\n";
  if (!keys.admin_token_note.empty()) std::cout << "cohort: organizer token " << keys.admin_token_note << "\n";
  std::cout << "cohort: token public key " << common::hex(ring.token_public_key) << " (an edge's auth.token_public_key)\n" << std::flush;
  node::run_until_signal(core.ioc, core.threads, core.server, *core.bus, modules);
  writer.stop();
  std::cout << "cohort: stopped" << std::endl;
  return 0;
}

int serve(const config& cfg) {
  const bool edge = cfg.server.role == "edge";
  // Each connection holds a descriptor; the soft limit is often far below the hard one.
  std::cout << "cohort: " << http::raise_open_files_limit().describe() << "\n";
  if (!edge) node::make_private_dir(cfg.storage.data_dir);
  const auto keys = node::load_secrets(cfg, edge);
  if (!keys) return 2;
  return edge ? serve_edge(cfg, *keys) : serve_primary(cfg, *keys);
}

// `cohort routes [access]`: the routes of a throwaway primary (scratch data dir, loopback port).
int list_routes(config cfg, bool with_access) {
  const node::scratch_primary scratch(cfg);
  const auto keys = node::load_secrets(cfg, false);
  return keys ? serve_primary(cfg, *keys, with_access ? run_mode::list_routes_with_access : run_mode::list_routes) : 2;
}

}  // namespace

int main(int argc, char* argv[]) {
  // A peer that vanished mid-write must surface as an error code, not kill the process
  // (hiredis writes with plain write(2)).
  std::signal(SIGPIPE, SIG_IGN);
  command_line cl;
  try {
    cl = parse_command_line(argc, argv);
  } catch (const config_error& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  try {
    if (cl.command == "help") return std::cout << cl.help_text, 0;
    if (cl.command == "routes") return list_routes(cl.cfg, cl.action == "access");
    if (cl.command == "keys") return node::print_public_key(cl.cfg);
    if (cl.command == "organizer")
      return accounts::run_organizer_command({cl.cfg.storage.data_dir, cl.action, cl.email}, std::cin, ::isatty(STDIN_FILENO) != 0,
                                             std::cout, std::cerr);
    return serve(cl.cfg);
  } catch (const node::startup_error& e) {
    std::cerr << e.what() << "\n";
    return e.exit_code;
  } catch (const std::exception& e) {
    std::cerr << "cohort: " << e.what() << "\n";
    return 1;
  }
}
