// int8_accuracy(): calibration subset drawn from the training split, TFLite-scheme quantization, integer-only
// executor on the test split (REFERENCE.md §6).
#include "host/nn/int8_eval.hpp"

#include <algorithm>
#include <numeric>

#include "host/core/philox.hpp"
#include "host/core/threads.hpp"
#include "host/nn/int8_executor.hpp"
#include "host/nn/quantize.hpp"

namespace sparse::nn {

QuantizedModel quantize_trained(const DeterministicModel& model, const data::Dataset& data, size_t calibration,
                                uint64_t seed) {
  std::vector<size_t> order(data.train.size());
  std::iota(order.begin(), order.end(), size_t{0});
  PhiloxStream rng(seed, 0xca1b);
  rng.shuffle(order.begin(), order.end());
  order.resize(std::min(order.size(), std::max<size_t>(1, calibration)));
  const data::ImageSet cal = data.train.subset(order);
  return quantize(model, calibrate(model, cal, data.norm));
}

double int8_accuracy(const DeterministicModel& model, const data::Dataset& data, size_t calibration, uint64_t seed) {
  return int8_accuracy(quantize_trained(model, data, calibration, seed), data.test, data.norm, 0, SIZE_MAX,
                       hardware_threads());
}

}  // namespace sparse::nn
