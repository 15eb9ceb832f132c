#include "node/addresses.hpp"

#include "node/node_core.hpp"

namespace fs = std::filesystem;

namespace cohort::node {
namespace {

std::string display_host(std::string host) {
  if (host == "0.0.0.0" || host == "::") host = "localhost";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return host;
}

}  // namespace

std::string base_url(const listen_address& listen, std::uint16_t port) {
  return "http://" + display_host(listen.host) + ":" + std::to_string(port);
}

std::string public_url(const config& cfg, std::uint16_t port) {
  std::string url = cfg.server.public_url.empty() ? base_url(cfg.server.listen, port) : cfg.server.public_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::vector<std::string> allowed_origins(const config& cfg, std::uint16_t port) {
  std::vector<std::string> out = cfg.server.allowed_origins;
  if (!cfg.server.public_url.empty()) {
    const auto& url = cfg.server.public_url;
    const auto scheme_end = url.find("://");
    const auto path = url.find('/', scheme_end + 3);
    out.push_back(url.substr(0, path));
  } else {
    const auto p = std::to_string(port);
    out.push_back(base_url(cfg.server.listen, port));
    out.push_back("http://127.0.0.1:" + p);
    out.push_back("http://localhost:" + p);
  }
  return out;
}

fs::path beside_build(const fs::path& relative, const fs::path& probe) {
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && fs::exists(exe.parent_path().parent_path() / relative / probe)) return exe.parent_path().parent_path() / relative;
  return fs::current_path() / relative;
}

fs::path web_root(const config& cfg) {
  return cfg.server.web_root.empty() ? beside_build("web", "index.html") : fs::path(cfg.server.web_root);
}

http::server_options server_options(const config& cfg) {
  http::server_options o;
  o.host = cfg.server.listen.host;
  o.port = cfg.server.listen.port;
  o.body_max_bytes = cfg.limits.body_max_bytes;
  o.header_max_bytes = cfg.limits.header_max_bytes;
  o.read_timeout_seconds = cfg.limits.read_timeout_seconds;
  o.keepalive_timeout_seconds = cfg.limits.keepalive_timeout_seconds;
  o.ws_queue_max_bytes = static_cast<std::size_t>(cfg.chat.ws_queue_max_bytes);
  o.uploads_max = cfg.limits.uploads_max;
  o.upload_min_bytes_per_second = static_cast<std::uint64_t>(cfg.limits.upload_min_bytes_per_second);
  o.upload_rate_window_seconds = cfg.limits.upload_rate_window_seconds;
  o.connections_per_ip = cfg.limits.connections_per_ip;
  o.trusted_proxies = cfg.server.trusted_proxies;
  o.hsts = cfg.server.public_url.rfind("https://", 0) == 0;
  return o;
}

http::server_options primary_server_options(const config& cfg) {
  auto o = server_options(cfg);
  o.upload_dir = fresh_upload_dir(cfg.storage.data_dir).string();
  o.upload_max_bytes = cfg.drops.file_max_bytes;
  return o;
}

}  // namespace cohort::node
