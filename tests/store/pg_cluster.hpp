// A throwaway PostgreSQL server for tests: initdb into a fresh folder under /tmp, pg_ctl start on a free port of
// 127.0.0.1 (its unix socket inside that folder, fsync off), scram-sha-256 password authentication for a superuser
// (kPgAdmin) and a plain test user (kPgUser, may create databases); stop_pg_cluster() shuts it down and removes the
// folder. PostgreSQL refuses to run as root: as root, initdb and pg_ctl run as `nobody` (runuser), which owns the
// folder. Invariant: a machine without the server binaries (or without `nobody`/runuser as root) gets a
// skip_reason, never a failure; a cluster that should start but does not is an error carrying the server's log.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace sparse::test {

inline constexpr const char* kPgAdmin = "sparse_admin";
inline constexpr const char* kPgAdminPassword = "admin-pw-7";
inline constexpr const char* kPgUser = "sparse_test";
inline constexpr const char* kPgPassword = "test-pw-3";

struct PgClusterInfo {
  std::string skip_reason;  // non-empty: there is no cluster, and this says why
  std::string dir;          // the cluster's folder: data/, server.log, the socket
  std::string bindir;       // initdb, pg_ctl
  std::string run_as;       // "" or the unprivileged user the server runs as
  int port = 0;

  nlohmann::json to_json() const;
  static PgClusterInfo from_json(const nlohmann::json& j);
};

// Starts a cluster (or returns one with skip_reason set); throws std::runtime_error with the log on failure.
PgClusterInfo start_pg_cluster();
// Stops the server (fast shutdown) and removes its folder; quiet when it is already gone.
void stop_pg_cluster(const PgClusterInfo& c);

// postgresql://USER:PASSWORD@127.0.0.1:PORT/DB?study=STUDY (no "?study" when `study` is empty).
std::string pg_url(const PgClusterInfo& c, const std::string& db, const std::string& study,
                   const std::string& user = kPgUser, const std::string& password = kPgPassword);
// Runs `sql` on database `db` as the superuser; throws std::runtime_error with the server's message.
void pg_admin_exec(const PgClusterInfo& c, const std::string& db, const std::string& sql);

}  // namespace sparse::test
