// A certificate's verification code: 60 random bits as 12 Crockford base32 characters, shown and
// stored as XXXX-XXXX-XXXX. Crockford's alphabet has no I, L, O or U, so a code read aloud or
// typed from paper survives the usual confusions (normalize reads O as 0, I and L as 1).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cohort::certificates {

inline constexpr std::size_t code_chars = 12;

// A fresh random code, formatted (common::random_bytes; throws if the CSPRNG fails).
std::string random_code();
// The 12 characters of `raw` grouped as XXXX-XXXX-XXXX.
std::string format_code(std::string_view twelve);
// What a person typed or a link carried, as the stored form: case, dashes and spaces ignored,
// O -> 0, I/L -> 1; nullopt for anything that cannot be a code (wrong length, U, other symbols).
std::optional<std::string> normalize_code(std::string_view raw);

}  // namespace cohort::certificates
