#include "streaming/peer_process.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <sys/wait.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <bit>

using namespace cohort::streaming;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// A real loopback connection inside this process: what the ingest server sees when ffmpeg connects.
struct loopback_pair {
  net::io_context ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
  tcp::socket client{ioc};
  tcp::socket accepted{ioc};
  loopback_pair() {
    client.connect(acceptor.local_endpoint());
    acceptor.accept(accepted);
  }
};

}  // namespace

TEST_CASE("peer_socket finds the other end of an accepted loopback connection, held by this process") {
  loopback_pair c;
  const auto peer = peer_socket(c.accepted);
  REQUIRE(peer);
  CHECK(peer->uid == ::getuid());
  CHECK(process_holds_socket(::getpid(), peer->inode));
  // It is the client's socket, not the accepted one: seen from the client, the other end is the accepted socket.
  const auto back = peer_socket(c.client);
  REQUIRE(back);
  CHECK(back->inode != peer->inode);
  CHECK(process_holds_socket(::getpid(), back->inode));
}

TEST_CASE("process_holds_socket: another process does not hold our socket") {
  loopback_pair c;
  const auto peer = peer_socket(c.accepted);
  REQUIRE(peer);
  pid_t pid = 0;
  char sleep_arg0[] = "sleep";
  char sleep_arg1[] = "5";
  char* argv[] = {sleep_arg0, sleep_arg1, nullptr};
  char* envp[] = {nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  REQUIRE(::posix_spawn(&pid, "/bin/sleep", &actions, nullptr, argv, envp) == 0);
  posix_spawn_file_actions_destroy(&actions);
  CHECK_FALSE(process_holds_socket(pid, peer->inode));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK_FALSE(process_holds_socket(pid, peer->inode));  // gone: no such /proc entry
}

TEST_CASE("peer_socket: a closed peer is not found") {
  loopback_pair c;
  c.client.close();
  // The client's row leaves /proc/net/tcp once closed, or stays in a state whose inode is 0;
  // either way no process holds it.
  const auto peer = peer_socket(c.accepted);
  if (peer) CHECK_FALSE(process_holds_socket(::getpid(), peer->inode));
}

TEST_CASE("find_tcp_socket reads the kernel's table format (IPv4 words as they lie in memory, ports in hex)") {
  // 127.0.0.1:40000 -> 127.0.0.1:8080, as a little-endian machine prints it.
  const std::string table =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 111 1 0 100 0 0 10 0\n"
      "   1: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1001        0 222 1 0 20 4 30 10 -1\n";
  const tcp::endpoint client(net::ip::make_address("127.0.0.1"), 40000), server(net::ip::make_address("127.0.0.1"), 8080);
  if constexpr (std::endian::native == std::endian::little) {
    const auto found = find_tcp_socket(table, client, server);
    REQUIRE(found);
    CHECK(found->inode == 222);
    CHECK(found->uid == 1001);
  }
  CHECK_FALSE(find_tcp_socket(table, server, client));
  CHECK_FALSE(find_tcp_socket("garbage\nmore garbage\n", client, server));
}
