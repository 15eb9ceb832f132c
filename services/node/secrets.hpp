// The node's secrets: the organizer token (flag, env, or generated into the data dir) and the
// registrant-token keys (the primary derives all of them from its master secret; an edge is given
// only the public key). A secret file others can read is refused, not repaired.
#pragma once

#include "config/config.hpp"
#include "gateway/key_ring.hpp"

#include <optional>
#include <stdexcept>
#include <string>

namespace cohort::node {

struct secret_file_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct secrets {
  std::string admin_token;
  std::string admin_token_note;        // where a generated token is kept, to tell the operator
  std::optional<http::key_ring> keys;  // primary: every key, derived from the master secret
  std::string token_public_key;        // edge: the 32 bytes of the primary's token public key
};

// Prints what is wrong to stderr and returns nullopt when a secret is unusable.
std::optional<secrets> load_secrets(const config& cfg, bool edge);

// `cohort keys public`: what an edge's auth.token_public_key must be. Returns the exit code.
int print_public_key(const config& cfg);

}  // namespace cohort::node
