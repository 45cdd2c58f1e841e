// train(): the SpArSe training schedule of one trial (see trainer.hpp), evaluation and the trial summary.
#include "host/nn/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "datasets/batches.hpp"
#include "host/core/error.hpp"
#include "host/nn/int8_eval.hpp"

namespace sparse::nn {

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Diverged {
  std::string message;
};

bool all_finite(Network& net) {
  for (auto& p : net.params()) {
    for (float v : p.value.download())
      if (!std::isfinite(v)) return false;
  }
  return true;
}

}  // namespace

void check_config_matches(const space::Config& c, const data::Dataset& data) {
  const auto& s = data.train.shape;
  SPARSE_CHECK(c.input_height == s.height && c.input_width == s.width && c.input_channels == s.channels,
               "config field 'input' is " << c.input_height << "x" << c.input_width << "x" << c.input_channels
                                          << ", dataset " << data.name << " has images of " << s.height << "x" << s.width
                                          << "x" << s.channels);
  SPARSE_CHECK(c.num_classes == data.train.num_classes, "config field 'num-classes' is " << c.num_classes << ", dataset "
                                                                                         << data.name << " has "
                                                                                         << data.train.num_classes);
}

double evaluate(Network& net, const data::ImageSet& set, const data::Normalization& norm, size_t limit) {
  const size_t total = limit ? std::min(limit, set.size()) : set.size();
  if (total == 0) return 0.0;
  data::BatchOptions bo;
  bo.batch_size = static_cast<size_t>(net.batch_capacity());
  bo.shuffle = false;  // file order: the first `total` images
  data::BatchIterator it(set, norm, bo);
  it.start_epoch(0);
  data::Batch batch;
  int64_t correct = 0;
  size_t seen = 0;
  while (seen < total && it.next(batch)) {
    const size_t n = std::min(batch.size, total - seen);
    net.set_batch(batch.x.data(), batch.y.data(), static_cast<int>(n));
    correct += net.eval_batch();
    seen += n;
  }
  return double(correct) / double(total);
}

TrainResult train(Backend& backend, const space::Config& config, const data::Dataset& data, const TrainSettings& st,
                  const Phi* reference) {
  check_config_matches(config, data);
  SPARSE_CHECK(st.batch_size >= 1, "batch size " << st.batch_size << ": expected >= 1");
  SPARSE_CHECK(st.lr > 0 && std::isfinite(st.lr), "learning rate " << st.lr << ": expected a positive number");
  SPARSE_CHECK(data.train.size() >= static_cast<size_t>(st.batch_size),
               "training split of " << data.train.size() << " images is smaller than the batch size " << st.batch_size);
  const double t0 = now_s();
  TrainResult r;
  Network net(backend, config, st.method, st.batch_size, st.seed);
  net.set_log_variance_lr_scale(static_cast<float>(st.log_variance_lr_scale));
  net.set_pruning(st.pruning);
  if (reference) r.inherit = inherit_phi(net, *reference);

  auto eval_now = [&](size_t limit) {
    DeterministicModel m = net.deterministic_model();
    net.load_eval_weights(m);
    return evaluate(net, data.val, data.norm, limit);
  };
  if (reference) r.initial_val_acc = eval_now(st.val_limit);

  const int schedule_epochs = config.zero_regularization_epochs + config.annealing_epochs + kFinalEpochs;
  const int var_epochs = st.epochs > 0 ? st.epochs : schedule_epochs;
  const int pre_epochs = st.pretrain_epochs >= 0 ? st.pretrain_epochs
                                                 : (config.pretraining && r.inherit.inherited == 0 ? 2 : 0);
  r.pretrain_epochs = pre_epochs;

  data::BatchOptions bo;
  bo.batch_size = static_cast<size_t>(st.batch_size);
  bo.drop_last = true;
  bo.seed = st.seed;
  data::BatchIterator it(data.train, data.norm, bo);
  const size_t full = it.batches_per_epoch();
  const size_t per_epoch =
      st.train_limit ? std::max<size_t>(1, std::min(full, st.train_limit / static_cast<size_t>(st.batch_size))) : full;
  const double steps_var = double(per_epoch) * var_epochs;
  // γ schedule in steps (REFERENCE.md §5), the Config's epoch counts as shares of the variational phase.
  const double zr_end = steps_var * config.zero_regularization_epochs / schedule_epochs;
  const double an_end = zr_end + steps_var * config.annealing_epochs / schedule_epochs;
  const double n_train = double(data.train.size());
  auto gamma_at = [&](double t) {
    if (t < zr_end) return 0.0;
    if (t < an_end) return config.alpha * (t - zr_end) / std::max(1.0, an_end - zr_end);
    return config.alpha;
  };
  auto lr_at = [&](double t) {  // t in [0, 1] of the variational phase
    return t < 0.5 ? st.lr : st.lr * (1.0 - 0.9 * (t - 0.5) / 0.5);
  };

  uint64_t step = 0;
  data::Batch batch;
  std::vector<double> gammas;  // γ of each step of the epoch (the divergence message)
  gammas.reserve(per_epoch);
  try {
    for (int e = 0; e < pre_epochs + var_epochs; ++e) {
      const double te = now_s();
      const bool pre = e < pre_epochs;
      const Mode mode = pre || !st.pruning ? Mode::deterministic : Mode::variational;
      double ce_sum = 0, kl_last = 0, gamma = 0, lr = st.lr;
      int64_t correct = 0, seen = 0;
      // The steps' statistics stay on the backend until drained (every Network::kStatsSlots steps and at the end
      // of the epoch), so the device is not waited for at every step; the first non-finite step is reported as
      // before, with its own γ.
      gammas.clear();
      size_t drained = 0;
      auto drain = [&] {
        int64_t dropped = 0;
        const std::vector<StepStats> steps = net.drain_stats(&dropped);
        SPARSE_CHECK(dropped == 0, "training statistics of " << dropped << " steps were overwritten before being read");
        for (const StepStats& s : steps) {
          const size_t b = drained++;
          if (!std::isfinite(s.ce) || !std::isfinite(s.kl))
            throw Diverged{"diverged at epoch " + std::to_string(e + 1) + ", step " + std::to_string(b + 1) +
                           ": loss is " + std::to_string(s.ce + gammas[b] * s.kl / n_train)};
          ce_sum += s.ce;
          kl_last = s.kl;
          correct += s.correct;
        }
      };
      it.start_epoch(static_cast<uint64_t>(e));
      for (size_t b = 0; b < per_epoch && it.next(batch); ++b) {
        ++step;
        const double tv = pre ? 0.0 : double(e - pre_epochs) * double(per_epoch) + double(b);
        gamma = pre || !st.pruning ? 0.0 : gamma_at(tv);
        lr = pre ? st.lr : lr_at(tv / std::max(1.0, steps_var));
        net.set_batch(batch.x.data(), batch.y.data(), static_cast<int>(batch.size));
        net.train_step(mode, static_cast<float>(gamma / n_train), static_cast<float>(lr), step);
        gammas.push_back(gamma);
        seen += static_cast<int64_t>(batch.size);
        if (net.pending_stats() >= Network::kStatsSlots) drain();
      }
      drain();
      if (!all_finite(net))
        throw Diverged{"diverged at epoch " + std::to_string(e + 1) + ", step " + std::to_string(per_epoch) +
                       ": a parameter is NaN or inf"};
      const double val = eval_now(st.val_limit);
      const double share = net.pruned_share();
      r.epochs_run = e + 1;
      r.val_curve.push_back(val);
      const double ce = ce_sum / double(std::max<size_t>(1, per_epoch));
      r.pruned_curve.push_back(share);
      r.loss_curve.push_back(ce + gamma * kl_last / n_train);
      if (st.on_epoch) {
        st.on_epoch({{"epoch", e + 1},
                     {"phase", pre ? "pretrain" : st.pruning ? "variational" : "dense"},
                     {"loss", ce + gamma * kl_last / n_train},
                     {"ce", ce},
                     {"kl", kl_last},
                     {"gamma", gamma},
                     {"lr", lr},
                     {"train_acc", seen ? double(correct) / double(seen) : 0.0},
                     {"val_acc", val},
                     {"pruned_share", share},
                     {"seconds", now_s() - te}});
      }
      if (st.stop_after_epoch && e + 1 < pre_epochs + var_epochs && st.stop_after_epoch(e + 1, val)) {
        r.stopped_at_epoch = e + 1;
        break;
      }
    }
  } catch (const Diverged& d) {
    r.ok = false;
    r.error = d.message;
    r.seconds = now_s() - t0;
    return r;
  }

  r.model = net.deterministic_model();
  net.load_eval_weights(r.model);
  r.val_acc = evaluate(net, data.val, data.norm);
  r.test_acc = evaluate(net, data.test, data.norm);
  r.pruned_share = net.pruned_share();
  r.pruning = pruning_state(r.model);
  r.memory = memory::memory_report(r.model.graph, r.pruning, 8, 8, st.wm_input);
  if (st.int8) r.int8_test_acc = int8_accuracy(r.model, data, static_cast<size_t>(st.calibration_images), st.seed);
  r.phi = phi_of(net);
  r.seconds = now_s() - t0;
  return r;
}

nlohmann::json TrainResult::summary() const {
  nlohmann::json j = {{"ok", ok},
                      {"val_acc", val_acc},
                      {"test_acc", test_acc},
                      {"int8_test_acc", int8_test_acc},
                      {"initial_val_acc", initial_val_acc},
                      {"pruned_share", pruned_share},
                      {"epochs", epochs_run},
                      {"val_curve", val_curve},
                      {"pruned_curve", pruned_curve},
                      {"loss_curve", loss_curve},
                      {"stopped_at_epoch", stopped_at_epoch},
                      {"pretrain_epochs", pretrain_epochs},
                      {"seconds", seconds},
                      {"inherited_params", inherit.inherited},
                      {"params_total", inherit.total}};
  if (!ok) {
    j["error"] = error;
    return j;
  }
  j["params"] = memory.params;
  j["nonzero"] = memory.nonzero;
  j["ms_bytes"] = memory.ms_bytes;
  j["wm5_bytes"] = memory.wm5_bytes;
  j["wm6_bytes"] = memory.wm6_bytes;
  nlohmann::json layers = nlohmann::json::array();
  for (size_t i = 0; i < model.graph.nodes.size(); ++i) {
    const auto& n = model.graph.nodes[i];
    if (!n.has_weights()) continue;
    layers.push_back({{"name", n.name},
                      {"params", n.weights},
                      {"nonzero", pruning.nonzero_weights[i]},
                      {"channels", n.out.c},
                      {"active_channels", pruning.active_channels[i]}});
  }
  j["layers"] = layers;
  return j;
}

}  // namespace sparse::nn
