// Throwaway PostgreSQL cluster for tests (see pg_cluster.hpp).
#include "tests/store/pg_cluster.hpp"

#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace sparse::test {

namespace fs = std::filesystem;

namespace {

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string tail_of(const fs::path& p, size_t chars = 3000) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  return s.size() > chars ? s.substr(s.size() - chars) : s;
}

// SPARSE_PG_BINDIR when set, else the newest /usr/lib/postgresql/<version>/bin, else PATH's folder holding initdb
// and pg_ctl; "" when none does.
std::string find_bindir() {
  std::error_code ec;
  if (const char* env = std::getenv("SPARSE_PG_BINDIR"); env && *env)
    return fs::exists(fs::path(env) / "initdb", ec) && fs::exists(fs::path(env) / "pg_ctl", ec) ? env : "";
  std::vector<std::pair<int, std::string>> found;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const fs::path bin = e.path() / "bin";
    if (fs::exists(bin / "initdb", ec) && fs::exists(bin / "pg_ctl", ec))
      found.emplace_back(std::atoi(e.path().filename().c_str()), bin.string());
  }
  if (!found.empty()) return std::max_element(found.begin(), found.end())->second;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    std::string dir;
    while (std::getline(ss, dir, ':'))
      if (!dir.empty() && fs::exists(fs::path(dir) / "initdb", ec) && fs::exists(fs::path(dir) / "pg_ctl", ec))
        return dir;
  }
  return "";
}

std::string find_runuser() {
  for (const char* p : {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"})
    if (::access(p, X_OK) == 0) return p;
  return "";
}

// A port of 127.0.0.1 that was free a moment ago (the kernel's choice for port 0).
int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) throw std::runtime_error("pg test cluster: socket() failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t n = sizeof a;
  const bool ok = ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &n) == 0;
  ::close(s);
  if (!ok) throw std::runtime_error("pg test cluster: cannot find a free port on 127.0.0.1");
  return ntohs(a.sin_port);
}

// Runs `args` (already quoted) from the cluster folder, as `run_as` when set, appending output to `log`.
int run(const PgClusterInfo& c, const std::string& args, const fs::path& log_file) {
  const std::string runuser = c.run_as.empty() ? "" : find_runuser() + " -u " + c.run_as + " -- ";
  const std::string cmd = "cd " + quote(c.dir) + " && " + runuser + args + " >>" + quote(log_file.string()) + " 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

PGconn* connect_admin(const PgClusterInfo& c, const std::string& db) {
  const std::string port = std::to_string(c.port);
  const char* keys[] = {"host", "port", "dbname", "user", "password", "connect_timeout", nullptr};
  const char* values[] = {"127.0.0.1", port.c_str(), db.c_str(), kPgAdmin, kPgAdminPassword, "10", nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 0);
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string msg = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("pg test cluster: cannot connect as " + std::string(kPgAdmin) + ": " + msg);
  }
  return conn;
}

}  // namespace

nlohmann::json PgClusterInfo::to_json() const {
  return {{"skip_reason", skip_reason}, {"dir", dir}, {"bindir", bindir}, {"run_as", run_as}, {"port", port}};
}

PgClusterInfo PgClusterInfo::from_json(const nlohmann::json& j) {
  PgClusterInfo c;
  c.skip_reason = j.at("skip_reason").get<std::string>();
  c.dir = j.at("dir").get<std::string>();
  c.bindir = j.at("bindir").get<std::string>();
  c.run_as = j.at("run_as").get<std::string>();
  c.port = j.at("port").get<int>();
  return c;
}

PgClusterInfo start_pg_cluster() {
  PgClusterInfo c;
  c.bindir = find_bindir();
  if (c.bindir.empty()) {
    c.skip_reason =
        "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin, SPARSE_PG_BINDIR or PATH: "
        "install the `postgresql` package (scripts/install-deps.sh)";
    return c;
  }
  const bool root = ::geteuid() == 0;
  const passwd* nobody = root ? ::getpwnam("nobody") : nullptr;
  if (root && (nobody == nullptr || find_runuser().empty())) {
    c.skip_reason = "running as root, and PostgreSQL refuses root: needs the user `nobody` and runuser to start a test "
                    "cluster as an unprivileged user";
    return c;
  }
  if (root) c.run_as = "nobody";
  // /tmp itself as root: `nobody` must be able to reach the folder, and TMPDIR may sit in root's home.
  std::string tmpl = ((root ? fs::path("/tmp") : fs::temp_directory_path()) / "sparse-pg-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("pg test cluster: mkdtemp failed for " + tmpl);
  c.dir = tmpl;
  const fs::path dir(c.dir), setup_log = dir / "setup.log";
  std::ofstream(dir / "pwfile") << kPgAdminPassword << "\n";
  if (root && (::chown(c.dir.c_str(), nobody->pw_uid, nobody->pw_gid) != 0 ||
               ::chown((dir / "pwfile").c_str(), nobody->pw_uid, nobody->pw_gid) != 0)) {
    fs::remove_all(dir);
    throw std::runtime_error("pg test cluster: cannot hand " + c.dir + " to nobody");
  }
  auto fail = [&](const std::string& what, const fs::path& detail) {
    const std::string text = "pg test cluster: " + what + "; log:\n" + tail_of(setup_log) + tail_of(detail);
    stop_pg_cluster(c);
    throw std::runtime_error(text);
  };
  if (run(c, quote(c.bindir + "/initdb") + " -D " + quote((dir / "data").string()) + " -U " + kPgAdmin + " --pwfile=" +
                 quote((dir / "pwfile").string()) + " --auth=scram-sha-256 -E UTF8 --locale=C --no-sync",
          setup_log) != 0)
    fail("initdb failed", dir / "none");
  bool started = false;
  for (int attempt = 0; attempt < 3 && !started; ++attempt) {  // another process may take the port meanwhile
    c.port = free_port();
    const std::string options = "-c listen_addresses=127.0.0.1 -c port=" + std::to_string(c.port) +
                                " -c unix_socket_directories=" + c.dir +
                                " -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=60";
    started = run(c, quote(c.bindir + "/pg_ctl") + " -D " + quote((dir / "data").string()) + " -l " +
                         quote((dir / "server.log").string()) + " -w -t 60 -o " + quote(options) + " start",
                  setup_log) == 0;
  }
  if (!started) fail("pg_ctl start failed", dir / "server.log");
  try {
    pg_admin_exec(c, "postgres",
                  std::string("CREATE ROLE ") + kPgUser + " LOGIN CREATEDB PASSWORD '" + kPgPassword + "'");
  } catch (const std::exception& e) {
    fail(e.what(), dir / "server.log");
  }
  return c;
}

void stop_pg_cluster(const PgClusterInfo& c) {
  if (!c.skip_reason.empty() || c.dir.empty()) return;
  const fs::path dir(c.dir);
  std::error_code ec;
  if (fs::exists(dir / "data" / "postmaster.pid", ec))
    run(c, quote(c.bindir + "/pg_ctl") + " -D " + quote((dir / "data").string()) + " -m fast -w -t 60 stop",
        dir / "setup.log");
  fs::remove_all(dir, ec);
}

std::string pg_url(const PgClusterInfo& c, const std::string& db, const std::string& study, const std::string& user,
                   const std::string& password) {
  return "postgresql://" + user + (password.empty() ? "" : ":" + password) + "@127.0.0.1:" + std::to_string(c.port) +
         "/" + db + (study.empty() ? "" : "?study=" + study);
}

void pg_admin_exec(const PgClusterInfo& c, const std::string& db, const std::string& sql) {
  PGconn* conn = connect_admin(c, db);
  PGresult* r = PQexec(conn, sql.c_str());
  const ExecStatusType st = PQresultStatus(r);
  const std::string msg = PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(conn);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    throw std::runtime_error("pg test cluster: '" + sql.substr(0, 80) + "' failed: " + msg);
}

}  // namespace sparse::test
