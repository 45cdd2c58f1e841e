// Loading and checking the search-space file (Table 5): ranges are data, names and conditions are the engine's.
#include "host/space/space.hpp"

#include <cmath>
#include <sstream>

#include "host/core/error.hpp"
#include "host/core/file_io.hpp"

namespace sparse::space {

int VarSpec::count() const {
  if (type == VarType::categorical || type == VarType::boolean) return static_cast<int>(levels.size());
  return static_cast<int>(std::llround((hi - lo) / step)) + 1;
}

double VarSpec::grid(int i) const {
  const double v = lo + step * i;
  return type == VarType::integer ? std::round(v) : std::round(v * 1e6) / 1e6;
}

long VarSpec::nearest_index(double v) const { return std::lround((v - lo) / step); }

bool VarSpec::on_grid(double v) const {
  if (!std::isfinite(v)) return false;
  const long i = nearest_index(v);
  if (i < 0 || i >= count()) return false;
  return std::fabs(grid(static_cast<int>(i)) - v) <= 1e-6 * std::max(1.0, std::fabs(step));
}

bool VarSpec::allows(bool b) const {
  for (const auto& l : levels)
    if (l == (b ? "true" : "false")) return true;
  return false;
}

int VarSpec::level_index(const std::string& level) const {
  for (size_t i = 0; i < levels.size(); ++i)
    if (levels[i] == level) return static_cast<int>(i);
  return -1;
}

std::string VarSpec::range_text() const {
  std::ostringstream os;
  if (type == VarType::categorical || type == VarType::boolean) {
    os << "{";
    for (size_t i = 0; i < levels.size(); ++i) os << (i ? ", " : "") << levels[i];
    os << "}";
  } else {
    os << "[" << lo << ":" << step << ":" << hi << "]";
  }
  return os.str();
}

std::filesystem::path default_space_path() { return std::filesystem::path(SPARSE_SPACE_DIR) / "default_space.json"; }

namespace {

struct Expected {
  const char* name;
  VarSpec Space::*member;
  VarType type;
  const char* condition;
  std::vector<std::string> known_levels;  // categorical: the engine's level names
};

const std::vector<Expected>& expected_variables() {
  static const std::vector<Expected> e = {
      {"downsample-input-in-depth", &Space::downsample_input_in_depth, VarType::boolean, "", {}},
      {"downsample-input", &Space::downsample_input, VarType::boolean, "", {}},
      {"input-downsampling-rate", &Space::input_downsampling_rate, VarType::integer, "downsample-input", {}},
      {"pretraining", &Space::pretraining, VarType::boolean, "", {}},
      {"zero-regularization-epochs", &Space::zero_regularization_epochs, VarType::integer, "", {}},
      {"annealing-epochs", &Space::annealing_epochs, VarType::integer, "", {}},
      {"alpha", &Space::alpha, VarType::real, "", {}},
      {"batch-norm", &Space::batch_norm, VarType::boolean, "", {}},
      {"residual-connections", &Space::residual_connections, VarType::boolean, "", {}},
      {"num-conv-blocks", &Space::num_conv_blocks, VarType::integer, "", {}},
      {"num-conv-layers", &Space::num_conv_layers, VarType::integer, "block exists", {}},
      {"layer-type", &Space::layer_type, VarType::categorical, "layer exists",
       {"Conv2D", "DownsampledConv2D", "SeparableConv2D"}},
      {"kernel-size", &Space::kernel_size, VarType::integer, "layer exists", {}},
      {"num-filters", &Space::num_filters, VarType::integer, "layer exists", {}},
      {"padding", &Space::padding, VarType::categorical, "layer exists", {"same", "valid"}},
      {"downsample", &Space::downsample, VarType::real, "layer exists && layer-type == DownsampledConv2D", {}},
      {"pruning-threshold", &Space::pruning_threshold, VarType::real, "layer exists", {}},
      {"num-fc-layers", &Space::num_fc_layers, VarType::integer, "", {}},
      {"total-fc-layer-weights", &Space::total_fc_layer_weights, VarType::integer, "", {}},
      {"weight-fraction-main-branch", &Space::weight_fraction_main_branch, VarType::real, "num-fc-layers >= 1", {}},
      {"left-branch", &Space::left_branch, VarType::boolean, "", {}},
      {"right-branch", &Space::right_branch, VarType::boolean, "", {}},
      {"weight-fraction-left-branch", &Space::weight_fraction_left_branch, VarType::real, "left-branch", {}},
      {"weight-fraction-right-branch", &Space::weight_fraction_right_branch, VarType::real, "right-branch", {}},
      {"merge-type", &Space::merge_type, VarType::categorical, "left-branch || right-branch", {"Sum", "Concatenate"}},
      {"pruning-threshold-fc", &Space::pruning_threshold_fc, VarType::real, "FC layer exists", {}},
  };
  return e;
}

const char* type_name(VarType t) {
  switch (t) {
    case VarType::boolean: return "bool";
    case VarType::integer: return "int";
    case VarType::real: return "real";
    case VarType::categorical: return "categorical";
  }
  return "?";
}

VarSpec parse_var(const nlohmann::json& j, const Expected& e, const std::string& where) {
  VarSpec v;
  v.name = e.name;
  v.type = e.type;
  SPARSE_CHECK(j.is_object(), where << ": expected an object");
  const std::string type = j.value("type", "");
  SPARSE_CHECK(type == type_name(e.type), where << ".type = '" << type << "', expected '" << type_name(e.type) << "'");
  const std::string cond = j.value("condition", "");
  SPARSE_CHECK(cond == e.condition, where << ".condition = '" << cond << "', the engine implements '" << e.condition << "'");
  v.condition = cond;
  v.log_scale = j.value("log", false);
  SPARSE_CHECK(j.contains("default"), where << ": missing 'default'");
  if (e.type == VarType::integer || e.type == VarType::real) {
    SPARSE_CHECK(j.contains("range") && j["range"].is_array() && j["range"].size() == 2 && j["range"][0].is_number() &&
                     j["range"][1].is_number(),
                 where << ".range: expected [lo, hi] numbers");
    v.lo = j["range"][0].get<double>();
    v.hi = j["range"][1].get<double>();
    v.step = j.value("step", e.type == VarType::integer ? 1.0 : 0.0);
    SPARSE_CHECK(v.step > 0, where << ".step = " << v.step << ", expected > 0");
    SPARSE_CHECK(v.lo <= v.hi, where << ".range = [" << v.lo << ", " << v.hi << "], expected lo <= hi");
    if (e.type == VarType::integer)
      SPARSE_CHECK(v.lo == std::round(v.lo) && v.step == std::round(v.step),
                   where << ": integer variable needs integer lo and step, got lo " << v.lo << " step " << v.step);
    SPARSE_CHECK(std::fabs(v.grid(v.count() - 1) - v.hi) <= 1e-6 * std::max(1.0, v.step),
                 where << ": hi " << v.hi << " is not on the grid lo + k*step (lo " << v.lo << ", step " << v.step << ")");
    SPARSE_CHECK(j["default"].is_number(), where << ".default: expected a number");
    v.default_value = j["default"].get<double>();
    SPARSE_CHECK(v.on_grid(v.default_value), where << ".default = " << v.default_value << " is not in " << v.range_text());
    if (v.log_scale) SPARSE_CHECK(v.lo > 0, where << ": log scale needs lo > 0, got " << v.lo);
  } else {
    SPARSE_CHECK(j.contains("levels") && j["levels"].is_array() && !j["levels"].empty(),
                 where << ".levels: expected a non-empty array");
    for (const auto& l : j["levels"]) {
      if (e.type == VarType::boolean) {
        SPARSE_CHECK(l.is_boolean(), where << ".levels: expected true/false, got " << l.dump());
        v.levels.push_back(l.get<bool>() ? "true" : "false");
      } else {
        SPARSE_CHECK(l.is_string(), where << ".levels: expected strings, got " << l.dump());
        const std::string s = l.get<std::string>();
        bool known = false;
        for (const auto& k : e.known_levels) known = known || k == s;
        std::ostringstream allowed;
        for (const auto& k : e.known_levels) allowed << " " << k;
        SPARSE_CHECK(known, where << ".levels: unknown level '" << s << "', the engine knows:" << allowed.str());
        v.levels.push_back(s);
      }
    }
    if (e.type == VarType::boolean) {
      SPARSE_CHECK(j["default"].is_boolean(), where << ".default: expected true/false");
      v.default_value = j["default"].get<bool>() ? 1 : 0;
    } else {
      SPARSE_CHECK(j["default"].is_string(), where << ".default: expected a level name");
      v.default_level = j["default"].get<std::string>();
      bool known = false;
      for (const auto& k : e.known_levels) known = known || k == v.default_level;
      SPARSE_CHECK(known, where << ".default = '" << v.default_level << "' is not a level of " << e.name);
    }
  }
  return v;
}

}  // namespace

Space space_from_json(const nlohmann::json& j, const std::string& origin) {
  SPARSE_CHECK(j.is_object(), origin << ": a search space must be a JSON object");
  Space s;
  if (j.contains("input")) {
    const auto& in = j["input"];
    s.input_height = in.value("height", 0);
    s.input_width = in.value("width", 0);
    s.input_channels = in.value("channels", 0);
  }
  SPARSE_CHECK(s.input_height >= 1 && s.input_width >= 1 && s.input_channels >= 1,
               origin << ": input = " << s.input_height << "x" << s.input_width << "x" << s.input_channels
                      << ", expected height, width, channels >= 1");
  s.num_classes = j.value("num-classes", s.num_classes);
  SPARSE_CHECK(s.num_classes >= 2, origin << ": num-classes = " << s.num_classes << ", expected >= 2");
  SPARSE_CHECK(j.contains("variables") && j["variables"].is_object(), origin << ": missing object 'variables'");
  const auto& vars = j["variables"];
  for (const auto& e : expected_variables()) {
    SPARSE_CHECK(vars.contains(e.name), origin << ": variables." << e.name << " is missing (Table 5 variable)");
    s.*(e.member) = parse_var(vars[e.name], e, origin + ": variables." + e.name);
  }
  for (auto it = vars.begin(); it != vars.end(); ++it) {
    bool known = false;
    for (const auto& e : expected_variables()) known = known || it.key() == e.name;
    SPARSE_CHECK(known, origin << ": variables." << it.key() << " is not a variable of the engine's Config");
  }
  SPARSE_CHECK(s.num_conv_blocks.lo >= 1, origin << ": num-conv-blocks lo = " << s.num_conv_blocks.lo << ", expected >= 1");
  SPARSE_CHECK(s.num_conv_layers.lo >= 1, origin << ": num-conv-layers lo = " << s.num_conv_layers.lo << ", expected >= 1");
  SPARSE_CHECK(s.num_fc_layers.lo >= 0 && s.num_fc_layers.hi <= 1,
               origin << ": num-fc-layers range " << s.num_fc_layers.range_text() << ", the engine builds 0 or 1");
  SPARSE_CHECK(s.kernel_size.lo >= 1, origin << ": kernel-size lo = " << s.kernel_size.lo << ", expected >= 1");
  SPARSE_CHECK(s.num_filters.lo >= 1, origin << ": num-filters lo = " << s.num_filters.lo << ", expected >= 1");
  SPARSE_CHECK(s.input_downsampling_rate.lo >= 1,
               origin << ": input-downsampling-rate lo = " << s.input_downsampling_rate.lo << ", expected >= 1");
  SPARSE_CHECK(s.downsample.lo > 0, origin << ": downsample lo = " << s.downsample.lo << ", expected > 0");
  SPARSE_CHECK(s.total_fc_layer_weights.lo >= 1,
               origin << ": total-fc-layer-weights lo = " << s.total_fc_layer_weights.lo << ", expected >= 1");
  SPARSE_CHECK(s.weight_fraction_main_branch.lo >= 0 && s.weight_fraction_left_branch.lo >= 0 &&
                   s.weight_fraction_right_branch.lo >= 0,
               origin << ": weight fractions must be >= 0");
  return s;
}

Space load_space(const std::filesystem::path& path) { return space_from_json(read_json_file(path), path.string()); }

const Space& default_space() {
  static const Space s = load_space(default_space_path());
  return s;
}

}  // namespace sparse::space
