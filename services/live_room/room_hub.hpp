// The live rooms of one node: decides WebSocket upgrades on /ws (token, Origin, ban), keeps one
// room per webinar (dropping rooms idle too long and rooms of deleted series), and serves the
// channels' routes. On the primary it checks registrations in the database; on an edge (no
// database) it trusts the signed token and the cluster's revocation list, and serves no routes
// but /ws.
#pragma once

#include "live_room/room.hpp"
#include "live_room/revocation_list.hpp"
#include "live_room/socket_quota.hpp"
#include "gateway/router.hpp"
#include "gateway/ws_types.hpp"
#include "store/reader_pool.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace cohort::live_room {

struct hub_context {
  boost::asio::io_context* ioc = nullptr;
  room_bus* bus = nullptr;
  store::reader_pool* readers = nullptr;  // primary only
  bool edge = false;                      // no database: tokens by signature and revocation list
  http::authenticator authenticate;       // bearer -> identity (throws api_error 401)
  std::vector<std::string> allowed_origins;  // exact origins, e.g. "http://127.0.0.1:8080"
  metrics::registry* metrics = nullptr;
  room_options rooms;
  const channel_registry* channels = nullptr;
  std::size_t sockets_per_token = 5;      // chat.sockets_per_token, per node; the organizer is not capped
  // A room without members this long is dropped from memory (and from the bus); 0 = never.
  // The primary with a Redis bus keeps the rooms it hosts for other nodes (see host()).
  std::chrono::seconds room_idle{600};
};

class room_hub {
 public:
  explicit room_hub(hub_context ctx);

  // For GET /ws with upgrade headers; see proto/ for the protocol.
  http::upgrade_result upgrade(http::request& req);
  void add_routes(http::router& r);
  // Starts / stops the idle-room sweep (start after construction, stop before the io_context ends).
  void start();
  void stop();
  // How many rooms this node holds in memory. Thread-safe.
  std::size_t rooms_in_memory() const;

  // The primary hosts every room in use on any node (node_feed::on_room).
  // Such rooms are not dropped when idle here: the primary writes what other nodes' rooms do.
  void host(std::int64_t webinar_id);
  // The cluster's revocation list (node_feed::on_revoked); an edge checks tokens against it and
  // re-checks its open sockets after every load. `complete`: the whole list, confirmed by the
  // primary's generation marker — from then on the edge admits registrants.
  void revoked(std::vector<std::string> entries, bool complete);
  // The bus loaded a list without the marker (Redis lost its data, the primary has not
  // re-published yet): an edge refuses new sockets (503) and is not ready until it is confirmed.
  void revocations_unconfirmed();
  // Ready for /readyz: always on the primary; on an edge once its list is confirmed.
  bool revocations_confirmed() const;
  // A registration was cancelled: its token stops working on every node, its sockets close.
  void registration_cancelled(std::int64_t webinar_id, std::int64_t registration_id, std::string_view token_nonce_hash);
  // The waitlist holds no seat in the room: these tokens are refused (403 waitlisted) on every
  // node until seated — promoted into a freed seat.
  void registration_waitlisted(std::string_view token_nonce_hash);
  void registrations_seated(const std::vector<std::string>& token_nonce_hashes);
  // The series was deleted: its tokens are refused and its registrants' sockets close, everywhere.
  void webinar_deleted(std::int64_t webinar_id);

 private:
  std::shared_ptr<room> room_for(std::int64_t webinar_id);
  void arm_sweep();
  void sweep_idle_rooms();
  bool origin_allowed(const std::string& origin) const;
  // An edge's open sockets against the list as it is now (posted, coalesced).
  void recheck_open_sockets();
  // Who the connection is and which room it joins; throws api_error to refuse.
  std::pair<member_identity, std::int64_t> admit_on_primary(const http::identity& who, std::optional<std::int64_t> webinar_param);
  std::pair<member_identity, std::int64_t> admit_on_edge(const http::identity& who, std::optional<std::int64_t> webinar_param) const;

  hub_context ctx_;
  mutable std::mutex rooms_mutex_;
  std::unordered_map<std::int64_t, std::shared_ptr<room>> rooms_;
  std::unordered_set<std::int64_t> hosted_;  // under rooms_mutex_: rooms hosted for other nodes
  std::optional<boost::asio::steady_timer> sweep_timer_;  // made by start()
  mutable std::mutex revoked_mutex_;
  revocation_list revoked_;
  bool recheck_pending_ = false;  // under revoked_mutex_
  std::shared_ptr<socket_quota> sockets_;
};

}  // namespace cohort::live_room
