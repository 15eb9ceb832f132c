// The HTTP request and response as the handlers see them: plain structs without Beast, so the
// API code compiles fast and is unit-tested without sockets.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace cohort::http {

enum class verb { get, head, post, put, patch, del, options, other };

std::string_view to_string(verb v);

// Who the bearer token says the caller is (see auth.hpp).
struct identity {
  enum class kind { anonymous, organizer, registrant } role = kind::anonymous;
  std::int64_t registration_id = 0;
  std::int64_t webinar_id = 0;
  std::string token_nonce_hash;  // registrant: SHA-256 of the token's secret part, checked against the store
  std::string name;              // registrant: the name signed into the token (may be empty in old tokens)
  std::int64_t organizer_id = 0; // organizer: the console account (0: the admin token)
  bool via_session = false;      // organizer: proved by the console's session cookie, not a token
};

struct request {
  verb method = verb::get;
  std::string path;                       // path as sent, no query (for logs and errors)
  std::string target;                     // path and query as sent
  std::vector<std::string> segments;      // percent-decoded path segments, "/a/b" -> {"a","b"}
  std::vector<std::pair<std::string, std::string>> query;
  std::string content_type;
  std::string authorization;
  std::string origin;                     // Origin header, empty when absent
  std::string range;                      // Range header, empty when absent
  std::string if_none_match;              // If-None-Match header, empty when absent
  std::string cookie;                     // Cookie header, empty when absent
  std::string remote_address;             // the client's IP address (for per-IP limits): the socket peer,
                                          // or the forwarded client when the peer is a trusted proxy
  std::string peer_address;               // the socket peer's IP address, never from a header
  std::uint16_t peer_port = 0;            // the socket peer's port
  std::string body;
  std::string body_file;                  // upload routes: the body, spooled to this file (removed after the answer unless moved)
  bool body_framed = false;               // Content-Length or chunked was present
  std::optional<std::uint64_t> content_length;  // as the header said, when it said
  std::vector<std::string> params;        // path parameters, in pattern order
  boost::json::object json;               // parsed body for routes that take JSON
  identity who;

  const std::string* query_param(std::string_view name) const;
  // `?session=N`, a session number 1..max; nullopt when absent. Throws api_error 400 otherwise.
  std::optional<int> session_query(int max = 1000) const;
  // The token of an "Authorization: Bearer <token>" header (scheme case-insensitive); empty if none.
  std::string_view bearer() const;
  // The token of `?token=` (browsers cannot set headers on WebSockets, media elements or
  // download links), else the bearer token; empty if neither.
  std::string_view token() const;
  // The value of cookie `name` in the Cookie header; empty if absent.
  std::string_view cookie_value(std::string_view name) const;
  std::int64_t id_param(std::size_t i) const;  // a {id} the router already checked
};

// A file descriptor shared by everything that sends from it; closed with its last owner.
struct owned_fd {
  explicit owned_fd(int fd) : fd(fd) {}
  ~owned_fd();
  owned_fd(const owned_fd&) = delete;
  owned_fd& operator=(const owned_fd&) = delete;
  const int fd;
};

// A response body read from a file: `length` bytes from `offset` (a Range answer sends a slice).
struct file_slice {
  std::string path;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

struct response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::optional<file_slice> file;         // when set, the body is streamed from it instead
  std::shared_ptr<const std::string> shared_body;  // when set, sent instead of `body`, never copied
  // With shared_body: this answer's header lines, built once and shared by every answer with the
  // same body ("Name: value\r\n" each; Content-Type, Cache-Control and Content-Length included).
  // The server adds its status line and own headers and sends all of it and the body in one
  // gather write, without building a header per answer; `content_type` and `headers` are ignored.
  std::shared_ptr<const std::string> prebuilt_headers;
  // With prebuilt_headers: the same bytes as shared_body in a file that never changes (a sealed
  // memfd), which the server sends with sendfile: the kernel takes the pages, nothing is copied.
  std::shared_ptr<const owned_fd> body_fd;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;                     // close the connection after sending

  static response json(unsigned status, const boost::json::value& v);
  static response text(unsigned status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  static response no_content();
};

// A Range header against a resource of `size` bytes. Only a single range is honoured (RFC 9110
// lets a server ignore the rest): "bytes=a-b", "bytes=a-", "bytes=-n".
struct byte_range {
  enum class kind { whole, partial, unsatisfiable } result = kind::whole;
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
};
byte_range parse_range(std::string_view header, std::uint64_t size);

// A file answer for a Range header: `base` (type, headers) with the whole file (200), the slice
// asked for (206 + Content-Range), or a 416 error naming the size.
response file_response(std::string path, std::uint64_t size, std::string_view range_header, response base);

// The one error shape: {"error":{"code","message","field"?}}.
response error_response(unsigned status, std::string_view code, std::string_view message, std::string_view field = {});

// Thrown by handlers for an answer other than success; the router turns it into error_response.
struct api_error : std::runtime_error {
  api_error(unsigned status, std::string code, const std::string& message, std::string field = {})
      : std::runtime_error(message), status(status), code(std::move(code)), field(std::move(field)) {}
  unsigned status;
  std::string code;
  std::string field;
};

// The one error shape for a failure: an api_error as it says; a common::domain_error (what the
// stores throw) by its kind: invalid 422, not_found 404, conflict 409, unauthorized 401,
// forbidden 403, gone 410, unavailable 503; anything else 500 "internal", logged as `context`.
response error_from(std::exception_ptr failure, std::string_view context = "request");

// Called exactly once with the answer; may be called from any thread.
using responder = std::function<void(response)>;

}  // namespace cohort::http
