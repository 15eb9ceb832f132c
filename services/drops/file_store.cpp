#include "drops/file_store.hpp"

#include "common/bytes.hpp"
#include "gateway/auth.hpp"

#include <openssl/evp.h>

#include <array>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace cohort::drops {

file_store::file_store(std::filesystem::path dir) : dir_(std::move(dir)) { std::filesystem::create_directories(dir_); }

std::string sha256_file(const std::filesystem::path& file, std::uint64_t& size) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) throw std::runtime_error("SHA-256 unavailable");
  std::array<char, 64 * 1024> block;
  size = 0;
  while (in) {
    in.read(block.data(), block.size());
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), block.data(), n);
    size += n;
  }
  if (in.bad()) throw std::runtime_error("cannot read " + file.string());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  return common::hex(std::string_view(reinterpret_cast<const char*>(digest), len));
}

file_store::stored file_store::adopt(const std::filesystem::path& spool) const {
  stored out;
  out.sha256 = sha256_file(spool, out.size);
  const auto target = path_of(out.sha256);
  std::error_code ec;
  if (std::filesystem::exists(target, ec)) {
    std::filesystem::remove(spool, ec);  // already stored: same bytes
  } else {
    std::filesystem::rename(spool, target);
  }
  return out;
}

}  // namespace cohort::drops
