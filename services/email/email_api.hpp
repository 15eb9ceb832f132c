// Email routes: the one-click unsubscribe (RFC 8058: POST /api/unsubscribe?r=&sig=, which the
// page /unsubscribe calls and mail clients call directly), a registrant's drop-notice choice,
// and the organizer's view of a series' outbox (what was sent, what waits, what failed — and,
// without SMTP, the messages themselves).
#pragma once

#include "email/mailer.hpp"
#include "gateway/router.hpp"
#include "registration/api_support.hpp"
#include "store/reader_pool.hpp"

#include <functional>

namespace cohort::email {

struct email_context {
  registration::write_path writes;
  store::reader_pool* readers = nullptr;
  const mailer* mail = nullptr;
  std::string transport;    // "smtp" or "files"
  std::string outbox_dir;   // files: where the .eml files are
};

class email_api {
 public:
  explicit email_api(email_context ctx) : ctx_(std::move(ctx)) {}
  void add_routes(http::router& r);

 private:
  void unsubscribe(http::request& req, http::responder& respond);
  void get_preferences(http::request& req, http::responder& respond);
  void put_preferences(http::request& req, http::responder& respond);
  void list(http::request& req, http::responder& respond);
  void message(http::request& req, http::responder& respond);

  email_context ctx_;
};

}  // namespace cohort::email
