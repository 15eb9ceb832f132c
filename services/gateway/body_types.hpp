// Beast response bodies the HTTP session writes besides string_body. Private to the gateway's
// Beast files (http_session.cpp).
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/file.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace cohort::http {

// A response body streamed from part of a file (a download, or the slice a Range asked for), in
// 64 KiB reads: memory stays flat however large the file.
struct file_range_body {
  struct value_type {
    boost::beast::file file;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
  };
  static std::uint64_t size(const value_type& v) { return v.length; }

  class writer {
   public:
    using const_buffers_type = boost::asio::const_buffer;
    template <bool isRequest, class Fields>
    writer(const boost::beast::http::header<isRequest, Fields>&, value_type& v) : body_(v), remain_(v.length) {}
    void init(boost::beast::error_code& ec) { body_.file.seek(body_.offset, ec); }
    boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec) {
      ec = {};
      if (remain_ == 0) return boost::none;
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(remain_, chunk_.size()));
      const auto n = body_.file.read(chunk_.data(), want, ec);
      if (ec) return boost::none;
      if (n == 0) {  // the file shrank under us
        ec = boost::beast::http::error::short_read;
        return boost::none;
      }
      remain_ -= n;
      return {{boost::asio::const_buffer(chunk_.data(), n), remain_ > 0}};
    }

   private:
    value_type& body_;
    std::uint64_t remain_;
    std::array<char, 64 * 1024> chunk_;
  };
};

// A response body that is a shared immutable buffer (an HLS segment): every response to it sends
// the same bytes, none copies them.
struct shared_string_body {
  using value_type = std::shared_ptr<const std::string>;
  static std::uint64_t size(const value_type& v) { return v ? v->size() : 0; }

  class writer {
   public:
    using const_buffers_type = boost::asio::const_buffer;
    template <bool isRequest, class Fields>
    writer(const boost::beast::http::header<isRequest, Fields>&, const value_type& v) : body_(v) {}
    void init(boost::beast::error_code& ec) { ec = {}; }
    boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec) {
      ec = {};
      if (sent_ || !body_ || body_->empty()) return boost::none;
      sent_ = true;
      return {{boost::asio::const_buffer(body_->data(), body_->size()), false}};
    }

   private:
    const value_type& body_;
    bool sent_ = false;
  };
};

}  // namespace cohort::http
