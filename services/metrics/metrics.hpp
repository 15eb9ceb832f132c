// Prometheus metrics without a client library: counters and histograms that are cheap to update
// from any thread (atomics on the hot path), rendered in the text exposition format on /metrics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace cohort::metrics {

class counter {
 public:
  void add(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// Fixed buckets chosen at construction; observe() is lock-free.
class histogram {
 public:
  explicit histogram(std::vector<double> upper_bounds);
  void observe(double value) noexcept;
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  void render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_micros_{0};  // sum kept in millionths to stay atomic
};

// A metric family keyed by a rendered label set, e.g. route="/api/webinars",status="201".
// Lookups take a mutex; the counters themselves are atomics and live as long as the family.
class counter_family {
 public:
  counter& with(const std::string& labels);
  void render(std::string& out, const std::string& name) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<counter>> counters_;
};

class histogram_family {
 public:
  explicit histogram_family(std::vector<double> bounds) : bounds_(std::move(bounds)) {}
  histogram& with(const std::string& labels);
  void render(std::string& out, const std::string& name) const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<histogram>> histograms_;
};

// The process's metrics, created in main and passed to whoever records.
struct registry {
  counter_family http_requests;              // route, method, status
  histogram_family http_duration{{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}};
  counter_family registrations;              // status
  counter_family signups_limited;            // by="ip"|"series": signups refused with 429
  counter signups_honeypot;                  // signups with the form's hidden field filled (answered, not stored)
  counter signups_lapsed;                    // unconfirmed signups whose hold lapsed
  histogram sqlite_batch_size{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}};
  histogram sqlite_commit_seconds{{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}};
  counter sqlite_write_rejected;             // write queue full
  counter http_connections_total;
  counter http_connections_refused;          // closed at accept: the client address is at limits.connections_per_ip
  counter http_accept_errors;                // accept failed (e.g. out of descriptors) and backed off
  counter http_uploads_refused;              // answered 503 at header time: limits.uploads_max uploads under way
  counter http_uploads_too_slow;             // dropped below limits.upload_min_bytes_per_second
  std::atomic<std::int64_t> ws_open{0};      // WebSocket connections open now
  counter ws_frames_sent;
  counter ws_slow_consumer_closes;           // closed because the outgoing queue was full
  counter chat_messages;                     // chat messages accepted and sequenced
  counter chat_rejected;                     // chat.send refused (rate limit, mute, invalid)
  counter chat_sockets_per_token_refused;    // upgrades refused: the token already holds chat.sockets_per_token sockets here
  counter chat_revocations_stale_refused;    // edge: upgrades refused while its revocation list is not confirmed
  counter rtmp_refused;                      // RTMP connections closed before media (bad key, ...)
  counter rtmp_publishes;                    // publishes accepted
  counter ingest_refused;                    // ingest connections not from an ffmpeg of this server
  counter rtmp_limited;                      // RTMP connections refused or closed by the per-address / total caps

  std::string render() const;
};

// Escapes a label value per the exposition format.
std::string label_value(const std::string& raw);

}  // namespace cohort::metrics
