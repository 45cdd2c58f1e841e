// DatasetOptions <-> JSON: the "data" object of a search's settings and of a `sparse train --out` summary.json.
// Invariant: from_json(to_json(o)) == o; every key but "name" may be missing (older files), and then takes the
// DatasetOptions default; a key of the wrong type is an error naming the origin and the key.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "datasets/preset.hpp"

namespace sparse::data {

nlohmann::json dataset_options_to_json(const DatasetOptions& o);
DatasetOptions dataset_options_from_json(const nlohmann::json& j, const std::string& origin);

}  // namespace sparse::data
