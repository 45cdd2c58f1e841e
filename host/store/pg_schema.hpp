// The PostgreSQL store's schema as an ordered list of migrations: step k takes a database from schema version k-1 to
// k (version 0: no SpArSe tables). Invariants: schema changes run under a transaction-scoped advisory lock, so
// processes opening a fresh database at once create it once; a database whose version is newer than this engine's
// is refused, never written. The tables are documented in pg_store.hpp.
#pragma once
#include "host/store/pg_db.hpp"

namespace sparse::store {

inline constexpr int kPgSchemaVersion = 3;

// Brings the database to kPgSchemaVersion (creating the tables when `create`, or when they exist at an older
// version); throws naming the store when the tables are missing and !create, or newer than this engine reads.
void ensure_pg_schema(PgConnection& c, bool create);
// The version recorded in sparse_meta (0 when there is no SpArSe table).
int pg_schema_version(PgConnection& c);

}  // namespace sparse::store
