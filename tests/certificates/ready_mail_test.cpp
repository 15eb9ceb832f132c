#include "certificates/certificates_module.hpp"

#include "ce_fixture.hpp"
#include "email/outbox_store.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

using namespace cohort::certificates;
using cohort::test::ce_fixture;
using cohort::test::ce_t0;
namespace fs = std::filesystem;

namespace {

fs::path shipped_templates() {
  const char* dir = std::getenv("COHORT_SOURCE_DIR");
  const fs::path root = dir ? fs::path(dir) : fs::path(__FILE__).parent_path().parent_path().parent_path();
  return root / "config" / "email";
}

}  // namespace

TEST_CASE("a fresh certificate queues one 'ready' mail in the issuing transaction; a repeat issue none", "[certificates][mail]") {
  ce_fixture f;
  const cohort::email::mailer mail{{"https://cohort.example.org", {"Cohort", "webinars@cohort.example.org"}, "cohort.example.org",
                                    "certificate-mail-test-secret-0123456789abcdef", {}, {}},
                                   cohort::email::template_set::load(shipped_templates())};
  const auto hook = ready_mail(mail);
  const auto first = issue(f.db, {f.webinar, f.registration, 1, "live", 90}, ce_t0, hook);
  issue(f.db, {f.webinar, f.registration, 1, "live", 90}, ce_t0 + 60, hook);

  auto rows = f.db.prepare("SELECT kind, dedupe_key, to_addr, args FROM outbox WHERE kind = 'certificate'");
  REQUIRE(rows.step());
  CHECK(rows.text(1) == "certificate:" + first.cert.code);
  CHECK(rows.text(2) == "zoe@example.org");
  CHECK(rows.text(3).find("\"hours\":\"1.5\"") != std::string::npos);
  CHECK(rows.text(3).find("\"ceus\":\"0.15\"") != std::string::npos);
  CHECK_FALSE(rows.step());

  // A re-issue mails the new code.
  const auto fresh = reissue(f.db, first.cert.code, ce_t0 + 120, hook);
  auto again = f.db.prepare("SELECT count(*) FROM outbox WHERE dedupe_key = ?");
  again.bind(1, "certificate:" + fresh.code);
  again.step();
  CHECK(again.int64(0) == 1);
}
