// int8 evaluation of a trained model (REFERENCE.md §6): calibrate on a training subset, quantize, and score the
// integer-only executor on the test split. The trainer's int8 accuracy and codegen's exported model both come
// from quantize_trained(), so they are the same integers.
#pragma once
#include <cstddef>
#include <cstdint>

#include "datasets/preset.hpp"
#include "host/nn/deterministic_model.hpp"
#include "host/nn/quantize.hpp"

namespace sparse::nn {

// The int8 model of a trained network: calibration on `calibration` training images drawn with `seed`.
QuantizedModel quantize_trained(const DeterministicModel& model, const data::Dataset& data, size_t calibration,
                                uint64_t seed);

// Accuracy of quantize_trained(...) on data.test.
double int8_accuracy(const DeterministicModel& model, const data::Dataset& data, size_t calibration, uint64_t seed);

}  // namespace sparse::nn
