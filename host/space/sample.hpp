// Uniform random Configs from a Space (Table 5): every active variable uniform over its grid or levels,
// inactive ones at the space's default; a draw whose network cannot be built is rejected and redrawn.
// Invariant: a returned Config passes validate(config, space).
#pragma once
#include <cstdint>

#include "host/core/philox.hpp"
#include "host/space/config.hpp"

namespace sparse::space {

struct SampleStats {
  uint64_t accepted = 0, rejected = 0;
  double rejection_rate() const {
    const uint64_t n = accepted + rejected;
    return n ? static_cast<double>(rejected) / static_cast<double>(n) : 0.0;
  }
};

// Uniform value helpers over one VarSpec (used by sampling and by morphs that resample a value).
double sample_number(const VarSpec& s, PhiloxStream& rng);
bool sample_bool(const VarSpec& s, PhiloxStream& rng);
int sample_level(const VarSpec& s, PhiloxStream& rng);  // index into s.levels
// The space's default merge-type (the value an inactive merge-type keeps).
MergeType default_merge_type(const Space& space);

// One conv layer drawn uniformly (used for new layers created by morphs too).
ConvLayer sample_conv_layer(const Space& space, PhiloxStream& rng);

// One draw without the buildability check (may be unbuildable).
Config sample_config_unchecked(const Space& space, PhiloxStream& rng);
// Draws until the Config is valid; `stats` (optional) counts accepted and rejected draws.
// Throws when max_attempts draws in a row are rejected (a space with no buildable config).
Config sample_config(const Space& space, PhiloxStream& rng, SampleStats* stats = nullptr, int max_attempts = 100000);

}  // namespace sparse::space
