// A uniquely named SQLite file in the temp folder for tests that need a real file (WAL, a second
// connection); removes the database and its -wal/-shm/-journal companions when it goes out of scope.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <system_error>
#include <unistd.h>

namespace cohort::test {

class temp_database_file {
 public:
  temp_database_file() {
    static std::atomic<int> counter{0};
    path_ = (std::filesystem::temp_directory_path() /
             ("cohort-test-" + std::to_string(::getpid()) + "-" +
              std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + "-" +
              std::to_string(counter++) + ".sqlite"))
                .string();
  }
  ~temp_database_file() {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path_ + suffix, ec);
  }
  temp_database_file(const temp_database_file&) = delete;
  temp_database_file& operator=(const temp_database_file&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace cohort::test
