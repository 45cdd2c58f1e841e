// Every target builds a C99 program with -Werror -pedantic and runs it (QEMU for Cortex-M): .data and .bss
// set up, integer division (libgcc on M0), float math (FPU enabled at reset on M4/M7/M33), stack high-water
// mark, semihosting output and the exit code all check out.
#include <gtest/gtest.h>

#include "codegen/targets.hpp"
#include "host/core/error.hpp"
#include "tests/common/temp_dir.hpp"

using namespace sparse;

namespace {

const char* kProgram = R"C(
#include <stdint.h>
#include <string.h>
#ifdef SPARSE_ON_MCU
#include "harness_io.h"
uint32_t sparse_stack_unused_bytes(void);
uint32_t sparse_stack_size_bytes(void);
#else
#include <stdio.h>
static void semihost_write0(const char* s) { fputs(s, stdout); }
static void semihost_write_i32(int32_t v) { printf("%ld", (long)v); }
#endif
static volatile int32_t divisor = 7;
static volatile int32_t zeros[16];
/* Each frame's array is handed to an opaque asm and read after the call, so every level really holds 128 bytes
   of stack (no tail-call or accumulator rewrite). */
#ifndef PAD_WORDS
#define PAD_WORDS 32
#endif
static int32_t deep(int32_t n) {
  volatile int32_t pad[PAD_WORDS];
  pad[n % PAD_WORDS] = n;
  __asm volatile("" : : "r"(pad) : "memory");
  if (n == 0) return 0;
  const int32_t below = deep(n - 1);
  return pad[n % PAD_WORDS] + below;
}
int main(void) {
  int32_t acc = 0;
  volatile float f = 1.5f;
  char buf[8];
  for (int32_t i = 1; i <= 100; ++i) acc += i * 12345 / divisor;
  memset(buf, 'x', sizeof buf);
  semihost_write0("sum=");
  semihost_write_i32(acc + zeros[3] + (buf[5] == 'x'));
  semihost_write0(" float=");
  semihost_write_i32((int32_t)(f * f * 1000.0f));
  semihost_write0(" deep=");
  semihost_write_i32(deep(20));
#ifdef SPARSE_ON_MCU
  semihost_write0(" stack_used=");
  semihost_write_i32((int32_t)(sparse_stack_size_bytes() - sparse_stack_unused_bytes()));
#endif
  semihost_write0("\n");
  return 42;
}
)C";

class TargetRun : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(TargetRun, BuildsRunsAndReports) {
  const codegen::Target& t = codegen::find_target(GetParam());
  std::string missing;
  if (!codegen::target_available(t, &missing))
    GTEST_SKIP() << "target " << t.name << " needs '" << missing << "' (scripts/install-deps.sh installs it)";
  test::TempDir d;
  test::write_text(d / "prog.c", kProgram);
  codegen::BuildOptions o;
  o.sources = {d / "prog.c"};
  o.output = d / "prog.elf";
  o.extra_flags = {"-Os"};
  if (t.name != "host") o.extra_flags.push_back("-DSPARSE_ON_MCU");
  const int pad_words = t.name == "avr" ? 4 : 32;  // the ATmega328P has 2 KB of RAM in all
  o.extra_flags.push_back("-DPAD_WORDS=" + std::to_string(pad_words));
  codegen::build(t, o);
  const ProcessResult r = codegen::run(t, o.output, 30);
  ASSERT_FALSE(r.timed_out) << r.err;
  EXPECT_EQ(r.exit_code, 42) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("sum=8905994 float=2250 deep=210", 0), 0u) << r.out;
  if (t.name != "host") {
    const auto pos = r.out.find("stack_used=");
    ASSERT_NE(pos, std::string::npos);
    const int used = std::stoi(r.out.substr(pos + 11));
    EXPECT_GT(used, 20 * pad_words * 4) << "deep(20) alone puts 20 frames of its array on the stack";
    EXPECT_LT(used, t.name == "avr" ? 2048 : 8192);
    const auto sizes = codegen::elf_sizes(t, o.output);
    EXPECT_GT(sizes.text, 100);
    EXPECT_LT(sizes.text, 16384);
    EXPECT_GE(sizes.bss, 16 * 4);
  }
}

INSTANTIATE_TEST_SUITE_P(AllTargets, TargetRun,
                         ::testing::Values("host", "cortex-m0", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "avr"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(Targets, BuildErrorsCarryTheCompilerMessage) {
  const codegen::Target& host = codegen::find_target("host");
  test::TempDir d;
  test::write_text(d / "bad.c", "int main(void) { return undeclared; }\n");
  codegen::BuildOptions o;
  o.sources = {d / "bad.c"};
  o.output = d / "bad";
  try {
    codegen::build(host, o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("build for target host failed"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("undeclared"), std::string::npos);
  }
  EXPECT_THROW(codegen::find_target("cortex-m99"), Error);
  EXPECT_EQ(codegen::find_target("m4").name, "cortex-m4");
}

TEST(Targets, EmulatorRunsAreTimeLimited) {
  const codegen::Target& t = codegen::find_target("cortex-m3");
  std::string missing;
  if (!codegen::target_available(t, &missing)) GTEST_SKIP() << "needs '" << missing << "'";
  test::TempDir d;
  test::write_text(d / "spin.c", "int main(void) { for (;;) { __asm volatile(\"nop\"); } }\n");
  codegen::BuildOptions o;
  o.sources = {d / "spin.c"};
  o.output = d / "spin.elf";
  codegen::build(t, o);
  const ProcessResult r = codegen::run(t, o.output, 1.0);
  EXPECT_TRUE(r.timed_out);
}
