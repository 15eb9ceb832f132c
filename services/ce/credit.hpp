// A CE credit earned: what settle() hands to the hooks registered with ce_module::on_credit (the
// certificate issuer), on the writer thread inside the write transaction that earned it.
#pragma once

#include "store/sqlite.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cohort::ce {

struct credit {
  std::int64_t webinar_id = 0, registration_id = 0;
  int session_number = 0;
  std::string kind;                  // "live" | "recorded"
  std::optional<int> score_percent;  // best passing score
};

// Runs inside the caller's write transaction: a throw undoes that write.
using credit_hook = std::function<void(store::database&, const credit&, std::int64_t now)>;
using credit_hooks = std::vector<credit_hook>;

// db is already in a write transaction. Loads the facts, evaluates, and when the session is
// complete and the registrant has no certificate for it calls every hook once. A revoked
// certificate counts as one: revoking is the provider's decision, re-issuing is an explicit
// act of the certificates module, never a side effect of someone opening "My CE".
// Unknown webinar/session/registration, or CE not offered: nothing happens.
// Returns the credit when the hooks were called.
std::optional<credit> settle(store::database& db, const credit_hooks& hooks, std::int64_t webinar_id, std::int64_t registration_id,
                             int session_number, std::int64_t now);

}  // namespace cohort::ce
