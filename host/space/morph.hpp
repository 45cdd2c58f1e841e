// Morphs of Table 6 (Appendix C): each is one named function that changes exactly what the table says,
// plus the pruning-parameter morphs stage 2 uses. A morph function returns false and leaves the Config
// unchanged when it does not apply (e.g. downsampling-rate without a DownsampledConv2D layer).
// Invariant: morph() returns only Configs that pass validate(); it retries draws that would not build.
#pragma once
#include <string>
#include <vector>

#include "host/core/philox.hpp"
#include "host/space/config.hpp"

namespace sparse::space {

enum class MorphKind {
  num_fc_layers, num_conv_blocks, layer_type, num_conv_filters, kernel_size, downsampling_rate, batch_norm,
  residual_connections, left_branch, right_branch, total_fc_layer_weights, merge_type, threshold, weight_fraction,
  alpha, num_conv_layers, zero_regularization_epochs, annealing_epochs
};
inline constexpr int kNumMorphKinds = 18;

const char* to_string(MorphKind m);        // Table 6 name, e.g. "kernel-size"
MorphKind morph_kind_from_string(const std::string& name);
std::vector<MorphKind> all_morphs();
// §3.5 stages: 1 and 3 allow every morph (stage 3 restricts references, not morphs); 2 only pruning parameters
// (threshold, alpha, zero-regularization-epochs, annealing-epochs).
std::vector<MorphKind> stage_morphs(int stage);

// Table 6, one function per row. Each draws from `rng` and edits `c` in place.
bool morph_num_fc_layers(Config& c, const Space& s, PhiloxStream& rng);         // ±1
bool morph_num_conv_blocks(Config& c, const Space& s, PhiloxStream& rng);       // ±1; a new block has 1 layer
bool morph_layer_type(Config& c, const Space& s, PhiloxStream& rng);            // one random conv layer
bool morph_num_conv_filters(Config& c, const Space& s, PhiloxStream& rng);      // one random conv layer
bool morph_kernel_size(Config& c, const Space& s, PhiloxStream& rng);           // one random conv layer
bool morph_downsampling_rate(Config& c, const Space& s, PhiloxStream& rng);     // one DownsampledConv2D layer
bool morph_batch_norm(Config& c, const Space& s, PhiloxStream& rng);            // switch
bool morph_residual_connections(Config& c, const Space& s, PhiloxStream& rng);  // switch
bool morph_left_branch(Config& c, const Space& s, PhiloxStream& rng);   // switch; on => weight fraction 0.05
bool morph_right_branch(Config& c, const Space& s, PhiloxStream& rng);  // switch; on => weight fraction 0.05
bool morph_total_fc_layer_weights(Config& c, const Space& s, PhiloxStream& rng);  // ±5e3
bool morph_merge_type(Config& c, const Space& s, PhiloxStream& rng);              // switch (when a branch exists)
bool morph_threshold(Config& c, const Space& s, PhiloxStream& rng);  // one active pruning threshold ±0.5
bool morph_weight_fraction(Config& c, const Space& s, PhiloxStream& rng);  // every active fraction ±0.05
bool morph_alpha(Config& c, const Space& s, PhiloxStream& rng);            // ±0.1
bool morph_num_conv_layers(Config& c, const Space& s, PhiloxStream& rng);  // one random block ±1
// Pruning-schedule parameters (Table 5, searched in stage 2): resampled uniformly to a different value.
bool morph_zero_regularization_epochs(Config& c, const Space& s, PhiloxStream& rng);
bool morph_annealing_epochs(Config& c, const Space& s, PhiloxStream& rng);

// Apply the morph `m` (dispatch to the functions above).
bool apply_morph(MorphKind m, Config& c, const Space& s, PhiloxStream& rng);

struct MorphResult {
  Config config;
  std::vector<MorphKind> applied;  // in order of application
};

// Draw k uniform in [1, max_morphs] and apply k morphs chosen uniformly from `allowed`, each one kept only
// when the result validates (up to 64 draws per step). Throws when none of `allowed` applies.
MorphResult morph(const Config& reference, const Space& s, PhiloxStream& rng, const std::vector<MorphKind>& allowed,
                  int max_morphs = 3);

}  // namespace sparse::space
