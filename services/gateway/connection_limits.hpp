// The RAII holders of the server's per-connection limits, without Beast: a connection's place in
// its client address's count, an upload's spool file, and an upload's place among those being
// received at once. Each gives its place back in its destructor, on every way out of a session
// (answer, timeout, reset, shutdown).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace cohort::http {

class connection_slot;

// How many connections each client address has open, capped. Thread-safe: the acceptor admits,
// the sessions' last owners release from any thread.
class connections_per_address : public std::enable_shared_from_this<connections_per_address> {
 public:
  // cap <= 0: no cap.
  explicit connections_per_address(int cap) : cap_(cap) {}

  // A slot for a new connection from `address`, or nullptr when that address is at its cap. An
  // exempt address (a trusted proxy, which carries many clients) gets a slot counted nowhere.
  std::shared_ptr<connection_slot> admit(const std::string& address, bool exempt);

 private:
  friend class connection_slot;
  void release(const std::string& address);

  const int cap_;
  std::mutex mutex_;
  std::unordered_map<std::string, int> open_;
};

// One connection of one client address, counted from accept until the last session (HTTP, then
// WebSocket) on it ends. An empty address is not counted.
class connection_slot {
 public:
  connection_slot(std::shared_ptr<connections_per_address> counts, std::string address)
      : counts_(std::move(counts)), address_(std::move(address)) {}
  ~connection_slot();
  connection_slot(const connection_slot&) = delete;
  connection_slot& operator=(const connection_slot&) = delete;

 private:
  std::shared_ptr<connections_per_address> counts_;
  std::string address_;
};

// An upload body's spool file: removed when the request is answered, and on every other way out
// of the session (timeout, reset, drop), since the destructor removes it too.
class spool_file {
 public:
  spool_file() = default;
  ~spool_file() { remove(); }
  spool_file(const spool_file&) = delete;
  spool_file& operator=(const spool_file&) = delete;

  void assign(std::string path) {
    remove();
    path_ = std::move(path);
  }
  const std::string& path() const { return path_; }
  // A handler that kept the upload has moved it away; then there is nothing left to remove.
  void remove();

 private:
  std::string path_;
};

// One of the server's uploads_max places for an upload body being received.
class upload_slot {
 public:
  upload_slot() = default;
  ~upload_slot() { release(); }
  upload_slot(const upload_slot&) = delete;
  upload_slot& operator=(const upload_slot&) = delete;

  // True when a place was taken (or is already held); false when `max` are in flight.
  bool take(std::atomic<int>& in_flight, int max);
  void release();

 private:
  std::atomic<int>* counter_ = nullptr;
};

}  // namespace cohort::http
