#include "email/mime.hpp"

#include "email/encoding.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

namespace cohort::email {
namespace {

constexpr std::size_t fold_at = 78;
// 39 bytes → 52 base64 characters → a 64-character encoded-word, so "Subject: " plus one word
// stays under 78 and the 75 of RFC 2047.
constexpr std::size_t encoded_word_bytes = 39;

bool is_control(unsigned char c) { return c < 32 || c == 127; }

bool is_atext(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// What makes header injection impossible: a value never carries a CR or LF of its own.
std::string clean_header_text(std::string_view value) {
  std::string out(value);
  for (auto& c : out)
    if (is_control(static_cast<unsigned char>(c))) c = ' ';
  return out;
}

// Folds at spaces so lines stay near 78 characters; never before an empty word, so no
// continuation line is whitespace only.
std::string fold_ascii(std::string_view text, std::size_t used) {
  std::string out;
  std::size_t line = used;
  for (std::size_t pos = 0, i = 0; pos <= text.size(); ++i) {
    auto next = text.find(' ', pos);
    if (next == std::string_view::npos) next = text.size();
    const auto word = text.substr(pos, next - pos);
    if (i > 0) {
      if (!word.empty() && line + 1 + word.size() > fold_at) {
        out += "\r\n ";
        line = 1;
      } else {
        out += ' ';
        ++line;
      }
    }
    out += word;
    line += word.size();
    pos = next + 1;
  }
  return out;
}

std::string encoded_words(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    const auto n = utf8_prefix(text, encoded_word_bytes);
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64_encode(text.substr(0, n)) + "?=";
    text.remove_prefix(n);
  }
  return out;
}

std::string display_name(std::string_view name) {
  const auto clean = clean_header_text(name);
  if (!is_ascii(clean) || clean.find("=?") != std::string::npos) return encoded_words(clean);
  std::string out = "\"";
  for (const char c : clean) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string mailbox_text(const mailbox& box, std::string_view role) {
  if (!is_valid_address(box.address)) throw message_error("invalid " + std::string(role) + " address");
  if (box.name.empty()) return "<" + box.address + ">";
  return display_name(box.name) + " <" + box.address + ">";
}

bool is_valid_message_id(std::string_view id) {
  if (id.size() < 5 || id.front() != '<' || id.back() != '>') return false;
  id = id.substr(1, id.size() - 2);
  const auto at = id.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == id.size()) return false;
  return std::all_of(id.begin(), id.end(), [&](char c) { return c == '.' || is_atext(c) || c == '@'; }) &&
         id.find('@', at + 1) == std::string_view::npos;
}

bool is_reserved_header(std::string_view name) {
  static constexpr std::array<std::string_view, 13> reserved{
      "date",         "from",         "to", "cc", "bcc", "subject", "message-id", "mime-version", "content-type",
      "content-transfer-encoding", "content-disposition", "sender", "auto-submitted"};
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::find(reserved.begin(), reserved.end(), lower) != reserved.end();
}

void extra_header(std::string& out, const header_field& h) {
  const bool name_ok = !h.name.empty() && std::all_of(h.name.begin(), h.name.end(), [](char c) {
    return c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
  if (!name_ok || is_reserved_header(h.name)) throw message_error("header name not allowed: " + clean_header_text(h.name));
  // Structured values (addresses, URLs) may not use encoded-words, so non-ASCII is refused.
  if (!is_ascii(h.value)) throw message_error("header " + h.name + " must be ASCII");
  out += h.name + ": " + fold_ascii(clean_header_text(h.value), h.name.size() + 2) + "\r\n";
}

// "=_" cannot occur in quoted-printable or base64 text, so the boundary never collides with
// content; the hash only tells two boundaries (and two messages) apart.
std::string boundary(std::string_view kind, std::string_view message_id) {
  std::uint64_t h = 1469598103934665603ull;
  for (const char c : message_id) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return "=_cohort_" + std::string(kind) + "_" + hex;
}

void text_part(std::string& out, std::string_view subtype, std::string_view body) {
  out += "Content-Type: text/" + std::string(subtype) + "; charset=UTF-8\r\n";
  out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
  out += quoted_printable_encode(body);
}

void body_part(std::string& out, const mail_message& m) {
  if (m.html_body.empty()) return text_part(out, "plain", m.text_body);
  const auto alt = boundary("alt", m.message_id);
  out += "Content-Type: multipart/alternative; boundary=\"" + alt + "\"\r\n\r\n";
  out += "--" + alt + "\r\n";
  text_part(out, "plain", m.text_body);
  out += "\r\n--" + alt + "\r\n";
  text_part(out, "html", m.html_body);
  out += "\r\n--" + alt + "--\r\n";
}

std::string filename_param(std::string_view filename) {
  std::string name;
  for (const char c : filename)
    if (!is_control(static_cast<unsigned char>(c)) && c != '/' && c != '\\' && c != '"') name += c;
  if (name.empty()) name = "attachment";
  if (is_ascii(name)) return "filename=\"" + name + "\"";
  // RFC 2231: percent-encoded UTF-8.
  std::string out = "filename*=UTF-8''";
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || c == '.' || c == '-' || c == '_') {
      out += c;
    } else {
      char esc[4];
      std::snprintf(esc, sizeof esc, "%%%02X", u);
      out += esc;
    }
  }
  return out;
}

void attachment_part(std::string& out, const attachment& a) {
  auto type = clean_header_text(a.content_type);
  if (type.find('/') == std::string::npos || !is_ascii(type)) type = "application/octet-stream";
  out += "Content-Type: " + type + "\r\n";
  out += "Content-Disposition: attachment; " + filename_param(a.filename) + "\r\n";
  out += "Content-Transfer-Encoding: base64\r\n\r\n";
  out += base64_encode(a.bytes, 76);
}

}  // namespace

std::string render_mime(const mail_message& m) {
  if (!is_valid_message_id(m.message_id)) throw message_error("invalid Message-ID");
  std::string out;
  out += "Date: " + rfc5322_date(m.date) + "\r\n";
  out += "From: " + mailbox_text(m.from, "from") + "\r\n";
  out += "To: " + mailbox_text(m.to, "to") + "\r\n";
  out += "Subject: " + encode_header_text(m.subject, 9) + "\r\n";
  out += "Message-ID: " + m.message_id + "\r\n";
  // RFC 3834: no vacation auto-replies to automated mail.
  out += "Auto-Submitted: auto-generated\r\n";
  for (const auto& h : m.headers) extra_header(out, h);
  out += "MIME-Version: 1.0\r\n";
  const auto mixed = boundary("mixed", m.message_id);
  out += "Content-Type: multipart/mixed; boundary=\"" + mixed + "\"\r\n\r\n";
  out += "This is a multi-part message in MIME format.\r\n";
  out += "\r\n--" + mixed + "\r\n";
  body_part(out, m);
  for (const auto& a : m.attachments) {
    out += "\r\n--" + mixed + "\r\n";
    attachment_part(out, a);
  }
  out += "\r\n--" + mixed + "--\r\n";
  return out;
}

bool is_valid_address(std::string_view address) {
  const auto at = address.rfind('@');
  if (address.size() > 254 || at == std::string_view::npos || at == 0 || at + 1 == address.size()) return false;
  if (address.find('@') != at) return false;
  return std::all_of(address.begin(), address.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 32 && u < 127 && std::string_view("<>()[]\\,;:\"").find(c) == std::string_view::npos;
  });
}

std::string make_message_id(std::string_view unique_part, std::string_view host) {
  auto clean = [](std::string_view s) {
    std::string out;
    for (const char c : s) out += c == '.' || is_atext(c) ? c : '-';
    if (out.empty()) out = "-";
    if (out.front() == '.') out.front() = '-';
    if (out.back() == '.') out.back() = '-';
    return out;
  };
  return "<" + clean(unique_part) + "@" + clean(host) + ">";
}

std::vector<header_field> unsubscribe_headers(std::string_view url) {
  const bool ok = !url.empty() && std::all_of(url.begin(), url.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 32 && u < 127 && c != '<' && c != '>' && c != '"';
  });
  if (!ok) throw message_error("invalid unsubscribe URL");
  return {{"List-Unsubscribe", "<" + std::string(url) + ">"},
          {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}};
}

std::string encode_header_text(std::string_view value, std::size_t used) {
  const auto clean = clean_header_text(value);
  // A literal "=?" would be read as the start of an encoded-word, so such text is encoded too.
  if (is_ascii(clean) && clean.find("=?") == std::string::npos) return fold_ascii(clean, used);
  return encoded_words(clean);
}

std::string rfc5322_date(std::int64_t unix_seconds) {
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto t = to_utc(unix_seconds);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[t.weekday], t.day, months[t.month - 1],
                t.year, t.hour, t.minute, t.second);
  return buf;
}

}  // namespace cohort::email
