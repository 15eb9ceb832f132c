#include "gateway/static_site.hpp"

#include "metrics/metrics.hpp"

#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
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

response served_file(std::string body, const std::filesystem::path& file, const char* cache_control) {
  auto r = response::text(200, std::move(body), std::string(content_type_for(file)));
  r.headers.emplace_back("Cache-Control", cache_control);
  r.headers.emplace_back("Content-Security-Policy", page_policy);
  return r;
}

bool read_file(const std::filesystem::path& file, std::string& out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  std::ostringstream body;
  body << in.rdbuf();
  out = std::move(body).str();
  return true;
}

response file_response(const std::filesystem::path& file, const char* cache_control) {
  std::string body;
  if (!read_file(file, body)) return error_response(404, "not_found", "no such page or resource");
  return served_file(std::move(body), file, cache_control);
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

bool slot_name_ok(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name)
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
  return true;
}

// The page's slots by name. Markers are whole lines, so a "<!-- slot" inside a slot's text (in a
// sentence, say) is not mistaken for one unless it stands alone at the start of a line.
std::map<std::string, std::string, std::less<>> parse_slots(std::string_view page) {
  constexpr std::string_view open = "<!-- slot ";
  constexpr std::string_view close = " -->";
  std::map<std::string, std::string, std::less<>> slots;
  std::string* current = nullptr;
  std::size_t current_start = 0;
  auto finish = [&](std::size_t end) {
    if (current) *current = std::string(trim(page.substr(current_start, end - current_start)));
  };
  std::size_t pos = page.find('\n');
  pos = pos == std::string_view::npos ? page.size() : pos + 1;  // past the declaration line
  const std::size_t body_start = pos;
  while (pos < page.size()) {
    const auto eol = page.find('\n', pos);
    const auto line_end = eol == std::string_view::npos ? page.size() : eol;
    const auto line = page.substr(pos, line_end - pos);
    if (line.substr(0, open.size()) == open) {
      const auto end = line.find(close, open.size());
      if (end == std::string_view::npos) throw layout_error("page: a slot marker without \" -->\"");
      const auto name = line.substr(open.size(), end - open.size());
      if (!slot_name_ok(name)) throw layout_error("page: bad slot name \"" + std::string(name) + "\" (a-z and _ only)");
      if (!current && !trim(page.substr(body_start, pos - body_start)).empty())
        throw layout_error("page: text before the first slot marker");
      finish(pos);
      auto [it, fresh] = slots.try_emplace(std::string(name));
      if (!fresh) throw layout_error("page: slot \"" + std::string(name) + "\" filled twice");
      current = &it->second;
      current_start = pos + end + close.size();  // a slot's text may start on its marker's line
    }
    pos = eol == std::string_view::npos ? page.size() : eol + 1;
  }
  if (!current && !trim(page.substr(body_start)).empty()) throw layout_error("page: text before the first slot marker");
  finish(page.size());
  return slots;
}

struct placeholder {
  std::size_t begin = 0;  // of "{{"
  std::size_t end = 0;    // past "}}"
  std::string_view name;
  bool optional = false;
};

// The next {{name}} or {{name?}} in `text` from `from`; nullopt when there is none.
std::optional<placeholder> next_placeholder(std::string_view text, std::size_t from) {
  const auto begin = text.find("{{", from);
  if (begin == std::string_view::npos) return std::nullopt;
  const auto close = text.find("}}", begin + 2);
  if (close == std::string_view::npos) throw layout_error("layout: \"{{\" without \"}}\"");
  placeholder p{begin, close + 2, text.substr(begin + 2, close - begin - 2), false};
  if (!p.name.empty() && p.name.back() == '?') {
    p.optional = true;
    p.name.remove_suffix(1);
  }
  if (!slot_name_ok(p.name)) throw layout_error("layout: bad placeholder \"{{" + std::string(p.name) + "}}\"");
  return p;
}

// One layout page served from memory: the page and layout files' modification times are checked
// on each request (two stats), so an edit still shows without a restart, but the assembly runs
// only when one of them changed. Handlers run on several threads: the rendering is swapped under
// a mutex and read files are never held under it.
class layout_page {
 public:
  layout_page(std::filesystem::path page, std::filesystem::path layout) : page_(std::move(page)), layout_(std::move(layout)) {
    auto fresh = render();  // a page that does not fit the layout stops the start-up, naming the file
    if (!fresh.html) throw layout_error(page_.string() + ": " + fresh.error);
    current_ = std::move(fresh);
  }

  response respond() {
    std::error_code ec_page, ec_layout;
    const auto page_time = std::filesystem::last_write_time(page_, ec_page);
    const auto layout_time = std::filesystem::last_write_time(layout_, ec_layout);
    if (ec_page) return error_response(404, "not_found", "no such page or resource");
    std::shared_ptr<const std::string> html;
    {
      std::lock_guard lock(mu_);
      if (!ec_layout && current_.page_time == page_time && current_.layout_time == layout_time) html = current_.html;
    }
    if (!html) {
      auto fresh = render();
      if (!fresh.html) {
        std::cerr << "cohort: cannot render " << page_.string() << ": " << fresh.error << "\n";
        return error_response(500, "internal", "this page cannot be shown right now");
      }
      html = fresh.html;
      std::lock_guard lock(mu_);
      current_ = std::move(fresh);
    }
    return served_file(*html, page_, "no-cache");
  }

 private:
  struct rendering {
    std::filesystem::file_time_type page_time{};
    std::filesystem::file_time_type layout_time{};
    std::shared_ptr<const std::string> html;  // null when the files could not be read or assembled
    std::string error;
  };

  // The times are taken before reading, so an edit during the read is picked up next time.
  rendering render() const {
    rendering out;
    std::error_code ec;
    out.page_time = std::filesystem::last_write_time(page_, ec);
    if (!ec) out.layout_time = std::filesystem::last_write_time(layout_, ec);
    std::string page, layout;
    if (ec || !read_file(page_, page) || !read_file(layout_, layout)) {
      out.error = "cannot read the page or " + layout_.string();
      return out;
    }
    try {
      out.html = std::make_shared<const std::string>(render_page(layout, page));
    } catch (const layout_error& e) {
      out.error = e.what();
    }
    return out;
  }

  const std::filesystem::path page_;
  const std::filesystem::path layout_;
  std::mutex mu_;
  rendering current_;
};

}  // namespace

bool uses_layout(std::string_view page) {
  const auto eol = page.find('\n');
  return trim(page.substr(0, eol)) == layout_declaration;
}

std::string render_page(std::string_view layout, std::string_view page) {
  if (!uses_layout(page)) return std::string(page);
  const auto slots = parse_slots(page);
  std::map<std::string_view, bool> used;
  std::string out;
  out.reserve(layout.size() + page.size());
  std::size_t pos = 0;
  while (pos < layout.size()) {
    const auto eol = layout.find('\n', pos);
    const auto line_end = eol == std::string_view::npos ? layout.size() : eol + 1;
    const auto line = layout.substr(pos, line_end - pos);
    std::string rendered;
    bool all_empty = true;  // every placeholder on the line rendered empty
    bool any = false;
    std::size_t at = 0;
    while (auto p = next_placeholder(line, at)) {
      any = true;
      rendered.append(line.substr(at, p->begin - at));
      const auto slot = slots.find(p->name);
      if (slot == slots.end() && !p->optional)
        throw layout_error("page: no slot \"" + std::string(p->name) + "\", which the layout requires");
      if (slot != slots.end()) {
        used[slot->first] = true;
        rendered.append(slot->second);
        if (!slot->second.empty()) all_empty = false;
      }
      at = p->end;
    }
    rendered.append(line.substr(at));
    const bool only_placeholders = any && trim(rendered).empty();
    if (!(only_placeholders && all_empty)) out.append(rendered);
    pos = line_end;
  }
  for (const auto& [name, text] : slots)
    if (!used.count(name)) throw layout_error("page: slot \"" + name + "\" has no place in the layout");
  return out;
}

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
  const auto layout = web_root / "layout.html";
  auto page = [&web_root, &layout](const char* name) -> handler {
    auto file = web_root / name;
    std::string first_line;
    if (std::ifstream in(file, std::ios::binary); in) std::getline(in, first_line);
    if (uses_layout(first_line)) {
      auto rendered = std::make_shared<layout_page>(file, layout);
      return [rendered](request&, responder& respond) { respond(rendered->respond()); };
    }
    return [file](request&, responder& respond) { respond(file_response(file, "no-cache")); };
  };
  r.get("/", page("index.html"));
  r.get("/w/{id}", page("register.html"));
  r.get("/live/{id}", page("live.html"));
  r.get("/materials/{id}", page("materials.html"));
  r.get("/ce/{id}", page("ce.html"));
  r.get("/console", page("console.html"));
  r.get("/unsubscribe", page("unsubscribe.html"));
  r.get("/certificate", page("certificate.html"));
  r.get("/ce/{id}/test", page("ce-test.html"));
  r.get("/verify/{code}", page("verify.html"));
  // {file} is a single safe segment (no dots first, no slashes), so it cannot leave assets/.
  r.get("/assets/{file}", [assets = web_root / "assets"](request& req, responder& respond) {
    respond(file_response(assets / req.params.at(0), "public, max-age=300"));
  });
}

void add_ops_routes(router& r, std::function<bool()> ready, const metrics::registry& metrics) {
  r.get("/healthz", [](request&, responder& respond) { respond(response::text(200, "ok")); });
  r.get("/readyz", [ready = std::move(ready)](request&, responder& respond) {
    respond(ready() ? response::text(200, "ready")
                    : error_response(503, "unavailable", "not ready: the database, the data directory (no space left) or the chat bus is not available"));
  });
  r.get("/metrics", [&metrics](request&, responder& respond) {
    respond(response::text(200, metrics.render(), "text/plain; version=0.0.4; charset=utf-8"));
  });
}

std::string redirect_api_to(router& r, std::string primary_url) {
  while (!primary_url.empty() && primary_url.back() == '/') primary_url.pop_back();
  r.set_fallback("api", [primary_url](const request& req) {
    auto res = error_response(307, "moved", "the API is served by the primary");
    res.headers.emplace_back("Location", primary_url + req.target);
    return res;
  });
  return primary_url;
}

}  // namespace cohort::http
