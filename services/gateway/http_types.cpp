#include "gateway/http_types.hpp"

#include "common/errors.hpp"
#include "common/storage_full.hpp"

#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <cctype>
#include <charconv>
#include <iostream>

namespace cohort::http {

std::string_view to_string(verb v) {
  switch (v) {
    case verb::get: return "GET";
    case verb::head: return "HEAD";
    case verb::post: return "POST";
    case verb::put: return "PUT";
    case verb::patch: return "PATCH";
    case verb::del: return "DELETE";
    case verb::options: return "OPTIONS";
    case verb::other: break;
  }
  return "OTHER";
}

owned_fd::~owned_fd() {
  if (fd >= 0) ::close(fd);
}

const std::string* request::query_param(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return &v;
  return nullptr;
}

std::optional<int> request::session_query(int max) const {
  const auto* v = query_param("session");
  if (!v) return std::nullopt;
  int n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc{} || p != v->data() + v->size() || n < 1 || n > max)
    throw api_error(400, "bad_request", "session must be a session number (1, 2, ...)", "session");
  return n;
}

std::string_view request::bearer() const {
  constexpr std::string_view scheme = "bearer ";
  if (authorization.size() <= scheme.size()) return {};
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i]) return {};
  return std::string_view(authorization).substr(scheme.size());
}

std::string_view request::token() const {
  if (const auto* t = query_param("token"); t && !t->empty()) return *t;
  return bearer();
}

std::string_view request::cookie_value(std::string_view name) const {
  std::string_view rest = cookie;
  while (!rest.empty()) {
    const auto end = rest.find(';');
    auto pair = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
  }
  return {};
}

std::int64_t request::id_param(std::size_t i) const {
  std::int64_t v = 0;
  const auto& s = params.at(i);
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

response response::json(unsigned status, const boost::json::value& v) {
  response r;
  r.status = status;
  r.body = boost::json::serialize(v);
  return r;
}

response response::text(unsigned status, std::string body, std::string content_type) {
  response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

response response::no_content() {
  response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

response error_response(unsigned status, std::string_view code, std::string_view message, std::string_view field) {
  boost::json::object err{{"code", code}, {"message", message}};
  if (!field.empty()) err["field"] = field;
  return response::json(status, boost::json::object{{"error", std::move(err)}});
}

byte_range parse_range(std::string_view header, std::uint64_t size) {
  byte_range out;
  constexpr std::string_view unit = "bytes=";
  if (header.size() < unit.size() || header.find(',') != std::string_view::npos) return out;
  for (std::size_t i = 0; i < unit.size(); ++i)  // range units are case-insensitive
    if (std::tolower(static_cast<unsigned char>(header[i])) != unit[i]) return out;
  const auto spec = header.substr(unit.size());
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) return out;
  auto number = [](std::string_view text, std::uint64_t& v) {
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    return !text.empty() && ec == std::errc{} && p == text.data() + text.size();
  };
  std::uint64_t a = 0, b = 0;
  const auto first = spec.substr(0, dash), last = spec.substr(dash + 1);
  if (first.empty()) {  // the last n bytes
    if (!number(last, b)) return out;
    if (b == 0 || size == 0) return {byte_range::kind::unsatisfiable};
    return {byte_range::kind::partial, size - std::min(b, size), size - 1};
  }
  if (!number(first, a) || (!last.empty() && (!number(last, b) || b < a))) return out;
  if (a >= size) return {byte_range::kind::unsatisfiable};
  return {byte_range::kind::partial, a, last.empty() ? size - 1 : std::min(b, size - 1)};
}

response file_response(std::string path, std::uint64_t size, std::string_view range_header, response base) {
  const auto range = parse_range(range_header, size);
  if (range.result == byte_range::kind::unsatisfiable) {
    auto err = error_response(416, "range_not_satisfiable", "the file has " + std::to_string(size) + " bytes");
    err.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
    return err;
  }
  if (range.result == byte_range::kind::partial) {
    base.status = 206;
    base.headers.emplace_back("Content-Range",
                              "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" + std::to_string(size));
    base.file = file_slice{std::move(path), range.first, range.last - range.first + 1};
  } else {
    base.file = file_slice{std::move(path), 0, size};
  }
  return base;
}

namespace {

unsigned status_of(common::domain_error::kind k) {
  using kind = common::domain_error::kind;
  switch (k) {
    case kind::invalid: return 422;
    case kind::not_found: return 404;
    case kind::conflict: return 409;
    case kind::unauthorized: return 401;
    case kind::forbidden: return 403;
    case kind::gone: return 410;
    case kind::unavailable: return 503;
  }
  return 500;
}

}  // namespace

response error_from(std::exception_ptr failure, std::string_view context) {
  try {
    std::rethrow_exception(failure);
  } catch (const api_error& e) {
    return error_response(e.status, e.code, e.what(), e.field);
  } catch (const common::storage_full& e) {
    return error_response(507, e.code, e.what(), e.field);  // a kind of unavailable, but the precise status
  } catch (const common::domain_error& e) {
    return error_response(status_of(e.what_went_wrong), e.code, e.what(), e.field);
  } catch (const std::exception& e) {
    std::cerr << "cohort: " << context << " failed: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "cohort: " << context << " failed\n";
  }
  return error_response(500, "internal", "internal error");
}

}  // namespace cohort::http
