#include "certificates/certificate_pdf.hpp"

#include "common/rfc3339.hpp"

#include <hpdf.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <type_traits>
#include <vector>

namespace cohort::certificates {
namespace {

constexpr float page_width = 792, page_height = 612;  // Letter, landscape
constexpr float text_width = 620;                     // inside the borders, with a margin

struct rgb {
  float r, g, b;
};
constexpr rgb navy{0.12f, 0.23f, 0.41f}, gold{0.70f, 0.56f, 0.24f}, ink{0.12f, 0.16f, 0.20f}, muted{0.38f, 0.43f, 0.49f};

// libharu reports errors through a callback; it records the first, and render() checks it
// (throwing through the C library would unwind frames that were not built for it).
struct hpdf_status {
  HPDF_STATUS error = HPDF_OK;
  HPDF_STATUS detail = 0;
};

void on_error(HPDF_STATUS error, HPDF_STATUS detail, void* user_data) {
  auto* s = static_cast<hpdf_status*>(user_data);
  if (s->error == HPDF_OK) *s = {error, detail};
}

struct doc_closer {
  void operator()(std::remove_pointer_t<HPDF_Doc> * d) const noexcept { HPDF_Free(d); }
};
using doc_ptr = std::unique_ptr<std::remove_pointer_t<HPDF_Doc>, doc_closer>;

void check(const hpdf_status& s, const char* what) {
  if (s.error == HPDF_OK) return;
  char buf[96];
  std::snprintf(buf, sizeof buf, " (libharu error 0x%04X, detail %u)", static_cast<unsigned>(s.error), static_cast<unsigned>(s.detail));
  throw pdf_error(std::string("certificate PDF: ") + what + buf);
}

// Valid UTF-8 only (an invalid byte becomes '?'), no control characters (newlines kept when
// asked), at most max_chars characters: what libharu's UTF-8 encoder is given.
std::string printable(std::string_view s, std::size_t max_chars, bool keep_newlines = false) {
  std::string out;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size() && chars < max_chars;) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (!ok) {
      out += '?';
      ++i;
    } else if (len == 1 && (c < 0x20 || c == 0x7f)) {
      out += (keep_newlines && c == '\n') ? '\n' : ' ';
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
    ++chars;
  }
  return out;
}

// The byte offsets where UTF-8 characters start in s, and s.size() last.
std::vector<std::size_t> char_starts(const std::string& s) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) out.push_back(i);
  out.push_back(s.size());
  return out;
}

class page_writer {
 public:
  page_writer(HPDF_Page page, HPDF_Font text, HPDF_Font strong, HPDF_Font display)
      : page_(page), text_(text), strong_(strong), display_(display) {}

  HPDF_Font text() const { return text_; }
  HPDF_Font strong() const { return strong_; }
  HPDF_Font display() const { return display_; }

  float width(HPDF_Font font, float size, const std::string& s) const {
    HPDF_Page_SetFontAndSize(page_, font, size);
    return HPDF_Page_TextWidth(page_, s.c_str());
  }

  // One centred line; shrinks down to min_size to fit max_width, then cuts with an ellipsis.
  void centered(HPDF_Font font, float size, float y, std::string s, rgb color, float min_size = 0, float max_width = text_width) {
    if (min_size <= 0) min_size = size;
    while (size > min_size && width(font, size, s) > max_width) size -= 0.5f;
    if (width(font, size, s) > max_width) s = s.substr(0, fitting_prefix(font, size, s, max_width - width(font, size, "…"))) + "…";
    const float w = width(font, size, s);
    HPDF_Page_SetRGBFill(page_, color.r, color.g, color.b);
    HPDF_Page_BeginText(page_);
    HPDF_Page_TextOut(page_, (page_width - w) / 2, y, s.c_str());
    HPDF_Page_EndText(page_);
  }

  // A line that must not lose words (a name, a title): shrinks to min_size on one line, then
  // takes two lines centred on the same place, shrinking to min_size * 0.6; only then is the
  // second line cut. Returns the lowest baseline drawn.
  float centered_fit(HPDF_Font font, float size, float min_size, float y, const std::string& s, rgb color) {
    float one = size;
    while (one > min_size && width(font, one, s) > text_width) one -= 0.5f;
    if (width(font, one, s) <= text_width) {
      centered(font, one, y, s, color);
      return y;
    }
    float two = min_size;
    auto lines = wrap(font, two, s, text_width);
    while (two > min_size * 0.6f && lines.size() > 2) lines = wrap(font, two -= 0.5f, s, text_width);
    if (lines.size() > 2) {
      std::string rest = lines[1];
      for (std::size_t i = 2; i < lines.size(); ++i) rest += " " + lines[i];
      lines.resize(2);
      lines[1] = rest;  // centered() cuts it with an ellipsis
    }
    const float half = (two + 2) / 2;
    centered(font, two, y + half, lines[0], color, two);
    if (lines.size() > 1) centered(font, two, y - half, lines[1], color, two);
    return y - half;
  }

  // Words onto lines of at most max_width; a paragraph break ('\n') starts a new line.
  std::vector<std::string> wrap(HPDF_Font font, float size, const std::string& s, float max_width) const {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start <= s.size()) {
      const auto end = std::min(s.find('\n', start), s.size());
      wrap_paragraph(font, size, s.substr(start, end - start), max_width, lines);
      start = end + 1;
    }
    return lines;
  }

  // The byte length of the longest whole-character prefix of s no wider than max_width (a
  // binary search: long text costs a few measurements, not one per character).
  std::size_t fitting_prefix(HPDF_Font font, float size, const std::string& s, float max_width) const {
    const auto starts = char_starts(s);
    std::size_t lo = 0, hi = starts.size() - 1;  // characters: lo fits, hi + 1 does not (or is all)
    while (lo < hi) {
      const auto mid = (lo + hi + 1) / 2;
      if (width(font, size, s.substr(0, starts[mid])) <= max_width) lo = mid;
      else hi = mid - 1;
    }
    return starts[lo];
  }

  void line(float x1, float y, float x2, rgb color, float thickness) {
    HPDF_Page_SetRGBStroke(page_, color.r, color.g, color.b);
    HPDF_Page_SetLineWidth(page_, thickness);
    HPDF_Page_MoveTo(page_, x1, y);
    HPDF_Page_LineTo(page_, x2, y);
    HPDF_Page_Stroke(page_);
  }

  void frame(float inset, rgb color, float thickness) {
    HPDF_Page_SetRGBStroke(page_, color.r, color.g, color.b);
    HPDF_Page_SetLineWidth(page_, thickness);
    HPDF_Page_Rectangle(page_, inset, inset, page_width - 2 * inset, page_height - 2 * inset);
    HPDF_Page_Stroke(page_);
  }

 private:
  void wrap_paragraph(HPDF_Font font, float size, const std::string& p, float max_width, std::vector<std::string>& lines) const {
    std::string current;
    std::size_t pos = 0;
    while (pos < p.size()) {
      const auto space = std::min(p.find(' ', pos), p.size());
      std::string word = p.substr(pos, space - pos);
      pos = space + 1;
      if (word.empty()) continue;
      const auto candidate = current.empty() ? word : current + " " + word;
      if (width(font, size, candidate) <= max_width) {
        current = candidate;
        continue;
      }
      if (!current.empty()) lines.push_back(current);
      // A word longer than a line (a URL, say) is cut where it must be.
      while (width(font, size, word) > max_width) {
        const auto cut = std::max<std::size_t>(1, fitting_prefix(font, size, word, max_width));
        lines.push_back(word.substr(0, cut));
        word.erase(0, cut);
      }
      current = word;
    }
    if (!current.empty()) lines.push_back(current);
  }

  HPDF_Page page_;
  HPDF_Font text_, strong_, display_;
};

std::string credit_text(const certificate& c) { return c.kind == "recorded" ? "Recorded (distance learning)" : "Live"; }

std::string session_line(const certificate& c) {
  const auto number = "Session " + std::to_string(c.session_number);
  const auto title = printable(c.session_title, 200);
  return title.empty() || title == number ? number : number + ": " + title;
}

// The provider, approval and level facts, on as few centred lines as read well.
void draw_details(page_writer& w, const certificate& c, float y) {
  std::string provider = printable(c.provider_name, 200);
  if (!c.provider_number.empty()) provider += (provider.empty() ? "" : " · ") + std::string("Provider no. ") + printable(c.provider_number, 60);
  std::string approval;
  if (!c.approval_number.empty()) approval = "Approval no. " + printable(c.approval_number, 60);
  if (!c.instructional_level.empty())
    approval += (approval.empty() ? "" : " · ") + std::string("Instructional level: ") + printable(c.instructional_level, 80);
  if (!provider.empty()) w.centered(w.text(), 10.5f, y, "Provider: " + provider, ink, 8);
  if (!approval.empty()) w.centered(w.text(), 10.5f, y - 16, approval, ink, 8);
}

void draw_statement(page_writer& w, const certificate& c, float top, float bottom) {
  const auto statement = printable(c.statement, 2000, true);
  if (statement.empty()) return;
  float size = 9;
  auto lines = w.wrap(w.text(), size, statement, text_width - 40);
  // Smaller type before losing words; then whole lines are dropped, the last one ending in "…".
  while (size > 7 && (lines.size() * (size + 2.5f)) > top - bottom) lines = w.wrap(w.text(), size -= 0.5f, statement, text_width - 40);
  const auto max_lines = static_cast<std::size_t>((top - bottom) / (size + 2.5f));
  if (lines.size() > max_lines) {
    lines.resize(max_lines);
    if (!lines.empty()) lines.back() += " …";
  }
  float y = top - size;
  for (const auto& l : lines) {
    w.centered(w.text(), size, y, l, muted, size, text_width);
    y -= size + 2.5f;
  }
}

void draw(page_writer& w, const certificate& c, const std::string& verify_url) {
  w.frame(18, navy, 5);
  w.frame(30, gold, 1.2f);
  w.centered(w.display(), 32, 520, "Certificate of Completion", navy);
  w.centered(w.text(), 14, 496, "Continuing Education", gold);
  w.centered(w.text(), 12, 462, "This certifies that", muted);
  const float name_bottom = w.centered_fit(w.display(), 28, 16, 428, printable(c.name, 200), ink);
  w.line(196, std::min(420.0f, name_bottom - 6), 596, gold, 0.8f);
  if (!c.license_number.empty()) w.centered(w.text(), 11, 401, "License number: " + printable(c.license_number, 60), ink);
  w.centered(w.text(), 12, 380, "has completed", muted);
  w.centered_fit(w.strong(), 18, 12, 354, printable(c.course_title, 200), ink);
  w.centered_fit(w.text(), 13, 10, 333, session_line(c), ink);
  w.centered(w.text(), 12, 313, long_date(c.session_date) + " · " + credit_text(c), ink);
  w.centered(w.strong(), 16, 284, decimal_text(c.contact_hours) + " contact hours · " + decimal_text(c.ceus) + " CEUs", navy);
  draw_details(w, c, 256);
  draw_statement(w, c, 226, 112);
  w.line(120, 102, 672, gold, 0.6f);
  w.centered(w.strong(), 10.5f, 84, "Issued " + long_date(c.issued_at) + " · Verification code: " + c.code, ink);
  w.centered(w.text(), 9.5f, 68, "Verify this certificate at " + printable(verify_url, 300), muted, 7);
}

std::string save(HPDF_Doc doc, const hpdf_status& status) {
  HPDF_SaveToStream(doc);
  check(status, "could not be written");
  std::string out;
  out.reserve(HPDF_GetStreamSize(doc));
  for (;;) {
    HPDF_BYTE buf[16384];
    HPDF_UINT32 size = sizeof buf;
    const auto rc = HPDF_ReadFromStream(doc, buf, &size);
    out.append(reinterpret_cast<const char*>(buf), size);
    if (rc == HPDF_STREAM_EOF || size == 0) break;
    if (rc != HPDF_OK) throw pdf_error("certificate PDF: the rendered stream could not be read");
  }
  return out;
}

bool readable(const std::filesystem::path& p) { return std::ifstream(p, std::ios::binary).good(); }

}  // namespace

pdf_fonts dejavu_fonts(const std::filesystem::path& dir) {
  pdf_fonts f{dir / "DejaVuSans.ttf", dir / "DejaVuSans-Bold.ttf", dir / "DejaVuSerif-Bold.ttf"};
  for (const auto* p : {&f.text, &f.strong, &f.display})
    if (!readable(*p)) throw pdf_error("certificate PDF: the font " + p->string() + " is missing (Debian: apt-get install fonts-dejavu-core)");
  return f;
}

certificate_renderer::certificate_renderer(pdf_fonts fonts) : fonts_(std::move(fonts)) {
  certificate sample;
  sample.code = "0000-0000-0000";
  sample.name = "Zoë Łukasz-Ñúñez";
  sample.course_title = "Sample";
  sample.kind = "live";
  render(sample, "https://example.org/verify/0000-0000-0000");
}

std::string certificate_renderer::render(const certificate& c, const std::string& verify_url) const {
  hpdf_status status;
  doc_ptr doc(HPDF_New(on_error, &status));
  if (!doc) throw pdf_error("certificate PDF: libharu could not start");
  HPDF_SetCompressionMode(doc.get(), HPDF_COMP_ALL);
  HPDF_UseUTFEncodings(doc.get());
  HPDF_SetCurrentEncoder(doc.get(), "UTF-8");
  auto font = [&](const std::filesystem::path& p) {
    const char* name = HPDF_LoadTTFontFromFile(doc.get(), p.c_str(), HPDF_TRUE);
    check(status, ("cannot load the font " + p.string()).c_str());
    return HPDF_GetFont(doc.get(), name, "UTF-8");
  };
  const auto text = font(fonts_.text), strong = font(fonts_.strong), display = font(fonts_.display);
  HPDF_SetInfoAttr(doc.get(), HPDF_INFO_TITLE, ("Certificate " + c.code).c_str());
  HPDF_SetInfoAttr(doc.get(), HPDF_INFO_CREATOR, "Cohort");
  const auto page = HPDF_AddPage(doc.get());
  HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_LETTER, HPDF_PAGE_LANDSCAPE);
  page_writer w(page, text, strong, display);
  draw(w, c, verify_url);
  check(status, "could not be drawn");
  return save(doc.get(), status);
}

std::string long_date(std::int64_t unix_seconds) { return long_date(common::format_rfc3339(unix_seconds).substr(0, 10)); }

std::string long_date(std::string_view ymd) {
  static constexpr const char* months[] = {"January", "February", "March",     "April",   "May",      "June",
                                           "July",    "August",   "September", "October", "November", "December"};
  int y = 0, m = 0, d = 0;
  if (ymd.size() != 10 || std::sscanf(std::string(ymd).c_str(), "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12) return std::string(ymd);
  return std::to_string(d) + " " + months[m - 1] + " " + std::to_string(y);
}

}  // namespace cohort::certificates
