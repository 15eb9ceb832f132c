#include "email/smtp_sender.hpp"

#include "email/mime.hpp"
#include "smtp_servers.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

using namespace cohort::email;
using namespace cohort::email::testing;

std::string rendered(const std::string& subject, const std::string& unique) {
  mail_message m;
  m.from = {"Cohort", "team@cohort.example.org"};
  m.to = {"Maya", "maya@example.org"};
  m.subject = subject;
  m.text_body = "Hi Maya,\n.\nsee you there.\n";  // a lone "." line must not end DATA early
  m.html_body = "<p>Hi Maya</p>";
  m.attachments.push_back({"invite.ics", "text/calendar; method=REQUEST; charset=UTF-8", "BEGIN:VCALENDAR\r\n"});
  m.message_id = make_message_id(unique, "cohort.example.org");
  m.date = 1768471200;
  m.headers = unsubscribe_headers("https://cohort.example.org/unsubscribe?t=abc");
  return render_mime(m);
}

smtp_config plain(int port) {
  smtp_config c;
  c.host = "127.0.0.1";
  c.port = port;
  c.tls = smtp_tls::none;
  c.connect_timeout = std::chrono::seconds(5);
  c.timeout = std::chrono::seconds(15);
  return c;
}

}  // namespace

TEST_CASE("smtp_sender delivers to a real SMTP server (aiosmtpd), reusing the handle", "[email][smtp]") {
  aiosmtpd_server server;
  smtp_sender sender(plain(server.port()));
  const auto first = sender.send("team@cohort.example.org", "maya@example.org", rendered("Welcome to Cohort", "m1"));
  CHECK(first.outcome == send_outcome::sent);
  CHECK(first.smtp_code == 250);
  CHECK(first.error.empty());
  const auto second = sender.send("team@cohort.example.org", "maya@example.org", rendered("Reminder: starts soon", "m2"));
  CHECK(second.outcome == send_outcome::sent);

  const auto output = server.stop_and_read_output();
  INFO(output);
  CHECK_THAT(output, Catch::Matchers::Contains("Subject: Welcome to Cohort"));
  CHECK_THAT(output, Catch::Matchers::Contains("Subject: Reminder: starts soon"));
  CHECK_THAT(output, Catch::Matchers::Contains("Message-ID: <m1@cohort.example.org>"));
  CHECK_THAT(output, Catch::Matchers::Contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
  CHECK_THAT(output, Catch::Matchers::Contains("see you there."));
}

TEST_CASE("a closed port is a network error: retry, no SMTP code", "[email][smtp]") {
  smtp_sender sender(plain(redis_server::free_port()));
  const auto r = sender.send("team@cohort.example.org", "maya@example.org", rendered("x", "m3"));
  CHECK(r.outcome == send_outcome::retry);
  CHECK(r.smtp_code == 0);
  CHECK_FALSE(r.error.empty());
}

TEST_CASE("SMTP refusals: 5xx is permanent, 4xx is retry, with the code in the result", "[email][smtp]") {
  SECTION("550 at RCPT") {
    scripted_smtp_server server("550 5.1.1 no such user");
    smtp_sender sender(plain(server.port()));
    const auto r = sender.send("team@cohort.example.org", "nobody@example.org", rendered("x", "m4"));
    CHECK(r.outcome == send_outcome::permanent);
    CHECK(r.smtp_code == 550);
    CHECK_THAT(r.error, Catch::Matchers::Contains("550"));
    CHECK_THAT(server.transcript(), Catch::Matchers::Contains("RCPT TO:<nobody@example.org>"));
    CHECK_THAT(server.transcript(), Catch::Matchers::Contains("MAIL FROM:<team@cohort.example.org>"));
  }
  SECTION("451 at RCPT (greylisting)") {
    scripted_smtp_server server("451 4.7.1 try again later");
    smtp_sender sender(plain(server.port()));
    const auto r = sender.send("team@cohort.example.org", "maya@example.org", rendered("x", "m5"));
    CHECK(r.outcome == send_outcome::retry);
    CHECK(r.smtp_code == 451);
  }
  // The relay refusing us (its greeting, or our sender address) is not this message's fault: it
  // is a set-up problem the organizer fixes, and every message would fail alike. Retry.
  SECTION("554 greeting (the relay takes no mail from us)") {
    scripted_smtp_server server("250 OK", "250 OK", "250 OK", "554 5.7.1 no service for you");
    smtp_sender sender(plain(server.port()));
    const auto r = sender.send("team@cohort.example.org", "maya@example.org", rendered("x", "m7"));
    CHECK(r.outcome == send_outcome::retry);
    CHECK(r.smtp_code == 554);
    CHECK_THAT(r.error, Catch::Matchers::Contains("554"));
  }
  SECTION("550 at MAIL FROM (a sender address the relay does not accept)") {
    scripted_smtp_server server("250 OK", "250 OK", "550 5.7.1 sender not allowed");
    smtp_sender sender(plain(server.port()));
    const auto r = sender.send("team@cohort.example.org", "maya@example.org", rendered("x", "m8"));
    CHECK(r.outcome == send_outcome::retry);
    CHECK(r.smtp_code == 550);
    CHECK_THAT(server.transcript(), !Catch::Matchers::Contains("RCPT"));
  }
  SECTION("554 after the message (content rejected)") {
    scripted_smtp_server server("250 OK", "554 5.7.1 rejected");
    smtp_sender sender(plain(server.port()));
    const auto r = sender.send("team@cohort.example.org", "maya@example.org", rendered("x", "m6"));
    CHECK(r.outcome == send_outcome::permanent);
    CHECK(r.smtp_code == 554);
  }
}

TEST_CASE("STARTTLS required: a server that does not offer it gets nothing (retry)", "[email][smtp]") {
  scripted_smtp_server server("250 OK");
  auto config = plain(server.port());
  config.tls = smtp_tls::starttls;
  smtp_sender sender(config);
  const auto r = sender.send("team@cohort.example.org", "maya@example.org", rendered("secret", "m7"));
  CHECK(r.outcome == send_outcome::retry);
  CHECK(server.transcript().find("MAIL FROM") == std::string::npos);
}

TEST_CASE("an envelope address with CR/LF is refused before anything is sent", "[email][smtp][security]") {
  scripted_smtp_server server("250 OK");
  smtp_sender sender(plain(server.port()));
  const auto r = sender.send("team@cohort.example.org", "maya@example.org>\r\nRCPT TO:<x@y.example", rendered("x", "m8"));
  CHECK(r.outcome == send_outcome::permanent);
  CHECK(server.transcript().empty());
}
