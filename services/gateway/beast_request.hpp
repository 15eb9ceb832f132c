// The router's view of a request header Beast has parsed: method, path, segments, query and the
// headers the routes read. What http_session does with every request, and what the HTTP fuzz
// target does, so the two cannot drift apart. The connection's own facts (peer, the client
// address behind trusted proxies) are the caller's. Defined in http_session.cpp (the Beast TU).
#pragma once

#include "gateway/http_types.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/optional/optional.hpp>

#include <cstdint>

namespace cohort::http {

// A fresh request from `msg` (`content_length` as Beast's parser knows it); false (and `out`
// half-filled) when the target is not an origin-form path.
bool read_request_head(const boost::beast::http::request<boost::beast::http::string_body>& msg,
                       boost::optional<std::uint64_t> content_length, request& out);

}  // namespace cohort::http
