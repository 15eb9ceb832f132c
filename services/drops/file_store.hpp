// Bonus files on disk, named by the SHA-256 of their content (data_dir/files/<hex>): the same
// file uploaded twice is stored once, and the name is its ETag. Uploads arrive as spool files
// (the HTTP server streams request bodies there) and are moved in, never copied into memory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace cohort::drops {

class file_store {
 public:
  explicit file_store(std::filesystem::path dir);

  struct stored {
    std::string sha256;  // hex
    std::uint64_t size = 0;
  };
  // Hashes the spool file and moves it into the store (same file system). Throws on I/O errors.
  stored adopt(const std::filesystem::path& spool) const;
  std::filesystem::path path_of(const std::string& sha256) const { return dir_ / sha256; }

 private:
  std::filesystem::path dir_;
};

// SHA-256 of a file's content, hex, read in 64 KiB blocks.
std::string sha256_file(const std::filesystem::path& file, std::uint64_t& size);

}  // namespace cohort::drops
