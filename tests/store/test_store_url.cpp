// Store URLs without a server: each malformed URL names what is wrong, passwords are redacted everywhere (also in
// malformed URLs), open_store() routes paths to SQLite and refuses unknown schemes, and a closed port is reported as
// an unreachable server naming host:port.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/core/error.hpp"
#include "host/store/open_store.hpp"
#include "host/store/store_url.hpp"
#include "tests/common/error_of.hpp"
#include "tests/common/temp_dir.hpp"

using namespace sparse::store;
using sparse::test::error_of;

namespace {

std::string parse_error(const std::string& url) {
  return error_of([&] { parse_pg_url(url); });
}

// A port of 127.0.0.1 nothing listens on (bound, then released).
int closed_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t n = sizeof a;
  EXPECT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(::getsockname(s, reinterpret_cast<sockaddr*>(&a), &n), 0);
  ::close(s);
  return ntohs(a.sin_port);
}

}  // namespace

TEST(StoreUrl, ParsesEveryPart) {
  const PgUrl u = parse_pg_url("postgresql://ann:p%40ss@db.example.org:6543/trials?study=fmnist-2kb&connect_timeout=5");
  EXPECT_EQ(u.user, "ann");
  EXPECT_EQ(u.password, "p@ss");
  EXPECT_EQ(u.host, "db.example.org");
  EXPECT_EQ(u.port, 6543);
  EXPECT_EQ(u.database, "trials");
  EXPECT_EQ(u.study, "fmnist-2kb");
  EXPECT_EQ(u.connect_timeout, 5);
  EXPECT_EQ(u.label, "postgresql://ann:***@db.example.org:6543/trials?study=fmnist-2kb&connect_timeout=5");
  EXPECT_EQ(u.server(), "db.example.org:6543");
  const PgUrl d = parse_pg_url("postgres://bob@[::1]/db");
  EXPECT_EQ(d.host, "::1");
  EXPECT_EQ(d.port, 5432);
  EXPECT_EQ(d.study, "default");
  EXPECT_EQ(d.password, "");
  const PgUrl at = parse_pg_url("postgresql://carl:a@b/c@h/db");  // an unescaped '@' or '/' in the password
  EXPECT_EQ(at.password, "a@b/c");
  EXPECT_EQ(at.host, "h");
  EXPECT_EQ(at.label, "postgresql://carl:***@h/db");
}

TEST(StoreUrl, EachMalformedUrlNamesItsProblem) {
  struct Case {
    const char* url;
    const char* says;
  };
  for (const Case& c : {Case{"postgresql://ann:pw@/db", "names no host"},
                        Case{"postgresql://ann:pw@:5432/db", "names no host"},
                        Case{"postgresql://ann:pw@h:54x2/db", "port '54x2' is not a number in 1..65535"},
                        Case{"postgresql://ann:pw@h:70000/db", "port '70000' is not a number in 1..65535"},
                        Case{"postgresql://ann:pw@h:/db", "port '' is not a number"},
                        Case{"mysql://ann:pw@h/db", "unknown scheme 'mysql://'"},
                        Case{"postgresql://ann:pw@h", "names no database"},
                        Case{"postgresql://ann:pw@h:5432/", "names no database"},
                        Case{"postgresql://ann:pw@h/db?study=a/b", "study 'a/b' is not 1 to 63 characters"},
                        Case{"postgresql://ann:pw@h/db?study=", "study '' is not"},
                        Case{"postgresql://ann:pw@h/db?sslmode=maybe", "sslmode 'maybe'"},
                        Case{"postgresql://ann:pw@h/db?color=red", "unknown parameter 'color'"},
                        Case{"postgresql://ann:pw@h1,h2/db", "names several hosts"},
                        Case{"postgresql://ann:p%4@h/db", "the password has a bad %-escape"}}) {
    const std::string e = parse_error(c.url);
    EXPECT_NE(e.find(c.says), std::string::npos) << c.url << " -> " << e;
    EXPECT_NE(e.find("expected postgresql://user[:password]@host[:port]/database"), std::string::npos) << e;
    EXPECT_EQ(e.find(":pw@"), std::string::npos) << "password shown: " << e;
  }
}

TEST(StoreUrl, PasswordsAreRedactedAndPathsLeftAlone) {
  EXPECT_EQ(redact_url("postgresql://u:secret@h/db"), "postgresql://u:***@h/db");
  EXPECT_EQ(redact_url("postgresql://u@h/db?study=x"), "postgresql://u@h/db?study=x");
  EXPECT_EQ(redact_url("postgresql://u:secret@"), "postgresql://u:***@");
  EXPECT_EQ(redact_url("postgresql://h/db?password=secret&study=x"), "postgresql://h/db?password=***&study=x");
  EXPECT_EQ(redact_url("runs/a:b@c.db"), "runs/a:b@c.db");
  EXPECT_EQ(store_label("runs/fmnist.db"), "runs/fmnist.db");
  EXPECT_EQ(store_label("postgres://u:pw@h:1/d"), "postgres://u:***@h:1/d");
  EXPECT_TRUE(is_store_url("postgresql://h/db"));
  EXPECT_TRUE(is_store_url("mysql://h/db"));  // a URL, refused by open_store
  EXPECT_FALSE(is_store_url("runs/fmnist.db"));
  EXPECT_FALSE(is_store_url("C:/runs/a.db"));
  EXPECT_FALSE(is_store_url("/tmp/x://y.db"));
}

TEST(StoreUrl, OpenStoreRoutesPathsAndRefusesUnknownSchemes) {
  sparse::test::TempDir d;
  const std::string path = (d / "a.db").string();
  EXPECT_NE(error_of([&] { open_store(path, false); }).find("does not exist"), std::string::npos);
  { open_store(path, true); }
  EXPECT_TRUE(open_store(path, false)->list_searches().empty());
  const std::string e = error_of([&] { open_store("mysql://u:pw@h/db", true); });
  EXPECT_NE(e.find("store URL 'mysql://u:***@h/db': unknown scheme 'mysql://'"), std::string::npos) << e;
}

TEST(StoreUrl, AClosedPortIsAnUnreachableServerNamingHostAndPort) {
  const int port = closed_port();
  const std::string url = "postgresql://ann:pw@127.0.0.1:" + std::to_string(port) + "/db?study=x";
  const std::string e = error_of([&] { open_store(url, true); });
  EXPECT_NE(e.find("cannot reach the PostgreSQL server at 127.0.0.1:" + std::to_string(port)), std::string::npos) << e;
  EXPECT_NE(e.find("store 'postgresql://ann:***@127.0.0.1:"), std::string::npos) << e;
  EXPECT_EQ(e.find(":pw@"), std::string::npos) << e;
}
