#include "email/templates.hpp"

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

namespace cohort::email {
namespace {

struct placeholder {
  std::size_t begin = 0, end = 0;  // [begin, end) covers "{{ ... }}"
  std::string name;
};

bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

// The next well-formed {{ name }} at or after pos.
std::optional<placeholder> next_placeholder(std::string_view s, std::size_t pos) {
  while ((pos = s.find("{{", pos)) != std::string_view::npos) {
    std::size_t i = pos + 2;
    while (i < s.size() && s[i] == ' ') ++i;
    const auto name_begin = i;
    while (i < s.size() && is_name_char(s[i])) ++i;
    const auto name_end = i;
    while (i < s.size() && s[i] == ' ') ++i;
    if (name_end > name_begin && s.substr(i, 2) == "}}")
      return placeholder{pos, i + 2, std::string(s.substr(name_begin, name_end - name_begin))};
    pos += 2;
  }
  return std::nullopt;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw template_error("cannot read email template " + path.string());
  std::ostringstream content;
  content << in.rdbuf();
  std::string text = content.str();
  // Files saved on Windows: CRLF becomes LF (the encoder writes CRLF again).
  text.erase(std::remove(text.begin(), text.end(), '\r'), text.end());
  return text;
}

void check_variables(const std::filesystem::path& path, std::string_view name, std::string_view text) {
  const auto& known = template_variables(name);
  for (const auto& var : variables_in(text)) {
    if (std::find(known.begin(), known.end(), var) != known.end()) continue;
    std::string list;
    for (const auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    throw template_error(path.string() + ": unknown variable {{" + var + "}} (this template has: " + list + ")");
  }
}

}  // namespace

const std::vector<std::string_view>& template_variables(std::string_view name) {
  static const std::map<std::string_view, std::vector<std::string_view>> table{
      {"confirmation", {"name", "webinar_title", "sessions", "join_url", "cancel_url", "unsubscribe_url"}},
      {"waitlisted", {"name", "webinar_title", "sessions", "unsubscribe_url"}},
      {"promoted", {"name", "webinar_title", "sessions", "join_url", "unsubscribe_url"}},
      {"rescheduled", {"name", "webinar_title", "sessions", "join_url", "unsubscribe_url"}},
      {"cancelled", {"name", "webinar_title", "unsubscribe_url"}},
      {"waitlist_left", {"name", "webinar_title", "unsubscribe_url"}},
      {"reminder",
       {"name", "webinar_title", "session_number", "session_start", "starts_in", "join_url", "unsubscribe_url"}},
      {"drop", {"name", "webinar_title", "drop_title", "drop_body", "materials_url", "unsubscribe_url"}},
      {"series_cancelled", {"name", "webinar_title", "sessions"}},
      {"confirm_request", {"name", "webinar_title", "sessions", "confirm_url", "expires_in"}},
      {"certificate",
       {"name", "webinar_title", "session_title", "credit", "hours", "ceus", "code", "ce_url", "verify_url", "unsubscribe_url"}},
  };
  static const std::vector<std::string_view> none;
  const auto it = table.find(name);
  return it == table.end() ? none : it->second;
}

template_set template_set::load(const std::filesystem::path& dir) {
  template_set set;
  for (const auto name : template_names) {
    const auto txt_path = dir / (std::string(name) + ".txt");
    const auto html_path = dir / (std::string(name) + ".html");
    const auto txt = read_file(txt_path);
    constexpr std::string_view prefix = "Subject:";
    const auto line_end = std::min(txt.find('\n'), txt.size());
    if (txt.compare(0, prefix.size(), prefix) != 0)
      throw template_error(txt_path.string() + ": the first line must be \"Subject: ...\"");
    source s;
    s.subject = txt.substr(prefix.size(), line_end - prefix.size());
    s.subject.erase(0, s.subject.find_first_not_of(" \t"));
    s.subject.erase(s.subject.find_last_not_of(" \t") + 1);
    s.text = line_end < txt.size() ? txt.substr(line_end + 1) : "";
    if (!s.text.empty() && s.text.front() == '\n') s.text.erase(0, 1);
    s.html = read_file(html_path);
    check_variables(txt_path, name, txt);
    check_variables(html_path, name, s.html);
    set.sources_.emplace(std::string(name), std::move(s));
  }
  return set;
}

rendered_text template_set::render(std::string_view name, const template_vars& vars) const {
  const auto it = sources_.find(name);
  if (it == sources_.end()) throw template_error("no email template named " + std::string(name));
  rendered_text out;
  out.subject = substitute(it->second.subject, vars, false, &out.missing);
  out.text = substitute(it->second.text, vars, false, &out.missing);
  out.html = substitute(it->second.html, vars, true, &out.missing);
  std::sort(out.missing.begin(), out.missing.end());
  out.missing.erase(std::unique(out.missing.begin(), out.missing.end()), out.missing.end());
  return out;
}

std::string substitute(std::string_view source, const template_vars& vars, bool escape_html,
                       std::vector<std::string>* missing) {
  std::string out;
  out.reserve(source.size());
  std::size_t pos = 0;
  while (const auto p = next_placeholder(source, pos)) {
    out.append(source.substr(pos, p->begin - pos));
    if (const auto it = vars.find(p->name); it != vars.end()) {
      out += escape_html ? html_escape(it->second) : it->second;
    } else if (missing) {
      missing->push_back(p->name);
    }
    pos = p->end;
  }
  out.append(source.substr(pos));
  return out;
}

std::vector<std::string> variables_in(std::string_view source) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (const auto p = next_placeholder(source, pos)) {
    if (std::find(out.begin(), out.end(), p->name) == out.end()) out.push_back(p->name);
    pos = p->end;
  }
  return out;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace cohort::email
