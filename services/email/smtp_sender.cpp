#include "email/smtp_sender.hpp"

#include "email/mime.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace cohort::email {

// The message body, handed to curl in pieces as it asks for them.
struct upload_source {
  std::string_view data;
  std::size_t offset = 0;
};

namespace {

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto& source = *static_cast<upload_source*>(user);
  const auto n = std::min(size * count, source.data.size() - source.offset);
  std::memcpy(buffer, source.data.data() + source.offset, n);
  source.offset += n;
  return n;
}

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
  });
}

int check_abort(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto& check = *static_cast<const std::function<bool()>*>(user);
  return check && check() ? 1 : 0;
}

std::string make_url(const smtp_config& c) {
  std::string host = c.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";  // an IPv6 literal
  return (c.tls == smtp_tls::implicit ? "smtps://" : "smtp://") + host + ":" + std::to_string(c.port);
}

}  // namespace

smtp_sender::smtp_sender(smtp_config config) : config_(std::move(config)), url_(make_url(config_)) {
  global_init_once();
  curl_.reset(curl_easy_init());
  if (!curl_) throw std::runtime_error("curl_easy_init failed");
}

smtp_sender::recipients smtp_sender::prepare(std::string_view from, std::string_view to, upload_source& source,
                                             char* error_buffer) {
  CURL* h = curl_.get();
  // reset() forgets the last message's options but keeps the open connection for reuse.
  curl_easy_reset(h);
  recipients rcpt(curl_slist_append(nullptr, ("<" + std::string(to) + ">").c_str()));
  if (!rcpt) throw std::bad_alloc();
  const std::string mail_from = "<" + std::string(from) + ">";
  curl_easy_setopt(h, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());  // curl copies string options
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, &read_upload);
  curl_easy_setopt(h, CURLOPT_READDATA, &source);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(source.data.size()));
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM on a thread that is not the main one
  if (abort_) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &check_abort);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &abort_);
  }
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, static_cast<long>(config_.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT, static_cast<long>(config_.timeout.count()));
  curl_easy_setopt(h, CURLOPT_USE_SSL, config_.tls == smtp_tls::starttls ? CURLUSESSL_ALL : CURLUSESSL_NONE);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, config_.verify_peer ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, config_.verify_peer ? 2L : 0L);
  if (!config_.username.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, config_.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, config_.password.c_str());
  }
  return rcpt;
}

send_result smtp_sender::send(std::string_view from, std::string_view to, std::string_view rendered) {
  // The envelope goes on the wire as-is: an address with CR/LF would be a command injection.
  if (!is_valid_address(from) || !is_valid_address(to))
    return {send_outcome::permanent, 0, "invalid envelope address"};
  upload_source source{rendered};
  char error_buffer[CURL_ERROR_SIZE] = {};
  const auto rcpt = prepare(from, to, source, error_buffer);
  const CURLcode rc = curl_easy_perform(curl_.get());
  long code = 0;
  curl_easy_getinfo(curl_.get(), CURLINFO_RESPONSE_CODE, &code);
  // The handle must not point at this stack frame's buffer or source after we return.
  curl_easy_setopt(curl_.get(), CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(curl_.get(), CURLOPT_READDATA, nullptr);
  curl_easy_setopt(curl_.get(), CURLOPT_MAIL_RCPT, nullptr);

  // libcurl names the failing command in its message ("MAIL failed: 550"; the greeting: "Got
  // unexpected smtp-server response: 554"); RCPT, DATA and the end of data are the message's.
  const std::string_view said(error_buffer);
  const auto stage = said.rfind("MAIL failed", 0) == 0 || said.rfind("Got unexpected smtp-server response", 0) == 0
                         ? smtp_stage::relay
                         : smtp_stage::message;
  send_result result{classify(rc, code, stage), code, {}};
  if (result.outcome != send_outcome::sent) {
    result.error = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc);
    if (code != 0) result.error += " (SMTP " + std::to_string(code) + ")";
  }
  return result;
}

}  // namespace cohort::email
