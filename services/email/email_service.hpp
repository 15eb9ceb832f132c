// The email side of a primary in one place: the mailer (what to mail, hooked into the
// registration and drop transactions), the sender thread that drains the outbox, and the
// reminder sweep. main builds one and wires its hooks; nothing else owns email state.
#pragma once

#include "config/config.hpp"
#include "email/mailer.hpp"
#include "email/outbox_sender.hpp"
#include "registration/registration_api.hpp"
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

class email_service {
 public:
  // Throws (naming what is wrong) when the templates or the relay settings are unusable.
  email_service(email_service_options options, store::sqlite_writer& writer, boost::asio::io_context& ioc);
  ~email_service();
  email_service(const email_service&) = delete;
  email_service& operator=(const email_service&) = delete;

  // What registration events mail, inside their own transactions; `queued` wakes the sender.
  registration::mail_hooks registration_hooks() const;
  const email::mailer& mailer() const { return *mailer_; }
  void wake() { sender_->wake(); }

  std::string transport() const { return smtp_ ? "smtp" : "files"; }
  const std::string& outbox_dir() const { return outbox_dir_; }

  // Starts the sender and sweeps due reminders now and every 30 s on the io_context.
  void start();
  // From the io_context's shutdown: no further sweeps.
  void cancel_sweeps() { sweep_timer_.cancel(); }
  // After the io threads ended: lets the delivery in flight finish, then joins the sender.
  void stop() { sender_->stop(); }

 private:
  void sweep_reminders();

  store::sqlite_writer& writer_;
  std::unique_ptr<email::mailer> mailer_;
  std::unique_ptr<outbox_sender> sender_;
  bool smtp_ = false;
  std::string outbox_dir_;
  boost::asio::steady_timer sweep_timer_;
};

}  // namespace cohort::email
