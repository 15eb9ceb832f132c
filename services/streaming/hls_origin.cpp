#include "streaming/hls_origin.hpp"

#include "common/bytes.hpp"
#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "gateway/auth.hpp"
#include "registration/api_support.hpp"
#include "registration/validation.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

namespace cohort::streaming {
using http::response;

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// For URIs in a playlist: everything but unreserved characters percent-encoded.
std::string url_encode(std::string_view s) {
  static constexpr char hex_digits[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex_digits[c >> 4];
      out += hex_digits[c & 15];
    }
  }
  return out;
}

}  // namespace

void hls_origin::add_routes(http::router& r) {
  using http::access;
  using http::verb;
  r.add(verb::get, "/live/{id}/index.m3u8", {access::anyone, false}, &hls_origin::playlist, this);
  r.add(verb::get, "/live/{id}/{file}", {access::anyone, false}, &hls_origin::segment, this);
}

std::size_t hls_origin::viewers(std::int64_t webinar_id, std::span<const std::int64_t> present) {
  std::lock_guard lock(mutex_);
  if (auto v = viewers_.find(webinar_id); v != viewers_.end()) {
    const auto n = v->second.count(present, std::chrono::steady_clock::now());
    if (v->second.empty()) viewers_.erase(v);
    return n;
  }
  return viewer_tally().count(present, {});
}

void hls_origin::webinar_deleted(std::int64_t webinar_id) {
  std::lock_guard lock(mutex_);
  viewers_.erase(webinar_id);
}

void hls_origin::note_watching(std::int64_t webinar_id, const http::identity& who) {
  if (who.role != http::identity::kind::registrant || !on_watching_) return;
  const auto minute = common::unix_now() / 60;
  {
    std::lock_guard lock(mutex_);
    auto& last = watching_minute_[{webinar_id, who.registration_id}];
    if (last == minute) return;
    last = minute;
  }
  on_watching_(webinar_id, who.registration_id);
}

void hls_origin::note_viewer(std::int64_t webinar_id, const http::identity& who, const http::request& req) {
  auto key = who.role == http::identity::kind::registrant ? viewer_tally::viewer(who.registration_id)
                                                          : viewer_tally::viewer(common::hex(http::sha256(req.token())).substr(0, 16));
  std::lock_guard lock(mutex_);
  viewers_[webinar_id].fetched(std::move(key), std::chrono::steady_clock::now());
}

void hls_origin::playlist(http::request& req, http::responder& respond) {
  if (ingest_.ffmpeg().extra_360p) return master_playlist(req, respond);
  media_playlist_for(req, respond, main_rendition(ingest_.ffmpeg()));
}

// One rendition's live playlist, for a viewer with a token.
void hls_origin::media_playlist_for(http::request& req, http::responder& respond, const std::string& rendition) {
  const auto webinar_id = req.id_param(0);
  const auto who = gate_.check(req, webinar_id);
  const auto feed = ingest_.feed_of(webinar_id);
  const auto p = feed ? feed->store.current(rendition) : std::nullopt;
  if (!p) throw common::not_found("the stream is not live");
  note_viewer(webinar_id, who, req);
  note_watching(webinar_id, who);
  // ffmpeg names files the same in every publish: the publish's id in the URL keeps a cache from
  // mixing one stream's segments into the next.
  const auto prefix = feed->ingest_id + "-";
  const auto query = gate_.signed_query(webinar_id, "live");
  respond(playlist_response(render_live(*p, [&](std::string_view uri) { return prefix + std::string(uri) + "?" + query; })));
}

// With two renditions, index.m3u8 lists them; players poll the one they chose, with the
// viewer's token (it is how a viewer is counted), so the URIs carry it.
void hls_origin::master_playlist(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  const auto who = gate_.check(req, webinar_id);
  std::vector<rendition_info> variants;
  if (const auto feed = ingest_.feed_of(webinar_id); feed && feed->store.current(main_rendition(ingest_.ffmpeg()))) {
    const auto& store = feed->store;
    for (const std::string r : {"main", "360p"}) {
      const auto p = store.current(r);
      if (!p) continue;
      // The peak bit rate of the segments held (ffmpeg cannot know a passed-through one's).
      double peak = 0;
      for (const auto& seg : p->segments)
        if (const auto bytes = store.get(r, seg.uri); bytes && seg.duration > 0)
          peak = std::max(peak, double(bytes->size()) * 8 / seg.duration);
      rendition_info v{r + ".m3u8", std::max<std::int64_t>(std::int64_t(peak), 1), 0, 0, ""};
      if (r == "360p") v.width = 640, v.height = 360;
      variants.push_back(std::move(v));
    }
    note_viewer(webinar_id, who, req);
  }
  if (variants.empty()) throw common::not_found("the stream is not live");
  note_watching(webinar_id, who);
  const auto token = url_encode(req.token());
  respond(playlist_response(render_master(variants, [&](std::string_view uri) { return std::string(uri) + "?token=" + token; })));
}

void hls_origin::segment(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  const auto& file = req.params.at(1);
  const auto& ffmpeg = ingest_.ffmpeg();
  if (ffmpeg.extra_360p && ends_with(file, ".m3u8")) {
    const auto rendition = rendition_of_file(ffmpeg, file);
    if (rendition.empty()) throw common::not_found("no such rendition");
    return media_playlist_for(req, respond, rendition);
  }
  gate_.check_signature(req, webinar_id, "live");
  const std::string_view name(file);
  const auto dash = name.find('-');
  segment_store::served_file f;
  if (dash != std::string_view::npos) {
    const auto stored_name = name.substr(dash + 1);
    if (const auto feed = ingest_.feed_of(webinar_id); feed && feed->ingest_id == name.substr(0, dash))
      f = feed->store.find(rendition_of_file(ffmpeg, stored_name), stored_name);
  }
  if (!f) throw common::not_found("no such segment (it may have left the live window)");
  response res;
  res.content_type.clear();  // it is in the prebuilt headers
  if (req.if_none_match == f.etag()) {
    res.status = 304;
    res.headers = *f.headers;
    return respond(std::move(res));
  }
  // The headers were built when the segment arrived: the answer shares them and the bytes.
  res.prebuilt_headers = std::move(f.header_lines);
  res.shared_body = std::move(f.bytes);
  res.body_fd = std::move(f.file);
  respond(std::move(res));
}

}  // namespace cohort::streaming
