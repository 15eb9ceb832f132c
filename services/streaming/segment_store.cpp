#include "streaming/segment_store.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace cohort::streaming {

namespace {

// FNV-1a, 64 bits: an ETag only has to tell contents apart, not resist anyone.
std::uint64_t fnv1a(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// A copy of `bytes` in a memfd sealed against every change, so a sendfile from it always finds
// the bytes the headers describe. Null when it cannot be made.
std::shared_ptr<const http::owned_fd> memory_file(std::string_view bytes) {
  const int fd = ::memfd_create("cohort-hls", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return nullptr;
  auto file = std::make_shared<const http::owned_fd>(fd);
  for (std::size_t done = 0; done < bytes.size();) {
    const auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return nullptr;
    done += static_cast<std::size_t>(n);
  }
  if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) return nullptr;
  return file;
}

}  // namespace

std::shared_ptr<const segment_store::header_list> segment_store::headers_for(std::string_view bytes) {
  char etag[40];
  std::snprintf(etag, sizeof etag, "\"%016llx-%zx\"", static_cast<unsigned long long>(fnv1a(bytes)), bytes.size());
  return std::make_shared<const header_list>(header_list{
      {"Content-Type", "video/mp4"}, {"Cache-Control", "public, max-age=3600, immutable"}, {"ETag", etag}});
}

segment_store::buffer segment_store::header_lines_for(const header_list& headers, std::size_t size) {
  std::string lines;
  for (const auto& [name, value] : headers) lines.append(name).append(": ").append(value).append("\r\n");
  lines.append("Content-Length: ").append(std::to_string(size)).append("\r\n");
  return std::make_shared<const std::string>(std::move(lines));
}

const std::string& segment_store::served_file::etag() const { return headers->back().second; }

segment_store::segment_store(std::size_t max_segments, std::size_t max_bytes)
    : max_segments_(max_segments), max_bytes_(max_bytes) {}

segment_store::rendition_state& segment_store::state(std::string_view rendition) {
  auto it = renditions_.find(rendition);
  if (it == renditions_.end()) it = renditions_.emplace(std::string(rendition), rendition_state{}).first;
  return it->second;
}

// Evicted buffers go to `freed`, which the caller declares before taking the lock: the last
// reference (and the free of a large segment) then drops after the mutex is released.
void segment_store::erase(rendition_state& r, std::map<std::string, file, std::less<>>::iterator it,
                          std::vector<buffer>& freed) {
  total_bytes_ -= it->second.bytes->size();
  if (it->second.serial == 0) r.init_name.clear();
  else r.segments_by_age.erase(it->second.serial);
  freed.push_back(std::move(it->second.bytes));
  r.files.erase(it);
}

void segment_store::evict(rendition_state& r, std::vector<buffer>& freed) {
  while (r.segments_by_age.size() > max_segments_) erase(r, r.files.find(r.segments_by_age.begin()->second), freed);
  while (total_bytes_ > max_bytes_) {
    // Oldest segment across renditions, so they keep windows of about the same time span.
    rendition_state* oldest = nullptr;
    for (auto& [name, s] : renditions_)
      if (!s.segments_by_age.empty() &&
          (!oldest || s.segments_by_age.begin()->first < oldest->segments_by_age.begin()->first))
        oldest = &s;
    if (!oldest) break;  // only init segments left
    erase(*oldest, oldest->files.find(oldest->segments_by_age.begin()->second), freed);
  }
}

segment_store::buffer segment_store::put_segment(std::string_view rendition, std::string name, std::string bytes) {
  auto headers = headers_for(bytes);
  auto lines = header_lines_for(*headers, bytes.size());
  auto copy = memory_file(bytes);
  auto stored = std::make_shared<const std::string>(std::move(bytes));
  std::vector<buffer> freed;
  std::lock_guard lock(mutex_);
  auto& r = state(rendition);
  if (auto it = r.files.find(name); it != r.files.end()) erase(r, it, freed);
  const auto serial = next_serial_++;
  r.segments_by_age.emplace(serial, name);
  r.files.emplace(std::move(name), file{stored, std::move(headers), std::move(lines), std::move(copy), serial});
  total_bytes_ += stored->size();
  evict(r, freed);
  return stored;
}

segment_store::buffer segment_store::put_init(std::string_view rendition, std::string name, std::string bytes) {
  auto headers = headers_for(bytes);
  auto lines = header_lines_for(*headers, bytes.size());
  auto copy = memory_file(bytes);
  auto stored = std::make_shared<const std::string>(std::move(bytes));
  std::vector<buffer> freed;
  std::lock_guard lock(mutex_);
  auto& r = state(rendition);
  if (auto it = r.files.find(r.init_name); !r.init_name.empty() && it != r.files.end()) erase(r, it, freed);
  if (auto it = r.files.find(name); it != r.files.end()) erase(r, it, freed);
  r.init_name = name;
  r.files.emplace(std::move(name), file{stored, std::move(headers), std::move(lines), std::move(copy), 0});
  total_bytes_ += stored->size();
  evict(r, freed);
  return stored;
}

bool segment_store::remove(std::string_view rendition, std::string_view name) {
  std::vector<buffer> freed;
  std::lock_guard lock(mutex_);
  const auto r = renditions_.find(rendition);
  if (r == renditions_.end()) return false;
  const auto it = r->second.files.find(name);
  if (it == r->second.files.end()) return false;
  erase(r->second, it, freed);
  return true;
}

segment_store::buffer segment_store::get(std::string_view rendition, std::string_view name) const {
  std::lock_guard lock(mutex_);
  const auto r = renditions_.find(rendition);
  if (r == renditions_.end()) return nullptr;
  const auto it = r->second.files.find(name);
  return it == r->second.files.end() ? nullptr : it->second.bytes;
}

segment_store::served_file segment_store::find(std::string_view rendition, std::string_view name) const {
  std::lock_guard lock(mutex_);
  const auto r = renditions_.find(rendition);
  if (r == renditions_.end()) return {};
  const auto it = r->second.files.find(name);
  if (it == r->second.files.end()) return {};
  return {it->second.bytes, it->second.headers, it->second.header_lines, it->second.memory_file};
}

void segment_store::update_playlist(std::string_view rendition, media_playlist p) {
  const int target = target_duration_for(p.segments, p.target_duration);
  std::lock_guard lock(mutex_);
  auto& r = state(rendition);
  if (r.playlist && p.media_sequence >= r.playlist->media_sequence) {
    // ffmpeg writes no EXT-X-DISCONTINUITY-SEQUENCE: count the flagged segments that left its window.
    const auto& prev = *r.playlist;
    for (std::size_t i = 0; i < prev.segments.size() && prev.media_sequence + std::int64_t(i) < p.media_sequence; ++i)
      if (prev.segments[i].discontinuity) ++r.discontinuities_before;
  } else if (r.playlist) {
    r.discontinuities_before = 0;  // the source started its numbering over
  }
  if (p.discontinuity_sequence > 0) r.discontinuities_before = p.discontinuity_sequence;  // it counts itself
  p.discontinuity_sequence = r.discontinuities_before;
  r.target_duration = std::max(r.target_duration, target);
  r.playlist = std::move(p);
}

std::optional<media_playlist> segment_store::current(std::string_view rendition) const {
  std::lock_guard lock(mutex_);
  const auto it = renditions_.find(rendition);
  if (it == renditions_.end() || !it->second.playlist) return std::nullopt;
  const auto& r = it->second;
  const auto& src = *r.playlist;
  if (src.map_uri && !r.files.contains(*src.map_uri)) return std::nullopt;
  const auto held = [&](std::size_t i) {
    const auto f = r.files.find(src.segments[i].uri);
    return f != r.files.end() && f->second.serial != 0;
  };
  // The newest run of held segments: a missing tail has not arrived yet, a missing head was
  // evicted, and a hole in the middle must not stall the live edge.
  std::size_t end = src.segments.size();
  while (end > 0 && !held(end - 1)) --end;
  if (end == 0) return std::nullopt;
  std::size_t begin = end;
  while (begin > 0 && held(begin - 1)) --begin;

  media_playlist out;
  out.version = src.version;
  out.target_duration = r.target_duration;
  out.media_sequence = src.media_sequence + std::int64_t(begin);
  out.discontinuity_sequence = src.discontinuity_sequence;
  for (std::size_t i = 0; i < begin; ++i) out.discontinuity_sequence += src.segments[i].discontinuity ? 1 : 0;
  out.map_uri = src.map_uri;
  out.segments.assign(src.segments.begin() + std::ptrdiff_t(begin), src.segments.begin() + std::ptrdiff_t(end));
  out.independent_segments = src.independent_segments;
  out.ended = src.ended && end == src.segments.size();
  return out;
}

std::vector<std::string> segment_store::renditions() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [name, r] : renditions_) out.push_back(name);
  return out;
}

std::size_t segment_store::total_bytes() const {
  std::lock_guard lock(mutex_);
  return total_bytes_;
}

}  // namespace cohort::streaming
