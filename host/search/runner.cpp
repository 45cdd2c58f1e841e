// SearchRunner (see runner.hpp): one SpArSe trial on one device slot.
#include "host/search/runner.hpp"

#include <new>
#include <optional>

#include "host/core/error.hpp"
#include "host/nn/backend_factory.hpp"
#include "host/nn/phi.hpp"
#include "host/nn/trainer.hpp"
#include "host/search/early_stop.hpp"
#include "host/search/front.hpp"
#include "host/search/refine.hpp"

namespace sparse::search {

namespace {
std::string device_of(const DeviceSlot& slot) { return slot.cuda ? "cuda:" + std::to_string(slot.device) : "cpu"; }
}  // namespace

SearchRunner::SearchRunner(const SearchSettings& settings, const space::Space& space, const data::Dataset& data,
                           SessionStore& store, BackendFactory make_backend)
    : s_(settings),
      objectives_(parse_objectives(settings.objectives)),
      space_(space),
      data_(data),
      store_(store),
      make_backend_(std::move(make_backend)) {
  if (!make_backend_)
    make_backend_ = [](const DeviceSlot& slot) { return nn::make_backend(device_of(slot), slot.threads); };
}

Backend& SearchRunner::backend_for(const DeviceSlot& slot) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = backends_.find(slot.name);
    if (it != backends_.end()) return *it->second;
  }
  std::unique_ptr<Backend> b;
  const std::string device = device_of(slot);
  try {
    b = make_backend_(slot);
  } catch (const std::exception& e) {
    throw DeviceFailure(device, "create backend", "cannot create the backend of slot " + slot.name + ": " + e.what());
  }
  std::lock_guard<std::mutex> lock(mu_);
  return *(backends_[slot.name] = std::move(b));
}

void SearchRunner::drop_backend(const DeviceSlot& slot) {
  std::unique_ptr<Backend> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = backends_.find(slot.name);
    if (it == backends_.end()) return;
    dropped = std::move(it->second);
    backends_.erase(it);
  }
  // Destroyed here, outside the lock; the trial's buffers were freed while unwinding out of nn::train.
}

TrialOutcome SearchRunner::operator()(const store::TrialRecord& t, const DeviceSlot& slot) {
  TrialOutcome out = run(t, slot);  // a DeviceFailure leaves here, its trial to be re-queued
  std::vector<std::string> failures;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = device_failures_.find(t.id);
    if (it != device_failures_.end()) {
      failures = std::move(it->second);
      device_failures_.erase(it);
    }
  }
  if (!failures.empty()) {
    if (out.ok)
      out.result.metrics["device_failures"] = failures;
    else
      store_.set_failure_metrics(t.id, {{"device_failures", failures}});
  }
  return out;
}

TrialOutcome SearchRunner::run(const store::TrialRecord& t, const DeviceSlot& slot) {
  TrialOutcome out;
  const uint64_t seed = trial_seed(s_.seed, t.id);
  store_.set_failure_metrics(t.id, {{"device", slot.name}, {"seed", seed}});
  space::Config config;
  try {
    config = space::config_from_json(t.config);
    space::validate(config, space_);
    nn::check_config_matches(config, data_);
  } catch (const std::exception& e) {
    out.error = std::string("bad config: ") + e.what();
    return out;
  }
  std::optional<nn::Phi> reference;
  if (t.reference_id) {
    std::optional<std::vector<uint8_t>> bytes;
    try {
      bytes = store_.get_phi(*t.reference_id);
    } catch (const std::exception& e) {
      out.error = std::string("cannot inherit: ") + e.what();
      return out;
    }
    if (!bytes) {
      out.error = "reference trial " + std::to_string(*t.reference_id) + " has no φ in the store";
      return out;
    }
    try {
      reference = nn::parse_phi(*bytes, "φ of trial " + std::to_string(*t.reference_id));
    } catch (const std::exception& e) {
      out.error = std::string("cannot inherit: ") + e.what();
      return out;
    }
  }
  nn::TrainSettings st;
  st.method = objectives_.method;
  st.epochs = t.proposal.value("train_epochs", t.reference_id ? s_.morph_epochs : s_.epochs);
  const bool refinement = is_refinement(t);
  st.pretrain_epochs = refinement ? 0 : s_.pretrain_epochs;  // a refinement continues a trained φ
  st.batch_size = s_.batch_size;
  st.lr = s_.lr;
  st.log_variance_lr_scale = s_.log_variance_lr_scale;
  st.pruning = s_.pruning;
  st.train_limit = static_cast<size_t>(s_.train_limit);
  st.val_limit = static_cast<size_t>(s_.val_limit);
  st.calibration_images = s_.calibration_images;
  st.int8 = s_.int8;
  st.wm_input = s_.wm_input;
  st.seed = seed;
  std::optional<MedianStop> median;
  nlohmann::json stop_record;
  if (s_.early_stop == "median" && !refinement) {
    median.emplace(store_.list_trials(t.search_id, store::TrialState::Done), t.reference_id.has_value(),
                   s_.early_stop_peers);
    st.stop_after_epoch = [&](int epoch, double val) {
      if (!median->should_stop(epoch, val)) return false;
      stop_record = {{"rule", "median"},
                     {"epoch", epoch},
                     {"val_acc", val},
                     {"median", *median->median_at(epoch)},
                     {"peers", median->peers_at(epoch)}};
      return true;
    };
  }
  nn::TrainResult r;
  try {
    Backend& backend = backend_for(slot);
    r = nn::train(backend, config, data_, st, reference ? &*reference : nullptr);
  } catch (const DeviceError& e) {  // the device failed, not the trial: re-queued by the scheduler
    drop_backend(slot);
    const std::string device = e.device().empty() ? device_of(slot) : e.device();
    {
      std::lock_guard<std::mutex> lock(mu_);
      device_failures_[t.id].push_back(slot.name + ": " + e.what());
    }
    throw DeviceFailure(device, e.op(), e.reason(), e.expression().c_str(), e.file().c_str(), e.line());
  } catch (const std::bad_alloc&) {
    out.error = "out of memory while training on " + slot.name;
    return out;
  } catch (const std::exception& e) {
    out.error = std::string("training failed: ") + e.what();
    return out;
  }
  if (!r.ok) {
    nlohmann::json m = r.summary();
    m["device"] = slot.name;
    m["seed"] = seed;
    store_.set_failure_metrics(t.id, m);
    out.error = r.error;
    return out;
  }
  store::TrialResult& res = out.result;
  res.epochs = r.epochs_run;
  res.val_acc = r.val_acc;
  res.test_acc = r.test_acc;
  if (st.int8) res.int8_acc = r.int8_test_acc;
  res.ms_bytes = r.memory.ms_bytes;
  res.wm5_bytes = r.memory.wm5_bytes;
  res.wm6_bytes = r.memory.wm6_bytes;
  res.nonzeros = r.memory.nonzero;
  res.metrics = r.summary();
  res.metrics["inherit"] = {
      {"reference_id", t.reference_id ? nlohmann::json(*t.reference_id) : nlohmann::json(nullptr)},
      {"inherited", r.inherit.inherited},
      {"total", r.inherit.total},
      {"tensors_copied", r.inherit.tensors_copied},
      {"tensors_sliced", r.inherit.tensors_sliced},
      {"tensors_fresh", r.inherit.tensors_fresh}};
  if (!stop_record.is_null()) res.metrics["early_stop"] = stop_record;
  res.metrics["seed"] = st.seed;
  res.metrics["calibration_images"] = st.calibration_images;  // int8: nn::quantize_trained(model, data, this, seed)
  res.metrics["device"] = slot.name;
  res.metrics["method"] = nn::to_string(st.method);
  res.metrics["pruning"] = st.pruning;
  store::TrialRecord measured = t;
  measured.state = store::TrialState::Done;
  measured.val_acc = res.val_acc;
  measured.ms_bytes = res.ms_bytes;
  measured.wm5_bytes = res.wm5_bytes;
  measured.wm6_bytes = res.wm6_bytes;
  res.metrics["feasible"] = feasible(measured, s_);
  out.phi = nn::serialize_phi(r.phi);
  out.ok = true;
  return out;
}

}  // namespace sparse::search
