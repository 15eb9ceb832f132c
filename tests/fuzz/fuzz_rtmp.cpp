// The RTMP client parser (streaming/rtmp_parser) and the server side that consumes its events
// (streaming/rtmp_responder): C0/C1/C2, chunk headers of every fmt and basic-header size, Set
// Chunk Size, extended timestamps, message lengths, AMF0 commands (and the AMF3 command wrapper).
// Input: byte 0 = mode, byte 1 = seed, the rest = what a client sends, up to 24 KB (seeds: ffmpeg
// captures).
// The client bytes go in several slices (lengths from the seed and mode) to exercise incremental
// parsing. Invariants, beyond no crash / no sanitizer report:
//  - the same bytes give the same events whether fed at once or in slices;
//  - at most one rtmp_error, always the last event, and failed() says so; nothing after it;
//  - memory held stays under the limits (chunk streams x command size + one header), media is
//    counted not buffered, the chunk size is never 0 or over 2^31 - 1;
//  - the responder: reports nothing and answers nothing once failed, counts every byte, and its
//    publish decision (accept or refuse, from the mode) ends in publishing or failed.
// fuzz-libs: cohort_streaming
#include "streaming/rtmp_parser.hpp"
#include "streaming/rtmp_responder.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

using namespace cohort::streaming;

namespace {

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "fuzz_rtmp: invariant violated: %s\n", what);
  std::abort();
}

// One line per event, every field: two runs agree exactly when their texts do.
void describe(const rtmp_event& e, std::string& out) {
  char num[64];
  auto number = [&](double d) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &d, sizeof bits);  // bit-exact: NaN == NaN here
    std::snprintf(num, sizeof num, "%llx", static_cast<unsigned long long>(bits));
    return std::string(num);
  };
  if (auto* c = std::get_if<rtmp_connect>(&e)) out += "connect " + c->app + "|" + c->tc_url + "|" + number(c->transaction_id);
  else if (auto* p = std::get_if<rtmp_publish>(&e)) out += "publish " + p->stream_name + "|" + p->publish_type + "|" + number(p->transaction_id);
  else if (auto* a = std::get_if<rtmp_stream_announce>(&e)) out += "announce " + a->command + "|" + a->stream_name + "|" + number(a->transaction_id);
  else if (auto* s = std::get_if<rtmp_create_stream>(&e)) out += "createStream " + number(s->transaction_id);
  else if (auto* w = std::get_if<rtmp_window_ack_size>(&e)) out += "window " + std::to_string(w->size);
  else if (auto* m = std::get_if<rtmp_media_started>(&e)) out += "media " + std::to_string(m->type_id) + " " + std::to_string(m->timestamp);
  else if (auto* v = std::get_if<rtmp_video_format>(&e)) {
    out += "video " + std::to_string(v->codec_id) + " " + v->fourcc + " " + std::to_string(v->avc_profile);
    out += browser_playable(*v) ? " playable" : " not playable";
  } else if (auto* r = std::get_if<rtmp_error>(&e)) out += "error " + r->reason;
  out += '\n';
}

// Slice lengths: deterministic from the seed; the mode picks the scale (1-3 bytes, small,
// around a chunk, large).
struct slicer {
  std::uint32_t state;
  std::uint32_t scale;
  std::size_t next() {
    state = state * 1103515245u + 12345u;
    return 1 + (state >> 8) % scale;
  }
};

constexpr std::uint32_t scales[4] = {3, 16, 300, 9000};
// Enough for the handshake, the commands and the first media messages of a real publish (the
// seeds are 6-32 KB): longer inputs only add media the parser counts, and slow every run down.
constexpr std::size_t max_input = 24 * 1024;

// Feeds the parser in slices, checking the per-feed invariants; returns the events as text.
std::string run_parser(rtmp_client_parser& parser, std::string_view bytes, slicer cut,
                       const rtmp_client_parser::limits& limits) {
  std::string text;
  bool errored = false;
  std::uint64_t fed = 0;
  while (!bytes.empty()) {
    const auto n = std::min(bytes.size(), cut.next());
    const auto events = parser.feed(bytes.substr(0, n));
    bytes.remove_prefix(n);
    fed += n;
    for (const auto& e : events) {
      if (errored) violated("an event after rtmp_error");
      errored = std::holds_alternative<rtmp_error>(e);
      describe(e, text);
    }
    if (parser.failed() != errored) violated("failed() disagrees with the events");
    if (parser.buffered_bytes() > limits.max_chunk_streams * limits.max_command_bytes + 18)
      violated("buffered bytes over the limits");
    if (parser.media_bytes() > fed) violated("more media than bytes fed");
    if (parser.chunk_size() == 0 || parser.chunk_size() > 0x7FFFFFFFu) violated("chunk size out of range");
  }
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  size = std::min(size, max_input + 2);
  const std::uint8_t mode = data[0];
  const std::uint32_t seed = data[1] * 2654435761u + 1;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);

  // Small limits, so the fuzzer reaches them.
  const rtmp_client_parser::limits limits{.max_command_bytes = 4096, .max_message_bytes = 1 << 20, .max_chunk_streams = 8};
  rtmp_client_parser whole(limits);
  const std::string at_once = run_parser(whole, bytes, slicer{seed, 0xFFFFFFFFu}, limits);
  rtmp_client_parser sliced(limits);
  const std::string in_slices = run_parser(sliced, bytes, slicer{seed, scales[mode & 3]}, limits);
  if (at_once != in_slices) violated("slicing changed the events");
  if (whole.handshake_done() != sliced.handshake_done() || whole.media_bytes() != sliced.media_bytes() ||
      whole.chunk_size() != sliced.chunk_size())
    violated("slicing changed the parser's state");

  // The responder, with the server's own limits, in other slices.
  rtmp_responder responder(seed);
  slicer cut{seed ^ 0x5bd1e995u, scales[(mode >> 2) & 3]};
  std::string_view rest = bytes;
  std::uint64_t fed = 0;
  bool decided = false;
  while (!rest.empty()) {
    const auto n = std::min(rest.size(), cut.next());
    const bool was_failed = responder.failed();
    const auto events = responder.feed(rest.substr(0, n));
    rest.remove_prefix(n);
    fed += n;
    if (was_failed) {
      if (!events.empty() || !responder.take_reply().empty()) violated("the responder went on after failing");
      continue;  // (a failed responder stops counting bytes too)
    }
    if (responder.bytes_received() != fed) violated("bytes_received is not what was fed");
    for (const auto& e : events) {
      if (std::holds_alternative<rtmp_publish>(e) && !decided) {
        decided = true;
        if (mode & 0x10) responder.refuse_publish("bad key");
        else responder.accept_publish();
        if (!responder.publishing() && !responder.failed()) violated("a publish decision left the responder pending");
      }
    }
    // What this slice made it send (handshake, answers, acknowledgements) is taken now, so a
    // failed responder's queue must stay empty from here on.
    if (responder.take_reply().size() > (1u << 20)) violated("a huge reply");
  }
  return 0;
}
