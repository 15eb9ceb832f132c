// Test helpers over a real SQLite file (temp_database_file.hpp): the schema migrated, and a write
// that waits for its commit.
#pragma once

#include "store/migrations.hpp"
#include "store/sqlite.hpp"
#include "store/sqlite_writer.hpp"

#include <catch2/catch.hpp>

#include <exception>
#include <future>
#include <memory>
#include <string>

namespace cohort::test {

// synchronous=NORMAL: tests measure nothing, and an fsync per commit would only slow them.
inline store::database open_migrated(const std::string& path) {
  store::open_options o;
  o.synchronous_full = false;
  store::database db(path, o);
  store::migrate(db);
  return db;
}

// Runs w on the writer and waits for its commit, rethrowing what undid it; every write queued
// before it has completed too. (w runs on the writer thread: throw there, no Catch assertions.)
inline void commit(store::sqlite_writer& writer, store::sqlite_writer::work w) {
  auto done = std::make_shared<std::promise<std::exception_ptr>>();
  auto committed = done->get_future();
  REQUIRE(writer.submit(std::move(w), [done](std::exception_ptr e) { done->set_value(e); }));
  if (const auto error = committed.get()) std::rethrow_exception(error);
}

}  // namespace cohort::test
