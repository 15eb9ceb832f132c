#include "privacy/privacy_notice.hpp"

#include "common/errors.hpp"
#include "common/text.hpp"

namespace cohort::privacy {

namespace {
std::string plural(int n, const char* one, const char* many) { return std::to_string(n) + " " + (n == 1 ? one : many); }
}  // namespace

std::string default_notice(int retention_days, int records_years) {
  std::string text =
      "What we keep: your name, email address and profession, your answers to the signup questions, when you attended the "
      "live sessions and watched the replays, what you wrote in the chat and the Q&A, your poll answers, and your "
      "continuing-education (CE) records: post-test attempts, evaluations and certificates.\n";
  if (retention_days > 0)
    text += "For how long: until " + plural(retention_days, "day", "days") +
            " after the series' last session; then your personal data is erased automatically.";
  else
    text += "For how long: until the organizer deletes the series.";
  text += " Issued CE certificates are the provider's records and keep your name and license number for " +
          plural(records_years, "year", "years") + " after they are issued.\n";
  text +=
      "Who sees it: the organizer of this series. Anyone holding a certificate's verification code sees the name, course, "
      "date and hours on it.\n"
      "From your join link's room page you can download everything we hold about you, or erase it.";
  return text;
}

notice read_notice(store::database& db, std::int64_t webinar_id, int retention_days, int records_years) {
  auto st = db.prepare("SELECT privacy_notice FROM webinars WHERE id = ?");
  st.bind(1, webinar_id);
  if (!st.step()) throw common::not_found("there is no webinar " + std::to_string(webinar_id));
  auto text = st.text(0);
  if (text.empty()) return {default_notice(retention_days, records_years), false};
  return {std::move(text), true};
}

void write_notice(store::database& db, std::int64_t webinar_id, const std::string& raw) {
  const auto text = common::optional_text(raw, "text", notice_max_chars, true);
  db.prepare("UPDATE webinars SET privacy_notice = ? WHERE id = ?").bind(1, text).bind(2, webinar_id).run();
  if (db.changes() == 0) throw common::not_found("there is no webinar " + std::to_string(webinar_id));
}

}  // namespace cohort::privacy
