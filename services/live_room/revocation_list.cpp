#include "live_room/revocation_list.hpp"

#include "live_room/revocations.hpp"
#include "registration/registration_store.hpp"

namespace cohort::live_room {

std::optional<revocation_list::refusal> revocation_list::refuses(std::int64_t webinar_id, std::int64_t registration_id,
                                                                 std::string_view token_nonce_hash) const {
  if (contains(token_entry(token_nonce_hash)) || contains(deleted_entry(webinar_id)))
    return refusal{401, "unauthorized", "this registration is not active", 4001};
  if (contains(waitlist_entry(token_nonce_hash)) && !contains(seated_entry(token_nonce_hash)))
    return refusal{403, "waitlisted", registration::waitlisted_message, 4001};
  if (contains(ban_entry(webinar_id, registration_id))) return refusal{403, "forbidden", "you have been removed from this chat", 4003};
  return std::nullopt;
}

std::optional<revocation_list::refusal> revocation_list::refuses_organizer(std::int64_t webinar_id) const {
  if (contains(deleted_entry(webinar_id))) return refusal{404, "not_found", "no such webinar", 4001};
  return std::nullopt;
}

}  // namespace cohort::live_room
