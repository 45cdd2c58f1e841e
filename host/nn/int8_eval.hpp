// int8 evaluation of a trained model (REFERENCE.md §6): calibrate on a training subset, quantize, and score the
// integer-only executor on the test split.
#pragma once
#include <cstddef>
#include <cstdint>

#include "datasets/preset.hpp"
#include "host/nn/deterministic_model.hpp"

namespace sparse::nn {

// Accuracy of the int8 model on data.test; calibration uses `calibration` training images drawn with `seed`.
double int8_accuracy(const DeterministicModel& model, const data::Dataset& data, size_t calibration, uint64_t seed);

}  // namespace sparse::nn
