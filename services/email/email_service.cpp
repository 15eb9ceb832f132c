#include "email/email_service.hpp"

#include "common/describe.hpp"
#include "common/rfc3339.hpp"
#include "node/addresses.hpp"
#include "node/node_core.hpp"

#include <boost/url/parse.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <stdexcept>

namespace cohort::email {

namespace fs = std::filesystem;

namespace {

// The domain of Message-IDs, calendar UIDs and the default sender: the public URL's host when
// it is a name (an IP address or "localhost" makes poor mail domains), else "localhost".
std::string mail_host(const std::string& public_url) {
  const auto url = boost::urls::parse_uri(public_url);
  const std::string host = url ? std::string(url->host()) : std::string();
  const bool named = host.find('.') != std::string::npos && host.find_first_of("abcdefghijklmnopqrstuvwxyz") != std::string::npos;
  return named ? host : "localhost";
}

std::optional<smtp_config> relay_of(const email_config& c) {
  if (c.smtp_host.empty()) return std::nullopt;
  smtp_config smtp;
  smtp.host = c.smtp_host;
  smtp.port = c.smtp_port;
  smtp.tls = c.smtp_tls == "tls" ? smtp_tls::implicit : c.smtp_tls == "none" ? smtp_tls::none : smtp_tls::starttls;
  smtp.username = c.smtp_username;
  smtp.password = c.smtp_password;
  if (smtp.password.empty())
    if (const char* env = std::getenv("COHORT_SMTP_PASSWORD")) smtp.password = env;
  return smtp;
}

}  // namespace

email_service::email_service(email_service_options o, store::sqlite_writer& writer, boost::asio::io_context& ioc)
    : writer_(writer), sweep_timer_(ioc) {
  const auto& c = o.settings;
  mailer_options mo;
  mo.public_url = o.public_url;
  mo.host = mail_host(o.public_url);
  mo.from = {c.from_name, c.from_address.empty() ? "webinars@" + mo.host : c.from_address};
  mo.keys = std::move(o.keys);
  mo.reminder_offsets_seconds.clear();
  for (int m : c.reminder_minutes) mo.reminder_offsets_seconds.push_back(std::int64_t{m} * 60);
  const auto envelope_from = mo.from.address;
  const fs::path templates = c.templates_dir.empty() ? o.templates_dir : fs::path(c.templates_dir);
  mailer_ = std::make_unique<email::mailer>(std::move(mo), template_set::load(templates));

  outbox_sender::options so;
  so.db_path = (o.data_dir / "cohort.db").string();
  so.writer = &writer;
  so.eml_dir = o.data_dir / "outbox";
  so.envelope_from = envelope_from;
  so.policy.first_delay_seconds = c.retry_first_seconds;
  so.smtp = relay_of(c);
  so.compose = [m = mailer_.get()](store::database& db, const outbox_entry& e) { return m->compose(db, e, common::unix_now()); };
  smtp_ = so.smtp.has_value();
  outbox_dir_ = fs::absolute(so.eml_dir).lexically_normal().string();
  sender_ = std::make_unique<outbox_sender>(std::move(so));
}

// Unusable templates or relay settings stop the start-up as a configuration error (exit 2).
email_service::email_service(const node::node_services& node) try
    : email_service({node.cfg.email, node.data_dir, node::beside_build("config/email", "confirmation.txt"), node.public_url,
                     {node.keys->join_link_key, node.keys->unsubscribe_key, node.keys->legacy_join_link_key,
                      node.keys->legacy_unsubscribe_key, [tokens = node.tokens](const std::string& token) { return tokens->reissue(token); }}},
                    *node.writer, node.ioc) {
  writes_ = node.writes();
  readers_ = node.readers;
  if (node.registrations) node.registrations->mail = registration_hooks();
} catch (const std::exception& e) {
  throw node::startup_error(2, std::string("config: email: ") + e.what());
}

email_service::~email_service() = default;

void email_service::add_routes(http::router& r) {
  api_ = std::make_unique<email_api>(email_context{writes_, readers_, mailer_.get(), transport(), outbox_dir()});
  api_->add_routes(r);
}

registration::mail_hooks email_service::registration_hooks() const {
  registration::mail_hooks hooks;
  const auto* m = mailer_.get();
  hooks.signed_up = [m](store::database& db, std::int64_t id, const std::string& token) { m->signed_up(db, id, token, common::unix_now()); };
  hooks.confirmation_requested = [m](store::database& db, std::int64_t id, const std::string& token) {
    m->confirmation_requested(db, id, token, common::unix_now());
  };
  hooks.confirmed = [m](store::database& db, std::int64_t id) { m->confirmed(db, id, common::unix_now()); };
  hooks.promoted = [m](store::database& db, std::int64_t id) { m->promoted(db, id, common::unix_now()); };
  hooks.cancelled = [m](store::database& db, std::int64_t id, bool was_waitlisted) {
    m->cancelled(db, id, was_waitlisted, common::unix_now());
  };
  hooks.rescheduled = [m](store::database& db, std::int64_t webinar) { m->rescheduled(db, webinar, common::unix_now()); };
  hooks.series_deleted = [m](store::database& db, std::int64_t webinar) { m->series_cancelled(db, webinar, common::unix_now()); };
  hooks.queued = [s = sender_.get()] { s->wake(); };
  return hooks;
}

void email_service::start() {
  sender_->start();
  sweep_reminders();
}

// Queues the reminders that fell due, now and every 30 s (reminders are once-only by key, so a
// sweep that runs twice, or after a restart, sends nothing twice).
void email_service::sweep_reminders() {
  writer_.submit([m = mailer_.get()](store::database& db) { m->queue_reminders(db, common::unix_now()); },
                 [s = sender_.get()](std::exception_ptr ep) {
                   if (!ep) return s->wake();
                   std::cerr << "cohort: reminder sweep failed: " << common::describe(ep) << "\n";
                 });
  sweep_timer_.expires_after(std::chrono::seconds(30));
  sweep_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) sweep_reminders();
  });
}

}  // namespace cohort::email
