// CE certificates as a node module (primary only): the certificate routes, the PDF renderer
// (its fonts are checked at start-up) and the issuer the CE completion rule calls when a
// registrant earns credit.
#pragma once

#include "certificates/certificate_pdf.hpp"
#include "certificates/certificate_store.hpp"
#include "certificates/certificates_api.hpp"
#include "email/mailer.hpp"
#include "node/module.hpp"
#include "node/node_services.hpp"

#include <functional>
#include <memory>

namespace cohort::certificates {

// The "your certificate is ready" mail, queued in the issuing transaction.
issued_hook ready_mail(const email::mailer& mail);

class certificates_module : public node::module {
 public:
  // Throws node::startup_error (exit 2) when the fonts are missing or libharu cannot use them.
  certificates_module(const node::node_services& node, const email::mailer& mail);
  void add_routes(http::router& r) override { api_->add_routes(r); }

  // Issues (idempotently) inside the caller's write transaction and mails a fresh certificate
  // there too; for the CE slice's credit hook. Throws what certificates::issue throws.
  std::function<void(store::database&, const issue_request&, std::int64_t now)> issuer() const;

 private:
  std::unique_ptr<certificate_renderer> renderer_;
  issued_hook on_issued_;
  std::unique_ptr<certificates_api> api_;
};

}  // namespace cohort::certificates
