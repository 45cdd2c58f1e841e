// Store URL parsing and redaction (see store_url.hpp).
#include "host/store/store_url.hpp"

#include <cctype>
#include <vector>

#include "host/core/error.hpp"

namespace sparse::store {

namespace {

constexpr const char* kUrlForm = "expected postgresql://user[:password]@host[:port]/database[?study=NAME]";

size_t scheme_length(const std::string& s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return 0;
  size_t i = 1;
  while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
    ++i;
  return s.compare(i, 3, "://") == 0 ? i : 0;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

bool all_digits(const std::string& s) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace

bool looks_like_url(const std::string& s) { return scheme_length(s) > 0; }

std::string redact_url(const std::string& s) {
  const size_t scheme = scheme_length(s);
  if (scheme == 0) return s;
  std::string out = s;
  const size_t begin = scheme + 3;
  const size_t query = out.find('?', begin);
  const size_t end = query == std::string::npos ? out.size() : query;
  const size_t at = out.rfind('@', end == 0 ? 0 : end - 1);
  if (at != std::string::npos && at >= begin) {
    const size_t colon = out.find(':', begin);
    if (colon != std::string::npos && colon < at) out = out.substr(0, colon + 1) + "***" + out.substr(at);
  }
  // A password given as a query parameter (libpq's form) is hidden as well.
  for (size_t p = out.find("password=", begin); p != std::string::npos; p = out.find("password=", p + 1)) {
    if (p == 0 || (out[p - 1] != '?' && out[p - 1] != '&')) continue;
    const size_t v = p + 9, amp = out.find('&', v);
    out = out.substr(0, v) + "***" + (amp == std::string::npos ? "" : out.substr(amp));
  }
  return out;
}

PgUrl parse_pg_url(const std::string& url) {
  PgUrl u;
  u.label = redact_url(url);
  auto bad = [&](const std::string& what) { SPARSE_FAIL("store URL '" << u.label << "': " << what << "; " << kUrlForm); };
  auto decode = [&](const std::string& s, const char* part) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '%') {
        out += s[i];
        continue;
      }
      const int hi = i + 2 < s.size() ? hex_digit(s[i + 1]) : -1, lo = i + 2 < s.size() ? hex_digit(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) bad(std::string("the ") + part + " has a bad %-escape (write %XX with two hex digits)");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    return out;
  };

  const size_t scheme = scheme_length(url);
  if (scheme == 0) bad("not a URL (no scheme://)");
  const std::string name = lower(url.substr(0, scheme));
  if (name != "postgresql" && name != "postgres")
    bad("unknown scheme '" + name + "://' (this engine speaks postgresql:// and postgres://; a SQLite store is a file path)");
  const std::string rest = url.substr(scheme + 3);
  const size_t q = rest.find('?');
  const std::string head = rest.substr(0, q), query = q == std::string::npos ? "" : rest.substr(q + 1);

  const size_t at = head.rfind('@');
  std::string hostpath = head;
  if (at != std::string::npos) {
    const std::string userinfo = head.substr(0, at);
    hostpath = head.substr(at + 1);
    const size_t colon = userinfo.find(':');
    u.user = decode(userinfo.substr(0, colon), "user name");
    if (colon != std::string::npos) u.password = decode(userinfo.substr(colon + 1), "password");
  }
  const size_t slash = hostpath.find('/');
  const std::string hostport = hostpath.substr(0, slash);
  const std::string path = slash == std::string::npos ? "" : hostpath.substr(slash + 1);
  if (hostport.find(',') != std::string::npos) bad("names several hosts; one host is supported");
  std::string port;
  bool has_port = false;
  if (!hostport.empty() && hostport[0] == '[') {  // [IPv6]:port
    const size_t close = hostport.find(']');
    if (close == std::string::npos) bad("the IPv6 host '" + hostport + "' has no closing ']'");
    u.host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size()) {
      if (hostport[close + 1] != ':') bad("unexpected '" + hostport.substr(close + 1) + "' after the host");
      has_port = true;
      port = hostport.substr(close + 2);
    }
  } else {
    const size_t colon = hostport.find(':');
    u.host = decode(hostport.substr(0, colon), "host");
    if (colon != std::string::npos) {
      has_port = true;
      port = hostport.substr(colon + 1);
    }
  }
  if (u.host.empty()) bad("names no host (write the server's name or address after '@')");
  if (has_port) {
    if (!all_digits(port) || std::stoi(port) < 1 || std::stoi(port) > 65535)
      bad("port '" + port + "' is not a number in 1..65535");
    u.port = std::stoi(port);
  }
  u.database = decode(path, "database name");
  if (u.database.empty()) bad("names no database (add /DATABASE after the host)");
  if (u.database.find('/') != std::string::npos) bad("database name '" + u.database + "' contains '/'");

  for (const std::string& item : split(query, '&')) {
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const std::string key = item.substr(0, eq), value = eq == std::string::npos ? "" : decode(item.substr(eq + 1), key.c_str());
    if (key == "study") {
      bool ok = !value.empty() && value.size() <= 63;
      for (char c : value) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.');
      if (!ok) bad("study '" + value + "' is not 1 to 63 characters of letters, digits, '_', '-' or '.'");
      u.study = value;
    } else if (key == "sslmode") {
      const bool ok = value == "disable" || value == "allow" || value == "prefer" || value == "require" ||
                      value == "verify-ca" || value == "verify-full";
      if (!ok) bad("sslmode '" + value + "' is not disable, allow, prefer, require, verify-ca or verify-full");
      u.sslmode = value;
    } else if (key == "connect_timeout") {
      if (!all_digits(value) || std::stoi(value) < 1 || std::stoi(value) > 3600)
        bad("connect_timeout '" + value + "' is not a number of seconds in 1..3600");
      u.connect_timeout = std::stoi(value);
    } else {
      bad("unknown parameter '" + key + "' (known: study, sslmode, connect_timeout)");
    }
  }
  return u;
}

}  // namespace sparse::store
