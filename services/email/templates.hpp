// The text of every email, from files organizers can edit: <dir>/<name>.txt and <dir>/<name>.html
// for each name in template_names (config/email/ in the repository). Read once at start-up;
// load() refuses a missing file, a .txt without its subject line, or a {{variable}} the template
// cannot have (a typo), naming the file.
//
// Format: {{name}} is replaced by the variable's value (spaces inside the braces are allowed);
// values are HTML-escaped in .html templates and inserted as-is in .txt ones. Anything else in
// braces stays as written. The first line of the .txt file is the subject, "Subject: ...", with
// variables too; the body starts after it (one blank line after it is skipped).
#pragma once

#include <array>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cohort::email {

class template_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using template_vars = std::map<std::string, std::string, std::less<>>;

// Every template, and the variables each may use.
//   confirmation  name webinar_title sessions join_url cancel_url unsubscribe_url
//   waitlisted    name webinar_title sessions unsubscribe_url
//   promoted      name webinar_title sessions join_url unsubscribe_url
//   rescheduled   name webinar_title sessions join_url unsubscribe_url
//   cancelled     name webinar_title unsubscribe_url
//   reminder      name webinar_title session_number session_start starts_in join_url unsubscribe_url
//   drop          name webinar_title drop_title drop_body materials_url unsubscribe_url
//   confirm_request  name webinar_title sessions confirm_url expires_in (registration.confirm_email;
//                    no unsubscribe link: nobody subscribed yet)
//   certificate   name webinar_title session_title credit hours ceus code ce_url verify_url unsubscribe_url
//                 (a CE certificate was issued; name and titles as printed on it)
// sessions is one line per session, preformatted by the caller (the .html templates show it
// with white-space: pre-line); session_start is formatted by the caller; starts_in is
// time_left_text(starts_at - now) from reminders.hpp, e.g. "24 hours".
inline constexpr std::array<std::string_view, 11> template_names{
    "confirmation", "waitlisted", "promoted", "rescheduled", "cancelled", "waitlist_left", "reminder", "drop", "series_cancelled",
    "confirm_request", "certificate"};
const std::vector<std::string_view>& template_variables(std::string_view name);

struct rendered_text {
  std::string subject;
  std::string text;
  std::string html;
  std::vector<std::string> missing;  // variables used but not given (rendered empty); tests require none
};

class template_set {
 public:
  // Throws template_error naming the file and the problem.
  static template_set load(const std::filesystem::path& dir);

  // Throws template_error for a name not in template_names.
  rendered_text render(std::string_view name, const template_vars& vars) const;

 private:
  struct source {
    std::string subject, text, html;
  };
  std::map<std::string, source, std::less<>> sources_;
};

// The substitution itself; every variable used but absent from vars is appended to missing.
std::string substitute(std::string_view source, const template_vars& vars, bool escape_html,
                       std::vector<std::string>* missing = nullptr);
// The variables a template text uses, in order of first use.
std::vector<std::string> variables_in(std::string_view source);
std::string html_escape(std::string_view text);

}  // namespace cohort::email
