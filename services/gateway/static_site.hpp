// The web pages (web/ in the repo) and the operational endpoints (/healthz, /readyz, /metrics).
#pragma once

#include "gateway/router.hpp"

#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cohort::http {

// GET / -> index.html, /w/{id} -> register.html, /live/{id} -> live.html, /assets/{file}.
// Every page and asset carries a strict Content-Security-Policy (no inline script or style, no
// framing). Assets and plain pages are read per request: they are small, and an edit shows without
// a restart. A page that declares the layout (see render_page) is rendered into web/layout.html
// here, at start-up, and kept in memory; it is rendered again when the page or the layout file
// changes on disk. Throws layout_error at start-up when a page does not fit the layout.
void add_static_routes(router& r, std::filesystem::path web_root);

// An edge: requests under /api/ that no route matches go to the primary (307 keeps method and
// body). Returns the primary's URL as used (no trailing slash).
std::string redirect_api_to(router& r, std::string primary_url);

// /readyz answers 200 while ready() holds: the database is open and the room bus is connected.
void add_ops_routes(router& r, std::function<bool()> ready, const metrics::registry& metrics);

std::string_view content_type_for(const std::filesystem::path& file);

// The shared page layout. A page file whose first line is `layout_declaration` consists of slots,
// each opened by a line `<!-- slot NAME -->` and running to the next one:
//
//   <!-- cohort:layout -->
//   <!-- slot title -->Your webinar room — Cohort
//   <!-- slot main -->
//       <p>…</p>
//
// The layout has a `{{NAME}}` where slot NAME goes (required) or `{{NAME?}}` (optional: empty when
// the page has no such slot, and a line holding only that placeholder is left out). Slot contents
// are trimmed of surrounding whitespace and pasted as they are (they are trusted HTML from web/).
inline constexpr std::string_view layout_declaration = "<!-- cohort:layout -->";

// A page or layout that cannot be assembled; the message names the slot or placeholder.
struct layout_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

bool uses_layout(std::string_view page);

// The page assembled into the layout. Throws layout_error when the page misses a required slot,
// fills one the layout has no place for or twice, has text outside a slot, or the layout has an
// unclosed or malformed placeholder. A page without the declaration is returned unchanged.
std::string render_page(std::string_view layout, std::string_view page);

}  // namespace cohort::http
