// The live chat of one node: decides WebSocket upgrades on /ws (token, Origin, ban), keeps one
// chat_room per webinar, and serves the organizer's moderation routes and transcript export.
// On the primary it checks registrations in the database; on an edge (no database) it trusts
// the signed token and the cluster's revocation list, and serves no routes but /ws.
#pragma once

#include "chat/chat_room.hpp"
#include "chat/revocation_list.hpp"
#include "chat/socket_quota.hpp"
#include "gateway/router.hpp"
#include "gateway/ws_types.hpp"
#include "registration/api_support.hpp"
#include "store/reader_pool.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace cohort::chat {

struct hub_context {
  boost::asio::io_context* ioc = nullptr;
  chat_bus* bus = nullptr;
  registration::write_path writes;        // primary only
  store::reader_pool* readers = nullptr;  // primary only
  bool edge = false;                      // no database: tokens by signature and revocation list
  http::authenticator authenticate;       // bearer -> identity (throws api_error 401)
  std::vector<std::string> allowed_origins;  // exact origins, e.g. "http://127.0.0.1:8080"
  metrics::registry* metrics = nullptr;
  room_options rooms;
  room_records records;                   // primary only
  std::size_t sockets_per_token = 5;      // chat.sockets_per_token, per node; the organizer is not capped
};

class chat_hub {
 public:
  explicit chat_hub(hub_context ctx);

  // For GET /ws with upgrade headers; see proto/ for the protocol.
  http::upgrade_result upgrade(http::request& req);
  void add_routes(http::router& r);

  // The primary hosts every room in use on any node (node_feed::on_room).
  void host(std::int64_t webinar_id) { room(webinar_id); }
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
  // The registration ids a room on any node reported present (x.present: a second after they
  // joined, then each minute while they stay) within `window` before now. Primary only: its
  // rooms hear every node's reports (empty elsewhere). Thread-safe.
  std::vector<std::int64_t> recently_present(std::int64_t webinar_id, std::chrono::seconds window) const;

 private:
  std::shared_ptr<chat_room> room(std::int64_t webinar_id);
  bool origin_allowed(const std::string& origin) const;
  // An edge's open sockets against the list as it is now (posted, coalesced).
  void recheck_open_sockets();
  // Who the connection is and which room it joins; throws api_error to refuse.
  std::pair<chat_identity, std::int64_t> admit_on_primary(const http::identity& who, std::optional<std::int64_t> webinar_param);
  std::pair<chat_identity, std::int64_t> admit_on_edge(const http::identity& who, std::optional<std::int64_t> webinar_param) const;
  void delete_message(http::request& req, http::responder& respond);
  void mute(http::request& req, http::responder& respond);
  void ban(http::request& req, http::responder& respond);
  void export_csv(http::request& req, http::responder& respond);
  // The registration id in the body, checked to belong to this webinar.
  std::int64_t registration_in_body(http::request& req);

  struct presence_log;

  hub_context ctx_;
  std::shared_ptr<presence_log> presence_;  // shared with the rooms' attendance callback
  std::mutex rooms_mutex_;
  std::unordered_map<std::int64_t, std::shared_ptr<chat_room>> rooms_;
  mutable std::mutex revoked_mutex_;
  revocation_list revoked_;
  bool recheck_pending_ = false;  // under revoked_mutex_
  std::shared_ptr<socket_quota> sockets_;
};

}  // namespace cohort::chat
