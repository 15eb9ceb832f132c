#include "certificates/certificate_pdf.hpp"

#include "ce_fixture.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace cohort::certificates;
using cohort::test::ce_fixture;
using cohort::test::ce_t0;
namespace fs = std::filesystem;

namespace {

// The PDF's text as poppler-utils' pdftotext reads it (what a board's clerk would copy).
std::string pdf_text(const std::string& pdf) {
  const auto dir = fs::temp_directory_path() / ("cohort-pdf-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto file = dir / "certificate.pdf";
  std::ofstream(file, std::ios::binary) << pdf;
  std::string out;
  if (FILE* p = ::popen(("pdftotext -layout " + file.string() + " - 2>/dev/null").c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  fs::remove_all(dir);
  return out;
}

const certificate_renderer& renderer() {
  static const certificate_renderer r(dejavu_fonts());
  return r;
}

}  // namespace

TEST_CASE("the PDF prints every fact, with a UTF-8 name", "[certificates][pdf]") {
  ce_fixture f;
  const auto c = issue(f.db, {f.webinar, f.registration, 1, "live", 90}, ce_t0 + 7200).cert;
  const auto pdf = renderer().render(c, "https://cohort.example.org/verify/" + c.code);
  REQUIRE(pdf.rfind("%PDF-", 0) == 0);
  CHECK(pdf.size() < 400 * 1024);
  const auto text = pdf_text(pdf);
  INFO(text);
  CHECK(text.find("Certificate of Completion") != std::string::npos);
  CHECK(text.find("Continuing Education") != std::string::npos);
  CHECK(text.find("Zoë Łukasz-Ñúñez") != std::string::npos);
  CHECK(text.find("License number: OT-12345") != std::string::npos);
  CHECK(text.find("Feeding in the NICU") != std::string::npos);
  CHECK(text.find("Session 1: Oral motor readiness") != std::string::npos);
  CHECK(text.find("2 December 2026") != std::string::npos);
  CHECK(text.find("Live") != std::string::npos);
  CHECK(text.find("1.5 contact hours") != std::string::npos);
  CHECK(text.find("0.15 CEUs") != std::string::npos);
  CHECK(text.find("Little Steps Therapy") != std::string::npos);
  CHECK(text.find("AOTA 1234") != std::string::npos);
  CHECK(text.find("Approval no. APP-0042") != std::string::npos);
  CHECK(text.find("Intermediate") != std::string::npos);
  CHECK(text.find("AOTA Approved Provider") != std::string::npos);  // the statement, wrapped
  CHECK(text.find("clinical procedures by AOTA.") != std::string::npos);
  CHECK(text.find(c.code) != std::string::npos);
  CHECK(text.find("https://cohort.example.org/verify/" + c.code) != std::string::npos);
}

TEST_CASE("recorded credit says so; no license line when none was given", "[certificates][pdf]") {
  ce_fixture f("Ana Ruiz", "");
  const auto c = issue(f.db, {f.webinar, f.registration, 2, "recorded", 80}, ce_t0).cert;
  const auto text = pdf_text(renderer().render(c, "https://cohort.example.org/verify/" + c.code));
  CHECK(text.find("Recorded (distance learning)") != std::string::npos);
  CHECK(text.find("License number") == std::string::npos);
  CHECK(text.find("Session 2") != std::string::npos);
}

TEST_CASE("over-long and odd facts still give one page that fits", "[certificates][pdf]") {
  certificate c;
  c.code = "7K3M-9QX2-ABCD";
  c.kind = "live";
  c.name = std::string(300, 'W');
  c.course_title = "A very long course title " + std::string(400, 'x');
  c.statement = std::string(3000, 'y') + "\n\nsecond paragraph " + std::string("\x01\xff\xfe", 3);
  c.provider_name = "Provider";
  const auto pdf = renderer().render(c, "https://cohort.example.org/verify/" + c.code);
  REQUIRE(pdf.rfind("%PDF-", 0) == 0);
  const auto text = pdf_text(pdf);
  CHECK(text.find(c.code) != std::string::npos);
  CHECK(text.find('\f') == text.rfind('\f'));  // one page
}

TEST_CASE("missing fonts are named at start-up", "[certificates][pdf]") {
  CHECK_THROWS_WITH(dejavu_fonts("/nonexistent/fonts"), Catch::Contains("/nonexistent/fonts/DejaVuSans.ttf") && Catch::Contains("fonts-dejavu-core"));
}

TEST_CASE("a long name or course title takes two lines rather than losing words", "[certificates][pdf]") {
  certificate c;
  c.code = "7K3M-9QX2-ABCD";
  c.kind = "live";
  c.session_number = 1;
  c.name = "Maximiliana Alexandra Konstantinopoulou-Vanderberg-Østergaard de la Cruz y Ñúñez";
  c.course_title = "Sensory integration across the lifespan: a practical, evidence-informed series for pediatric occupational therapists";
  const auto text = pdf_text(renderer().render(c, "https://cohort.example.org/verify/" + c.code));
  INFO(text);
  CHECK(text.find("Maximiliana Alexandra Konstantinopoulou-Vanderberg-Østergaard") != std::string::npos);
  CHECK(text.find("de la Cruz y Ñúñez") != std::string::npos);
  CHECK(text.find("occupational therapists") != std::string::npos);
  CHECK(text.find("…") == std::string::npos);
}
