// FC branch widths of a Config (REFERENCE.md §2): total-fc-layer-weights W is shared by the hidden FC layers that
// exist (main when num-fc-layers = 1, left, right) in proportion to their normalized weight fractions; a layer with
// F inputs and share s gets max(1, floor(s·W / F)) units; a Sum merge forces equal widths. Written once for the
// graph (host/graph) and for validation (host/space), which rejects hidden layers narrower than min_hidden_fc_width.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "host/space/config.hpp"

namespace sparse::space {

// A hidden FC layer with fewer units than this is a bottleneck that reads the classes from one or two numbers:
// such Configs are unbuildable (sampling and morphs reject them). min(classes, 16): a 62-class head needs no
// 62-unit hidden layer, a 2-class one may use 2.
inline int min_hidden_fc_width(int num_classes) { return std::min(num_classes, 16); }

struct FcWidths {
  std::array<bool, 3> has{};    // main (num-fc-layers = 1), left, right
  std::array<int, 3> width{};   // units (0 where !has)
};

// `source_size[i]`: flattened input size of branch i (main: last block, left: block 1 output, right: block 1 input);
// `main_flatten` = source_size[0], the main branch's width when num-fc-layers = 0 and a Sum merge needs it.
inline FcWidths fc_widths(const Config& c, const std::array<int64_t, 3>& source_size) {
  FcWidths r;
  r.has = {c.num_fc_layers >= 1, c.left_branch, c.right_branch};
  const double fraction[3] = {c.weight_fraction_main_branch, c.weight_fraction_left_branch,
                              c.weight_fraction_right_branch};
  double fsum = 0;
  int nfc = 0;
  for (int i = 0; i < 3; ++i)
    if (r.has[static_cast<size_t>(i)]) {
      fsum += fraction[i];
      ++nfc;
    }
  for (size_t i = 0; i < 3; ++i) {
    if (!r.has[i]) continue;
    const double share = fsum > 0 ? fraction[i] / fsum : 1.0 / nfc;
    const double w = std::floor(share * c.total_fc_layer_weights / static_cast<double>(source_size[i]));
    r.width[i] = static_cast<int>(std::clamp(w, 1.0, double(1 << 30)));
  }
  if (c.has_merge() && c.merge_type == MergeType::Sum) {
    int target = 0;
    if (c.num_fc_layers >= 1) {
      target = r.width[0];
      for (size_t i = 1; i < 3; ++i)
        if (r.has[i]) target = std::min(target, r.width[i]);
    } else {
      target = static_cast<int>(std::min<int64_t>(source_size[0], int64_t{1} << 30));
    }
    for (size_t i = 0; i < 3; ++i)
      if (r.has[i]) r.width[i] = target;
  }
  return r;
}

}  // namespace sparse::space
