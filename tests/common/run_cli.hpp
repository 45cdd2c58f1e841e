// run_cli(): run the built `sparse` binary with arguments, capturing stdout, stderr and the exit code.
#pragma once
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/common/temp_dir.hpp"

namespace sparse::test {

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `args` is appended to the binary path as-is (quote paths with spaces yourself).
inline CliResult run_cli(const std::string& args) {
  TempDir tmp;
  const std::string cmd = std::string(SPARSE_BINARY) + " " + args + " >" + (tmp / "out").string() + " 2>" +
                          (tmp / "err").string() + " </dev/null";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(tmp / "out");
  r.err = slurp(tmp / "err");
  return r;
}

}  // namespace sparse::test
