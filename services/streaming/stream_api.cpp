#include "streaming/stream_api.hpp"

#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "registration/validation.hpp"
#include "registration/webinar_store.hpp"
#include "streaming/stream_keys.hpp"

#include <boost/json.hpp>

namespace cohort::streaming {
namespace json = boost::json;
using http::response;

void stream_api::add_routes(http::router& r) {
  using http::access;
  using http::verb;
  r.add(verb::post, "/api/webinars/{id}/stream-key", {access::organizer, false}, &stream_api::rotate_key, this);
  r.add(verb::get, "/api/webinars/{id}/stream-key", {access::organizer, false}, &stream_api::get_key, this);
  r.add(verb::get, "/api/webinars/{id}/stream", {access::anyone, false}, &stream_api::status, this);
}

void stream_api::rotate_key(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  registration::queue_write<std::string>(
      writes_, respond, [webinar_id](store::database& db) { return rotate_stream_key(db, webinar_id); },
      [this](std::string& key) { return response::json(201, json::object{{"rtmp_url", rtmp_public_url_}, {"stream_key", key}}); });
}

void stream_api::get_key(http::request& req, http::responder& respond) {
  auto db = readers_->acquire();
  const auto key = stream_key_of(*db, req.id_param(0));
  if (!key) throw common::not_found("this webinar has no stream key yet: POST to create one");
  respond(response::json(200, json::object{{"rtmp_url", rtmp_public_url_}, {"stream_key", *key}}));
}

void stream_api::status(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  {
    auto db = readers_->acquire();
    if (!registration::find_webinar(*db, webinar_id)) throw common::not_found("no such webinar");
  }
  const auto stream = ingest_.status_of(webinar_id);
  // While live, the registrants in the live room on any node count as viewers too.
  const auto present = stream.live && present_in_room_ ? present_in_room_(webinar_id) : std::vector<std::int64_t>{};
  json::object out{{"live", stream.live}, {"started_at", nullptr}, {"session", nullptr}, {"viewers", 0}};
  // When not live: the last stream's start and session, as in the room's stream status.
  if (stream.started_at) out["started_at"] = common::format_rfc3339(*stream.started_at);
  if (stream.session) out["session"] = *stream.session;
  out["viewers"] = origin_.viewers(webinar_id, present);
  respond(response::json(200, out));
}

}  // namespace cohort::streaming
