// The database schema, versioned with PRAGMA user_version. migrate() applies every step the file
// has not seen yet, each in its own transaction, at start-up before any request is served.
#pragma once

#include "store/sqlite.hpp"

namespace cohort::store {

// The schema version this binary writes.
int schema_version();

// Brings db up to schema_version(). Throws sqlite_error, or std::runtime_error when the file
// comes from a newer Cohort (a downgrade would silently lose data).
void migrate(database& db);

}  // namespace cohort::store
