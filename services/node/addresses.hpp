// Where the node is reached and what it serves from, derived from the configuration and the
// ports it bound: base URLs, the origins browsers may call from, and the
// repository folders (web/, config/email/) next to the build.
#pragma once

#include "config/config.hpp"
#include "gateway/http_server.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cohort::node {

// http://host:port for a listen address (0.0.0.0 and :: become localhost; IPv6 in brackets).
std::string base_url(const listen_address& listen, std::uint16_t port);
// server.public_url without trailing slash, else base_url of the bound port.
std::string public_url(const config& cfg, std::uint16_t port);
// Browsers may open /ws and change state from the public URL's origin (or, without one, the
// listen address's) and from the configured extra origins.
std::vector<std::string> allowed_origins(const config& cfg, std::uint16_t port);

// A folder of the repository next to the build folder the binary is in, when it holds `probe`;
// else the same folder under the working directory.
std::filesystem::path beside_build(const std::filesystem::path& relative, const std::filesystem::path& probe);
// server.web_root, else web/ beside the build.
std::filesystem::path web_root(const config& cfg);

// The HTTP server's options from [server] and [limits]; the primary's also take uploads (drop
// files, up to drops.file_max_bytes), spooled to a fresh data_dir/uploads.
http::server_options server_options(const config& cfg);
http::server_options primary_server_options(const config& cfg);

}  // namespace cohort::node
