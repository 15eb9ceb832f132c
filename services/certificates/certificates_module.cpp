#include "certificates/certificates_module.hpp"

#include "node/node_core.hpp"

namespace cohort::certificates {

issued_hook ready_mail(const email::mailer& mail) {
  return [m = &mail](store::database& db, const certificate& c, std::int64_t now) {
    m->certificate_ready(db, c.registration_id,
                         {c.code, c.webinar_id, c.name, c.course_title, c.session_title, c.kind, decimal_text(c.contact_hours),
                          decimal_text(c.ceus)},
                         now);
  };
}

namespace {

std::unique_ptr<certificate_renderer> make_renderer() {
  try {
    return std::make_unique<certificate_renderer>(dejavu_fonts());
  } catch (const pdf_error& e) {
    throw node::startup_error(2, std::string("certificates: ") + e.what());
  }
}

}  // namespace

certificates_module::certificates_module(const node::node_services& node, const email::mailer& mail)
    : renderer_(make_renderer()),
      on_issued_(ready_mail(mail)),
      api_(std::make_unique<certificates_api>(certificates_context{node.writes(), node.readers, renderer_.get(), node.public_url, on_issued_})) {}

std::function<void(store::database&, const issue_request&, std::int64_t)> certificates_module::issuer() const {
  return [hook = on_issued_](store::database& db, const issue_request& r, std::int64_t now) { issue(db, r, now, hook); };
}

}  // namespace cohort::certificates
