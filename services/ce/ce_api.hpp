// The CE routes: the organizer's settings (GET/PUT /api/webinars/{id}/ce) and report
// (.../ce/report[.csv]), the public summary (.../ce/summary), and the registrant's "My CE"
// (GET /api/me/ce) and attestation (POST /api/me/ce/{session}/attest). Reads use a reader
// lease; writes go to the single writer and settle credit in the same transaction.
#pragma once

#include "ce/credit.hpp"
#include "gateway/router.hpp"
#include "registration/api_support.hpp"
#include "store/reader_pool.hpp"

#include <memory>

namespace cohort::ce {

struct ce_context {
  registration::write_path writes;
  store::reader_pool* readers = nullptr;
  std::shared_ptr<const credit_hooks> hooks;  // filled before the node starts, read on the writer
};

class ce_api {
 public:
  explicit ce_api(ce_context ctx) : ctx_(std::move(ctx)) {}
  void add_routes(http::router& r);

 private:
  void get_settings(http::request& req, http::responder& respond);
  void put_settings(http::request& req, http::responder& respond);
  void summary(http::request& req, http::responder& respond);
  void report_json(http::request& req, http::responder& respond);
  void report_csv(http::request& req, http::responder& respond);
  void my_ce(http::request& req, http::responder& respond);
  void attest(http::request& req, http::responder& respond);
  // Credit earned but not settled yet (e.g. the hook was wired after the fact): settle it in the
  // background; the read that noticed does not wait for it.
  void settle_later(std::int64_t webinar_id, std::int64_t registration_id, const std::vector<int>& sessions) const;

  ce_context ctx_;
};

}  // namespace cohort::ce
