// The email writer (email/mime + email/encoding): the input, split at NUL bytes, is the display
// names, subject, text and HTML bodies, an attachment (filename, bytes, content type), one extra
// header (name, value), the To address and the Message-ID's parts of one message (at most 8 KiB
// each). Invariants:
// - render_mime throws message_error exactly when the To address, or the extra header's name or
//   value, is one mime.hpp refuses; never anything else;
// - the message has only CRLF line ends; its header block holds exactly the fields render_mime
//   writes, in order, plus the extra one (no name, subject or value can start a header: a
//   subject with "\r\nBcc:" gives no Bcc);
// - unfolded, the Subject decodes (RFC 2047 B encoded-words of at most 75 characters, or plain
//   ASCII) to the subject with control characters as spaces; the display names likewise (quoted
//   string or encoded-words); the extra header's value is its value, controls as spaces;
// - no part holds a boundary line; the text and HTML parts decode from quoted-printable (lines of
//   at most 76, none ending in a space or tab, none starting with '.') to the body with LF as CRLF;
//   the attachment decodes from base64 (lines of at most 76) to its bytes.
// fuzz-libs: cohort_email
#include "email/encoding.hpp"
#include "email/mime.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace email = cohort::email;

constexpr std::size_t max_part_bytes = 8192;

void check(bool ok) {
  if (!ok) std::abort();
}

std::string controls_as_spaces(std::string_view v) {
  std::string out(v);
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 32 || c == 127) c = ' ';
  return out;
}

std::vector<std::string> split(std::string_view s, std::string_view sep) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (true) {
    const auto at = s.find(sep, pos);
    if (at == std::string_view::npos) {
      out.emplace_back(s.substr(pos));
      return out;
    }
    out.emplace_back(s.substr(pos, at - pos));
    pos = at + sep.size();
  }
}

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with padding, nothing else allowed.
std::string base64_decode(std::string_view s) {
  check(s.size() % 4 == 0);
  std::string out;
  for (std::size_t i = 0; i < s.size(); i += 4) {
    const bool last = i + 4 == s.size();
    const int pad = last ? (s[i + 3] == '=') + (s[i + 2] == '=') : 0;
    std::uint32_t n = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      int v = 0;
      if (k < 4 - static_cast<std::size_t>(pad)) {
        v = b64_value(s[i + k]);
        check(v >= 0);
      }
      n = n << 6 | static_cast<std::uint32_t>(v);
    }
    out += static_cast<char>(n >> 16 & 0xFF);
    if (pad < 2) out += static_cast<char>(n >> 8 & 0xFF);
    if (pad < 1) out += static_cast<char>(n & 0xFF);
  }
  return out;
}

// An unstructured header value, unfolded: encoded-words separated by spaces, or plain text.
std::string decode_header_text(std::string_view v) {
  if (v.find("=?") == std::string_view::npos) return std::string(v);
  std::string out;
  for (const auto& word : split(v, " ")) {
    check(word.size() <= 75 && word.size() >= 12);
    check(word.compare(0, 10, "=?UTF-8?B?") == 0 && word.compare(word.size() - 2, 2, "?=") == 0);
    out += base64_decode(std::string_view(word).substr(10, word.size() - 12));
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  std::abort();
}

std::string qp_decode(std::string_view s) {
  std::string out;
  const auto lines = split(s, "\r\n");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    check(line.size() <= 76);
    check(line.empty() || line.front() != '.');
    const bool soft = !line.empty() && line.back() == '=';
    if (soft) line.remove_suffix(1);
    check(line.empty() || (line.back() != ' ' && line.back() != '\t') || soft);
    for (std::size_t k = 0; k < line.size(); ++k) {
      const auto c = static_cast<unsigned char>(line[k]);
      if (c == '=') {
        check(k + 2 < line.size());
        out += static_cast<char>(hex_value(line[k + 1]) * 16 + hex_value(line[k + 2]));
        k += 2;
      } else {
        check((c >= 32 && c < 127) || c == '\t');
        out += static_cast<char>(c);
      }
    }
    if (!soft && i + 1 < lines.size()) out += "\r\n";
  }
  return out;
}

// What quoted-printable must give back: every line break as CRLF, a lone CR kept.
std::string body_expected(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      out += "\r\n";
      ++i;
    } else if (text[i] == '\n') {
      out += "\r\n";
    } else {
      out += text[i];
    }
  }
  return out;
}

struct field {
  std::string name, value;  // value unfolded (CRLF removed, the space kept)
};

// Header block → fields; checks the folding (a continuation starts with a space).
std::vector<field> parse_headers(std::string_view head) {
  std::vector<field> out;
  for (const auto& line : split(head, "\r\n")) {
    check(!line.empty());
    if (line.front() == ' ' || line.front() == '\t') {
      check(!out.empty());
      out.back().value += line;
      continue;
    }
    const auto colon = line.find(':');
    check(colon != std::string::npos && colon > 0 && line.size() > colon + 1 && line[colon + 1] == ' ');
    out.push_back({line.substr(0, colon), line.substr(colon + 2)});
  }
  return out;
}

// "Name" <addr>, =?...?= <addr> or <addr>.
void check_mailbox(const std::string& value, const email::mailbox& box) {
  const auto addr = "<" + box.address + ">";
  if (box.name.empty()) return check(value == addr);
  check(value.size() > addr.size() + 1 && value.compare(value.size() - addr.size() - 1, std::string::npos, " " + addr) == 0);
  const std::string_view display(value.data(), value.size() - addr.size() - 1);
  std::string name;
  if (!display.empty() && display.front() == '"') {
    check(display.size() >= 2 && display.back() == '"');
    for (std::size_t i = 1; i + 1 < display.size(); ++i) {
      char c = display[i];
      if (c == '\\') {
        check(i + 2 < display.size());
        c = display[++i];
      } else {
        check(c != '"');
      }
      name += c;
    }
  } else {
    name = decode_header_text(display);
  }
  check(name == controls_as_spaces(box.name));
}

// The parts between "--boundary" lines; checks the preamble/epilogue shape.
std::vector<std::string> multipart(std::string_view body, const std::string& boundary) {
  const auto delimiter = "\r\n--" + boundary;
  auto pieces = split(body, delimiter);
  check(pieces.size() >= 3);
  check(pieces.back() == "--\r\n");
  pieces.pop_back();
  pieces.erase(pieces.begin());  // the preamble
  for (auto& p : pieces) {
    check(p.compare(0, 2, "\r\n") == 0);
    p.erase(0, 2);
  }
  return pieces;
}

std::string boundary_of(const std::string& content_type, std::string_view kind) {
  const auto prefix = "multipart/" + std::string(kind) + "; boundary=\"";
  check(content_type.compare(0, prefix.size(), prefix) == 0 && content_type.back() == '"');
  return content_type.substr(prefix.size(), content_type.size() - prefix.size() - 1);
}

std::pair<std::vector<field>, std::string> split_part(const std::string& part) {
  const auto blank = part.find("\r\n\r\n");
  check(blank != std::string::npos);
  return {parse_headers(std::string_view(part).substr(0, blank)), part.substr(blank + 4)};
}

void check_text_part(const std::string& part, std::string_view subtype, const std::string& body) {
  const auto [headers, content] = split_part(part);
  check(headers.size() == 2 && headers[0].name == "Content-Type" &&
        headers[0].value == "text/" + std::string(subtype) + "; charset=UTF-8" &&
        headers[1].name == "Content-Transfer-Encoding" && headers[1].value == "quoted-printable");
  check(qp_decode(content) == body_expected(body));
}

void check_attachment(const std::string& part, const email::attachment& a) {
  const auto [headers, content] = split_part(part);
  check(headers.size() == 3 && headers[0].name == "Content-Type" && headers[1].name == "Content-Disposition" &&
        headers[2].name == "Content-Transfer-Encoding" && headers[2].value == "base64");
  const auto& disposition = headers[1].value;
  if (disposition.compare(0, 22, "attachment; filename=\"") == 0) {
    check(disposition.back() == '"');
    const auto name = disposition.substr(22, disposition.size() - 23);
    for (const char c : name) check(c != '"' && c != '/' && c != '\\' && static_cast<unsigned char>(c) >= 32 && c != 127);
  } else {
    check(disposition.compare(0, 29, "attachment; filename*=UTF-8''") == 0);
    for (const char c : disposition.substr(29)) check(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '%');
  }
  std::string b64;
  for (const auto& line : split(content, "\r\n")) {
    check(line.size() <= 76);
    b64 += line;
  }
  check(base64_decode(b64) == a.bytes);
}

bool header_name_ok(const std::string& name) {
  if (name.empty()) return false;
  for (const char c : name)
    if (!(c == '-' || std::isalnum(static_cast<unsigned char>(c)))) return false;
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* own : {"date", "from", "to", "cc", "bcc", "subject", "message-id", "mime-version", "content-type",
                          "content-transfer-encoding", "content-disposition", "sender", "auto-submitted"})
    if (lower == own) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  std::size_t pos = 0;
  while (parts.size() < 13) {
    const auto end = input.find('\0', pos);
    parts.emplace_back(input.substr(pos, std::min(end == std::string_view::npos ? input.size() - pos : end - pos, max_part_bytes)));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  parts.resize(13);

  email::mail_message m;
  m.from = {parts[0], "news@cohort.example.org"};
  m.to = {parts[1], parts[9].empty() ? "ada@example.org" : parts[9]};
  m.subject = parts[2];
  m.text_body = parts[3];
  m.html_body = parts[4];
  if (!parts[5].empty() || !parts[6].empty()) m.attachments.push_back({parts[5], parts[10], parts[6]});
  const bool extra = !parts[7].empty();
  if (extra) m.headers.push_back({parts[7], parts[8]});
  m.message_id = email::make_message_id(parts[11], parts[12].empty() ? "cohort.example.org" : parts[12]);
  m.date = 1768471200;

  const bool refused = !email::is_valid_address(m.to.address) ||
                       (extra && (!header_name_ok(parts[7]) || !email::is_ascii(parts[8])));
  std::string out;
  try {
    out = email::render_mime(m);
  } catch (const email::message_error&) {
    check(refused);
    return 0;
  }
  check(!refused);

  // Only CRLF line ends.
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\r') check(i + 1 < out.size() && out[i + 1] == '\n');
    if (out[i] == '\n') check(i > 0 && out[i - 1] == '\r');
  }
  const auto blank = out.find("\r\n\r\n");
  check(blank != std::string::npos);
  const auto headers = parse_headers(std::string_view(out).substr(0, blank));
  std::vector<std::string> names;
  for (const auto& h : headers) names.push_back(h.name);
  std::vector<std::string> expect{"Date", "From", "To", "Subject", "Message-ID", "Auto-Submitted"};
  if (extra) expect.push_back(parts[7]);
  expect.insert(expect.end(), {"MIME-Version", "Content-Type"});
  check(names == expect);

  check(headers[0].value == email::rfc5322_date(m.date));
  check_mailbox(headers[1].value, m.from);
  check_mailbox(headers[2].value, m.to);
  check(decode_header_text(headers[3].value) == controls_as_spaces(m.subject));
  check(headers[4].value == m.message_id);
  if (extra) check(headers[6].value == controls_as_spaces(parts[8]));

  const auto mixed = boundary_of(headers.back().value, "mixed");
  const auto body = std::string_view(out).substr(blank + 4);
  const auto sections = multipart(body, mixed);
  check(sections.size() == 1 + m.attachments.size());
  if (m.html_body.empty()) {
    check_text_part(sections[0], "plain", m.text_body);
  } else {
    const auto [alt_headers, alt_body] = split_part(sections[0]);
    check(alt_headers.size() == 1 && alt_headers[0].name == "Content-Type");
    const auto alt = boundary_of(alt_headers[0].value, "alternative");
    check(alt != mixed);
    const auto alternatives = multipart("\r\n" + alt_body, alt);
    check(alternatives.size() == 2);
    check_text_part(alternatives[0], "plain", m.text_body);
    check_text_part(alternatives[1], "html", m.html_body);
  }
  if (!m.attachments.empty()) check_attachment(sections[1], m.attachments[0]);
  return 0;
}
