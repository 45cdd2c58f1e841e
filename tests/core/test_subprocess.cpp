// run_process: output capture, exit codes, time-outs that kill the child, and missing programs.
#include <gtest/gtest.h>

#include <chrono>

#include "host/core/error.hpp"
#include "host/core/subprocess.hpp"

TEST(Subprocess, CapturesOutputAndExitCode) {
  const auto r = sparse::run_process({"sh", "-c", "echo out; echo err >&2; exit 7"}, 10);
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST(Subprocess, LargeOutputDoesNotDeadlock) {
  const auto r = sparse::run_process({"sh", "-c", "head -c 1000000 /dev/zero; head -c 300000 /dev/zero >&2"}, 20);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.size(), 1000000u);
  EXPECT_EQ(r.err.size(), 300000u);
}

TEST(Subprocess, TimeoutKillsTheWholeGroup) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = sparse::run_process({"sh", "-c", "sleep 30 & sleep 30"}, 0.3);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(s, 5.0);
  EXPECT_EQ(r.exit_code, 128 + 9);
}

TEST(Subprocess, MissingProgram) {
  EXPECT_FALSE(sparse::program_available("sparse-no-such-program"));
  EXPECT_TRUE(sparse::program_available("sh"));
  try {
    sparse::run_process({"sparse-no-such-program"}, 1);
    FAIL();
  } catch (const sparse::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'sparse-no-such-program' not found in PATH"), std::string::npos);
  }
}
