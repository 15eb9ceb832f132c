#include "gateway/router.hpp"

#include "metrics/metrics.hpp"

#include <boost/json/parse.hpp>

namespace cohort::http {
namespace {

bool is_id(const std::string& s) {
  if (s.empty() || s.size() > 18 || s[0] == '0') return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

bool is_file_name(const std::string& s) {
  if (s.empty() || s.size() > 128 || s[0] == '.') return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) return false;
  return true;
}

std::vector<std::string> split_pattern(const std::string& pattern) {
  std::vector<std::string> out;
  if (pattern == "/") return out;
  std::size_t start = 1;
  while (start <= pattern.size()) {
    auto slash = pattern.find('/', start);
    if (slash == std::string::npos) slash = pattern.size();
    out.push_back(pattern.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool json_content_type(const std::string& ct) {
  const auto semi = ct.find(';');
  std::string type = ct.substr(0, semi);
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type == "application/json";
}

}  // namespace

void router::add(verb method, std::string pattern, route_options options, handler h) {
  auto segments = split_pattern(pattern);
  routes_.push_back(route{method, std::move(pattern), std::move(segments), options, std::move(h)});
}

// {id} and {name_id} are positive integers; any other {name} is a safe segment.
static bool is_integer_param(const std::string& want) {
  return want == "{id}" || (want.size() > 4 && want.front() == '{' && want.compare(want.size() - 4, 4, "_id}") == 0);
}

bool router::matches(const route& r, const std::vector<std::string>& segments, std::vector<std::string>& params) {
  if (r.segments.size() != segments.size()) return false;
  params.clear();
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& want = r.segments[i];
    if (is_integer_param(want)) {
      if (!is_id(segments[i])) return false;
      params.push_back(segments[i]);
    } else if (want.size() > 2 && want.front() == '{') {
      // Any other {name}: one safe segment (letters, digits, . - _; no leading dot).
      if (!is_file_name(segments[i])) return false;
      params.push_back(segments[i]);
    } else if (want != segments[i]) {
      return false;
    }
  }
  return true;
}

responder router::observed(std::string_view label, verb method, responder respond) const {
  if (!metrics_) return respond;
  return [metrics = metrics_, label = std::string(label), method, started = std::chrono::steady_clock::now(),
          respond = std::move(respond)](response r) {
    const std::string labels = "route=\"" + metrics::label_value(label) + "\",method=\"" + std::string(to_string(method)) +
                               "\",status=\"" + std::to_string(r.status) + "\"";
    metrics->http_requests.with(labels).add();
    metrics->http_duration.with("route=\"" + metrics::label_value(label) + "\"")
        .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    respond(std::move(r));
  };
}

bool router::takes_file(verb method, const std::vector<std::string>& segments) const {
  std::vector<std::string> params;
  for (const auto& r : routes_)
    if (r.method == method && matches(r, segments, params)) return r.options.file_body;
  return false;
}

router::admission router::admit(request& req, const body_limits* limits) const {
  admission out;
  const verb method = req.method == verb::head ? verb::get : req.method;
  std::string allow;
  std::vector<std::string> params;
  for (const auto& r : routes_) {
    if (!matches(r, req.segments, params)) continue;
    if (r.method == method) {
      out.found = &r;
      break;
    }
    if (!allow.empty()) allow += ", ";
    allow += to_string(r.method);
  }
  if (!out.found && fallback_ && !req.segments.empty() && req.segments.front() == fallback_segment_) {
    out.fallback = true;
    out.label = "/" + fallback_segment_ + "/*";
    return out;
  }
  if (!out.found) {
    out.label = "unmatched";
    if (allow.empty()) {
      out.refusal = error_response(404, "not_found", "no such page or resource");
    } else {
      out.refusal = error_response(405, "method_not_allowed", "this resource allows " + allow);
      out.refusal->headers.emplace_back("Allow", allow);
    }
    return out;
  }
  req.params = std::move(params);
  out.label = out.found->pattern;
  try {
    check_header(*out.found, req, limits);
  } catch (...) {
    out.refusal = error_from(std::current_exception(), std::string(to_string(req.method)) + " " + out.found->pattern);
  }
  return out;
}

std::optional<response> router::precheck(request& req, const body_limits& limits) const {
  auto a = admit(req, &limits);
  if (!a.refusal) return std::nullopt;
  std::optional<response> out;
  observed(a.label, req.method, [&out](response r) { out = std::move(r); })(std::move(*a.refusal));
  return out;
}

void router::dispatch(request& req, responder respond) const {
  auto a = admit(req, nullptr);
  auto reply = observed(a.label, req.method, std::move(respond));
  if (a.fallback) return reply(fallback_(req));
  if (a.refusal) return reply(std::move(*a.refusal));
  try {
    check_and_run(*a.found, req, reply);
  } catch (...) {
    // A handler that moved the responder into an async operation answers through it.
    if (reply) reply(error_from(std::current_exception(), std::string(to_string(req.method)) + " " + a.found->pattern));
  }
}

// Everything the header alone decides. `limits` is given at header time only: afterwards the
// body has been read within them.
void router::check_header(const route& r, request& req, const body_limits* limits) const {
  if (auth_) {
    try {
      req.who = auth_(req, req.bearer());
    } catch (const api_error&) {
      // A stale token on a public route (e.g. the landing page's API calls) is just anonymous.
      if (r.options.who != access::anyone) throw;
    }
  }
  if (r.options.who != access::anyone) {
    if (req.who.role == identity::kind::anonymous) throw api_error(401, "unauthorized", "a bearer token is required");
    const bool ok = (r.options.who == access::organizer && req.who.role == identity::kind::organizer) ||
                    (r.options.who == access::registrant && req.who.role == identity::kind::registrant);
    if (!ok) throw api_error(403, "forbidden", "this token may not use this resource");
  }
  if (r.options.guard) r.options.guard(req);
  if (req.method == verb::post || req.method == verb::put || req.method == verb::patch) {
    if (!req.body_framed) throw api_error(411, "length_required", "send Content-Length (or a chunked body)");
  }
  if (r.options.json_body && !json_content_type(req.content_type))
    throw api_error(415, "unsupported_media_type", "the body must be application/json");
  if (limits && req.content_length) {
    const auto max = r.options.file_body ? limits->upload_max_bytes : limits->body_max_bytes;
    if (*req.content_length > max)
      throw api_error(413, "payload_too_large", "the body is larger than " + std::to_string(max) + " bytes");
  }
}

void router::check_and_run(const route& r, request& req, responder& respond) const {
  if (r.options.json_body) {
    boost::system::error_code ec;
    auto value = boost::json::parse(req.body, ec);
    if (ec) throw api_error(400, "bad_json", "the body is not valid JSON: " + ec.message());
    if (!value.is_object()) throw api_error(400, "bad_json", "the body must be a JSON object");
    req.json = std::move(value.get_object());
  }
  r.run(req, respond);
}

std::vector<std::string> router::describe(bool with_access) const {
  std::vector<std::string> out;
  for (const auto& r : routes_) {
    auto line = std::string(to_string(r.method)) + " " + r.pattern;
    if (with_access)
      line += r.options.who == access::organizer ? " organizer" : r.options.who == access::registrant ? " registrant" : " anyone";
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace cohort::http
