#include "node/secrets.hpp"

#include "common/bytes.hpp"
#include "gateway/auth.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace fs = std::filesystem;

namespace cohort::node {
namespace {

void require_private(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return;  // absent: created below with 0600
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw secret_file_error(file.string() + " has mode " + mode + ", readable by others; it must be 0600 (chmod 600 " +
                            file.string() + ", and replace the secret if others may have read it)");
  }
}

// Reads a secret kept in the data dir, or creates it (mode 0600) on first start.
std::string load_or_create_secret(const fs::path& file, bool& created) {
  created = false;
  require_private(file);
  if (std::ifstream in{file}; in) {
    std::string value;
    std::getline(in, value);
    if (!value.empty()) return value;
  }
  const auto value = common::hex(common::random_bytes(32));
  const auto old_mask = ::umask(077);
  {
    std::ofstream out(file, std::ios::trunc);
    out << value << "\n";
    if (!out) throw std::runtime_error("cannot write " + file.string());
  }
  ::umask(old_mask);
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  created = true;
  return value;
}

// The master secret: auth.token_secret, else data_dir/token-secret (created on first start).
std::string master_secret(const config& cfg, bool create) {
  if (!cfg.auth.token_secret.empty()) return cfg.auth.token_secret;
  const auto file = fs::path(cfg.storage.data_dir) / "token-secret";
  if (!create && !fs::exists(file)) throw std::runtime_error("no " + file.string() + " (start the primary once, or set auth.token_secret)");
  bool created = false;
  return load_or_create_secret(file, created);
}

}  // namespace

int print_public_key(const config& cfg) {
  try {
    std::cout << common::hex(http::key_ring::derive(master_secret(cfg, false)).token_public_key) << "\n";
    return 0;
  } catch (const secret_file_error& e) {
    std::cerr << "cohort: " << e.what() << "\n";
    return 2;
  }
}

// An edge has no data dir of its own: both secrets come from its configuration (or env), and of
// the token keys it gets only the public one.
std::optional<secrets> load_secrets(const config& cfg, bool edge) try {
  secrets out;
  out.admin_token = cfg.auth.admin_token;
  if (out.admin_token.empty())
    if (const char* env = std::getenv("COHORT_ADMIN_TOKEN"); env && *env) out.admin_token = env;
  if (!out.admin_token.empty() && out.admin_token.size() < 16) {
    std::cerr << "config: COHORT_ADMIN_TOKEN must be at least 16 characters\n";
    return std::nullopt;
  }
  const fs::path data_dir = cfg.storage.data_dir;
  if (out.admin_token.empty() && !edge) {
    bool created = false;
    out.admin_token = load_or_create_secret(data_dir / "admin-token", created);
    out.admin_token_note = (created ? "generated, stored in " : "stored in ") + fs::absolute(data_dir / "admin-token").lexically_normal().string();
  }
  if (edge) {
    out.token_public_key = http::parse_public_key(cfg.auth.token_public_key);  // validated: 64 hex digits
  } else {
    out.keys = http::key_ring::derive(master_secret(cfg, true));
  }
  return out;
} catch (const secret_file_error& e) {
  std::cerr << "cohort: " << e.what() << "\n";
  return std::nullopt;
}

}  // namespace cohort::node
