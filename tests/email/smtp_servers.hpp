// Test support: SMTP servers on free loopback ports.
//   aiosmtpd_server: the real thing (Debian's python3-aiosmtpd) as a child process, its stdout
//     (the Debugging handler prints every message it accepts) captured to a file; stopped by pid.
//   scripted_smtp_server: a one-connection server on a thread that answers with the replies a
//     test chooses, for the refusals a real server will not produce on demand (550, 451, 554).
#pragma once

#include "../bus/redis_server.hpp"

#include <poll.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace cohort::email::testing {

using cohort::bus::testing::redis_server;

inline int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

class aiosmtpd_server {
 public:
  aiosmtpd_server()
      : port_(redis_server::free_port()),
        output_(std::filesystem::temp_directory_path() /
                ("cohort-aiosmtpd-" + std::to_string(::getpid()) + "-" + std::to_string(port_) + ".log")) {
    start();
  }
  ~aiosmtpd_server() {
    stop();
    std::error_code ec;
    std::filesystem::remove(output_, ec);
  }
  aiosmtpd_server(const aiosmtpd_server&) = delete;
  aiosmtpd_server& operator=(const aiosmtpd_server&) = delete;

  int port() const { return port_; }

  // Stops the server (so everything it printed is in the file) and returns what it printed.
  std::string stop_and_read_output() {
    stop();
    std::ifstream in(output_);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  void start() {
    // Debian's module lives under /usr/lib/python3; a python3 earlier on PATH (pyenv, venv)
    // would not find it.
    const std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    const std::string listen = "127.0.0.1:" + std::to_string(port_);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("aiosmtpd_server: fork() failed");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      const int out = ::open(output_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (out >= 0) {
        ::dup2(out, STDOUT_FILENO);
        ::dup2(out, STDERR_FILENO);
      }
      // Unbuffered, so a message is in the file once the server has answered 250.
      ::setenv("PYTHONUNBUFFERED", "1", 1);
      ::execlp(python.c_str(), python.c_str(), "-m", "aiosmtpd", "-n", "-l", listen.c_str(), nullptr);
      ::_exit(127);
    }
    wait_until_ready();
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  // Ready means it greets with 220.
  void wait_until_ready() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("aiosmtpd_server: python3 -m aiosmtpd exited at start (is python3-aiosmtpd installed?)");
      }
      if (const int fd = connect_loopback(port_); fd >= 0) {
        timeval timeout{2, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        char greeting[4] = {};
        const bool ok = ::recv(fd, greeting, 3, MSG_WAITALL) == 3 && std::string(greeting) == "220";
        ::send(fd, "QUIT\r\n", 6, MSG_NOSIGNAL);
        ::close(fd);
        if (ok) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    stop();
    throw std::runtime_error("aiosmtpd_server: no 220 greeting within 20 s");
  }

  int port_;
  std::filesystem::path output_;
  pid_t pid_ = -1;
};

// Replies: EHLO/HELO 250 (no extensions, so no STARTTLS and no AUTH), MAIL 250, RCPT
// rcpt_reply, DATA 354 then final_reply after the terminating ".", RSET/NOOP 250, QUIT 221.
class scripted_smtp_server {
 public:
  explicit scripted_smtp_server(std::string rcpt_reply, std::string final_reply = "250 OK", std::string mail_reply = "250 OK",
                                std::string greeting = "220 scripted ESMTP")
      : rcpt_reply_(std::move(rcpt_reply)), final_reply_(std::move(final_reply)), mail_reply_(std::move(mail_reply)),
        greeting_(std::move(greeting)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(listen_fd_, 4) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
      throw std::runtime_error("scripted_smtp_server: cannot listen");
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~scripted_smtp_server() {
    stopping_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  scripted_smtp_server(const scripted_smtp_server&) = delete;
  scripted_smtp_server& operator=(const scripted_smtp_server&) = delete;

  int port() const { return port_; }
  // The commands the client sent so far, one per line.
  std::string transcript() const {
    const std::lock_guard lock(mutex_);
    return transcript_;
  }

 private:
  void serve() {
    pollfd p{listen_fd_, POLLIN, 0};
    while (!stopping_) {
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      timeval timeout{5, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
      converse(fd);
      ::close(fd);
    }
  }

  void reply(int fd, const std::string& line) { ::send(fd, (line + "\r\n").data(), line.size() + 2, MSG_NOSIGNAL); }

  void converse(int fd) {
    reply(fd, greeting_);
    if (greeting_.rfind("220", 0) != 0) return;
    std::string buffer;
    bool in_data = false;
    char chunk[4096];
    while (true) {
      const auto n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(n));
      for (auto end = buffer.find("\r\n"); end != std::string::npos; end = buffer.find("\r\n")) {
        const auto line = buffer.substr(0, end);
        buffer.erase(0, end + 2);
        if (in_data) {
          if (line == ".") {
            in_data = false;
            reply(fd, final_reply_);
          }
          continue;
        }
        {
          const std::lock_guard lock(mutex_);
          transcript_ += line + "\n";
        }
        const auto verb = line.substr(0, 4);
        if (verb == "EHLO" || verb == "HELO" || verb == "RSET" || verb == "NOOP") reply(fd, "250 OK");
        else if (verb == "MAIL") reply(fd, mail_reply_);
        else if (verb == "RCPT") reply(fd, rcpt_reply_);
        else if (verb == "DATA") { reply(fd, "354 go ahead"); in_data = true; }
        else if (verb == "QUIT") { reply(fd, "221 bye"); return; }
        else reply(fd, "502 not implemented");
      }
    }
  }

  std::string rcpt_reply_, final_reply_, mail_reply_, greeting_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::string transcript_;
};

}  // namespace cohort::email::testing
