// Shared by the HTTP APIs that write to the store: how a queued write answers (errors in the one
// JSON error shape, see http::error_from).
#pragma once

#include "gateway/http_types.hpp"
#include "store/sqlite_writer.hpp"

#include <exception>
#include <functional>
#include <memory>
#include <optional>

namespace cohort::registration {

struct write_path {
  store::sqlite_writer* writer = nullptr;
  // Runs a task on the request threads; empty: inline. See api_context::post_to_io.
  std::function<void(std::function<void()>)> post_to_io;
};

// Queues work(db) -> Result on the single writer and answers with finish(result) after COMMIT,
// or with the mapped error; 503 when the write queue is full.
template <class Result, class Work, class Finish>
void queue_write(const write_path& path, http::responder& respond, Work work, Finish finish) {
  auto slot = std::make_shared<std::optional<Result>>();
  auto reply = std::make_shared<http::responder>(std::move(respond));
  auto answer = [slot, reply, finish = std::move(finish)](std::exception_ptr ep) mutable {
    if (ep) return (*reply)(http::error_from(ep));
    try {
      (*reply)(finish(**slot));
    } catch (...) {
      (*reply)(http::error_from(std::current_exception()));
    }
  };
  const bool queued = path.writer->submit(
      [slot, work = std::move(work)](store::database& db) mutable { slot->emplace(work(db)); },
      [answer = std::move(answer), post = path.post_to_io](std::exception_ptr ep) mutable {
        if (post) post([answer, ep]() mutable { answer(ep); });
        else answer(ep);
      });
  if (!queued) (*reply)(http::error_response(503, "unavailable", "the server is busy, try again in a moment"));
}

}  // namespace cohort::registration
