#include "streaming/stream_keys.hpp"

#include "common/bytes.hpp"
#include "common/errors.hpp"
#include "gateway/auth.hpp"
#include "registration/validation.hpp"

#include <cctype>

namespace cohort::streaming {

std::string rotate_stream_key(store::database& db, std::int64_t webinar_id) {
  const auto key = "live_" + common::hex(common::random_bytes(16));
  db.prepare("UPDATE webinars SET stream_key = ? WHERE id = ?").bind(1, key).bind(2, webinar_id).run();
  if (db.changes() == 0) throw common::not_found("no such webinar");
  return key;
}

std::optional<std::string> stream_key_of(store::database& db, std::int64_t webinar_id) {
  auto st = db.prepare("SELECT stream_key FROM webinars WHERE id = ?");
  st.bind(1, webinar_id);
  if (!st.step()) throw common::not_found("no such webinar");
  if (st.is_null(0)) return std::nullopt;
  return st.text(0);
}

std::optional<std::int64_t> webinar_by_stream_key(store::database& db, std::string_view key) {
  if (key.empty() || key.size() > 200) return std::nullopt;
  auto st = db.prepare("SELECT id FROM webinars WHERE stream_key = ?");
  st.bind(1, key);
  if (!st.step()) return std::nullopt;
  return st.int64(0);
}

std::string redact_stream_keys(std::string_view line) {
  static constexpr std::string_view prefix = "live_";
  std::string out;
  std::size_t from = 0;
  for (auto at = line.find(prefix); at != std::string_view::npos; at = line.find(prefix, from)) {
    auto end = at + prefix.size();
    while (end < line.size() && std::isalnum(static_cast<unsigned char>(line[end]))) ++end;
    out.append(line.substr(from, at - from)).append(prefix);
    if (end > at + prefix.size()) out.append("<redacted>");
    from = end;
  }
  return out.append(line.substr(from));
}

}  // namespace cohort::streaming
