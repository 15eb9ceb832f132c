// What Cohort mails, and when: turns registration and drop events into outbox rows. The event
// functions run inside the single writer's transaction of the event that causes the mail
// (registration::mail_hooks, drops::release_hook, the reminder sweep), so a mail exists exactly
// when its event committed, and its dedupe key makes it once-only — also across restarts. They
// only insert a small row (kind + args): compose() writes the message itself on the sender's
// thread, so a signup costs the writer one short insert, not a MIME message and a calendar.
//
// Links in later mails (reminders, promotions, drop notices) need the registrant's token, which
// the database otherwise keeps only as a hash: the signup seals it (libsodium secretbox under the
// key ring's join-link key) into registration_links.
#pragma once

#include "email/mime.hpp"
#include "email/outbox_store.hpp"
#include "email/templates.hpp"
#include "store/sqlite.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cohort::email {

// The mailer's keys, from the key ring (gateway/key_ring.hpp): it never sees the master secret.
struct link_keys {
  std::string seal;          // 32 bytes: seals join links
  std::string unsubscribe;   // signs unsubscribe links
  std::string legacy_seal, legacy_unsubscribe;  // before the key split: those links still open and verify
  std::function<std::string(const std::string&)> renew_token;  // a legacy c1 token -> c2 for the next mail
};

// A continuing-education certificate just issued (certificates::issue), as printed on it.
struct certificate_notice {
  std::string code;           // XXXX-XXXX-XXXX
  std::int64_t webinar_id = 0;
  std::string name;           // as printed (a re-issue may correct it)
  std::string course_title;
  std::string session_title;
  std::string kind;           // live | recorded
  std::string hours;          // formatted by the caller, e.g. "1.5"
  std::string ceus;           // e.g. "0.15"
};

struct mailer_options {
  std::string public_url;  // base of every link, no trailing slash
  mailbox from;
  std::string host;        // the domain of Message-IDs and calendar UIDs
  std::string link_secret; // when `keys` is empty (tests): the seal and unsubscribe keys are derived from it
  std::vector<std::int64_t> reminder_offsets_seconds{24 * 3600, 3600};
  link_keys keys;
};

class mailer {
 public:
  mailer(mailer_options options, template_set templates);

  // Registration events (registration::mail_hooks).
  void signed_up(store::database& db, std::int64_t registration_id, const std::string& token, std::int64_t now) const;
  // registration.confirm_email: an unconfirmed signup (seals its token; empty token: the same
  // address signed up again) asks its address to confirm — unless a request went to that
  // address, for any series, within the last hour (a signup form must not become a way to
  // mail a stranger over and over). Returns whether a request was queued.
  bool confirmation_requested(store::database& db, std::int64_t registration_id, const std::string& token, std::int64_t now) const;
  // The registrant opened the link: the mail a signup sends without confirmation (join link
  // and invitation, or the waitlist note), as the registration stands now.
  void confirmed(store::database& db, std::int64_t registration_id, std::int64_t now) const;
  void promoted(store::database& db, std::int64_t registration_id, std::int64_t now) const;
  // The registrant cancelled (or the organizer for them): a calendar CANCEL, or for someone who
  // was only waitlisted a plain note (waitlist_left).
  void cancelled(store::database& db, std::int64_t registration_id, bool was_waitlisted, std::int64_t now) const;
  // The series' sessions changed: an updated invitation (same UIDs, higher SEQUENCE) to everyone registered.
  void rescheduled(store::database& db, std::int64_t webinar_id, std::int64_t now) const;
  // The series is about to be deleted (called in the deleting transaction, before the rows go):
  // everyone registered or waitlisted is told, the registered with a calendar cancellation. The
  // row carries what the message needs (name, title, sessions), since nothing is left to read.
  void series_cancelled(store::database& db, std::int64_t webinar_id, std::int64_t now) const;
  // A released drop: a notice to its audience (nullopt: everyone registered) who still want them.
  void drop_released(store::database& db, std::int64_t webinar_id, std::int64_t drop_id, const std::string& title,
                     const std::string& body, const std::optional<std::vector<std::int64_t>>& audience, std::int64_t now) const;
  // A certificate was issued (in its transaction): "your certificate is ready", with the link to
  // the registrant's CE page and the public verification URL; once per code.
  void certificate_ready(store::database& db, std::int64_t registration_id, const certificate_notice& c, std::int64_t now) const;
  // Queues every reminder due at `now` (see reminders_due); returns how many were new.
  int queue_reminders(store::database& db, std::int64_t now) const;

  // The message of a queued row (outbox_sender::options::compose), from the database as it is
  // now; `now` is the time of composing (a reminder's "starts in"); Date and the calendar's
  // DTSTAMP are the row's queue time, so composing twice gives the same bytes. Throws when the
  // registration is gone, cancelled, or (reminders, drop notices) unsubscribed.
  // `redacted`: for the organizer's eyes (the console's view of a message) — the registrant's
  // token and unsubscribe signature are replaced by REDACTED wherever a link carries them.
  composed_mail compose(store::database& db, const outbox_entry& entry, std::int64_t now, bool redacted = false) const;
  static constexpr const char* redacted_text = "REDACTED";

  // A registrant's unsubscribe page (in the message body) and the one-click URL mail clients
  // POST to (RFC 8058, the List-Unsubscribe header); the same signature.
  std::string unsubscribe_url(std::int64_t registration_id) const;
  std::string one_click_url(std::int64_t registration_id) const;
  bool unsubscribe_signature_ok(std::int64_t registration_id, std::string_view signature) const;

 private:
  struct recipient;
  std::optional<recipient> load(store::database& db, std::int64_t registration_id) const;
  // Inserts the row for `kind` to the registration's email; false when its dedupe key exists.
  bool queue(store::database& db, std::int64_t registration_id, std::string_view kind, const std::string& dedupe_key,
             const std::string& args, std::int64_t now) const;
  attachment invitation(const recipient& r, bool cancel, std::int64_t sequence, std::int64_t now) const;
  composed_mail compose_series_cancelled(const outbox_entry& entry) const;
  // The message itself: sender, recipient, the rendered text, an optional calendar, extra headers.
  composed_mail render(const outbox_entry& entry, const recipient& r, const rendered_text& text, std::optional<attachment> calendar,
                       std::vector<header_field> headers) const;
  void queue_welcome(store::database& db, std::int64_t registration_id, std::int64_t now) const;
  std::string signature(std::int64_t registration_id) const;
  std::string join_url(const recipient& r) const;
  std::string cancel_url(const recipient& r) const;
  std::string seal(const std::string& token) const;
  std::optional<std::string> unseal(const std::string& sealed) const;
  static std::optional<std::string> unseal_with(const std::string& sealed, const std::string& key);

  mailer_options options_;
  template_set templates_;
  std::string seal_key_;    // 32 bytes, from the link secret
  std::string unsub_key_;   // HMAC key for unsubscribe links
};

}  // namespace cohort::email
