#include "privacy/retention_sweep.hpp"

#include <map>

namespace cohort::privacy {

std::int64_t next_expired_series(store::database& db, std::int64_t now, int retention_days) {
  if (retention_days <= 0) return 0;
  auto st = db.prepare(
      "SELECT s.webinar_id FROM sessions s GROUP BY s.webinar_id "
      "HAVING max(s.starts_at + 60 * s.duration_minutes) < ?1 "
      "   AND EXISTS (SELECT 1 FROM registrations r WHERE r.webinar_id = s.webinar_id AND r.erased_at IS NULL) "
      "ORDER BY s.webinar_id LIMIT 1");
  st.bind(1, now - static_cast<std::int64_t>(retention_days) * 86400);
  return st.step() ? st.int64(0) : 0;
}

retention_batch erase_expired_batch(store::database& db, std::int64_t webinar_id, std::int64_t erasure_row, std::int64_t now,
                                    int limit) {
  retention_batch out;
  out.webinar_id = webinar_id;
  std::vector<std::int64_t> ids;
  {
    auto st = db.prepare("SELECT id FROM registrations WHERE webinar_id = ? AND erased_at IS NULL ORDER BY id LIMIT ?");
    st.bind(1, webinar_id).bind(2, limit);
    while (st.step()) ids.push_back(st.int64(0));
  }
  // No mail: a series that ended long ago promotes nobody worth telling, and they are erased next.
  for (auto id : ids) out.erasures.push_back(erase_registration(db, webinar_id, id, reason::retention, now, nullptr, false));
  out.erased = static_cast<int>(ids.size());
  if (erasure_row) {
    db.prepare("UPDATE erasures SET rows = rows + ? WHERE id = ?").bind(1, out.erased).bind(2, erasure_row).run();
    out.erasure_row = erasure_row;
  } else {
    db.prepare("INSERT INTO erasures (webinar_id, registration_id, reason, erased_at, rows) VALUES (?, NULL, 'retention', ?, ?)")
        .bind(1, webinar_id)
        .bind(2, now)
        .bind(3, out.erased)
        .run();
    out.erasure_row = db.last_insert_rowid();
  }
  return out;
}

records_batch clear_expired_certificates(store::database& db, std::int64_t now, int records_years, int limit) {
  // 365.25 days a year: a leap day does not shorten the provider's period.
  const std::int64_t before = now - static_cast<std::int64_t>(records_years) * 31557600;
  std::vector<std::pair<std::int64_t, std::int64_t>> due;  // certificate, series
  {
    auto st = db.prepare("SELECT id, webinar_id FROM ce_certificates WHERE issued_at < ? AND personal_erased_at IS NULL "
                         "ORDER BY id LIMIT ?");
    st.bind(1, before).bind(2, limit);
    while (st.step()) due.emplace_back(st.int64(0), st.int64(1));
  }
  std::map<std::int64_t, int> per_series;
  auto clear = db.prepare("UPDATE ce_certificates SET name = '', license_number = '', personal_erased_at = ? WHERE id = ?");
  for (const auto& [id, webinar] : due) {
    clear.reset();
    clear.bind(1, now).bind(2, id).run();
    ++per_series[webinar];
  }
  records_batch out;
  for (const auto& [webinar, n] : per_series) {
    db.prepare("INSERT INTO erasures (webinar_id, registration_id, reason, erased_at, rows) VALUES (?, NULL, 'records_policy', ?, ?)")
        .bind(1, webinar)
        .bind(2, now)
        .bind(3, n)
        .run();
    out.cleared += n;
  }
  return out;
}

}  // namespace cohort::privacy
