#include "gateway/http_server.hpp"

#include "gateway/http_listener.hpp"

namespace cohort::http {

http_server::http_server(boost::asio::io_context& ioc, server_options options, const router& routes, metrics::registry* metrics)
    : listener_(std::make_shared<http_listener>(ioc, std::move(options), routes, metrics)) {}

http_server::~http_server() = default;

std::uint16_t http_server::listen() { return listener_->listen(); }

void http_server::start_accepting() { listener_->start_accepting(); }

void http_server::set_upgrade_handler(upgrade_handler h) { listener_->upgrade = std::move(h); }

void http_server::stop() { listener_->stop(); }

std::size_t http_server::open_sessions() const { return listener_->open_sessions(); }

}  // namespace cohort::http
