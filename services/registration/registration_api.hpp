// The registration HTTP API: webinar series (organizer writes, public reads), signups (rate
// limited per client address and per series, a honeypot field, optional confirmation by email),
// the registrant's own record (/api/me, /api/me/confirm), and the organizer's registrant list
// and CSV export.
// Reads run on the request thread through a reader lease; writes go to the single writer and
// answer from its completion, after COMMIT.
#pragma once

#include "gateway/auth.hpp"
#include "gateway/router.hpp"
#include "registration/registration_events.hpp"
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
  // Who hears of cancellations, waitlisting, seating and series changes (after COMMIT), and the
  // hooks that run inside those transactions (mail, warnings). Null: nobody listens (`routes`).
  const registration::events* events = nullptr;
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

  const registration::events& events() const { return ctx_.events ? *ctx_.events : no_listeners_; }

  api_context ctx_;
  registration::events no_listeners_;
  http::window_limiter by_ip_;
  http::window_limiter by_series_;
  std::unique_ptr<boost::asio::steady_timer> sweep_timer_;
};

}  // namespace cohort::registration
