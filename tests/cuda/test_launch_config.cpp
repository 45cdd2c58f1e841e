// cuda/launch_config: the grid and block of every kernel a training step launches, at the bench shapes
// (bench/networks/lenet5.json and tiny.json, batch 64, 128 and 256: what bench_step and bench/gpu/run.sh time),
// on an H100's 132 SMs. Runs on the CPU: a recording backend (host memory, ops only recorded) runs real training
// steps of host/nn's Network (SpVD and BC variational, deterministic pretraining, evaluation, pruning) and every op
// call's plan is checked:
//  - blocks of 32..256 threads, a multiple of 32 (the kernels' __launch_bounds__(256));
//  - a parallel or pass-1 launch has >= 4 blocks per SM whenever its decomposition has that many blocks of work
//    (grid >= min(4·132, max_blocks)); the headline cases of issue 15 (LeNet-5 conv1's filter and bias gradients
//    at batch 256, the KL forwards, the softmax) have their stated grids;
//  - a combine launch (pass 2) follows a pass 1 of the same op.
// Also: the building blocks' formulas, and that every `<<<` of cuda/ and gp/cuda/ is the one in launch().
// SPARSE_LAUNCH_TABLE=FILE writes the batch-256 table of cuda/README.md (kernel, op, shape, grid, block).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cuda/launch_config.hpp"
#include "host/core/backend.hpp"
#include "host/core/philox.hpp"
#include "host/cpu/cpu_backend.hpp"
#include "host/nn/network.hpp"
#include "host/space/config.hpp"

namespace sparse::cuda {
namespace {

constexpr int kSms = kH100Sms;
constexpr int64_t kFill = int64_t(kFillBlocksPerSm) * kSms;

std::string dims(const Dim3& d) {
  std::ostringstream os;
  os << d.x;
  if (d.y > 1 || d.z > 1) os << "×" << d.y;
  if (d.z > 1) os << "×" << d.z;
  return os.str();
}

// What a call's shape was, for messages and the README table.
std::string shape_of(const ConvShape& s) {
  std::ostringstream os;
  os << s.n << "×" << s.h << "×" << s.w << "×" << s.c_in << " → " << s.oh << "×" << s.ow << "×" << s.c_out << ", "
     << s.kh << "×" << s.kw << (s.groups > 1 ? " grouped" : "");
  return os.str();
}
std::string shape_of(const Conv2dForwardArgsT<float>& a) { return shape_of(a.s); }
std::string shape_of(const Conv2dBackwardDataArgsT<float>& a) { return shape_of(a.s); }
std::string shape_of(const Conv2dBackwardFilterArgsT<float>& a) { return shape_of(a.s); }
template <class A>
std::string linear_shape(const A& a) {
  return std::to_string(a.n) + "×" + std::to_string(a.in) + " → " + std::to_string(a.out);
}
std::string shape_of(const LinearForwardArgsT<float>& a) { return linear_shape(a); }
std::string shape_of(const LinearBackwardDataArgsT<float>& a) { return linear_shape(a); }
std::string shape_of(const LinearBackwardWeightArgsT<float>& a) { return linear_shape(a); }
std::string shape_of(const BatchNormForwardArgsT<float>& a) {
  return std::to_string(a.rows) + " rows × " + std::to_string(a.c);
}
std::string shape_of(const BatchNormBackwardArgsT<float>& a) {
  return std::to_string(a.rows) + " rows × " + std::to_string(a.c);
}
std::string shape_of(const SoftmaxCrossEntropyArgsT<float>& a) {
  return std::to_string(a.n) + " × " + std::to_string(a.classes) + " classes";
}
std::string shape_of(const BcKlForwardArgsT<float>& a) {
  return std::to_string(a.groups) + " groups + " + std::to_string(a.weights) + " weights";
}
template <class A>
std::string shape_of(const A& a) {
  if constexpr (requires { a.count; }) return std::to_string(a.count) + " elements";
  else if constexpr (requires { a.pixels; })
    return std::to_string(a.n) + "×" + std::to_string(a.pixels) + "×" + std::to_string(a.groups);
  else if constexpr (requires { a.weights; })
    return std::to_string(a.groups) + " groups + " + std::to_string(a.weights) + " weights";
  else if constexpr (requires { a.groups; }) return std::to_string(a.n) + "×" + std::to_string(a.groups);
  else if constexpr (requires { a.rows; }) return std::to_string(a.rows) + " rows × " + std::to_string(a.c_part);
  else if constexpr (requires { a.oh; }) return std::to_string(a.n) + "×" + std::to_string(a.oh) + "×" + std::to_string(a.ow) + "×" + std::to_string(a.c);
  else return std::to_string(a.n) + "×" + std::to_string(a.h) + "×" + std::to_string(a.w) + "×" + std::to_string(a.c);
}

struct Call {
  std::string op, shape;
  OpPlan plan;
};

// Host memory from a CPU backend; every op only records its plan at kSms.
class RecordingBackend final : public Backend {
 public:
  RecordingBackend() : mem_(cpu::make_cpu_backend(1)) {}
  std::string name() const override { return "recording"; }
  void* alloc(size_t bytes) override {  // zeroed: the recorded ops write nothing, the pruning path reads it
    void* p = mem_->alloc(bytes);
    mem_->zero(p, bytes);
    return p;
  }
  void free(void* p) noexcept override { mem_->free(p); }
  void upload(void* dst, const void* src, size_t bytes) override { mem_->upload(dst, src, bytes); }
  void download(void* dst, const void* src, size_t bytes) override { mem_->download(dst, src, bytes); }
  void copy(void* dst, const void* src, size_t bytes) override { mem_->copy(dst, src, bytes); }
  void zero(void* p, size_t bytes) override { mem_->zero(p, bytes); }
  void synchronize() override {}
#define SPARSE_RECORD_OP(op, Args) \
  void op(const Args<float>& a) override { calls.push_back({#op, shape_of(a), plan(a, kSms)}); }
  SPARSE_OP_LIST(SPARSE_RECORD_OP)
#undef SPARSE_RECORD_OP

  std::vector<Call> calls;

 private:
  std::unique_ptr<Backend> mem_;
};

space::Config bench_net(const std::string& name) {
  return space::read_config(std::string(SPARSE_SOURCE_DIR) + "/bench/networks/" + name + ".json");
}

// The calls of one training step of `net` (and, with `eval_and_prune`, of an evaluation batch and the pruning
// decisions) at batch `batch`.
std::vector<Call> step_calls(const space::Config& config, nn::Method method, nn::Mode mode, int batch,
                             bool eval_and_prune) {
  RecordingBackend rec;
  nn::Network net(rec, config, method, batch, 1);
  const auto& in = net.graph().nodes[0].out;
  std::vector<float> x(size_t(batch) * size_t(in.size()), 0.5f);
  std::vector<int32_t> y(size_t(batch), 1);
  net.set_batch(x.data(), y.data(), batch);
  rec.calls.clear();
  net.train_step(mode, 1e-5f, 1e-3f, 1);
  if (eval_and_prune) {
    (void)net.pruned_share();
    const nn::DeterministicModel m = net.deterministic_model();
    net.load_eval_weights(m);
    (void)net.eval_batch();
  }
  return rec.calls;
}

// The fill rule of launch_config.hpp for one launch of a call; returns "" or what is wrong.
std::string check_launch(const Call& c, size_t slot) {
  const Launch& l = c.plan.k[slot];
  std::ostringstream why;
  const unsigned t = l.threads();
  if (t < unsigned(kWarp) || t > unsigned(kMaxBlockThreads) || t % kWarp != 0)
    why << "block of " << t << " threads; ";
  if (l.block.y > 1 && l.block.x != unsigned(kColumnLanes)) why << "2-D block whose x is not 32 lanes; ";
  if (l.grid.count() == 0) why << "empty grid; ";
  if (l.grid.y > 65535 || l.grid.z > 65535) why << "grid.y/z over 65535; ";
  switch (l.role) {
    case LaunchRole::parallel:
      if (l.max_blocks != (l.items + kWarp - 1) / kWarp) why << "max_blocks is not one 32-thread block per 32 items; ";
      [[fallthrough]];
    case LaunchRole::partials:
      if (int64_t(l.grid.count()) < std::min(kFill, l.max_blocks))
        why << l.grid.count() << " blocks < min(4 per SM = " << kFill << ", " << l.max_blocks << " usable); ";
      break;
    case LaunchRole::combine: {
      bool after_pass1 = false;
      for (size_t j = 0; j < slot; ++j) after_pass1 = after_pass1 || (c.plan.k[j] && c.plan.k[j].role == LaunchRole::partials);
      if (!after_pass1) why << "a combine pass without a pass 1 before it; ";
      break;
    }
  }
  return why.str();
}

struct Case {
  std::string net;
  nn::Method method;
  nn::Mode mode;
};

TEST(LaunchConfig, EveryTrainingStepKernelFillsAnH100AtTheBenchShapes) {
  int launches = 0, filled = 0;
  std::set<std::string> kernels;
  for (const Case& k : {Case{"lenet5", nn::Method::spvd, nn::Mode::variational},
                        Case{"tiny", nn::Method::spvd, nn::Mode::variational},
                        Case{"lenet5", nn::Method::bc, nn::Mode::variational},
                        Case{"tiny", nn::Method::bc, nn::Mode::variational},
                        Case{"lenet5", nn::Method::spvd, nn::Mode::deterministic},
                        Case{"tiny", nn::Method::spvd, nn::Mode::deterministic}}) {
    const space::Config config = bench_net(k.net);
    for (int batch : {64, 128, 256}) {
      const std::vector<Call> calls = step_calls(config, k.method, k.mode, batch, true);
      ASSERT_FALSE(calls.empty());
      for (const Call& c : calls)
        for (size_t s = 0; s < c.plan.k.size(); ++s) {
          if (!c.plan.k[s]) continue;
          ++launches;
          kernels.insert(c.plan.k[s].kernel);
          filled += int64_t(c.plan.k[s].grid.count()) >= kFill;
          EXPECT_EQ(check_launch(c, s), "") << k.net << " " << nn::to_string(k.method) << " batch " << batch << ": "
                                            << c.op << " (" << c.shape << ") kernel " << c.plan.k[s].kernel
                                            << " grid " << dims(c.plan.k[s].grid) << " block " << dims(c.plan.k[s].block);
        }
    }
  }
  std::printf("%d launches of %zu kernels checked; %d with >= 4 blocks per SM, the rest with all the blocks their "
              "work allows\n", launches, kernels.size(), filled);
  EXPECT_GT(launches, 500);
}

// Issue 15's cases by number: 25 blocks for LeNet-5 conv1's filter gradient at batch 256, one block for its bias
// gradient, single-block KL forwards and softmax.
TEST(LaunchConfig, LeNetConv1GradientsAndTheReductionsAreTwoPassAndFill) {
  const std::vector<Call> calls = step_calls(bench_net("lenet5"), nn::Method::spvd, nn::Mode::variational, 256, false);
  int filters = 0, kls = 0, softmax = 0;
  for (const Call& c : calls) {
    if (c.op == "conv2d_backward_filter" && c.shape.rfind("256×28×28×1 ", 0) == 0) {
      ++filters;
      const Launch& f = c.plan.k[kFilterPartials];
      ASSERT_TRUE(f);
      EXPECT_EQ(f.grid.x, 16u) << "500 (tap, channel) columns in 32-lane blocks";
      EXPECT_GE(int64_t(f.grid.count()), kFill);
      // Each of a block's 8 row threads sums at most 600 positions (was 147,456 / 8 = 18,432 in one block).
      EXPECT_LE((147456 + 8 * int64_t(f.grid.y) - 1) / (8 * int64_t(f.grid.y)), 600);
      EXPECT_TRUE(c.plan.k[kFilterCombine]);
      EXPECT_GE(c.plan.scratch_bytes, size_t(f.grid.y) * 500 * sizeof(float));
      if (c.plan.k[kBiasPartials]) {
        EXPECT_GE(int64_t(c.plan.k[kBiasPartials].grid.count()), kFill);
        EXPECT_TRUE(c.plan.k[kBiasCombine]);
      }
    }
    if (c.op == "spvd_kl_forward") {
      ++kls;
      if (c.shape == "400000 elements") {
        EXPECT_GE(int64_t(c.plan.k[kKlPartials].grid.count()), kFill);
      }
      EXPECT_EQ(c.plan.k[kKlCombine].grid.count(), 1u);
    }
    if (c.op == "softmax_cross_entropy") {
      ++softmax;
      EXPECT_EQ(c.plan.k[kSoftmaxRows].grid.count(), 8u) << "256 examples, one 32-thread block per 32";
    }
  }
  EXPECT_EQ(filters, 2);  // mean and variance products
  EXPECT_EQ(kls, 4);      // conv1, conv2, fc, output
  EXPECT_EQ(softmax, 1);
}

// The workspace regions each op's kernels write (cuda/conv_ops.cu, cuda/cuda_ops.cu), from the plan's own grids:
// column partials [chunks, cols] (cols = the combine pass's outputs), per-block partials [blocks], per-example
// values [n]. Each {region, bytes}; empty when the op uses no workspace.
std::vector<std::pair<int, size_t>> regions_written(const Call& c) {
  const OpPlan& p = c.plan;
  std::vector<std::pair<int, size_t>> r;
  auto column = [&](int partials, int combine, int region, size_t elem) {
    if (p.k[size_t(combine)])
      r.push_back({region, size_t(chunks_of(p.k[size_t(partials)])) * size_t(p.k[size_t(combine)].items) * elem});
  };
  if (c.op == "conv2d_backward_filter" || c.op == "linear_backward_weight") {
    column(kFilterPartials, kFilterCombine, 0, sizeof(float));
    column(kBiasPartials, kBiasCombine, 1, sizeof(float));
  } else if (c.op == "batch_norm_forward" && p.k[kBnSumPartials]) {
    const size_t ch = size_t(p.k[kBnMean].items);
    r = {{0, size_t(chunks_of(p.k[kBnSumPartials])) * ch * sizeof(double)}, {1, ch * sizeof(double)},
         {2, ch * sizeof(double)}};
  } else if (c.op == "batch_norm_backward" && p.k[kBnGradPartials]) {
    const size_t ch = size_t(p.k[kBnGradCombine].items);
    r = {{0, 2 * size_t(chunks_of(p.k[kBnGradPartials])) * ch * sizeof(double)}, {1, 2 * ch * sizeof(double)}};
  } else if (c.op == "softmax_cross_entropy") {
    const size_t n = size_t(p.k[kSoftmaxRows].items);
    r = {{0, n * sizeof(double)}, {1, n * sizeof(double)}};
  } else if (c.op == "spvd_kl_forward" || c.op == "bc_kl_forward") {
    if (p.k[kKlPartials]) r = {{0, size_t(p.k[kKlPartials].grid.count()) * sizeof(double)}};
  }
  return r;
}

// What the kernels write fits the plan's workspace: every region inside scratch_bytes, 256-byte aligned, no two
// regions of one op overlapping; the passes that share partials agree on the chunks (batch norm's Σx and Σ(x − mean)²
// partials reuse region 0, summed with the Σx pass's chunk count); a combine pass has one output per column.
TEST(LaunchConfig, WorkspaceRegionsHoldWhatTheKernelsWrite) {
  int checked = 0;
  for (const Case& k : {Case{"lenet5", nn::Method::spvd, nn::Mode::variational},
                        Case{"tiny", nn::Method::bc, nn::Mode::variational},
                        Case{"tiny", nn::Method::spvd, nn::Mode::deterministic}})
    for (int batch : {1, 3, 256}) {
      space::Config config = bench_net(k.net);
      config.batch_norm = true;
      for (const Call& c : step_calls(config, k.method, k.mode, batch, false)) {
        SCOPED_TRACE(k.net + " batch " + std::to_string(batch) + ": " + c.op + " (" + c.shape + ")");
        const auto regions = regions_written(c);
        for (size_t i = 0; i < regions.size(); ++i) {
          const size_t at = c.plan.scratch_at[size_t(regions[i].first)], bytes = regions[i].second;
          EXPECT_EQ(at % 256, 0u);
          EXPECT_LE(at + bytes, c.plan.scratch_bytes) << "region " << regions[i].first;
          for (size_t j = 0; j < i; ++j) {
            const size_t at_j = c.plan.scratch_at[size_t(regions[j].first)];
            EXPECT_TRUE(at + bytes <= at_j || at_j + regions[j].second <= at)
                << "regions " << regions[j].first << " and " << regions[i].first << " overlap";
          }
          ++checked;
        }
        if (c.op == "batch_norm_forward" && c.plan.k[kBnSumPartials]) {
          EXPECT_EQ(c.plan.k[kBnSquarePartials].grid.y, c.plan.k[kBnSumPartials].grid.y);
          EXPECT_EQ(c.plan.k[kBnSquarePartials].grid.x, c.plan.k[kBnSumPartials].grid.x);
        }
        for (auto [partials, combine] : {std::pair{kFilterPartials, kFilterCombine}, std::pair{kBiasPartials, kBiasCombine}})
          if ((c.op == "conv2d_backward_filter" || c.op == "linear_backward_weight") && c.plan.k[size_t(combine)]) {
            EXPECT_GE(int64_t(c.plan.k[size_t(partials)].grid.x) * kColumnLanes, c.plan.k[size_t(combine)].items);
          }
      }
    }
  EXPECT_GT(checked, 50);
}

TEST(LaunchConfig, BatchNormReadsRowsInChunksNotOneBlockPerChannel) {
  BatchNormForwardArgsT<float> a{};
  a.rows = 256 * 24 * 24;
  a.c = 20;
  a.training = true;
  const OpPlan p = plan(a, kSms);
  ASSERT_TRUE(p.k[kBnSumPartials]);
  EXPECT_EQ(p.k[kBnSumPartials].block.x, 32u);  // lanes over channels: a row's channels are contiguous
  EXPECT_GE(int64_t(p.k[kBnSumPartials].grid.count()), kFill);
  EXPECT_GE(int64_t(p.k[kBnNormalize].grid.count()), kFill);
  EXPECT_GE(p.scratch_bytes, size_t(p.k[kBnSumPartials].grid.y) * 20 * sizeof(double) + 2 * 20 * sizeof(double));
  a.training = false;
  const OpPlan e = plan(a, kSms);
  EXPECT_TRUE(e.k[kBnEval]);
  EXPECT_FALSE(e.k[kBnSumPartials]);
}

TEST(LaunchConfig, BuildingBlocks) {
  // grid_stride: 4 blocks per SM from 4·SMs·32 items on, else one 32-thread block per 32 items.
  for (int64_t items : {int64_t(1), int64_t(640), int64_t(16895), int64_t(16896), int64_t(33000), int64_t(135168),
                        int64_t(2949120), int64_t(1) << 33}) {
    const Launch l = grid_stride("k", items, kSms);
    SCOPED_TRACE(items);
    EXPECT_GE(int64_t(l.grid.count()), std::min(kFill, (items + 31) / 32));
    EXPECT_LE(int64_t(l.grid.count()), int64_t(kMaxBlocksPerSm) * kSms);
    EXPECT_GE(int64_t(l.grid.count()) * l.threads(), std::min<int64_t>(items, int64_t(kMaxBlocksPerSm) * kSms * 256));
  }
  EXPECT_FALSE(grid_stride("k", 0, kSms));
  EXPECT_EQ(grid_stride("k", 640, kSms).block.x, 32u);
  EXPECT_EQ(grid_stride("k", 1 << 20, kSms).block.x, 256u);
  // column_partials: chunks so that the grid reaches 4 blocks per SM, at least 8 rows per chunk, at most 65535.
  const Launch c = column_partials("k", 147456, 20, kSms);
  EXPECT_EQ(c.grid.x, 1u);
  EXPECT_EQ(c.grid.y, unsigned(kFill));
  EXPECT_EQ(column_partials("k", 40, 20, kSms).grid.y, 5u);  // 40 rows: 5 chunks of 8
  EXPECT_EQ(column_partials("k", 0, 20, kSms).grid.y, 1u);
  EXPECT_EQ(column_partials("k", 1000000, 64 * 32 * 32, kSms).grid.y, 1u);  // 2048 column blocks fill alone
  // The row split of chunk_rows (cuda/reductions.cuh) covers every row once: rows·c/chunks .. rows·(c+1)/chunks.
  for (int64_t rows : {int64_t(7), int64_t(147456), int64_t(1000003)})
    for (int64_t chunks : {int64_t(1), int64_t(3), int64_t(528), int64_t(65535)}) {
      int64_t next = 0;
      for (int64_t k = 0; k < chunks; ++k) {
        ASSERT_EQ(rows * k / chunks, next);
        next = rows * (k + 1) / chunks;
      }
      EXPECT_EQ(next, rows);
    }
  // gp/cuda: tiles of the covariance and triangle copies cover the matrix.
  EXPECT_EQ(gp_kernel_matrix(10000, 1000).grid.count(), 625u * 63u);
  EXPECT_EQ(gp_triangle_copy(200).grid.x, 7u);
  EXPECT_FALSE(gp_kernel_matrix(0, 5));
}

// Every kernel launch of cuda/ and gp/cuda/ goes through launch() (cuda/cuda_common.cuh), which takes a plan.
TEST(LaunchConfig, EveryKernelLaunchTakesAPlan) {
  namespace fs = std::filesystem;
  const fs::path root(SPARSE_SOURCE_DIR);
  std::map<std::string, int> chevrons;
  for (const char* dir : {"cuda", "gp/cuda"})
    for (const auto& entry : fs::directory_iterator(root / dir)) {
      const std::string ext = entry.path().extension().string();
      if (ext != ".cu" && ext != ".cuh") continue;
      std::ifstream in(entry.path());
      std::string line;
      while (std::getline(in, line)) {
        const size_t code = line.find_first_not_of(" \t");
        if (code == std::string::npos || line.compare(code, 2, "//") == 0) continue;
        const size_t at = line.find("<<<");
        if (at != std::string::npos && line.rfind("//", at) == std::string::npos)
          ++chevrons[fs::relative(entry.path(), root).string()];
      }
    }
  EXPECT_EQ(chevrons, (std::map<std::string, int>{{"cuda/cuda_common.cuh", 1}}));
}

// SPARSE_LAUNCH_TABLE=FILE: the table of cuda/README.md at batch 256 (SpVD variational step of each bench net).
TEST(LaunchConfig, WritesTheReadmeTableWhenAsked) {
  const char* path = std::getenv("SPARSE_LAUNCH_TABLE");
  if (!path) GTEST_SKIP() << "set SPARSE_LAUNCH_TABLE=FILE to write the cuda/README.md table";
  std::ofstream out(path);
  out << "net\top\tshape\tkernel\trole\tgrid\tblock\n";
  for (const char* net : {"lenet5", "tiny"}) {
    const std::vector<Call> calls = step_calls(bench_net(net), nn::Method::spvd, nn::Mode::variational, 256, false);
    std::set<std::string> seen;
    for (const Call& c : calls)
      for (const Launch& l : c.plan.k) {
        if (!l) continue;
        const std::string row = c.op + "\t" + c.shape + "\t" + l.kernel + "\t" + to_string(l.role) + "\t" +
                                dims(l.grid) + "\t" + dims(l.block);
        if (seen.insert(row).second) out << net << "\t" << row << "\n";
      }
  }
  EXPECT_TRUE(out.good());
}

}  // namespace
}  // namespace sparse::cuda
