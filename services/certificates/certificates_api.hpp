// The certificate routes (proto/http-api.yaml, "Certificates"): a registrant lists and downloads
// their own (Bearer token), anyone verifies a code, the organizer lists a series' certificates
// (JSON, CSV), downloads, revokes and re-issues. PDFs are rendered per request from the record;
// writes go through the single writer.
#pragma once

#include "certificates/certificate_pdf.hpp"
#include "certificates/certificate_store.hpp"
#include "gateway/router.hpp"
#include "registration/api_support.hpp"
#include "store/reader_pool.hpp"

#include <atomic>
#include <string>

namespace cohort::certificates {

struct certificates_context {
  registration::write_path writes;
  store::reader_pool* readers = nullptr;
  const certificate_renderer* renderer = nullptr;
  std::string public_url;  // the verification URL's base, no trailing slash
  issued_hook on_issued;   // a re-issue mails the new certificate
};

class certificates_api {
 public:
  explicit certificates_api(certificates_context ctx) : ctx_(std::move(ctx)) {}
  void add_routes(http::router& r);

  std::string verify_url(const std::string& code) const { return ctx_.public_url + "/verify/" + code; }

 private:
  void mine(http::request& req, http::responder& respond);
  void my_pdf(http::request& req, http::responder& respond);
  void organizer_pdf(http::request& req, http::responder& respond);
  void verify(http::request& req, http::responder& respond);
  void series_json(http::request& req, http::responder& respond);
  void series_csv(http::request& req, http::responder& respond);
  void revoke(http::request& req, http::responder& respond);
  void reissue(http::request& req, http::responder& respond);

  // Renders on the request thread (tens of milliseconds): at most max_renders at once, the rest
  // are answered 503 so PDF downloads cannot take every io thread.
  http::response pdf_of(const certificate& c);
  static constexpr int max_renders = 2;

  certificates_context ctx_;
  std::atomic<int> renders_{0};
};

}  // namespace cohort::certificates
