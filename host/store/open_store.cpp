// Choosing the store implementation from a path or URL (see open_store.hpp).
#include "host/store/open_store.hpp"

#include "host/store/pg_store.hpp"
#include "host/store/sqlite_store.hpp"
#include "host/store/store_url.hpp"

namespace sparse::store {

std::unique_ptr<TrialStore> open_store(const std::string& path_or_url, bool create) {
  if (is_store_url(path_or_url)) return std::make_unique<PgStore>(path_or_url, create);  // refuses other schemes
  return std::make_unique<SqliteStore>(path_or_url, create);
}

bool is_store_url(const std::string& path_or_url) { return looks_like_url(path_or_url); }

std::string store_label(const std::string& path_or_url) { return redact_url(path_or_url); }

}  // namespace sparse::store
