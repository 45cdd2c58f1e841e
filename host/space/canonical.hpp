// Canonical form of a Config: every inactive variable set to the space's default, so that two Configs that build
// the same network with the same training are equal (as Configs, as JSON and in the GP's encoding).
// Inactive here means "has no effect": besides Table 5's conditions, a weight fraction when only one hidden FC layer
// exists (its share is 1 whatever the fraction), total-fc-layer-weights when no hidden FC layer exists, and the
// residual switch when no block has two layers.
// Invariant: canonical(canonical(c)) == canonical(c); build_graph(canonical(c)) equals build_graph(c).
#pragma once
#include <string>

#include "host/space/config.hpp"
#include "host/space/space.hpp"

namespace sparse::space {

Config canonical(const Config& c, const Space& s);
// The canonical Config as compact JSON: equal keys mean the same trial.
std::string canonical_key(const Config& c, const Space& s);

}  // namespace sparse::space
