// libpq RAII wrappers (see pg_db.hpp).
#include "host/store/pg_db.hpp"

#include <charconv>

#include "host/core/error.hpp"

namespace sparse::store {

namespace {

constexpr Oid kByteaOid = 17;  // pg_type.oid of bytea (catalog/pg_type_d.h is a server header)

bool contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

// libpq's multi-line messages on one line ("line one; line two"), without the trailing newline.
std::string one_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n') {
      out += "; ";
      while (i + 1 < s.size() && (s[i + 1] == '\t' || s[i + 1] == ' ')) ++i;
    } else {
      out += s[i] == '\t' ? ' ' : s[i];
    }
  }
  return out;
}

// The start of a statement for a message: whitespace collapsed, at most 60 characters.
std::string sql_head(const std::string& sql) {
  std::string out;
  for (char c : sql) {
    if (c == '\n' || c == ' ' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
    if (out.size() >= 60) break;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

PgParams& PgParams::add(int64_t v) { return add(std::to_string(v)); }

PgParams& PgParams::add(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back as the same double
  return add(std::string(buf, r.ptr));
}

PgParams& PgParams::add(const std::string& v) {
  values_.push_back(v);
  null_.push_back(0);
  formats_.push_back(0);
  types_.push_back(0);
  return *this;
}

PgParams& PgParams::add_bytes(const std::vector<uint8_t>& v) {
  values_.emplace_back(v.begin(), v.end());
  null_.push_back(0);
  formats_.push_back(1);
  types_.push_back(kByteaOid);
  return *this;
}

PgParams& PgParams::add_null() {
  values_.emplace_back();
  null_.push_back(1);
  formats_.push_back(0);
  types_.push_back(0);
  return *this;
}

std::string PgResult::text(int row, int col) const {
  return std::string(PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col)));
}

std::vector<uint8_t> PgResult::bytes(int row, int col) const {
  const auto* p = reinterpret_cast<const uint8_t*>(PQgetvalue(r_.get(), row, col));
  return std::vector<uint8_t>(p, p + PQgetlength(r_.get(), row, col));
}

int64_t PgResult::int64(int row, int col) const {
  const std::string v = text(row, col);
  int64_t out = 0;
  const auto r = std::from_chars(v.data(), v.data() + v.size(), out);
  SPARSE_CHECK(r.ec == std::errc() && r.ptr == v.data() + v.size(),
               label_ << ": column '" << PQfname(r_.get(), col) << "' holds '" << v.substr(0, 40)
                      << "', expected an integer");
  return out;
}

double PgResult::real(int row, int col) const {
  const std::string v = text(row, col);
  double out = 0;
  const auto r = std::from_chars(v.data(), v.data() + v.size(), out);
  SPARSE_CHECK(r.ec == std::errc() && r.ptr == v.data() + v.size(),
               label_ << ": column '" << PQfname(r_.get(), col) << "' holds '" << v.substr(0, 40)
                      << "', expected a number");
  return out;
}

int64_t PgResult::affected() const {
  const char* n = PQcmdTuples(r_.get());
  return n && *n ? std::stoll(n) : 0;
}

PgConnection::PgConnection(const PgUrl& u) : url_(u) {
  const std::string port = std::to_string(url_.port), timeout = std::to_string(url_.connect_timeout);
  std::vector<const char*> keys, values;
  auto kv = [&](const char* k, const std::string& v) {
    if (v.empty()) return;
    keys.push_back(k);
    values.push_back(v.c_str());
  };
  static const std::string app = "sparse", encoding = "UTF8";
  kv("host", url_.host);
  kv("port", port);
  kv("dbname", url_.database);
  kv("user", url_.user);
  kv("password", url_.password);
  kv("connect_timeout", timeout);
  kv("sslmode", url_.sslmode);
  kv("application_name", app);
  kv("client_encoding", encoding);
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = PQconnectdbParams(keys.data(), values.data(), 0);
  SPARSE_CHECK(conn_ != nullptr, who() << ": libpq could not allocate a connection");
  if (PQstatus(conn_) != CONNECTION_OK) {
    const std::string raw = one_line(PQerrorMessage(conn_));
    const std::string user = PQuser(conn_) ? PQuser(conn_) : url_.user;
    const bool needs_password = PQconnectionNeedsPassword(conn_) != 0;
    PQfinish(conn_);
    conn_ = nullptr;
    const std::string at = " at " + url_.server();
    if (needs_password)
      SPARSE_FAIL(who() << ": the PostgreSQL server" << at << " asks user '" << user
                        << "' for a password and none was given (put it in the URL as user:password@host, in "
                           "PGPASSWORD or in ~/.pgpass)");
    if (contains(raw, "authentication failed") || (contains(raw, "role \"") && contains(raw, "does not exist")))
      SPARSE_FAIL(who() << ": authentication failed for user '" << user << "' on the PostgreSQL server" << at
                        << " (wrong password or unknown user; the server says: " << raw << ")");
    if (contains(raw, "database \"") && contains(raw, "does not exist"))
      SPARSE_FAIL(who() << ": database '" << url_.database << "' does not exist on the PostgreSQL server" << at
                        << " (create it first, e.g. createdb -h " << url_.host << " -p " << url_.port
                        << (user.empty() ? "" : " -U " + user) << " " << url_.database << ")");
    if (!contains(raw, "FATAL"))  // libpq's own words: the server never answered
      SPARSE_FAIL(who() << ": cannot reach the PostgreSQL server" << at << " (" << raw << ")");
    SPARSE_FAIL(who() << ": the PostgreSQL server" << at << " refused the connection: " << raw);
  }
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);  // "already exists, skipping" is not news
}

PgConnection::~PgConnection() { PQfinish(conn_); }

void PgConnection::reconnect_if_lost() {
  if (PQstatus(conn_) != CONNECTION_BAD) return;
  SPARSE_CHECK(!in_transaction_, who() << ": lost the connection to the server at " << url_.server()
                                       << " inside a transaction (it was rolled back)");
  PQreset(conn_);
  SPARSE_CHECK(PQstatus(conn_) == CONNECTION_OK, who() << ": lost the connection to the server at " << url_.server()
                                                       << " and cannot reconnect: " << one_line(PQerrorMessage(conn_)));
}

void PgConnection::fail_query(const std::string& sql, const PGresult* r) const {
  const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const char* detail = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : nullptr;
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = primary ? primary : one_line(PQerrorMessage(conn_));
  if (detail) msg += std::string(" (") + detail + ")";
  if (PQstatus(conn_) == CONNECTION_BAD)
    SPARSE_FAIL(who() << ": lost the connection to the server at " << url_.server() << " during '" << sql_head(sql)
                      << "': " << msg);
  SPARSE_FAIL(who() << ": '" << sql_head(sql) << "' failed: " << msg << (state ? std::string(" [SQLSTATE ") + state + "]" : ""));
}

PgResult PgConnection::exec(const std::string& sql, const PgParams& p, bool binary_result) {
  reconnect_if_lost();
  const int n = static_cast<int>(p.size());
  std::vector<const char*> values(p.size());
  std::vector<int> lengths(p.size());
  for (size_t i = 0; i < p.size(); ++i) {
    values[i] = p.null_[i] ? nullptr : p.values_[i].data();
    lengths[i] = static_cast<int>(p.values_[i].size());
  }
  PGresult* r = PQexecParams(conn_, sql.c_str(), n, p.types_.data(), values.data(), lengths.data(), p.formats_.data(),
                             binary_result ? 1 : 0);
  PgResult res(r, who());
  const ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail_query(sql, r);
  return res;
}

void PgConnection::exec_script(const std::string& sql) {
  reconnect_if_lost();
  PgResult res(PQexec(conn_, sql.c_str()), who());
  // PQexec returns the last statement's result; an earlier failure stops the script and is that result.
  const ExecStatusType st = PQresultStatus(res.raw());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail_query(sql, res.raw());
}

PgTransaction::PgTransaction(PgConnection& c) : c_(c) {
  c_.exec("BEGIN");
  c_.in_transaction_ = true;
}

void PgTransaction::commit() {
  c_.exec("COMMIT");
  c_.in_transaction_ = false;
  done_ = true;
}

PgTransaction::~PgTransaction() {
  if (done_) return;
  c_.in_transaction_ = false;
  if (PQstatus(c_.handle()) == CONNECTION_OK) PQclear(PQexec(c_.handle(), "ROLLBACK"));
}

std::string valid_utf8(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size() && c != 0;
    for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    if (ok && n == 2) ok = c >= 0xc2;  // no overlong forms
    if (ok && n == 3) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);  // no overlong forms, no surrogates
    }
    if (ok && n == 4) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = c <= 0xf4 && !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
    }
    if (ok) {
      out.append(s, i, n);
      i += n;
    } else {
      out += "\xef\xbf\xbd";  // U+FFFD; a NUL byte, which PostgreSQL text cannot hold, too
      ++i;
    }
  }
  return out;
}

}  // namespace sparse::store
