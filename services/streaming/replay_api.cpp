#include "streaming/replay_api.hpp"

#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "registration/validation.hpp"
#include "registration/webinar_store.hpp"
#include "streaming/hls_playlist.hpp"
#include "streaming/recording_store.hpp"

#include <boost/json.hpp>

#include <fstream>

namespace cohort::streaming {

namespace json = boost::json;
namespace fs = std::filesystem;
using http::api_error;
using http::response;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

void replay_api::add_routes(http::router& r) {
  using http::access;
  using http::verb;
  r.add(verb::get, "/api/webinars/{id}/recordings", {access::anyone, false}, &replay_api::list, this);
  r.add(verb::del, "/api/webinars/{id}/recordings/{recording_id}", {access::organizer, false}, &replay_api::remove, this);
  r.add(verb::get, "/replay/{id}/{recording}/{file}", {access::anyone, false}, &replay_api::file, this);
}

void replay_api::list(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  gate_.check(req, webinar_id);
  auto db = readers_->acquire();
  if (!registration::find_webinar(*db, webinar_id)) throw common::not_found("no such webinar");
  json::array items;
  for (const auto& r : recordings_of(*db, webinar_id)) {
    items.push_back(json::object{{"id", r.id},
                                 {"session", r.session ? json::value(*r.session) : json::value(nullptr)},
                                 {"started_at", common::format_rfc3339(r.started_at)},
                                 {"ended_at", r.ended_at ? json::value(common::format_rfc3339(*r.ended_at)) : json::value(nullptr)},
                                 {"duration_ms", r.duration_ms},
                                 {"segments", r.segments},
                                 {"playlist", "/replay/" + std::to_string(webinar_id) + "/" + r.dir + "/index.m3u8"}});
  }
  respond(response::json(200, json::object{{"recordings", std::move(items)}}));
}

void replay_api::remove(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0), recording_id = req.id_param(1);
  std::string dir;
  try {
    auto db = readers_->acquire();
    dir = ended_recording_dir(*db, webinar_id, recording_id);
  } catch (const recording_not_found& e) {
    throw common::not_found(e.what());
  } catch (const recording_still_live& e) {
    throw api_error(409, "conflict", e.what());
  }
  registration::queue_write<bool>(
      writes_, respond,
      [recording_id](store::database& db) {
        delete_recording(db, recording_id);
        return true;
      },
      [path = recordings_dir_ / std::to_string(webinar_id) / dir](bool) {
        std::error_code ec;
        fs::remove_all(path, ec);
        return response::no_content();
      });
}

void replay_api::file(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  const auto& recording = req.params.at(1);
  const auto& name = req.params.at(2);
  const auto dir = recordings_dir_ / std::to_string(webinar_id) / recording;
  if (name == "index.m3u8") {
    const auto who = gate_.check(req, webinar_id);
    auto p = parse_media_playlist(read_text(dir / "index.m3u8"));
    if (!p || p->segments.empty()) throw common::not_found("no such recording");
    const auto registrant = who.role == http::identity::kind::organizer ? 0 : who.registration_id;
    const auto query = gate_.signed_query(webinar_id, "replay", registrant);
    return respond(playlist_response(render_vod(*p, [&](std::string_view uri) { return std::string(uri) + "?" + query; })));
  }
  const auto registrant = gate_.check_signature(req, webinar_id, "replay");
  std::error_code ec;
  const auto path = dir / name;
  const auto size = fs::file_size(path, ec);
  if (ec) throw common::not_found("no such file in this recording");
  if (const auto segment = replay_segment_index(name); segment && registrant > 0)
    views_->note(replay_view{webinar_id, recording, registrant, *segment}, common::unix_now());
  response res;
  res.content_type = "video/mp4";
  // A registrant's URL (r=) is theirs alone: a shared cache gains nothing by keeping it.
  res.headers = {{"Accept-Ranges", "bytes"}, {"Cache-Control", registrant > 0 ? "private, max-age=86400" : "public, max-age=86400"}};
  respond(http::file_response(path.string(), size, req.range, std::move(res)));
}

}  // namespace cohort::streaming
