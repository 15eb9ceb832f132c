// The certificate as a PDF, rendered in memory with libharu on request (no files on disk):
// landscape Letter, bordered, every printed fact of the record plus its verification code and
// URL. Text is UTF-8 in embedded DejaVu fonts, so any Latin, Greek or Cyrillic name prints.
// A renderer is immutable after construction; render() may run on several threads at once
// (each call has its own HPDF_Doc).
#pragma once

#include "certificates/certificate_store.hpp"

#include <filesystem>
#include <stdexcept>
#include <string>

namespace cohort::certificates {

struct pdf_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Debian's fonts-dejavu-core.
inline const std::filesystem::path default_font_dir = "/usr/share/fonts/truetype/dejavu";

struct pdf_fonts {
  std::filesystem::path text;     // DejaVuSans.ttf
  std::filesystem::path strong;   // DejaVuSans-Bold.ttf
  std::filesystem::path display;  // DejaVuSerif-Bold.ttf: the title and the name
};

// The three fonts in `dir`; throws pdf_error naming a missing file and the package to install.
pdf_fonts dejavu_fonts(const std::filesystem::path& dir = default_font_dir);

class certificate_renderer {
 public:
  // Renders a sample once, so a font libharu cannot load stops the start-up (pdf_error).
  explicit certificate_renderer(pdf_fonts fonts);
  // The PDF bytes ("%PDF-..."); `verify_url` is printed as the place to check the code.
  // Over-long facts are cut to fit (the record is bounded text anyway). Throws pdf_error.
  std::string render(const certificate& c, const std::string& verify_url) const;

 private:
  pdf_fonts fonts_;
};

// "3 December 2026": of an instant (UTC), or of a "YYYY-MM-DD" date.
std::string long_date(std::int64_t unix_seconds);
std::string long_date(std::string_view ymd);

}  // namespace cohort::certificates
