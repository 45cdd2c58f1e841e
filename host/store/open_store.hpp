// open_store: a trial store by its name. A file path opens a SqliteStore, a postgresql:// (or postgres://) URL a
// PgStore; any other scheme:// is refused naming it. Invariant: store_label() is how messages show a store, with a
// URL's password replaced by "***".
#pragma once
#include <memory>
#include <string>

#include "host/store/trial_store.hpp"

namespace sparse::store {

// `create`: make the store (file, or tables and study) when missing; else it must exist.
std::unique_ptr<TrialStore> open_store(const std::string& path_or_url, bool create);
// True for "scheme://..." (a server, not a file), whether or not open_store knows the scheme.
bool is_store_url(const std::string& path_or_url);
// A path unchanged; a URL with its password redacted.
std::string store_label(const std::string& path_or_url);

}  // namespace sparse::store
