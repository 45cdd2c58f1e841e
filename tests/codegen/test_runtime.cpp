// C runtime kernels: requantization against an independent 128-bit two-step rounding (gemmlowp's: high multiply
// ties toward +inf, then the rounding shift half away from zero), exact ties included; convolutions (regular,
// grouped, depthwise, 1x1, FC, padding, stride) in all three weight encodings against dense reference loops;
// pooling, channel max, add and concat; and the same kernels cross-compiled for every Cortex-M target give
// the host's results bit for bit under QEMU.
#include <gtest/gtest.h>

#include <sstream>

#include "codegen/targets.hpp"
#include "codegen/weight_encoding.hpp"
#include "host/core/philox.hpp"
#include "tests/common/temp_dir.hpp"

extern "C" {
#include "sparse_rt.h"
}

using namespace sparse;
using namespace sparse::codegen;

namespace {

__extension__ typedef __int128 i128;  // exact products for the reference (GCC/Clang extension)

// round-half-away-from-zero of num / 2^bits, on 128 bits.
i128 round_half_away(i128 num, int bits) {
  const i128 d = static_cast<i128>(1) << bits;
  const i128 q = num / d, r = num % d;  // C++ truncates toward zero
  if (2 * (r < 0 ? -r : r) >= d) return q + (num < 0 ? -1 : 1);
  return q;
}

// floor(num / 2^bits + 1/2): round to nearest, ties toward +infinity, on 128 bits.
i128 round_half_up(i128 num, int bits) {
  const i128 d = static_cast<i128>(1) << bits;
  const i128 t = num + d / 2;
  const i128 q = t / d;  // truncates toward zero: step down for negative non-multiples to get the floor
  return (t % d != 0 && t < 0) ? q - 1 : q;
}

// gemmlowp (REFERENCE.md §6): SaturatingRoundingDoublingHighMul rounds a·b / 2^31 to nearest with ties toward
// +infinity (its nudge 1 − 2^30 for a negative product, then truncation: −0.5 -> 0, −1.5 -> −1, 0.5 -> 1);
// RoundingDivideByPOT rounds ties away from zero.
int32_t reference_mbqm(int32_t x, int32_t m, int shift) {
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  const i128 shifted = static_cast<i128>(x) << left;
  i128 high = round_half_up(shifted * m, 31);  // SaturatingRoundingDoublingHighMul
  if (high > INT32_MAX) high = INT32_MAX;
  return static_cast<int32_t>(round_half_away(high, right));  // RoundingDivideByPOT
}

struct ConvCase {
  int h, w, cin, cout, k, stride, pad, groups;
  double density;
};

std::vector<int8_t> random_i8(PhiloxStream& rng, size_t n, double density = 1.0) {
  std::vector<int8_t> v(n, 0);
  for (auto& x : v)
    if (rng.uniform() < density) x = static_cast<int8_t>(static_cast<int>(rng.below(255)) - 127);
  return v;
}

// Dense reference: the same integer definition written as plain nested loops over [Cout, KH, KW, Cin/groups].
std::vector<int8_t> reference_conv(const ConvCase& c, const std::vector<int8_t>& x, int32_t zp_x, const std::vector<int8_t>& w,
                                   const std::vector<int32_t>& bias, const std::vector<int32_t>& mult,
                                   const std::vector<int8_t>& shift, int32_t zp_y, int oh, int ow) {
  const int cpg = c.cin / c.groups, opg = c.cout / c.groups;
  std::vector<int8_t> y(static_cast<size_t>(oh) * ow * c.cout);
  for (int py = 0; py < oh; ++py)
    for (int px = 0; px < ow; ++px)
      for (int o = 0; o < c.cout; ++o) {
        int64_t acc = bias[o];
        for (int ky = 0; ky < c.k; ++ky)
          for (int kx = 0; kx < c.k; ++kx)
            for (int ci = 0; ci < cpg; ++ci) {
              const int iy = py * c.stride - c.pad + ky, ix = px * c.stride - c.pad + kx;
              if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
              const int cin = (o / opg) * cpg + ci;
              acc += static_cast<int64_t>(w[((o * c.k + ky) * c.k + kx) * cpg + ci]) * (x[(iy * c.w + ix) * c.cin + cin] - zp_x);
            }
        int32_t v = reference_mbqm(static_cast<int32_t>(acc), mult[o], shift[o]) + zp_y;
        v = std::clamp(v, 0 - 128, 127);
        y[(py * ow + px) * c.cout + o] = static_cast<int8_t>(v);
      }
  return y;
}

}  // namespace

TEST(Runtime, RequantizationMatchesTwoStepRounding) {
  PhiloxStream rng(5);
  for (int i = 0; i < 200000; ++i) {
    const int32_t x = static_cast<int32_t>(rng.next_u32()) >> static_cast<int>(rng.below(24));
    // m = 2^30 makes a·m / 2^31 = a / 2: every odd a is an exact tie of the high multiply.
    const int32_t m = i % 4 == 0 ? (1 << 30) : static_cast<int32_t>((1u << 30) + rng.below(1u << 30));
    const int shift = static_cast<int>(rng.below(20)) - 15;
    const int32_t safe_x = shift > 0 ? x >> shift : x;  // keep x << shift in range, as real accumulators are
    ASSERT_EQ(sprt_mbqm(safe_x, m, shift), reference_mbqm(safe_x, m, shift)) << safe_x << " " << m << " " << shift;
  }
  EXPECT_EQ(sprt_srdhm(INT32_MIN, INT32_MIN), INT32_MAX);
  // Ties of the high multiply go toward +infinity: 0.5 -> 1, -0.5 -> 0, -1.5 -> -1, 1.5 -> 2.
  EXPECT_EQ(sprt_srdhm(1 << 15, 1 << 15), 1);
  EXPECT_EQ(sprt_srdhm(-(1 << 15), 1 << 15), 0);
  EXPECT_EQ(sprt_srdhm(-3 << 15, 1 << 15), -1);
  EXPECT_EQ(sprt_srdhm(3 << 15, 1 << 15), 2);
  EXPECT_EQ(sprt_srdhm(-(1 << 15) - 1, 1 << 15), -1);  // just below -0.5
  EXPECT_EQ(sprt_rdbpot(5, 1), 3);    // 2.5 -> 3
  EXPECT_EQ(sprt_rdbpot(-5, 1), -3);  // -2.5 -> -3
  EXPECT_EQ(sprt_rdbpot(-3, 2), -1);  // -0.75 -> -1
}

TEST(Runtime, ConvolutionsInEveryEncodingMatchTheReference) {
  const std::vector<ConvCase> cases = {
      {8, 8, 3, 5, 3, 1, 0, 1, 1.0},  {9, 7, 4, 6, 3, 2, 1, 1, 0.3},  {6, 6, 8, 8, 3, 1, 1, 8, 0.5},  // depthwise
      {5, 5, 6, 4, 1, 1, 0, 1, 0.2},  {1, 1, 300, 10, 1, 1, 0, 1, 0.05},                             // 1x1, FC
      {10, 10, 4, 8, 5, 1, 2, 2, 0.1}, {7, 7, 2, 3, 2, 2, 0, 1, 0.0},                                 // grouped, empty
  };
  PhiloxStream rng(17);
  for (const ConvCase& c : cases) {
    const int oh = (c.h + 2 * c.pad - c.k) / c.stride + 1, ow = (c.w + 2 * c.pad - c.k) / c.stride + 1;
    const int cols = c.k * c.k * (c.cin / c.groups);
    const auto x = random_i8(rng, static_cast<size_t>(c.h) * c.w * c.cin);
    const auto w = random_i8(rng, static_cast<size_t>(c.cout) * cols, c.density);
    std::vector<int32_t> bias(c.cout), mult(c.cout);
    std::vector<int8_t> shift(c.cout);
    for (int o = 0; o < c.cout; ++o) {
      bias[o] = static_cast<int32_t>(rng.below(2001)) - 1000;
      mult[o] = static_cast<int32_t>((1u << 30) + rng.below(1u << 30));
      shift[o] = static_cast<int8_t>(-static_cast<int>(rng.below(10)) - 6);
    }
    const int32_t zp_x = -3, zp_y = 5;
    const auto expect = reference_conv(c, x, zp_x, w, bias, mult, shift, zp_y, oh, ow);
    for (auto e : {WeightEncoding::Dense, WeightEncoding::Bitmask, WeightEncoding::RelativeIndex}) {
      const auto enc = encode_weights(e, w.data(), c.cout, cols);
      const sprt_weights sw{static_cast<uint8_t>(e), enc.bytes.data()};
      std::vector<int8_t> y(expect.size(), 0x55);
      sprt_conv2d(x.data(), {c.h, c.w, c.cin, zp_x}, &sw, bias.data(), mult.data(), shift.data(), c.cout, c.k, c.k, c.stride,
                  c.pad, c.pad, c.groups, oh, ow, zp_y, -128, 127, y.data());
      EXPECT_EQ(y, expect) << to_string(e) << " case " << c.h << "x" << c.w << "x" << c.cin << " k" << c.k;
    }
  }
}

TEST(Runtime, PoolingChannelMaxAddConcat) {
  const int8_t x[2 * 3 * 2] = {1, -5, 7, 2, -8, 9, 4, 4, -1, 0, 3, -128};
  int8_t y[2];
  sprt_max_pool(x, {2, 3, 2, 0}, 2, 2, 1, 1, y);
  EXPECT_EQ(y[0], 7);
  EXPECT_EQ(y[1], 4);
  int8_t cm[6];
  sprt_channel_max(x, {2, 3, 2, 0}, cm);
  EXPECT_EQ(std::vector<int8_t>(cm, cm + 6), (std::vector<int8_t>{1, 7, 9, 4, 0, 3}));
  // add: equal scales, multipliers 0.5 (Q31 2^30 with shift 0) on inputs, 2^-20 * 2 on the output.
  const int8_t a[3] = {10, -20, 100}, b[3] = {5, 5, 100};
  int8_t s[3];
  sprt_add(a, 0, 1 << 30, 0, b, 0, 1 << 30, 0, 3, 0, 1 << 30, -18, -128, 127, s);
  EXPECT_EQ(std::vector<int8_t>(s, s + 3), (std::vector<int8_t>{15, -15, 127}));
  int8_t cat[2 * 3] = {0};
  const int8_t p1[2] = {1, 2}, p2[4] = {3, 4, 5, 6};
  sprt_concat_channels(p1, 2, 1, 0, 1, 0, 0, 3, 0, 0, cat);
  sprt_concat_channels(p2, 2, 2, 0, 1, 0, 0, 3, 1, 0, cat);
  EXPECT_EQ(std::vector<int8_t>(cat, cat + 6), (std::vector<int8_t>{1, 3, 4, 2, 5, 6}));
}

// A harness with fixed conv cases in all encodings: prints an FNV-1a hash of every output. The Cortex-M builds
// must print exactly what the host build prints.
TEST(Runtime, CortexMTargetsMatchTheHostBitForBit) {
  PhiloxStream rng(3);
  std::ostringstream c;
  c << "#include <stdint.h>\n#include \"sparse_rt.h\"\n";
  c << "#ifdef SPARSE_ON_MCU\n#include \"harness_io.h\"\n#else\n#include <stdio.h>\n"
       "static void semihost_write0(const char* s) { fputs(s, stdout); }\n"
       "static void semihost_write_u32(uint32_t v) { printf(\"%lu\", (unsigned long)v); }\n#endif\n";
  const ConvCase cases[3] = {{8, 8, 3, 4, 3, 1, 1, 1, 0.4}, {6, 6, 4, 4, 3, 2, 0, 4, 0.7}, {1, 1, 64, 10, 1, 1, 0, 1, 0.1}};
  int idx = 0;
  for (const ConvCase& cc : cases) {
    const int cols = cc.k * cc.k * (cc.cin / cc.groups);
    const auto x = random_i8(rng, static_cast<size_t>(cc.h) * cc.w * cc.cin);
    const auto w = random_i8(rng, static_cast<size_t>(cc.cout) * cols, cc.density);
    // Inputs in RAM; weights, biases and requantization parameters in flash, as generated code has them.
    auto arr = [&](const std::string& type, const std::string& name, auto values) {
      const bool flash = name[0] != 'x';
      c << "static " << (flash ? "const " : "") << type << " " << name << "[]" << (flash ? " SPRT_FLASH" : "") << " = {";
      for (auto v : values) c << static_cast<long long>(v) << ",";
      c << "};\n";
    };
    arr("int8_t", "x" + std::to_string(idx), x);
    std::vector<int32_t> bias(cc.cout), mult(cc.cout);
    std::vector<int8_t> shift(cc.cout, -8);
    for (int o = 0; o < cc.cout; ++o) bias[o] = o * 37 - 50, mult[o] = static_cast<int32_t>(1200000000 + o * 1000);
    arr("int32_t", "b" + std::to_string(idx), bias);
    arr("int32_t", "m" + std::to_string(idx), mult);
    arr("int8_t", "s" + std::to_string(idx), shift);
    for (int e = 0; e < 3; ++e)
      arr("uint8_t", "w" + std::to_string(idx) + "_" + std::to_string(e),
          encode_weights(static_cast<WeightEncoding>(e), w.data(), cc.cout, cols).bytes);
    ++idx;
  }
  c << "static int8_t out[512];\nstatic uint32_t fnv(const int8_t* p, int n) { uint32_t h = 2166136261u; int i;"
       " for (i = 0; i < n; ++i) { h ^= (uint8_t)p[i]; h *= 16777619u; } return h; }\n";
  c << "int main(void) {\n  int e;\n  for (e = 0; e < 3; ++e) {\n";
  idx = 0;
  for (const ConvCase& cc : cases) {
    const int oh = (cc.h + 2 * cc.pad - cc.k) / cc.stride + 1, ow = (cc.w + 2 * cc.pad - cc.k) / cc.stride + 1;
    const std::string i = std::to_string(idx);
    c << "    { const uint8_t* enc[3] = {w" << i << "_0, w" << i << "_1, w" << i << "_2};\n"
      << "      sprt_weights w; sprt_shape in; w.encoding = (uint8_t)e; w.data = enc[e];\n"
      << "      in.h = " << cc.h << "; in.w = " << cc.w << "; in.c = " << cc.cin << "; in.zero_point = -2;\n"
      << "      sprt_conv2d(x" << i << ", in, &w, b" << i << ", m" << i << ", s" << i << ", " << cc.cout << ", " << cc.k << ", "
      << cc.k << ", " << cc.stride << ", " << cc.pad << ", " << cc.pad << ", " << cc.groups << ", " << oh << ", " << ow
      << ", 3, -128, 127, out);\n"
      << "      semihost_write_u32(fnv(out, " << oh * ow * cc.cout << ")); semihost_write0(\" \"); }\n";
    ++idx;
  }
  c << "  }\n  semihost_write0(\"\\n\");\n  return 0;\n}\n";
  test::TempDir d;
  test::write_text(d / "harness.c", c.str());
  const std::filesystem::path rt = SPARSE_CODEGEN_RUNTIME_DIR;
  std::string host_out;
  for (const Target& t : targets()) {
    std::string missing;
    if (!target_available(t, &missing)) {
      ADD_FAILURE() << "target " << t.name << " needs '" << missing << "' (scripts/install-deps.sh installs it)";
      continue;
    }
    BuildOptions o;
    o.sources = {d / "harness.c", rt / "sparse_rt.c"};
    o.include_dirs = {rt};
    o.output = d / ("harness-" + t.name);
    o.extra_flags = {"-O2"};
    if (t.name != "host") o.extra_flags.push_back("-DSPARSE_ON_MCU");
    build(t, o);
    const auto r = run(t, o.output, 60);
    ASSERT_EQ(r.exit_code, 0) << t.name << ": " << r.err;
    if (t.name == "host") {
      host_out = r.out;
      EXPECT_EQ(std::count(host_out.begin(), host_out.end(), ' '), 9);
    } else {
      EXPECT_EQ(r.out, host_out) << t.name;
    }
  }
}
