// Who holds the other end of a loopback TCP connection, from Linux's /proc: the ingest server
// lets in only the connections the ffmpeg it started made, so no secret has to travel in a URL
// (where `ps` would show it). Stateless; reads small /proc files with blocking calls.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace cohort::streaming {

struct tcp_socket_entry {
  std::uint64_t inode = 0;  // as /proc/<pid>/fd names it: socket:[inode]
  unsigned uid = 0;         // the owner of the socket
};

// The row of a /proc/net/tcp or /proc/net/tcp6 table (its whole text) whose local address is
// `local` and remote address is `remote`; nullopt when there is none.
std::optional<tcp_socket_entry> find_tcp_socket(std::string_view table, const boost::asio::ip::tcp::endpoint& local,
                                                const boost::asio::ip::tcp::endpoint& remote);

// The socket at the other end of `connection` (one this process accepted or opened over loopback):
// its row in /proc/net/tcp (or tcp6), found by the two endpoints swapped. nullopt when the
// connection is gone or the peer is in another network namespace.
std::optional<tcp_socket_entry> peer_socket(const boost::asio::ip::tcp::socket& connection);

// Whether process `pid` has the socket among its open descriptors (/proc/<pid>/fd).
bool process_holds_socket(pid_t pid, std::uint64_t inode);

}  // namespace cohort::streaming
