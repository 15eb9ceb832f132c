// The registrant's data rights and the signup form's notice:
//   GET  /api/me/export                                    registrant: everything held about them (JSON attachment)
//   GET  /api/webinars/{id}/registrations/{rid}/export     organizer: the same for one registration
//   POST /api/me/erase {"confirm":"erase"}                 registrant: erase their personal data (then their token is
//                                                          dead: a repeat is 410 "erased")
//   POST /api/webinars/{id}/registrations/{rid}/erase      organizer: the same; idempotent (a repeat is 200, same answer)
//   GET  /api/webinars/{id}/privacy-notice                 anyone: the effective notice
//   PUT  /api/webinars/{id}/privacy-notice {"text": ...}   organizer: ≤ 4000 characters, '' = the default
// Reads run on a reader connection; erasures and the notice go through the single writer.
#pragma once

#include "config/config.hpp"
#include "gateway/router.hpp"
#include "registration/api_support.hpp"
#include "registration/registration_events.hpp"
#include "store/reader_pool.hpp"

namespace cohort::privacy {

struct erasure;

struct privacy_context {
  store::reader_pool* readers = nullptr;
  registration::write_path writes;
  registration::events* events = nullptr;  // cancelled/seated after an erasure; the mail hooks
  privacy_config privacy;
  ce_config ce;
};

class privacy_api {
 public:
  explicit privacy_api(privacy_context ctx) : ctx_(std::move(ctx)) {}
  void add_routes(http::router& r);

  // After an erasure committed (also the retention sweep's): revoke the token, seat the promoted,
  // wake the mail sender, and say so on stdout (quiet: the sweep logs one line per series).
  void tell(const erasure& e, bool quiet = false) const;

 private:
  void export_me(http::request& req, http::responder& respond);
  void export_for(http::request& req, http::responder& respond);
  void erase_me(http::request& req, http::responder& respond);
  void erase_for(http::request& req, http::responder& respond);
  void get_notice(http::request& req, http::responder& respond);
  void put_notice(http::request& req, http::responder& respond);

  privacy_context ctx_;
};

}  // namespace cohort::privacy
