// The variational network of a Config on a Backend: parameters φ, activations, forward and backward of the
// three modes, KL terms, Adam, and the deterministic pruned model (REFERENCE.md §3-5).
// Invariants: every buffer is allocated in the constructor for `batch_capacity` images, so a training step
// allocates nothing; parameter tensors are named "<node name>/<tensor>" (theta, log_sigma2, bias, mu_z,
// log_sigma2_z, gamma, beta, running_mean, running_var), which is what φ files and inheritance match on.
// Modes:
//  - deterministic (pretraining): y = conv(x, θ) + b, then batch-norm (batch statistics) and ReLU.
//  - variational: SpVD y = μ + sqrt(v + 1e-8)·ε with μ = conv(x, θ) + b, v = conv(x², σ²), σ² = exp(log σ²);
//    BC conv: y = μ·z + sqrt(v·z² + 1e-8)·ε with z ~ N(μ_z, σ_z²) per (example, output channel);
//    BC FC: x is scaled by z per (example, input neuron) before the SpVD-style sampled product.
//    The bias stays outside the noise in both methods (REFERENCE.md §3 pitfalls; the BC bias variance of
//    §4 is dropped, a documented simplification).
//  - evaluation: the DeterministicModel's weights (pruned, batch-norm folded) with ReLU only.
// The noise of step s uses (seed, offset = s·4096 + 2·node + {0: ε, 1: z}), so a step is reproducible on any
// backend from (seed, step).
// Statistics stay on the backend: each forward_loss writes its loss, hits and KL to the next of kStatsSlots
// slots, and drain_stats() downloads them in one go, so a training loop that drains every kStatsSlots steps
// (host/nn/trainer.cpp) does not wait for the device at every step.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "host/core/backend.hpp"
#include "host/graph/graph.hpp"
#include "host/memory/memory.hpp"
#include "host/nn/deterministic_model.hpp"
#include "host/space/config.hpp"

namespace sparse::nn {

enum class Method { spvd, bc };
const char* to_string(Method m);
Method method_from_string(const std::string& s);  // "spvd" | "bc"; the error names the value

enum class Mode { deterministic, variational };

struct Param {
  std::string name;       // "<node>/<tensor>"
  std::vector<int> dims;  // host shape (conv HWIO, fc [In, Out], vectors [C])
  bool trained = true;    // false for batch-norm running statistics
  Buffer<float> value, grad, m, v;
  int64_t count() const { return static_cast<int64_t>(value.size()); }
};

struct StepStats {
  double ce = 0;      // mean cross-entropy of the batch
  double kl = 0;      // Σ KL over layers (0 in deterministic mode)
  int correct = 0;    // argmax hits in the batch
};

// Per node of a DeterministicModel: non-zero weights (incl. biases) and active channels (neither identically
// zero nor unread by any live weight), counted after remove_dead_weights.
memory::PruningState pruning_state(const DeterministicModel& m);
// Zero every weight that reads an identically zero channel or produces a channel nothing reads (and the bias of
// such a channel), to a fixed point: the network's outputs are unchanged.
void remove_dead_weights(DeterministicModel& m);

class Network {
 public:
  Network(Backend& backend, const space::Config& config, Method method, int batch_capacity, uint64_t seed);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  const graph::Graph& graph() const { return graph_; }
  const space::Config& config() const { return config_; }
  Method method() const { return method_; }
  int batch_capacity() const { return capacity_; }
  std::vector<Param>& params() { return params_; }
  Param* find_param(const std::string& name);
  int64_t trainable_count() const;

  // Upload a batch: x [n, H, W, C] normalized floats, y [n] labels (n <= batch capacity).
  void set_batch(const float* x, const int32_t* y, int n);
  // One training step on the current batch: forward, loss, backward, Adam. kl_scale = γ(t)/N multiplies
  // the gradient of Σ KL (REFERENCE.md §3: mean CE + γ·Σ KL / N). step >= 1 (Adam's t and the noise).
  void train_step(Mode mode, float kl_scale, float lr, uint64_t step);
  // Learning rate of the log-variances (log σ², log σ_z²) relative to `lr`: Adam moves a parameter by about lr per
  // step, and a group's log α must travel from its initialization (−9) to the threshold τ within a trial.
  void set_log_variance_lr_scale(float scale) { log_variance_lr_scale_ = scale; }
  // false: deterministic_model() and pruned_share() use τ = +∞, so nothing is pruned (the dense network of a
  // search without pruning, the paper's Figure 3a); training is then deterministic (see TrainSettings::pruning).
  void set_pruning(bool on) { pruning_ = on; }
  // Forward and loss only, no parameter update (gradient checks, throughput of the forward).
  void forward_loss(Mode mode, uint64_t step);
  void backward(Mode mode, float kl_scale, uint64_t step);
  void adam(Mode mode, float lr, uint64_t step);
  StepStats stats();  // of the last forward (waits for the backend)
  // The forwards since the last drain, oldest first (waits for the backend). Only the last kStatsSlots are kept:
  // *dropped (if given) counts the older ones, overwritten before this drain.
  static constexpr int kStatsSlots = 64;
  std::vector<StepStats> drain_stats(int64_t* dropped = nullptr);
  int64_t pending_stats() const { return stats_written_ - stats_drained_; }

  // The deterministic pruned network (thresholds τ_l of the graph, BN folded with running statistics,
  // dead weights removed), and the evaluation buffers set from it.
  DeterministicModel deterministic_model();
  void load_eval_weights(const DeterministicModel& m);
  // Correct predictions on the current batch with the evaluation weights.
  int eval_batch();
  // Share of weights (not biases) with log α ≥ τ (SpVD per weight; BC per group), from the backend state.
  double pruned_share();

 private:
  float log_variance_lr_scale_ = 1.0f;
  bool pruning_ = true;
  double threshold_of(size_t node) const;  // τ_l of the node, +∞ without pruning
  struct NodeState;
  void allocate();
  void init_params(uint64_t seed);
  int add_param(const std::string& name, std::vector<int> dims, bool trained = true);
  void forward(Mode mode, bool eval, uint64_t step);
  void forward_weighted(size_t i, Mode mode, bool eval, uint64_t step);
  void backward_weighted(size_t i, Mode mode, float kl_scale, uint64_t step);
  ConvShape conv_shape_of(size_t i, int n) const;
  float* out_of(size_t i);
  float* dout_of(size_t i);

  Backend& be_;
  space::Config config_;
  graph::Graph graph_;
  Method method_;
  int capacity_ = 0, n_ = 0;
  uint64_t seed_ = 0;
  std::vector<Param> params_;
  std::vector<NodeState> nodes_;
  Buffer<int32_t> labels_;
  Buffer<int32_t> correct_;    // [kStatsSlots]: argmax hits of each slot's forward
  Buffer<float> loss_;         // [kStatsSlots]: mean cross-entropy
  Buffer<float> kl_parts_;     // [kStatsSlots, weighted nodes]: KL per layer (variational forwards only)
  Buffer<int32_t> eval_correct_;  // [1]: eval_batch()
  Buffer<float> eval_loss_;       // [1]
  std::vector<Mode> slot_mode_;   // [kStatsSlots]: the mode of the forward in each slot
  int64_t stats_written_ = 0, stats_drained_ = 0;  // forwards written / drained so far
  int last_slot_ = 0;
  std::vector<int> weighted_;  // node indices with weights
};

}  // namespace sparse::nn
