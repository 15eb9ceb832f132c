// A private redis-server for one test: a child process on a free loopback port, without
// persistence, killed (by pid) when the object goes. kill9() and restart() simulate a crash.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cohort::bus::testing {

class redis_server {
 public:
  // extra_args are appended to the command line, e.g. {"--requirepass", "secret"}.
  explicit redis_server(std::vector<std::string> extra_args = {})
      : port_(free_port()), extra_args_(std::move(extra_args)) {
    start();
  }
  ~redis_server() { stop(SIGTERM); }
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  int port() const { return port_; }

  // Crash: SIGKILL, no chance to close connections cleanly (the kernel resets them).
  void kill9() { stop(SIGKILL); }

  // A fresh, empty server on the same port.
  void restart() {
    stop(SIGKILL);
    start();
  }

  // A port nothing listens on (bound once, then released).
  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("redis_server: socket() failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ::close(fd);
      throw std::runtime_error("redis_server: cannot find a free port");
    }
    ::close(fd);
    return ntohs(address.sin_port);
  }

 private:
  void start() {
    std::vector<std::string> args = {
        "redis-server", "--port", std::to_string(port_), "--bind",  "127.0.0.1", "--save", "", "--appendonly", "no",
        "--daemonize",  "no",     "--loglevel",          "warning", "--logfile", ""};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);

    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("redis_server: fork() failed");
    if (pid_ == 0) {
      // Dies with the test process, even if that one crashes.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      // Its start-up warnings (overcommit, ...) would only clutter the test output.
      const int null = ::open("/dev/null", O_WRONLY);
      if (null >= 0) {
        ::dup2(null, STDOUT_FILENO);
        ::dup2(null, STDERR_FILENO);
      }
      ::execvp("redis-server", argv.data());
      ::_exit(127);
    }
    wait_until_ready();
  }

  void stop(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  // Ready means it answers PING with +PONG.
  void wait_until_ready() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("redis_server: redis-server exited at start (is it installed? port " +
                                 std::to_string(port_) + ")");
      }
      if (answers_ping()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    stop(SIGKILL);
    throw std::runtime_error("redis_server: redis-server did not answer PING within 10 s");
  }

  bool answers_ping() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port_));
    bool ok = false;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
      const char ping[] = "PING\r\n";
      char answer[64] = {};
      // -NOAUTH also proves the server is up when it was started with --requirepass.
      if (::send(fd, ping, sizeof(ping) - 1, MSG_NOSIGNAL) == sizeof(ping) - 1 &&
          ::recv(fd, answer, sizeof(answer) - 1, 0) > 0) {
        ok = std::strncmp(answer, "+PONG", 5) == 0 || std::strncmp(answer, "-NOAUTH", 7) == 0;
      }
    }
    ::close(fd);
    return ok;
  }

  int port_;
  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
};

}  // namespace cohort::bus::testing
