// The web pages (web/ in the repo) and the operational endpoints (/healthz, /readyz, /metrics).
#pragma once

#include "gateway/router.hpp"

#include <atomic>
#include <filesystem>

namespace cohort::http {

// GET / -> index.html, /w/{id} -> register.html, /live/{id} -> live.html, /assets/{file}.
// Files are read per request: they are small, and an edit shows without a restart. Every page
// and asset carries a strict Content-Security-Policy (no inline script or style, no framing).
void add_static_routes(router& r, std::filesystem::path web_root);

// /readyz answers 200 while ready() holds: the database is open and the chat bus is connected.
void add_ops_routes(router& r, std::function<bool()> ready, const metrics::registry& metrics);

std::string_view content_type_for(const std::filesystem::path& file);

}  // namespace cohort::http
