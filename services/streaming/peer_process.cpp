#include "streaming/peer_process.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace cohort::streaming {
namespace {

// The kernel prints each 32-bit word of an address as it lies in memory (%08X of the raw word),
// and the port as a number: "0100007F:1F90" is 127.0.0.1:8080 on a little-endian machine.
std::string proc_address(const boost::asio::ip::tcp::endpoint& e, bool v6_table) {
  std::vector<unsigned char> bytes;
  if (e.address().is_v4() && !v6_table) {
    const auto b = e.address().to_v4().to_bytes();
    bytes.assign(b.begin(), b.end());
  } else {
    const auto v6 = e.address().is_v6() ? e.address().to_v6()
                                         : boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, e.address().to_v4());
    const auto b = v6.to_bytes();
    bytes.assign(b.begin(), b.end());
  }
  std::string out;
  char word[16];
  for (std::size_t i = 0; i < bytes.size(); i += 4) {
    std::uint32_t w = 0;
    std::memcpy(&w, bytes.data() + i, 4);
    std::snprintf(word, sizeof word, "%08X", static_cast<unsigned>(w));
    out += word;
  }
  std::snprintf(word, sizeof word, ":%04X", static_cast<unsigned>(e.port()));
  return out + word;
}

std::string read_proc_file(const char* path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

std::optional<tcp_socket_entry> find_tcp_socket(std::string_view table, const boost::asio::ip::tcp::endpoint& local,
                                                const boost::asio::ip::tcp::endpoint& remote) {
  // The table says which family it is by its address width; try both spellings of v4.
  for (const bool v6 : {false, true}) {
    if (v6 == false && !local.address().is_v4()) continue;
    const auto want_local = proc_address(local, v6), want_remote = proc_address(remote, v6);
    std::istringstream lines{std::string(table)};
    std::string line;
    std::getline(lines, line);  // the column titles
    while (std::getline(lines, line)) {
      std::istringstream cols(line);
      std::string slot, loc, rem, state, queues, timer, retransmits, uid, timeout, inode;
      if (!(cols >> slot >> loc >> rem >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode)) continue;
      if (loc != want_local || rem != want_remote) continue;
      try {
        return tcp_socket_entry{std::stoull(inode), static_cast<unsigned>(std::stoul(uid))};
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

std::optional<tcp_socket_entry> peer_socket(const boost::asio::ip::tcp::socket& connection) {
  boost::system::error_code ec1, ec2;
  const auto ours = connection.local_endpoint(ec1), theirs = connection.remote_endpoint(ec2);
  if (ec1 || ec2) return std::nullopt;
  // The peer's row has the two endpoints the other way round.
  if (theirs.address().is_v4())
    if (auto found = find_tcp_socket(read_proc_file("/proc/net/tcp"), theirs, ours)) return found;
  return find_tcp_socket(read_proc_file("/proc/net/tcp6"), theirs, ours);
}

bool process_holds_socket(pid_t pid, std::uint64_t inode) {
  const auto dir_path = "/proc/" + std::to_string(pid) + "/fd";
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(dir_path.c_str()), ::closedir);
  if (!dir) return false;
  const auto want = "socket:[" + std::to_string(inode) + "]";
  char target[64];
  while (const auto* entry = ::readdir(dir.get())) {
    if (entry->d_name[0] == '.') continue;
    const auto link = dir_path + "/" + entry->d_name;
    const auto n = ::readlink(link.c_str(), target, sizeof target);
    if (n > 0 && std::string_view(target, static_cast<std::size_t>(n)) == want) return true;
  }
  return false;
}

}  // namespace cohort::streaming
