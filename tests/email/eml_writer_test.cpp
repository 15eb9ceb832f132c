#include "email/eml_writer.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace cohort::email;
namespace fs = std::filesystem;

// A fresh directory under the temp folder, removed with everything in it.
class temp_dir {
 public:
  temp_dir()
      : path_(fs::temp_directory_path() / ("cohort-eml-" + std::to_string(::getpid()) + "-" +
                                           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()))) {}
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t files_in(const fs::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST_CASE("eml_writer writes <dir>/<safe name>.eml with the exact bytes and nothing else", "[email][eml]") {
  temp_dir tmp;
  const eml_writer writer(tmp.path() / "data" / "outbox");  // created on the way
  const std::string rendered = "Subject: hi\r\n\r\nbody\r\n";
  const auto path = writer.write("<confirm-7@cohort.example.org>", rendered);
  CHECK(path == tmp.path() / "data" / "outbox" / "_confirm-7_cohort.example.org_.eml");
  CHECK(read(path) == rendered);
  CHECK(files_in(writer.dir()) == 1);  // no temporary left behind
}

TEST_CASE("writing the same message again replaces its file (a retry stays one file)", "[email][eml]") {
  temp_dir tmp;
  const eml_writer writer(tmp.path());
  writer.write("<m@h>", "first");
  const auto path = writer.write("<m@h>", "second");
  CHECK(read(path) == "second");
  CHECK(files_in(tmp.path()) == 1);
  CHECK(writer.deliver("<m@h>", "third").outcome == send_outcome::sent);
  CHECK(read(path) == "third");
}

TEST_CASE("safe_file_name cannot leave the directory or hide the file", "[email][eml]") {
  CHECK(safe_file_name("../../etc/passwd") == "_.._etc_passwd");
  CHECK(safe_file_name("..") == "message");
  CHECK(safe_file_name("") == "message");
  CHECK(safe_file_name(".hidden") == "hidden");
  CHECK(safe_file_name("a/b\\c\r\nd") == "a_b_c__d");
  CHECK(safe_file_name(std::string(500, 'x')).size() == 120);
}

TEST_CASE("a failed write is a retry, and leaves nothing behind", "[email][eml]") {
  temp_dir tmp;
  const eml_writer writer(tmp.path() / "outbox");
  // The directory is replaced by a file: creating the temporary fails (even for root).
  fs::remove_all(writer.dir());
  std::ofstream(writer.dir()) << "not a directory";
  const auto r = writer.deliver("<m@h>", "x");
  CHECK(r.outcome == send_outcome::retry);
  CHECK_THAT(r.error, Catch::Matchers::Contains("cannot create"));
  CHECK(files_in(tmp.path()) == 1);
  CHECK_THROWS_AS(writer.write("<m@h>", "x"), std::system_error);
}

TEST_CASE("deliver_batch writes every message of the batch as its own file, synced, and leaves no temporary",
          "[email][eml]") {
  temp_dir tmp;
  const eml_writer writer(tmp.path());
  std::vector<std::string> names, bodies;
  for (int i = 0; i < 40; ++i) {  // more messages than sync threads
    names.push_back("<m" + std::to_string(i) + "@h>");
    bodies.push_back("Subject: " + std::to_string(i) + "\r\n\r\n" + std::string(3000 + i, 'x') + "\r\n");
  }
  std::vector<eml_writer::message> batch;
  for (std::size_t i = 0; i < names.size(); ++i) batch.push_back({names[i], bodies[i]});
  const auto results = writer.deliver_batch(batch);
  REQUIRE(results.size() == batch.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    CHECK(results[i].outcome == send_outcome::sent);
    CHECK(read(tmp.path() / (safe_file_name(names[i]) + ".eml")) == bodies[i]);
  }
  CHECK(files_in(tmp.path()) == names.size());
  CHECK(writer.deliver_batch({}).empty());
}

TEST_CASE("deliver_batch: a message that cannot be placed fails alone; the rest of its batch is delivered",
          "[email][eml]") {
  temp_dir tmp;
  const eml_writer writer(tmp.path());
  // A directory where the second message's file belongs: its rename fails (even for root).
  fs::create_directories(tmp.path() / (safe_file_name("<b@h>") + ".eml") / "occupied");
  const auto results = writer.deliver_batch({{"<a@h>", "first"}, {"<b@h>", "second"}, {"<c@h>", "third"}});
  REQUIRE(results.size() == 3);
  CHECK(results[0].outcome == send_outcome::sent);
  CHECK(results[1].outcome == send_outcome::retry);
  CHECK_THAT(results[1].error, Catch::Matchers::Contains("cannot rename"));
  CHECK(results[2].outcome == send_outcome::sent);
  CHECK(read(tmp.path() / (safe_file_name("<a@h>") + ".eml")) == "first");
  CHECK(read(tmp.path() / (safe_file_name("<c@h>") + ".eml")) == "third");
  CHECK(files_in(tmp.path()) == 3);  // a, c and the directory: the failed one's temporary is gone
}
