// Training of one Config with Bayesian pruning (REFERENCE.md §3-5): optional deterministic pretraining, then
// the variational phase with γ(t) = 0 for the zero-regularization share, a linear ramp to α over the annealing
// share and α for the rest; Adam with a learning rate held for the first half of the variational phase and
// decayed linearly to a tenth of it by the end; evaluation with the deterministic pruned network.
// Invariants: a trial is reproducible from (config, dataset, settings, seed, reference φ); a diverged run (NaN or
// inf in loss or parameters) returns ok = false with "diverged at epoch e, step s" instead of throwing.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "datasets/preset.hpp"
#include "host/core/backend.hpp"
#include "host/memory/memory.hpp"
#include "host/nn/deterministic_model.hpp"
#include "host/nn/phi.hpp"
#include "host/space/config.hpp"

namespace sparse::nn {

// Epochs at the final coefficient α after annealing, when the schedule is the Config's own.
inline constexpr int kFinalEpochs = 5;

struct TrainSettings {
  Method method = Method::spvd;
  int epochs = 0;             // variational-phase epochs; 0 = zero-regularization + annealing + kFinalEpochs
  int pretrain_epochs = -1;   // -1: 2 when the Config asks for pretraining and nothing was inherited, else 0
  int batch_size = 64;
  double lr = 1e-3;
  double log_variance_lr_scale = 1;  // Network::set_log_variance_lr_scale
  size_t train_limit = 0;     // images per epoch (0 = the whole training split)
  size_t val_limit = 0;       // validation images scored after each epoch (0 = all); the final score uses all
  int calibration_images = 256;  // int8 calibration subset of the training split
  bool int8 = true;           // quantize and score the int8 model at the end
  memory::WmInput wm_input = memory::WmInput::downsampled;  // how TrainResult::memory counts input downsampling
  // false: no Bayesian pruning (the paper's Figure 3a baseline): every epoch trains the deterministic network
  // (no noise, no KL), with the same epochs and learning-rate schedule, and the result is the dense network.
  bool pruning = true;
  uint64_t seed = 0;
  std::function<void(const nlohmann::json&)> on_epoch;  // one object per epoch (see EpochReport keys)
  // Multi-fidelity: called after every epoch but the last with (epoch 1.., validation accuracy of that epoch);
  // true ends training there, and the trial is finished and scored as it stands (TrainResult::stopped_at_epoch).
  std::function<bool(int, double)> stop_after_epoch;
};

struct TrainResult {
  bool ok = true;
  std::string error;          // "diverged at epoch e, step s: ..." when !ok
  double initial_val_acc = -1;  // before training (meaningful with inheritance)
  double val_acc = 0, test_acc = 0, int8_test_acc = -1;
  double pruned_share = 0;
  int epochs_run = 0, pretrain_epochs = 0;
  int stopped_at_epoch = 0;       // > 0 when stop_after_epoch ended training after that epoch
  std::vector<double> val_curve;  // validation accuracy after each epoch (val_limit images)
  std::vector<double> pruned_curve;  // share of weights pruned after each epoch (Network::pruned_share)
  std::vector<double> loss_curve;    // mean training loss of each epoch (CE + γ·KL/N with the epoch's last KL)
  double seconds = 0;
  InheritReport inherit;
  memory::PruningState pruning;
  memory::MemoryReport memory;  // eq. 4-6 at 8 bits on the pruned network
  DeterministicModel model;
  Phi phi;
  nlohmann::json summary() const;  // every scalar above plus per-layer non-zeros and active channels
};

TrainResult train(Backend& backend, const space::Config& config, const data::Dataset& data, const TrainSettings& settings,
                  const Phi* reference = nullptr);

// Accuracy of the network's evaluation weights on `set` (batches of the network's capacity).
double evaluate(Network& net, const data::ImageSet& set, const data::Normalization& norm, size_t limit = 0);

// Checks that the Config matches the dataset (input shape, classes); the error names the field.
void check_config_matches(const space::Config& c, const data::Dataset& data);

}  // namespace sparse::nn
