// Store URLs: `postgresql://user[:password]@host[:port]/database?study=NAME` (`postgres://` too) names a study in a
// PostgreSQL database; anything without `scheme://` is a SQLite file path. Invariant: a password never reaches a
// message or a log line: every message names the store by redact_url(), which replaces it with "***".
#pragma once
#include <string>

namespace sparse::store {

struct PgUrl {
  std::string user;      // "" lets libpq take the operating-system user name
  std::string password;  // "" lets libpq look in PGPASSWORD or ~/.pgpass
  std::string host;
  int port = 5432;
  std::string database;
  std::string study = "default";  // the namespace of searches and trials inside the database
  std::string sslmode;            // "" = libpq's default (prefer)
  int connect_timeout = 10;       // seconds before an unreachable host is reported
  std::string label;              // the URL as given, password redacted: how messages name the store

  std::string server() const { return host + ":" + std::to_string(port); }
};

// True when `s` starts with a URL scheme ("letters://"): it names a server, not a file (the scheme may be unknown).
bool looks_like_url(const std::string& s);
// `s` with the password of its user-info part replaced by "***"; anything else unchanged (also for malformed URLs).
std::string redact_url(const std::string& s);
// Parses a postgresql:// or postgres:// URL; throws sparse::Error naming the (redacted) URL and the part that is wrong:
// an unknown scheme, no host, a port that is not a number in 1..65535, no database, an unknown query parameter,
// a bad %-escape or a study name outside [A-Za-z0-9_.-].
PgUrl parse_pg_url(const std::string& url);

}  // namespace sparse::store
