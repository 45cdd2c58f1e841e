// Whole networks on the CUDA backend against the CPU backend, same seed and batches (the noise ε of a step is
// the same Philox stream on both): training steps of the bench networks with SpVD and Bayesian Compression, of
// batch-norm, residual and merge (concatenate, sum) networks in the variational and the deterministic (pretraining)
// mode, the evaluation and pruning path (pruned share, the deterministic pruned model, evaluation with the same
// weights), and a whole train() (drained per-step statistics, evaluation, int8). Label gpu: every case is skipped,
// with the reason, without a usable device or a CUDA build.
// Tolerances: per-step cross-entropy within 1e-3 relative (float GEMMs and reductions in another order, device
// expf/logf a few ulp from the host's); pruning decisions may differ only where log α lies within rounding of τ.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "cuda/cuda_backend.hpp"
#include "host/core/backend.hpp"
#include "host/cpu/cpu_backend.hpp"
#include "host/nn/network.hpp"
#include "host/nn/trainer.hpp"
#include "host/space/config.hpp"
#include "tests/backend_ops/cuda_fixture.hpp"
#include "tests/backend_ops/op_harness.hpp"
#include "tests/nn/nn_fixtures.hpp"

namespace sparse::nn {
namespace {

class CudaTrainingVsCpu : public test::CudaFixture {};

space::Config bench_net(const std::string& file) {
  return space::read_config(std::string(SPARSE_SOURCE_DIR) + "/bench/networks/" + file);
}

// 16×16×1 input, two conv layers (the second separable), left and right branches merged by `merge`; batch norm
// and residual connections as asked (tests/nn/test_network.cpp's branched network).
space::Config branched(bool bn, bool residual, space::MergeType merge) {
  space::Config c = test::small_config(3, {4, 4}, 600);
  c.batch_norm = bn;
  c.residual_connections = residual;
  c.left_branch = true;
  c.right_branch = true;
  c.merge_type = merge;
  c.blocks[0].layers[1].layer_type = space::LayerType::SeparableConv2D;
  c.blocks[0].layers[0].padding = space::Padding::valid;
  return c;
}

struct Pair {
  std::unique_ptr<Backend> cpu = cpu::make_cpu_backend(2);
  std::unique_ptr<Backend> gpu = cuda::make_cuda_backend(0);
  std::unique_ptr<Network> on_cpu, on_gpu;
  Pair(const space::Config& c, Method m, int batch, uint64_t seed)
      : on_cpu(std::make_unique<Network>(*cpu, c, m, batch, seed)),
        on_gpu(std::make_unique<Network>(*gpu, c, m, batch, seed)) {}
  // The same random batch on both.
  void batch(test::Random& rng, int n) {
    const auto& in = on_cpu->graph().nodes[0].out;
    const std::vector<float> x = rng.floats(size_t(in.size()) * size_t(n), -1.0, 1.0);
    std::vector<int32_t> y(static_cast<size_t>(n));
    for (auto& l : y) l = int32_t(rng.below(uint64_t(on_cpu->config().num_classes)));
    on_cpu->set_batch(x.data(), y.data(), n);
    on_gpu->set_batch(x.data(), y.data(), n);
  }
  // The same values of every parameter whose name contains `which`, uniform in [lo, hi].
  void set_params(const std::string& which, test::Random& rng, double lo, double hi) {
    for (auto& p : on_cpu->params()) {
      if (p.name.find(which) == std::string::npos) continue;
      const std::vector<float> v = rng.floats(p.value.size(), lo, hi);
      p.value.upload(v);
      on_gpu->find_param(p.name)->value.upload(v);
    }
  }
};

// `steps` training steps on both; the cross-entropy (and the KL) of every step agree within 1e-3 relative.
void train_both(Pair& p, Mode mode, int batch, int steps, uint64_t data_seed) {
  test::Random rng(data_seed);
  for (int step = 1; step <= steps; ++step) {
    p.batch(rng, batch);
    p.on_cpu->train_step(mode, 1e-4f, 1e-3f, uint64_t(step));
    p.on_gpu->train_step(mode, 1e-4f, 1e-3f, uint64_t(step));
    const StepStats c = p.on_cpu->stats(), g = p.on_gpu->stats();
    ASSERT_TRUE(std::isfinite(g.ce) && std::isfinite(g.kl)) << "step " << step;
    EXPECT_LE(std::fabs(g.ce - c.ce), 1e-3 * std::fabs(c.ce)) << "step " << step << ": cpu " << c.ce << ", cuda " << g.ce;
    EXPECT_LE(std::fabs(g.kl - c.kl), 1e-3 * std::fabs(c.kl) + 1e-6) << "step " << step << ": cpu KL " << c.kl
                                                                     << ", cuda " << g.kl;
    EXPECT_NEAR(g.correct, c.correct, 1) << "step " << step;  // an argmax tie may break either way
  }
}

void bench_steps(const std::string& file, Method m) {
  SCOPED_TRACE(file + " " + to_string(m));
  Pair p(bench_net(file), m, 16, 11);
  train_both(p, Mode::variational, 16, 20, 5);
}

TEST_F(CudaTrainingVsCpu, TinyTwentyStepsMatchCpu) { bench_steps("tiny.json", Method::spvd); }
TEST_F(CudaTrainingVsCpu, Lenet5TwentyStepsMatchCpu) { bench_steps("lenet5.json", Method::spvd); }
TEST_F(CudaTrainingVsCpu, TinyBcTwentyStepsMatchCpu) { bench_steps("tiny.json", Method::bc); }
TEST_F(CudaTrainingVsCpu, Lenet5BcTwentyStepsMatchCpu) { bench_steps("lenet5.json", Method::bc); }

TEST_F(CudaTrainingVsCpu, BatchNormResidualConcatenateMatchesCpu) {
  for (Mode mode : {Mode::deterministic, Mode::variational})
    for (Method m : {Method::spvd, Method::bc}) {
      SCOPED_TRACE(std::string(mode == Mode::deterministic ? "deterministic " : "variational ") + to_string(m));
      Pair p(branched(true, true, space::MergeType::Concatenate), m, 24, 3);
      train_both(p, mode, 24, 10, 7);
    }
}

TEST_F(CudaTrainingVsCpu, ResidualSumMergeMatchesCpu) {
  for (Method m : {Method::spvd, Method::bc}) {
    SCOPED_TRACE(to_string(m));
    Pair p(branched(false, true, space::MergeType::Sum), m, 24, 4);
    train_both(p, Mode::variational, 24, 10, 8);
  }
}

// Pruning decisions and the deterministic model after training: log-variances spread over the threshold so a
// large share is pruned; the CPU's pruned model evaluated on both backends gives the same hits.
TEST_F(CudaTrainingVsCpu, EvaluationAndPruningPathMatchCpu) {
  for (Method m : {Method::spvd, Method::bc}) {
    SCOPED_TRACE(to_string(m));
    Pair p(branched(true, false, space::MergeType::Concatenate), m, 32, 5);
    test::Random rng(21);
    p.set_params(m == Method::spvd ? "/log_sigma2" : "/log_sigma2_z", rng, -12.0, 4.0);
    train_both(p, Mode::variational, 32, 5, 9);
    const double share_cpu = p.on_cpu->pruned_share(), share_gpu = p.on_gpu->pruned_share();
    EXPECT_GT(share_cpu, 0.05);
    EXPECT_NEAR(share_gpu, share_cpu, 0.01);
    const DeterministicModel mc = p.on_cpu->deterministic_model(), mg = p.on_gpu->deterministic_model();
    ASSERT_EQ(mc.layers.size(), mg.layers.size());
    int64_t weights = 0, mask_differs = 0;
    for (size_t i = 0; i < mc.layers.size(); ++i) {
      const auto& wc = mc.layers[i].weights;
      const auto& wg = mg.layers[i].weights;
      ASSERT_EQ(wc.size(), wg.size()) << i;
      float scale = 0.0f;
      for (float v : wc) scale = std::max(scale, std::fabs(v));
      for (size_t e = 0; e < wc.size(); ++e) {
        ++weights;
        if ((wc[e] == 0.0f) != (wg[e] == 0.0f)) {
          ++mask_differs;
          continue;
        }
        EXPECT_NEAR(wg[e], wc[e], 1e-3 * scale + 1e-6) << "node " << i << " weight " << e;
      }
    }
    EXPECT_LE(mask_differs, weights / 1000 + 2) << "pruning decisions differ on " << mask_differs << " of " << weights;
    // The same deterministic weights on both backends: the same hits on the same batch.
    p.on_cpu->load_eval_weights(mc);
    p.on_gpu->load_eval_weights(mc);
    test::Random data(33);
    for (int b = 0; b < 4; ++b) {
      p.batch(data, 32);
      EXPECT_NEAR(p.on_gpu->eval_batch(), p.on_cpu->eval_batch(), 1) << "batch " << b;
    }
  }
}

// A whole train(): the statistics drained every Network::kStatsSlots steps, evaluation, pruning and int8 scoring.
TEST_F(CudaTrainingVsCpu, TrainOnSyntheticDataMatchesCpu) {
  const data::Dataset d = test::small_synthetic(4, 1200, 300);
  const space::Config c = test::small_config(4, {6}, 3000);
  TrainSettings st;
  st.method = Method::spvd;
  st.epochs = 3;
  st.pretrain_epochs = 1;
  st.batch_size = 16;  // 75 steps per epoch: more than kStatsSlots, so a drain happens inside the epoch
  st.lr = 3e-3;
  st.seed = 2;
  st.calibration_images = 64;
  auto cpu = cpu::make_cpu_backend(2);
  auto gpu = cuda::make_cuda_backend(0);
  const TrainResult rc = train(*cpu, c, d, st), rg = train(*gpu, c, d, st);
  ASSERT_TRUE(rc.ok) << rc.error;
  ASSERT_TRUE(rg.ok) << rg.error;
  ASSERT_EQ(rg.loss_curve.size(), rc.loss_curve.size());
  for (size_t e = 0; e < rc.loss_curve.size(); ++e)
    EXPECT_NEAR(rg.loss_curve[e], rc.loss_curve[e], 0.02 * std::fabs(rc.loss_curve[e]) + 1e-3) << "epoch " << e + 1;
  EXPECT_NEAR(rg.val_acc, rc.val_acc, 0.03);
  EXPECT_NEAR(rg.test_acc, rc.test_acc, 0.03);
  EXPECT_NEAR(rg.int8_test_acc, rc.int8_test_acc, 0.03);
  EXPECT_NEAR(rg.pruned_share, rc.pruned_share, 0.02);
  EXPECT_GT(rc.val_acc, 0.5);
}

}  // namespace
}  // namespace sparse::nn
