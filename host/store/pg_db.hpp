// Thin RAII over libpq: a connection, results, parameterized queries (text parameters, binary bytea), transactions.
// Invariants: every error is a sparse::Error naming the store by its redacted URL (never the password); a failed
// connection says which of four things went wrong: the server cannot be reached (host:port named), authentication
// failed (user named), the database does not exist, or anything else with the server's words. One connection is
// used by one thread at a time (PgStore holds a mutex around it).
#pragma once
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/store/store_url.hpp"

namespace sparse::store {

// Query parameters $1, $2, ... in order; numbers are sent as text, bytes as binary bytea.
class PgParams {
 public:
  PgParams& add(int64_t v);
  PgParams& add(int v) { return add(static_cast<int64_t>(v)); }
  PgParams& add(double v);
  PgParams& add(const std::string& v);
  PgParams& add(const char* v) { return add(std::string(v)); }
  PgParams& add_bytes(const std::vector<uint8_t>& v);
  PgParams& add_null();
  template <class T>
  PgParams& add(const std::optional<T>& v) {
    return v ? add(*v) : add_null();
  }
  size_t size() const { return values_.size(); }

 private:
  friend class PgConnection;
  std::vector<std::string> values_;
  std::vector<char> null_;
  std::vector<int> formats_;
  std::vector<Oid> types_;  // 0 lets the server infer the type
};

// One result. Values are read as text (numbers parsed exactly) or, for a binary result, as raw bytes.
class PgResult {
 public:
  PgResult(PGresult* r, std::string label) : r_(r, &PQclear), label_(std::move(label)) {}
  int rows() const { return PQntuples(r_.get()); }
  bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string text(int row, int col) const;
  std::vector<uint8_t> bytes(int row, int col) const;
  int64_t int64(int row, int col) const;  // throws naming the column when the value is not an integer
  double real(int row, int col) const;
  std::optional<int64_t> opt_int64(int row, int col) const {
    return is_null(row, col) ? std::nullopt : std::optional<int64_t>(int64(row, col));
  }
  std::optional<double> opt_real(int row, int col) const {
    return is_null(row, col) ? std::nullopt : std::optional<double>(real(row, col));
  }
  int64_t affected() const;  // rows an INSERT, UPDATE or DELETE touched
  const PGresult* raw() const { return r_.get(); }

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
  std::string label_;
};

class PgConnection {
 public:
  explicit PgConnection(const PgUrl& url);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // One statement with parameters; `binary_result` returns every column in binary format (bytea as raw bytes,
  // text as its characters; cast numbers to text in the query).
  PgResult exec(const std::string& sql, const PgParams& params = {}, bool binary_result = false);
  // Several statements without parameters (schema creation).
  void exec_script(const std::string& sql);
  // The store as messages name it: "store 'postgresql://user:***@host:port/db?study=s'".
  std::string who() const { return "store '" + url_.label + "'"; }
  const PgUrl& url() const { return url_; }
  PGconn* handle() { return conn_; }

 private:
  void reconnect_if_lost();
  [[noreturn]] void fail_query(const std::string& sql, const PGresult* r) const;

  friend class PgTransaction;
  PGconn* conn_ = nullptr;
  PgUrl url_;
  bool in_transaction_ = false;  // a lost connection is re-opened only between transactions, never inside one
};

// BEGIN ... COMMIT, rolled back when the scope exits by an exception.
class PgTransaction {
 public:
  explicit PgTransaction(PgConnection& c);
  ~PgTransaction();
  PgTransaction(const PgTransaction&) = delete;
  PgTransaction& operator=(const PgTransaction&) = delete;
  void commit();

 private:
  PgConnection& c_;
  bool done_ = false;
};

// `s` with every byte sequence that is not UTF-8 replaced by U+FFFD: PostgreSQL refuses invalid text, and an error
// message (a file name, a library's words) must still reach the store.
std::string valid_utf8(const std::string& s);

}  // namespace sparse::store
