// The email side of a primary in one place, as a node module: the mailer (what to mail, hooked
// into the registration and drop transactions), the sender thread that drains the outbox, the
// reminder sweep and the organizer's email routes. Nothing else owns email state.
#pragma once

#include "config/config.hpp"
#include "email/email_api.hpp"
#include "email/mailer.hpp"
#include "email/outbox_sender.hpp"
#include "node/module.hpp"
#include "node/node_services.hpp"
#include "registration/registration_events.hpp"
#include "store/sqlite_writer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace cohort::email {

struct email_service_options {
  email_config settings;                  // [email]
  std::filesystem::path data_dir;         // the database and the .eml folder live here
  std::filesystem::path templates_dir;    // used when settings.templates_dir is empty
  std::string public_url;                 // base of every link, no trailing slash
  link_keys keys;                         // seal join links, sign unsubscribe links (from the key ring)
};

class email_service : public node::module {
 public:
  // Throws (naming what is wrong) when the templates or the relay settings are unusable.
  email_service(email_service_options options, store::sqlite_writer& writer, boost::asio::io_context& ioc);
  // From the primary's services: [email], the data dir, the key ring; hooks the mailer into the
  // registration transactions (node.registrations->mail). Throws node::startup_error (exit 2).
  explicit email_service(const node::node_services& node);
  ~email_service() override;
  email_service(const email_service&) = delete;
  email_service& operator=(const email_service&) = delete;

  // What registration events mail, inside their own transactions; `queued` wakes the sender.
  registration::mail_hooks registration_hooks() const;
  const email::mailer& mailer() const { return *mailer_; }
  void wake() { sender_->wake(); }

  std::string transport() const { return smtp_ ? "smtp" : "files"; }
  const std::string& outbox_dir() const { return outbox_dir_; }

  void add_routes(http::router& r) override;
  // Starts the sender and sweeps due reminders now and every 30 s on the io_context.
  void start() override;
  // From the io_context's shutdown: no further sweeps.
  void stop() override { sweep_timer_.cancel(); }
  // After the io threads ended: lets the delivery in flight finish, then joins the sender.
  void join() override { sender_->stop(); }

 private:
  void sweep_reminders();

  registration::write_path writes_;
  store::reader_pool* readers_ = nullptr;
  std::unique_ptr<email_api> api_;
  store::sqlite_writer& writer_;
  std::unique_ptr<email::mailer> mailer_;
  std::unique_ptr<outbox_sender> sender_;
  bool smtp_ = false;
  std::string outbox_dir_;
  boost::asio::steady_timer sweep_timer_;
};

}  // namespace cohort::email
