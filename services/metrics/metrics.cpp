#include "metrics/metrics.hpp"

#include <charconv>

namespace cohort::metrics {
namespace {

// Shortest text that reads back as the same double: 0.1 stays "0.1", and a large running sum
// (e.g. every write ever committed) keeps every unit.
std::string format_double(double v) {
  char buf[400];  // fixed notation of the largest double
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, end);
}

std::string join_labels(const std::string& labels, const std::string& extra) {
  if (labels.empty()) return "{" + extra + "}";
  return "{" + labels + "," + extra + "}";
}

}  // namespace

histogram::histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(new std::atomic<std::uint64_t>[bounds_.size()]) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) buckets_[i].store(0);
}

void histogram::observe(double value) noexcept {
  for (std::size_t i = 0; i < bounds_.size(); ++i)
    if (value <= bounds_[i]) {
      buckets_[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<std::uint64_t>(value * 1e6), std::memory_order_relaxed);
}

void histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out += name + "_bucket" + join_labels(labels, "le=\"" + format_double(bounds_[i]) + "\"") + " " +
           std::to_string(cumulative) + "\n";
  }
  const auto total = count_.load(std::memory_order_relaxed);
  out += name + "_bucket" + join_labels(labels, "le=\"+Inf\"") + " " + std::to_string(total) + "\n";
  const std::string plain = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + plain + " " + format_double(sum_micros_.load(std::memory_order_relaxed) / 1e6) + "\n";
  out += name + "_count" + plain + " " + std::to_string(total) + "\n";
}

counter& counter_family::with(const std::string& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = counters_[labels];
  if (!slot) slot = std::make_unique<counter>();
  return *slot;
}

void counter_family::render(std::string& out, const std::string& name) const {
  std::lock_guard lock(mutex_);
  for (const auto& [labels, c] : counters_) out += name + "{" + labels + "} " + std::to_string(c->value()) + "\n";
}

histogram& histogram_family::with(const std::string& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = histograms_[labels];
  if (!slot) slot = std::make_unique<histogram>(bounds_);
  return *slot;
}

void histogram_family::render(std::string& out, const std::string& name) const {
  std::lock_guard lock(mutex_);
  for (const auto& [labels, h] : histograms_) h->render(out, name, labels);
}

std::string registry::render() const {
  std::string out;
  out += "# HELP cohort_http_requests_total HTTP requests answered, by route pattern, method and status.\n";
  out += "# TYPE cohort_http_requests_total counter\n";
  http_requests.render(out, "cohort_http_requests_total");
  out += "# HELP cohort_http_request_duration_seconds Time from a complete request to its response being queued.\n";
  out += "# TYPE cohort_http_request_duration_seconds histogram\n";
  http_duration.render(out, "cohort_http_request_duration_seconds");
  out += "# HELP cohort_http_connections_total TCP connections accepted.\n";
  out += "# TYPE cohort_http_connections_total counter\n";
  out += "cohort_http_connections_total " + std::to_string(http_connections_total.value()) + "\n";
  out += "# HELP cohort_http_connections_refused_total Connections closed at accept because their client address had limits.connections_per_ip open.\n";
  out += "# TYPE cohort_http_connections_refused_total counter\n";
  out += "cohort_http_connections_refused_total " + std::to_string(http_connections_refused.value()) + "\n";
  out += "# HELP cohort_http_accept_errors_total Failed accepts (e.g. out of file descriptors), each followed by a short pause.\n";
  out += "# TYPE cohort_http_accept_errors_total counter\n";
  out += "cohort_http_accept_errors_total " + std::to_string(http_accept_errors.value()) + "\n";
  out += "# HELP cohort_http_uploads_refused_total Uploads answered 503 at header time because limits.uploads_max were under way.\n";
  out += "# TYPE cohort_http_uploads_refused_total counter\n";
  out += "cohort_http_uploads_refused_total " + std::to_string(http_uploads_refused.value()) + "\n";
  out += "# HELP cohort_http_uploads_too_slow_total Uploads dropped for arriving slower than limits.upload_min_bytes_per_second.\n";
  out += "# TYPE cohort_http_uploads_too_slow_total counter\n";
  out += "cohort_http_uploads_too_slow_total " + std::to_string(http_uploads_too_slow.value()) + "\n";
  out += "# HELP cohort_registrations_total Signups committed, by resulting status.\n";
  out += "# TYPE cohort_registrations_total counter\n";
  registrations.render(out, "cohort_registrations_total");
  out += "# HELP cohort_signups_limited_total Signups refused with 429 by the per-client or per-series rate limit.\n";
  out += "# TYPE cohort_signups_limited_total counter\n";
  signups_limited.render(out, "cohort_signups_limited_total");
  out += "# HELP cohort_signups_honeypot_total Signups with the form's hidden field filled: answered like a success, not stored.\n";
  out += "# TYPE cohort_signups_honeypot_total counter\n";
  out += "cohort_signups_honeypot_total " + std::to_string(signups_honeypot.value()) + "\n";
  out += "# HELP cohort_signups_lapsed_total Unconfirmed signups whose hold lapsed (registration.confirm_hours).\n";
  out += "# TYPE cohort_signups_lapsed_total counter\n";
  out += "cohort_signups_lapsed_total " + std::to_string(signups_lapsed.value()) + "\n";
  out += "# HELP cohort_sqlite_commit_batch_size Writes committed together in one group-commit transaction.\n";
  out += "# TYPE cohort_sqlite_commit_batch_size histogram\n";
  sqlite_batch_size.render(out, "cohort_sqlite_commit_batch_size", "");
  out += "# HELP cohort_sqlite_commit_duration_seconds Time to run and commit one batch.\n";
  out += "# TYPE cohort_sqlite_commit_duration_seconds histogram\n";
  sqlite_commit_seconds.render(out, "cohort_sqlite_commit_duration_seconds", "");
  out += "# HELP cohort_sqlite_write_rejected_total Writes refused because the write queue was full.\n";
  out += "# TYPE cohort_sqlite_write_rejected_total counter\n";
  out += "cohort_sqlite_write_rejected_total " + std::to_string(sqlite_write_rejected.value()) + "\n";
  out += "# HELP cohort_ws_connections WebSocket connections open now.\n";
  out += "# TYPE cohort_ws_connections gauge\n";
  out += "cohort_ws_connections " + std::to_string(ws_open.load(std::memory_order_relaxed)) + "\n";
  out += "# HELP cohort_ws_frames_sent_total WebSocket frames written to clients.\n";
  out += "# TYPE cohort_ws_frames_sent_total counter\n";
  out += "cohort_ws_frames_sent_total " + std::to_string(ws_frames_sent.value()) + "\n";
  out += "# HELP cohort_ws_slow_consumer_closes_total Connections closed because their outgoing queue was full.\n";
  out += "# TYPE cohort_ws_slow_consumer_closes_total counter\n";
  out += "cohort_ws_slow_consumer_closes_total " + std::to_string(ws_slow_consumer_closes.value()) + "\n";
  out += "# HELP cohort_chat_messages_total Chat messages accepted and sequenced.\n";
  out += "# TYPE cohort_chat_messages_total counter\n";
  out += "cohort_chat_messages_total " + std::to_string(chat_messages.value()) + "\n";
  out += "# HELP cohort_chat_rejected_total chat.send refused (rate limit, mute, invalid text).\n";
  out += "# TYPE cohort_chat_rejected_total counter\n";
  out += "cohort_chat_rejected_total " + std::to_string(chat_rejected.value()) + "\n";
  out += "# HELP cohort_chat_sockets_per_token_refused_total Chat sockets refused: the token already holds chat.sockets_per_token on this node.\n";
  out += "# TYPE cohort_chat_sockets_per_token_refused_total counter\n";
  out += "cohort_chat_sockets_per_token_refused_total " + std::to_string(chat_sockets_per_token_refused.value()) + "\n";
  out += "# HELP cohort_chat_revocations_stale_refused_total Chat sockets an edge refused while its revocation list lacked the primary's generation marker.\n";
  out += "# TYPE cohort_chat_revocations_stale_refused_total counter\n";
  out += "cohort_chat_revocations_stale_refused_total " + std::to_string(chat_revocations_stale_refused.value()) + "\n";
  out += "# HELP cohort_rtmp_refused_total RTMP connections closed before any media: unknown key, second publisher, malformed.\n";
  out += "# TYPE cohort_rtmp_refused_total counter\n";
  out += "cohort_rtmp_refused_total " + std::to_string(rtmp_refused.value()) + "\n";
  out += "# HELP cohort_rtmp_publishes_total RTMP publishes accepted (a valid stream key).\n";
  out += "# TYPE cohort_rtmp_publishes_total counter\n";
  out += "cohort_rtmp_publishes_total " + std::to_string(rtmp_publishes.value()) + "\n";
  out += "# HELP cohort_ingest_refused_total Connections to the loopback ingest server closed unread: not from an ffmpeg this server started.\n";
  out += "# TYPE cohort_ingest_refused_total counter\n";
  out += "cohort_ingest_refused_total " + std::to_string(ingest_refused.value()) + "\n";
  out += "# HELP cohort_rtmp_limited_total RTMP connections refused at accept (per-address cap) or closed for a newer one (total cap) before publishing.\n";
  out += "# TYPE cohort_rtmp_limited_total counter\n";
  out += "cohort_rtmp_limited_total " + std::to_string(rtmp_limited.value()) + "\n";
  return out;
}

std::string label_value(const std::string& raw) {
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

}  // namespace cohort::metrics
