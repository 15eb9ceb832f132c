// The bonus-drop routes (proto/http-api.yaml): the organizer schedules, edits, deletes and
// uploads; a registrant lists what was released to them, marks it seen or opened, and
// downloads files (ETag, Range). Writes go through the single writer; every change to the
// schedule re-arms the drop_scheduler.
#pragma once

#include "live_room/room_bus.hpp"
#include "drops/drop_scheduler.hpp"
#include "drops/file_store.hpp"
#include "gateway/router.hpp"
#include "registration/api_support.hpp"
#include "store/reader_pool.hpp"

#include <memory>

namespace cohort::drops {

struct drops_context {
  registration::write_path writes;
  store::reader_pool* readers = nullptr;
  http::authenticator authenticate;  // for ?token= on downloads
  live_room::room_bus* bus = nullptr;
  std::shared_ptr<drop_scheduler> scheduler;
  const file_store* files = nullptr;
};

class drops_api {
 public:
  explicit drops_api(drops_context ctx) : ctx_(std::move(ctx)) {}
  void add_routes(http::router& r);

 private:
  void create(http::request& req, http::responder& respond);
  void patch(http::request& req, http::responder& respond);
  void remove(http::request& req, http::responder& respond);
  void list(http::request& req, http::responder& respond);
  void seen(http::request& req, http::responder& respond);
  void opened(http::request& req, http::responder& respond);
  void upload(http::request& req, http::responder& respond);
  void download(http::request& req, http::responder& respond);
  // A registrant token of this webinar whose registration is still active; throws 401/403.
  // Returns false for a waitlisted registrant (who sees no drops until seated), else true.
  bool check_registrant(const http::identity& who, std::int64_t webinar_id);
  // check_registrant, and 403 "waitlisted" for the waitlisted.
  void check_seated(const http::identity& who, std::int64_t webinar_id);
  struct changed_drop {
    drop_record drop;
    std::vector<released_drop> released;
  };
  int min_minutes() const;
  void after_change(const std::vector<released_drop>& released);

  drops_context ctx_;
};

}  // namespace cohort::drops
