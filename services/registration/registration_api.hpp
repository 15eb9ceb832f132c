// The registration HTTP API: webinar series (organizer writes, public reads), signups (rate
// limited per client address and per series, a honeypot field, optional confirmation by email),
// the registrant's own record (/api/me, /api/me/confirm), and the organizer's registrant list
// and CSV export.
// Reads run on the request thread through a reader lease; writes go to the single writer and
// answer from its completion, after COMMIT.
#pragma once

#include "gateway/auth.hpp"
#include "gateway/router.hpp"
#include "registration/registration_store.hpp"
#include "gateway/window_limiter.hpp"
#include "store/reader_pool.hpp"
#include "store/sqlite_writer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>

#include <functional>
#include <memory>
#include <vector>
#include <string>

namespace cohort::metrics { struct registry; }

namespace cohort::registration {

// Mail about registrations, queued inside the transaction of the event that causes it (the
// email outbox): each hook runs in the single writer before COMMIT, so a mail exists exactly
// when its event does. Empty hooks: no mail.
struct mail_hooks {
  std::function<void(store::database&, std::int64_t registration_id, const std::string& token)> signed_up;
  // registration.confirm_email: a signup waits for its confirmation link (token empty: the same
  // address signed up again; the hook decides whether another request may go out), then the
  // registrant opened it (the mail signed_up would have sent).
  std::function<void(store::database&, std::int64_t registration_id, const std::string& token)> confirmation_requested;
  std::function<void(store::database&, std::int64_t registration_id)> confirmed;
  std::function<void(store::database&, std::int64_t registration_id)> promoted;
  std::function<void(store::database&, std::int64_t registration_id, bool was_waitlisted)> cancelled;
  std::function<void(store::database&, std::int64_t webinar_id)> rescheduled;  // sessions changed
  std::function<void(store::database&, std::int64_t webinar_id)> series_deleted;  // before its rows go
  std::function<void()> queued;  // after a commit: mail may be waiting (wakes the sender)

  void promoted_all(store::database& db, const std::vector<std::int64_t>& ids) const {
    if (promoted)
      for (auto id : ids) promoted(db, id);
  }
};

struct api_context {
  store::sqlite_writer* writer = nullptr;
  store::reader_pool* readers = nullptr;
  const http::token_codec* tokens = nullptr;
  metrics::registry* metrics = nullptr;
  std::string public_url;  // base of join links, no trailing slash
  // The public signup route ([registration]): signups per client address (request::remote_address)
  // and per series in a minute, then 429 with Retry-After (0: no limit); and, with
  // confirm_email, a signup holds its place for confirm_seconds until its link is opened.
  int signups_per_ip_minute = 0;
  int signups_per_series_minute = 0;
  bool confirm_email = false;
  std::int64_t confirm_seconds = 24 * 3600;
  // Runs a task on the request threads. Write completions hop there so the single writer thread
  // spends its time on SQLite, not on building responses. Empty: run inline (tests, `routes`).
  std::function<void(std::function<void()>)> post_to_io;
  // Told after the change committed (main wires them: the chat revokes the token and closes
  // its sockets; the drop schedule follows moved sessions). Empty: nobody listens.
  std::function<void(std::int64_t webinar_id, std::int64_t registration_id, const std::string& token_nonce_hash)> on_cancelled;
  std::function<void(std::int64_t webinar_id)> on_webinar_changed;
  std::function<void(std::int64_t webinar_id)> on_webinar_deleted;  // after on_webinar_changed
  // The waitlist holds no seat in the live room: told of a signup that landed on it, and of
  // waitlisted registrations that got a seat (promoted), by their tokens' nonce hashes.
  std::function<void(const std::string& token_nonce_hash)> on_waitlisted;
  std::function<void(const std::vector<std::string>& token_nonce_hashes)> on_seated;
  // What other features have to say about a series after a PATCH, read in its transaction (the
  // drops: one tied to a session the edit removed); the answer carries them as "warnings".
  std::function<boost::json::array(store::database&, std::int64_t webinar_id)> warnings_of;
  mail_hooks mail;
};

class registration_api {
 public:
  explicit registration_api(api_context ctx);
  void add_routes(http::router& r);
  // confirm_email: lapses unconfirmed holds that ran out, now and then every little while
  // (a quarter of the hold, 1 s to 60 s) on the io_context; stop_sweeps() from its shutdown.
  void start_sweeps(boost::asio::io_context& ioc);
  void stop_sweeps();
  // One sweep: cancels the lapsed holds in the writer; the waitlist moves up into their seats.
  void lapse_unconfirmed();

 private:
  void create_webinar(http::request& req, http::responder& respond);
  void list_webinars(http::request& req, http::responder& respond);
  void get_webinar(http::request& req, http::responder& respond);
  void patch_webinar(http::request& req, http::responder& respond);
  void delete_webinar(http::request& req, http::responder& respond);
  void create_signup(http::request& req, http::responder& respond);
  // False when the signup may go ahead; true when the 429 was sent.
  bool signup_limited(http::request& req, http::responder& respond);
  void honeypot_answer(std::int64_t webinar_id, http::responder& respond);
  void confirm_me(http::request& req, http::responder& respond);
  void get_me(http::request& req, http::responder& respond);
  void cancel_me(http::request& req, http::responder& respond);
  void cancel_for(http::request& req, http::responder& respond);
  struct cancel_outcome {
    registration_record after;
    std::vector<std::string> seated;  // nonce hashes of those promoted into the freed seat
  };
  cancel_outcome cancel_with_mail(store::database& db, std::int64_t registration_id) const;
  void seated(const std::vector<std::string>& token_nonce_hashes) const;
  void list_registrations(http::request& req, http::responder& respond);
  void export_csv(http::request& req, http::responder& respond);

  // Queues work on the writer; answers with finish(result) after COMMIT, or the mapped error.
  template <class Result, class Work, class Finish>
  void write(http::responder& respond, Work work, Finish finish);

  void sweep_after(std::chrono::seconds delay);

  api_context ctx_;
  http::window_limiter by_ip_;
  http::window_limiter by_series_;
  std::unique_ptr<boost::asio::steady_timer> sweep_timer_;
};

}  // namespace cohort::registration
