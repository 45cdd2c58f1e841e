// Feature encoding of a Config for the GP (REFERENCE.md §7), fixed length for a given Space.
// Contract with gp/: numeric values in [0, 1] (log scale where the space says "log": num-filters,
// total-fc-layer-weights), categoricals as level indices (booleans: 2 levels, false = 0, true = 1),
// activity masks of the same lengths (1 = active). Inactive variables carry fixed imputed values:
// 0.5 numeric, 0 categorical, so two configs with the same active values encode identically.
//
// Dimensions, in order (B = max blocks, L = max layers per block of the space):
//  numeric:
//   input-downsampling-rate            active iff downsample-input
//   zero-regularization-epochs, annealing-epochs, alpha          always
//   num-conv-blocks, num-fc-layers, total-fc-layer-weights (log) always
//   weight-fraction-main-branch        active iff num-fc-layers >= 1
//   weight-fraction-left-branch        active iff left-branch
//   weight-fraction-right-branch       active iff right-branch
//   pruning-threshold-fc-{main,left,right,output}  active iff that FC layer exists
//   for k < B: num-conv-layers-block-k active iff block k exists
//   for k < B, l < L: kernel-size-block-k-layer-l, num-filters-block-k-layer-l (log),
//     pruning-thresholds-block-k-layer-l   active iff the layer exists;
//     downsample-block-k-layer-l          active iff the layer exists and is DownsampledConv2D
//  categorical (levels):
//   downsample-input-in-depth (2), downsample-input (2), pretraining (2), batch-norm (2),
//   residual-connections (2), left-branch (2), right-branch (2)          always
//   merge-type (levels of the space)   active iff left-branch or right-branch
//   for k < B, l < L: layer-type-block-k-layer-l, padding-block-k-layer-l (levels of the space),
//     active iff the layer exists
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "host/space/config.hpp"

namespace sparse::space {

struct Encoding {
  std::vector<double> numeric;  // each in [0, 1]
  std::vector<int> categorical;  // level index per categorical variable
  std::vector<uint8_t> numeric_active, categorical_active;  // 1 = active
};

struct EncodingLayout {
  std::vector<std::string> numeric_names;
  std::vector<std::string> categorical_names;
  std::vector<int> categorical_levels;
};

inline constexpr double kImputedNumeric = 0.5;
inline constexpr int kImputedCategorical = 0;

EncodingLayout encoding_layout(const Space& s);
// `c` must be valid for `s` (its block and layer counts within the space).
Encoding encode(const Config& c, const Space& s);
// Same, reusing the vectors of `out` (no allocation once sized).
void encode_into(const Config& c, const Space& s, Encoding& out);

}  // namespace sparse::space
