// What happens to registrations and series, told to whichever modules care (the live room
// revokes tokens and closes sockets, the drop schedule follows moved sessions, the stream
// forgets a deleted series' room), instead of main wiring one callback per pair.
//
// Two kinds of listener, because they run at different moments:
// - events (`on<E>` / `emit`): after the change committed, on a request thread. A listener must
//   not block; it may post work.
// - transaction hooks (`mail`, `warnings_of`): inside the writer's transaction, before COMMIT, so
//   what they write (a queued mail) exists exactly when the change does.
// Listeners are added while the node is built, before it serves; emit is then read-only and
// safe from any thread.
#pragma once

#include "store/sqlite.hpp"

#include <boost/json/array.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

namespace cohort::registration {

// A registration ended (cancelled by the registrant or the organizer, or its confirmation hold
// lapsed): its token stops working and its sockets close.
struct cancelled {
  std::int64_t webinar_id = 0;
  std::int64_t registration_id = 0;
  std::string token_nonce_hash;
};
// A signup landed on the waitlist: it holds no seat in the live room until seated.
struct waitlisted {
  std::string token_nonce_hash;
};
// Waitlisted registrations were promoted into freed seats.
struct seated {
  std::vector<std::string> token_nonce_hashes;
};
// A series was edited (sessions may have moved) or deleted (then series_deleted follows).
struct series_changed {
  std::int64_t webinar_id = 0;
};
struct series_deleted {
  std::int64_t webinar_id = 0;
};

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

class events {
 public:
  template <class Event>
  void on(std::function<void(const Event&)> listener) {
    std::get<std::vector<std::function<void(const Event&)>>>(listeners_).push_back(std::move(listener));
  }
  template <class Event>
  void emit(const Event& e) const {
    for (const auto& listener : std::get<std::vector<std::function<void(const Event&)>>>(listeners_)) listener(e);
  }

  mail_hooks mail;  // set by the email module
  // What other features have to say about a series after a PATCH, read in its transaction (the
  // drops: one tied to a session the edit removed); the answer carries them as "warnings".
  std::function<boost::json::array(store::database&, std::int64_t webinar_id)> warnings_of;

 private:
  template <class... Event>
  using lists = std::tuple<std::vector<std::function<void(const Event&)>>...>;
  lists<cancelled, waitlisted, seated, series_changed, series_deleted> listeners_;
};

}  // namespace cohort::registration
