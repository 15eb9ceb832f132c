// Sends one rendered message over SMTP with libcurl: smtp:// (optionally with STARTTLS
// required) or smtps:// (TLS from the first byte), optional AUTH, timeouts. Blocking: it runs on
// the dedicated sender thread, one message at a time; an smtp_sender is used by one thread. The
// easy handle is kept between messages so the connection to the relay is reused.
#pragma once

#include "email/retry.hpp"

#include <curl/curl.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace cohort::email {

struct upload_source;

enum class smtp_tls { none, starttls, implicit };

struct smtp_config {
  std::string host;
  int port = 587;
  smtp_tls tls = smtp_tls::starttls;  // starttls: refuse to send if the server does not offer it
  std::string username;               // empty: no AUTH
  std::string password;
  bool verify_peer = true;            // false only for tests against a self-signed relay
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds timeout{60};   // the whole transaction
};

class smtp_sender {
 public:
  explicit smtp_sender(smtp_config config);
  smtp_sender(const smtp_sender&) = delete;
  smtp_sender& operator=(const smtp_sender&) = delete;

  // MAIL FROM:<envelope_from> RCPT TO:<envelope_to> DATA rendered (CRLF line endings, as
  // render_mime makes it). Never throws for a delivery problem: the outcome says what to do.
  send_result send(std::string_view envelope_from, std::string_view envelope_to, std::string_view rendered);

  const smtp_config& config() const { return config_; }

  // Checked about once a second while a message is on its way (the connect and greeting included):
  // true ends that send at once, as a retry. For a stop that must not wait for a relay's timeouts.
  void set_abort(std::function<bool()> check) { abort_ = std::move(check); }

 private:
  struct easy_cleanup {
    void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
  };
  struct slist_free {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
  };
  using recipients = std::unique_ptr<curl_slist, slist_free>;

  recipients prepare(std::string_view from, std::string_view to, upload_source& source, char* error_buffer);

  smtp_config config_;
  std::string url_;
  std::unique_ptr<CURL, easy_cleanup> curl_;
  std::function<bool()> abort_;
};

}  // namespace cohort::email
