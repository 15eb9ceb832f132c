#include "drops/drops_api.hpp"

#include "common/errors.hpp"
#include "common/rfc3339.hpp"
#include "common/text.hpp"
#include "live_room/channels/drops/drops_channel.hpp"
#include "registration/registration_store.hpp"

#include <boost/json.hpp>

#include <filesystem>

namespace cohort::drops {
namespace json = boost::json;
using http::api_error;
using http::response;
using common::unix_now;

namespace {

const json::value* present(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && !v->is_null() ? v : nullptr;
}

std::string text_member(const json::object& o, std::string_view key) {
  const auto* v = present(o, key);
  if (!v) return {};
  if (!v->is_string()) throw common::invalid(std::string(key), std::string(key) + " must be a string");
  return std::string(v->get_string());
}

std::int64_t int_in(const json::value& v, const std::string& field, std::int64_t lo, std::int64_t hi) {
  if (!v.is_int64() || v.get_int64() < lo || v.get_int64() > hi)
    throw common::invalid(field, field + " must be an integer between " + std::to_string(lo) + " and " + std::to_string(hi));
  return v.get_int64();
}

std::optional<std::string> url_member(const json::object& o) {
  auto url = common::trim(text_member(o, "url"));
  if (url.empty()) return std::nullopt;
  if ((url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) || url.size() > 2000 ||
      url.find_first_of(" \"<>\\") != std::string::npos || common::has_control_chars(url) || !common::valid_utf8(url))
    throw common::invalid("url", "url must be an http(s) address of at most 2000 characters");
  return url;
}

// "release_at": RFC 3339 | "release": "now" | {"session": N, "offset_minutes": M} | "release":
// null (a draft: upload its file, then schedule it). nullopt: not mentioned.
std::optional<release_rule> release_member(const json::object& o, std::int64_t now) {
  const auto* at = present(o, "release_at");
  const auto* rel = present(o, "release");
  if (at && rel) throw common::invalid("release", "give release_at or release, not both");
  if (!at && !rel && (o.contains("release") || o.contains("release_at"))) return release_rule{};
  if (at) {
    const auto t = at->is_string() ? common::parse_rfc3339(at->get_string()) : std::nullopt;
    if (!t) throw common::invalid("release_at", "release_at must be an RFC 3339 time such as 2026-12-01T17:00:00Z");
    return release_rule{*t, 0, 0};
  }
  if (!rel) return std::nullopt;
  if (rel->is_string() && rel->get_string() == "now") return release_rule{now, 0, 0};
  if (!rel->is_object())
    throw common::invalid("release", "release must be \"now\" or {\"session\": N, \"offset_minutes\": M}");
  const auto& r = rel->get_object();
  const auto* session = present(r, "session");
  if (!session) throw common::invalid("release", "release needs the session number it is relative to");
  release_rule rule;
  rule.session = static_cast<int>(int_in(*session, "release.session", 1, 10000));
  if (const auto* off = present(r, "offset_minutes"))
    rule.offset_minutes = static_cast<int>(int_in(*off, "release.offset_minutes", -10080, 10080));
  return rule;
}

std::optional<audience_kind> audience_member(const json::object& o) {
  const auto* v = present(o, "audience");
  if (!v) return std::nullopt;
  const auto kind = v->is_string() ? parse_audience(v->get_string()) : std::nullopt;
  if (!kind) throw common::invalid("audience", "audience must be \"all\", \"attended\" or \"missed\"");
  return kind;
}

std::optional<int> audience_session_member(const json::object& o) {
  const auto* v = present(o, "audience_session");
  if (!v) return std::nullopt;
  return static_cast<int>(int_in(*v, "audience_session", 1, 10000));
}

drop_input read_input(const json::object& o, std::int64_t now) {
  drop_input in;
  in.title = common::required_text(text_member(o, "title"), "title", 200);
  in.body = common::optional_text(text_member(o, "body"), "body", 5000, true);
  in.url = url_member(o);
  in.release = release_member(o, now).value_or(release_rule{});  // none: a draft
  in.audience = audience_member(o).value_or(audience_kind::all);
  in.audience_session = audience_session_member(o);
  return in;
}

drop_patch read_patch(const json::object& o, std::int64_t now) {
  drop_patch p;
  if (present(o, "title")) p.title = common::required_text(text_member(o, "title"), "title", 200);
  if (o.contains("body")) p.body = common::optional_text(text_member(o, "body"), "body", 5000, true);
  p.url_set = o.contains("url");
  if (p.url_set) p.url = url_member(o);
  p.release = release_member(o, now);
  p.audience = audience_member(o);
  p.audience_session_set = o.contains("audience_session");
  p.audience_session = audience_session_member(o);
  return p;
}

// The name as given, for Content-Disposition: no path, no controls, at most 255 bytes.
std::string clean_filename(const std::string* raw) {
  if (!raw) throw api_error(400, "bad_request", "name the file: ?filename=worksheet.pdf", "filename");
  auto name = common::trim(*raw);
  if (const auto slash = name.find_last_of("/\\"); slash != std::string::npos) name = name.substr(slash + 1);
  if (name.empty() || name == "." || name == ".." || name.size() > 255 || !common::valid_utf8(name) ||
      common::has_control_chars(name))
    throw api_error(400, "bad_request", "filename must be a file name of at most 255 bytes", "filename");
  return name;
}

// RFC 6266: an ASCII fallback plus the exact UTF-8 name (RFC 8187 encoding). `inline` only for
// the types a browser shows without running anything (see safe_inline_type).
std::string content_disposition(const std::string& name, bool inline_ok) {
  std::string ascii, encoded;
  static constexpr char hex[] = "0123456789ABCDEF";
  for (unsigned char c : name) {
    ascii += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? static_cast<char>(c) : '_';
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~') {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += hex[c >> 4];
      encoded += hex[c & 15];
    }
  }
  return std::string(inline_ok ? "inline" : "attachment") + "; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

// The media type of a stored Content-Type, lower case, without parameters or spaces.
std::string media_type_of(std::string_view type) {
  type = type.substr(0, type.find(';'));
  std::string out;
  for (char c : type)
    if (c != ' ' && c != '\t') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The organizer's upload says its own Content-Type; served back inline from Cohort's origin, an
// HTML or SVG file would run its script with the registrant's token in reach. Only types a
// browser renders without script are shown inline; the rest download as opaque bytes.
bool safe_inline_type(const std::string& media) {
  static constexpr std::string_view exact[] = {"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp",
                                               "text/plain"};
  for (auto t : exact)
    if (media == t) return true;
  const auto slash = media.find('/');
  if (slash == std::string::npos || slash + 1 == media.size()) return false;
  const auto top = std::string_view(media).substr(0, slash);
  return top == "audio" || top == "video";
}

}  // namespace

void drops_api::add_routes(http::router& r) {
  using http::access;
  using http::verb;
  r.add(verb::post, "/api/webinars/{id}/drops", {access::organizer, true}, &drops_api::create, this);
  r.add(verb::get, "/api/webinars/{id}/drops", {access::anyone, false}, &drops_api::list, this);
  r.add(verb::patch, "/api/webinars/{id}/drops/{drop_id}", {access::organizer, true}, &drops_api::patch, this);
  r.add(verb::del, "/api/webinars/{id}/drops/{drop_id}", {access::organizer, false}, &drops_api::remove, this);
  r.add(verb::post, "/api/webinars/{id}/drops/seen", {access::registrant, false}, &drops_api::seen, this);
  r.add(verb::put, "/api/webinars/{id}/drops/{drop_id}/file", {access::organizer, false, true}, &drops_api::upload, this);
  r.add(verb::post, "/api/drops/{drop_id}/opened", {access::registrant, false}, &drops_api::opened, this);
  r.add(verb::get, "/api/drops/{drop_id}/file", {access::anyone, false}, &drops_api::download, this);
}

bool drops_api::check_registrant(const http::identity& who, std::int64_t webinar_id) {
  if (who.role == http::identity::kind::anonymous) throw api_error(401, "unauthorized", "a token is required");
  if (who.role != http::identity::kind::registrant) return true;
  if (who.webinar_id != webinar_id) throw api_error(403, "forbidden", "this token is for another webinar");
  auto db = ctx_.readers->acquire();
  const auto r = registration::active_registration(*db, who.registration_id, who.token_nonce_hash);
  return r.status != "waitlisted" && !r.confirm_by;  // an unconfirmed hold is not a seat either
}

void drops_api::check_seated(const http::identity& who, std::int64_t webinar_id) {
  if (check_registrant(who, webinar_id)) return;
  auto db = ctx_.readers->acquire();
  // The same refusal the live room gives (403 unconfirmed or waitlisted).
  registration::require_seat(registration::active_registration(*db, who.registration_id, who.token_nonce_hash));
}

int drops_api::min_minutes() const { return ctx_.scheduler ? ctx_.scheduler->attended_min_minutes() : 5; }

// After the change, in the same write: what is due now (e.g. "release": "now") is released, so
// the answer shows it released and the scheduler only announces it.
void drops_api::after_change(const std::vector<released_drop>& released) {
  if (ctx_.scheduler) {
    if (!released.empty()) ctx_.scheduler->announce(released);
    ctx_.scheduler->rearm();
  }
}

void drops_api::create(http::request& req, http::responder& respond) {
  const auto now = unix_now();
  auto in = read_input(req.json, now);
  const auto webinar_id = req.id_param(0);
  registration::queue_write<changed_drop>(
      ctx_.writes, respond,
      [webinar_id, in = std::move(in), now, scheduler = ctx_.scheduler, min = min_minutes()](store::database& db) {
        const auto id = insert_drop(db, webinar_id, in, now);
        auto released = scheduler ? scheduler->release_in(db, now) : release_due(db, now, min);
        return changed_drop{load_drop(db, webinar_id, id), std::move(released)};
      },
      [this](changed_drop& c) {
        after_change(c.released);
        return response::json(201, organizer_json(c.drop));
      });
}

void drops_api::patch(http::request& req, http::responder& respond) {
  auto p = read_patch(req.json, unix_now());
  const auto webinar_id = req.id_param(0), drop_id = req.id_param(1);
  registration::queue_write<changed_drop>(
      ctx_.writes, respond,
      [webinar_id, drop_id, p = std::move(p), scheduler = ctx_.scheduler, min = min_minutes()](store::database& db) {
        const auto now = unix_now();
        update_drop(db, webinar_id, drop_id, p, now);
        auto released = scheduler ? scheduler->release_in(db, now) : release_due(db, now, min);
        return changed_drop{load_drop(db, webinar_id, drop_id), std::move(released)};
      },
      [this](changed_drop& c) {
        after_change(c.released);
        return response::json(200, organizer_json(c.drop));
      });
}

void drops_api::remove(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0), drop_id = req.id_param(1);
  registration::queue_write<bool>(
      ctx_.writes, respond,
      [webinar_id, drop_id](store::database& db) {
        delete_drop(db, webinar_id, drop_id);
        return true;
      },
      [this](bool) {
        after_change({});
        return response::no_content();
      });
}

void drops_api::list(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  json::array items;
  // The waitlisted see an empty list: the materials are for those with a seat.
  if (check_registrant(req.who, webinar_id)) {
    auto db = ctx_.readers->acquire();
    if (req.who.role == http::identity::kind::organizer) {
      for (const auto& d : list_drops(*db, webinar_id)) items.push_back(organizer_json(d));
    } else {
      const auto seen = seen_until(*db, webinar_id, req.who.registration_id);
      for (const auto& d : released_for(*db, webinar_id, req.who.registration_id)) {
        auto o = registrant_json(d);
        o["seen"] = *d.released_at <= seen;
        items.push_back(std::move(o));
      }
    }
  }
  respond(response::json(200, json::object{{"drops", std::move(items)}}));
}

void drops_api::seen(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0);
  check_registrant(req.who, webinar_id);
  const auto registration_id = req.who.registration_id;
  // ?until= the newest release the page showed, so one released meanwhile stays new.
  auto until = unix_now();
  if (const auto* u = req.query_param("until")) {
    const auto t = common::parse_rfc3339(*u);
    if (!t) throw api_error(400, "bad_request", "until must be an RFC 3339 time", "until");
    until = std::min(until, *t);
  }
  registration::queue_write<std::int64_t>(
      ctx_.writes, respond,
      [webinar_id, registration_id, until](store::database& db) { return mark_seen(db, webinar_id, registration_id, until); },
      [this, webinar_id, registration_id](std::int64_t marker) {
        // Every node's room learns it, so the next hello anywhere shows these as seen.
        ctx_.bus->publish_state(webinar_id, "seen:" + std::to_string(registration_id), live_room::seen_frame(registration_id, marker));
        return response::no_content();
      });
}

void drops_api::opened(http::request& req, http::responder& respond) {
  const auto drop_id = req.id_param(0);
  std::optional<drop_record> d;
  {
    auto db = ctx_.readers->acquire();
    d = find_drop(*db, drop_id);
  }
  if (!d) throw common::not_found("no such drop");
  check_seated(req.who, d->webinar_id);
  if (!is_released_to(*d, req.who.registration_id)) throw api_error(403, "forbidden", "this drop has not been released to you");
  const auto registration_id = req.who.registration_id;
  registration::queue_write<bool>(
      ctx_.writes, respond,
      [drop_id, registration_id](store::database& db) {
        mark_opened(db, drop_id, registration_id, unix_now());
        return true;
      },
      [](bool) { return response::no_content(); });
}

void drops_api::upload(http::request& req, http::responder& respond) {
  const auto webinar_id = req.id_param(0), drop_id = req.id_param(1);
  const auto name = clean_filename(req.query_param("filename"));
  auto type = common::trim(req.content_type);
  if (type.empty() || type.size() > 200 || common::has_control_chars(type))
    throw api_error(415, "unsupported_media_type", "send the file's type as Content-Type, e.g. application/pdf");
  if (req.body_file.empty()) throw api_error(400, "bad_request", "the file is empty");
  {
    auto db = ctx_.readers->acquire();
    const auto d = load_drop(*db, webinar_id, drop_id);  // 404 before hashing a large file
    if (d.released_at) throw api_error(409, "conflict", "this drop has been released; it can no longer change");
  }
  // Hashing reads the file once (about 1 GB/s); it runs here, on a request thread.
  const auto stored = ctx_.files->adopt(req.body_file);
  drop_file f{stored.sha256, name, type, static_cast<std::int64_t>(stored.size)};
  registration::queue_write<drop_record>(
      ctx_.writes, respond,
      [webinar_id, drop_id, f](store::database& db) {
        set_file(db, webinar_id, drop_id, f, unix_now());
        return load_drop(db, webinar_id, drop_id);
      },
      [](drop_record& d) { return response::json(200, organizer_json(d)); });
}

void drops_api::download(http::request& req, http::responder& respond) {
  const auto who = ctx_.authenticate(req, req.token());
  if (who.role == http::identity::kind::anonymous) throw api_error(401, "unauthorized", "a token is required");
  std::optional<drop_record> d;
  {
    auto db = ctx_.readers->acquire();
    d = find_drop(*db, req.id_param(0));
  }
  if (!d) throw common::not_found("no such drop");
  check_seated(who, d->webinar_id);
  if (who.role == http::identity::kind::registrant && !is_released_to(*d, who.registration_id))
    throw api_error(403, "forbidden", "this drop has not been released to you");
  if (!d->file) throw common::not_found("this drop has no file");

  const auto path = ctx_.files->path_of(d->file->sha256).string();
  const auto size = static_cast<std::uint64_t>(d->file->size);
  const auto etag = "\"" + d->file->sha256 + "\"";
  const auto media = media_type_of(d->file->type);
  const bool inline_ok = safe_inline_type(media);
  response res;
  // text/plain gets its charset so no browser guesses another; anything not safe is opaque bytes.
  res.content_type = !inline_ok ? "application/octet-stream" : media == "text/plain" ? "text/plain; charset=utf-8" : media;
  // The sandbox CSP is a second wall: even a file a browser did render could run no script, load
  // nothing and read no Cohort storage (a sandboxed document has a unique origin).
  res.headers = {{"ETag", etag}, {"Accept-Ranges", "bytes"}, {"Cache-Control", "private, max-age=0, must-revalidate"},
                 {"Content-Disposition", content_disposition(d->file->name, inline_ok)},
                 {"Content-Security-Policy", "sandbox; default-src 'none'"}};
  if (req.if_none_match == etag || req.if_none_match == "*") {
    res.status = 304;
    res.content_type.clear();
    return respond(std::move(res));
  }
  res = http::file_response(path, size, req.range, std::move(res));
  // Opening counts once per person; resumed ranges of the same download add nothing.
  if (who.role == http::identity::kind::registrant && res.file && res.file->offset == 0)
    ctx_.writes.writer->submit([drop_id = d->id, r = who.registration_id](store::database& db) { mark_opened(db, drop_id, r, unix_now()); },
                               nullptr);
  respond(std::move(res));
}

}  // namespace cohort::drops
