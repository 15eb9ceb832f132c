#include "gateway/static_site.hpp"

#include "metrics/metrics.hpp"

#include <fstream>
#include <sstream>

namespace cohort::http {
namespace {

// No inline script or style anywhere in web/, so the pages need no 'unsafe-inline': an injected
// <script> or on…= attribute does not run. hls.js plays from blob: URLs in a blob: worker; the
// chat is a WebSocket to this host.
constexpr const char* page_policy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "connect-src 'self' ws: wss:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

response file_response(const std::filesystem::path& file, const char* cache_control) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return error_response(404, "not_found", "no such page or resource");
  std::ostringstream body;
  body << in.rdbuf();
  auto r = response::text(200, body.str(), std::string(content_type_for(file)));
  r.headers.emplace_back("Cache-Control", cache_control);
  r.headers.emplace_back("Content-Security-Policy", page_policy);
  return r;
}

}  // namespace

std::string_view content_type_for(const std::filesystem::path& file) {
  const auto ext = file.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "application/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".json") return "application/json";
  if (ext == ".woff2") return "font/woff2";
  return "application/octet-stream";
}

void add_static_routes(router& r, std::filesystem::path web_root) {
  auto page = [web_root](const char* name) {
    return [file = web_root / name](request&, responder& respond) { respond(file_response(file, "no-cache")); };
  };
  r.get("/", page("index.html"));
  r.get("/w/{id}", page("register.html"));
  r.get("/live/{id}", page("live.html"));
  r.get("/materials/{id}", page("materials.html"));
  r.get("/console", page("console.html"));
  r.get("/unsubscribe", page("unsubscribe.html"));
  r.get("/certificate", page("certificate.html"));
  // {file} is a single safe segment (no dots first, no slashes), so it cannot leave assets/.
  r.get("/assets/{file}", [assets = web_root / "assets"](request& req, responder& respond) {
    respond(file_response(assets / req.params.at(0), "public, max-age=300"));
  });
}

void add_ops_routes(router& r, std::function<bool()> ready, const metrics::registry& metrics) {
  r.get("/healthz", [](request&, responder& respond) { respond(response::text(200, "ok")); });
  r.get("/readyz", [ready = std::move(ready)](request&, responder& respond) {
    respond(ready() ? response::text(200, "ready")
                    : error_response(503, "unavailable", "not ready: the database or the chat bus is not available"));
  });
  r.get("/metrics", [&metrics](request&, responder& respond) {
    respond(response::text(200, metrics.render(), "text/plain; version=0.0.4; charset=utf-8"));
  });
}

}  // namespace cohort::http
