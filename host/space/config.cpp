// Config JSON read/write, validation against a Space (Table 5 ranges + buildability) and field-level diffs.
#include "host/space/config.hpp"

#include <array>
#include <cmath>
#include <sstream>

#include "host/core/error.hpp"
#include "host/core/file_io.hpp"
#include "host/space/fc_widths.hpp"
#include "host/space/shape_rules.hpp"

namespace sparse::space {

const char* to_string(LayerType t) {
  switch (t) {
    case LayerType::Conv2D: return "Conv2D";
    case LayerType::DownsampledConv2D: return "DownsampledConv2D";
    case LayerType::SeparableConv2D: return "SeparableConv2D";
  }
  return "?";
}
const char* to_string(Padding p) { return p == Padding::same ? "same" : "valid"; }
const char* to_string(MergeType m) { return m == MergeType::Sum ? "Sum" : "Concatenate"; }

bool Config::has_fc(FcLayer f) const {
  switch (f) {
    case fc_main: return num_fc_layers >= 1;
    case fc_left: return left_branch;
    case fc_right: return right_branch;
    case fc_output: return true;
  }
  return false;
}

nlohmann::json to_json(const Config& c) {
  nlohmann::json blocks = nlohmann::json::array();
  for (const auto& b : c.blocks) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : b.layers)
      layers.push_back({{"layer-type", to_string(l.layer_type)},
                        {"kernel-size", l.kernel_size},
                        {"num-filters", l.num_filters},
                        {"padding", to_string(l.padding)},
                        {"downsample", l.downsample},
                        {"pruning-threshold", l.pruning_threshold}});
    blocks.push_back({{"layers", layers}});
  }
  nlohmann::json fc_thresholds;
  for (int f = 0; f < 4; ++f) fc_thresholds[kFcNames[f]] = c.pruning_threshold_fc[f];
  return {{"input", {{"height", c.input_height}, {"width", c.input_width}, {"channels", c.input_channels}}},
          {"num-classes", c.num_classes},
          {"downsample-input-in-depth", c.downsample_input_in_depth},
          {"downsample-input", c.downsample_input},
          {"input-downsampling-rate", c.input_downsampling_rate},
          {"pretraining", c.pretraining},
          {"zero-regularization-epochs", c.zero_regularization_epochs},
          {"annealing-epochs", c.annealing_epochs},
          {"alpha", c.alpha},
          {"batch-norm", c.batch_norm},
          {"residual-connections", c.residual_connections},
          {"blocks", blocks},
          {"num-fc-layers", c.num_fc_layers},
          {"total-fc-layer-weights", c.total_fc_layer_weights},
          {"weight-fraction-main-branch", c.weight_fraction_main_branch},
          {"left-branch", c.left_branch},
          {"right-branch", c.right_branch},
          {"weight-fraction-left-branch", c.weight_fraction_left_branch},
          {"weight-fraction-right-branch", c.weight_fraction_right_branch},
          {"merge-type", to_string(c.merge_type)},
          {"pruning-threshold-fc", fc_thresholds}};
}

namespace {

// Strict reader of one JSON object: every key must be read once; leftovers are unknown fields.
class Reader {
 public:
  Reader(const nlohmann::json& j, std::string path) : j_(j), path_(std::move(path)) {
    SPARSE_CHECK(j.is_object(), where("") << " must be a JSON object, got " << j.dump());
  }
  const nlohmann::json& at(const std::string& key) {
    SPARSE_CHECK(j_.contains(key), "config field '" << where(key) << "' is missing");
    seen_.push_back(key);
    return j_.at(key);
  }
  bool get_bool(const std::string& key) {
    const auto& v = at(key);
    SPARSE_CHECK(v.is_boolean(), "config field '" << where(key) << "' = " << v.dump() << ", expected true or false");
    return v.get<bool>();
  }
  int get_int(const std::string& key) {
    const auto& v = at(key);
    SPARSE_CHECK(v.is_number_integer() || (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>() &&
                                           std::fabs(v.get<double>()) < 2e9),
                 "config field '" << where(key) << "' = " << v.dump() << ", expected an integer");
    return v.is_number_integer() ? v.get<int>() : static_cast<int>(v.get<double>());
  }
  double get_real(const std::string& key) {
    const auto& v = at(key);
    SPARSE_CHECK(v.is_number(), "config field '" << where(key) << "' = " << v.dump() << ", expected a number");
    return v.get<double>();
  }
  std::string get_string(const std::string& key) {
    const auto& v = at(key);
    SPARSE_CHECK(v.is_string(), "config field '" << where(key) << "' = " << v.dump() << ", expected a string");
    return v.get<std::string>();
  }
  void finish() const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      bool seen = false;
      for (const auto& s : seen_) seen = seen || s == it.key();
      SPARSE_CHECK(seen, "config field '" << where(it.key()) << "' is not a Config field (misspelt?)");
    }
  }
  std::string where(const std::string& key) const {
    return path_.empty() ? key : (key.empty() ? path_ : path_ + "." + key);
  }

 private:
  const nlohmann::json& j_;
  std::string path_;
  std::vector<std::string> seen_;
};

template <class E, size_t N>
E parse_enum(const std::string& s, const std::string& field, const std::array<E, N>& values) {
  std::ostringstream allowed;
  for (E v : values) {
    if (s == to_string(v)) return v;
    allowed << " " << to_string(v);
  }
  SPARSE_FAIL("config field '" << field << "' = \"" << s << "\", expected one of:" << allowed.str());
}

}  // namespace

Config config_from_json(const nlohmann::json& j) {
  Config c;
  Reader r(j, "");
  {
    Reader in(r.at("input"), "input");
    c.input_height = in.get_int("height");
    c.input_width = in.get_int("width");
    c.input_channels = in.get_int("channels");
    in.finish();
  }
  c.num_classes = r.get_int("num-classes");
  c.downsample_input_in_depth = r.get_bool("downsample-input-in-depth");
  c.downsample_input = r.get_bool("downsample-input");
  c.input_downsampling_rate = r.get_int("input-downsampling-rate");
  c.pretraining = r.get_bool("pretraining");
  c.zero_regularization_epochs = r.get_int("zero-regularization-epochs");
  c.annealing_epochs = r.get_int("annealing-epochs");
  c.alpha = r.get_real("alpha");
  c.batch_norm = r.get_bool("batch-norm");
  c.residual_connections = r.get_bool("residual-connections");
  const auto& blocks = r.at("blocks");
  SPARSE_CHECK(blocks.is_array(), "config field 'blocks' = " << blocks.dump() << ", expected an array of blocks");
  for (size_t b = 0; b < blocks.size(); ++b) {
    const std::string bp = "blocks[" + std::to_string(b) + "]";
    Reader br(blocks[b], bp);
    const auto& layers = br.at("layers");
    SPARSE_CHECK(layers.is_array(), "config field '" << bp << ".layers' = " << layers.dump() << ", expected an array");
    ConvBlock block;
    for (size_t l = 0; l < layers.size(); ++l) {
      const std::string lp = bp + ".layers[" + std::to_string(l) + "]";
      Reader lr(layers[l], lp);
      ConvLayer layer;
      layer.layer_type = parse_enum(lr.get_string("layer-type"), lp + ".layer-type",
                                    std::array{LayerType::Conv2D, LayerType::DownsampledConv2D, LayerType::SeparableConv2D});
      layer.kernel_size = lr.get_int("kernel-size");
      layer.num_filters = lr.get_int("num-filters");
      layer.padding = parse_enum(lr.get_string("padding"), lp + ".padding", std::array{Padding::same, Padding::valid});
      layer.downsample = lr.get_real("downsample");
      layer.pruning_threshold = lr.get_real("pruning-threshold");
      lr.finish();
      block.layers.push_back(layer);
    }
    br.finish();
    c.blocks.push_back(block);
  }
  c.num_fc_layers = r.get_int("num-fc-layers");
  c.total_fc_layer_weights = r.get_int("total-fc-layer-weights");
  c.weight_fraction_main_branch = r.get_real("weight-fraction-main-branch");
  c.left_branch = r.get_bool("left-branch");
  c.right_branch = r.get_bool("right-branch");
  c.weight_fraction_left_branch = r.get_real("weight-fraction-left-branch");
  c.weight_fraction_right_branch = r.get_real("weight-fraction-right-branch");
  c.merge_type = parse_enum(r.get_string("merge-type"), "merge-type", std::array{MergeType::Sum, MergeType::Concatenate});
  {
    Reader fr(r.at("pruning-threshold-fc"), "pruning-threshold-fc");
    for (int f = 0; f < 4; ++f) c.pruning_threshold_fc[f] = fr.get_real(kFcNames[f]);
    fr.finish();
  }
  r.finish();
  return c;
}

Config read_config(const std::string& path) {
  try {
    return config_from_json(read_json_file(path));
  } catch (const Error& e) {
    throw Error(path + ": " + e.what(), e.expression().c_str(), e.file().c_str(), e.line());
  }
}

namespace {

// Range checks: each returns normally or throws naming field, value and range.
void check_number(const VarSpec& s, double v, const std::string& field) {
  SPARSE_CHECK(s.on_grid(v), "config field '" << field << "' = " << v << " is outside the allowed range "
                                              << s.range_text() << " (Table 5 " << s.name << ")");
}
void check_bool(const VarSpec& s, bool v, const std::string& field) {
  SPARSE_CHECK(s.allows(v), "config field '" << field << "' = " << (v ? "true" : "false") << " is not allowed by the space "
                                             << s.range_text());
}
void check_level(const VarSpec& s, const char* v, const std::string& field) {
  SPARSE_CHECK(s.level_index(v) >= 0,
               "config field '" << field << "' = \"" << v << "\" is not allowed by the space " << s.range_text());
}

}  // namespace

void validate(const Config& c, const Space& s) {
  SPARSE_CHECK(c.input_height >= 1 && c.input_width >= 1 && c.input_channels >= 1,
               "config field 'input' = " << c.input_height << "x" << c.input_width << "x" << c.input_channels
                                         << ", expected height, width and channels >= 1");
  SPARSE_CHECK(c.num_classes >= 2, "config field 'num-classes' = " << c.num_classes << ", expected >= 2");
  check_bool(s.downsample_input_in_depth, c.downsample_input_in_depth, "downsample-input-in-depth");
  check_bool(s.downsample_input, c.downsample_input, "downsample-input");
  check_number(s.input_downsampling_rate, c.input_downsampling_rate, "input-downsampling-rate");
  check_bool(s.pretraining, c.pretraining, "pretraining");
  check_number(s.zero_regularization_epochs, c.zero_regularization_epochs, "zero-regularization-epochs");
  check_number(s.annealing_epochs, c.annealing_epochs, "annealing-epochs");
  check_number(s.alpha, c.alpha, "alpha");
  check_bool(s.batch_norm, c.batch_norm, "batch-norm");
  check_bool(s.residual_connections, c.residual_connections, "residual-connections");
  check_number(s.num_conv_blocks, c.num_conv_blocks(), "num-conv-blocks");
  for (size_t b = 0; b < c.blocks.size(); ++b) {
    const std::string bp = "blocks[" + std::to_string(b) + "]";
    check_number(s.num_conv_layers, static_cast<double>(c.blocks[b].layers.size()), bp + ".num-conv-layers");
    for (size_t l = 0; l < c.blocks[b].layers.size(); ++l) {
      const ConvLayer& L = c.blocks[b].layers[l];
      const std::string lp = bp + ".layers[" + std::to_string(l) + "].";
      check_level(s.layer_type, to_string(L.layer_type), lp + "layer-type");
      check_number(s.kernel_size, L.kernel_size, lp + "kernel-size");
      check_number(s.num_filters, L.num_filters, lp + "num-filters");
      check_level(s.padding, to_string(L.padding), lp + "padding");
      check_number(s.downsample, L.downsample, lp + "downsample");
      check_number(s.pruning_threshold, L.pruning_threshold, lp + "pruning-threshold");
    }
  }
  check_number(s.num_fc_layers, c.num_fc_layers, "num-fc-layers");
  check_number(s.total_fc_layer_weights, c.total_fc_layer_weights, "total-fc-layer-weights");
  check_number(s.weight_fraction_main_branch, c.weight_fraction_main_branch, "weight-fraction-main-branch");
  check_bool(s.left_branch, c.left_branch, "left-branch");
  check_bool(s.right_branch, c.right_branch, "right-branch");
  check_number(s.weight_fraction_left_branch, c.weight_fraction_left_branch, "weight-fraction-left-branch");
  check_number(s.weight_fraction_right_branch, c.weight_fraction_right_branch, "weight-fraction-right-branch");
  check_level(s.merge_type, to_string(c.merge_type), "merge-type");
  for (int f = 0; f < 4; ++f)
    check_number(s.pruning_threshold_fc, c.pruning_threshold_fc[f], std::string("pruning-threshold-fc.") + kFcNames[f]);

  // Buildability: walk the spatial sizes (same rules as host/graph).
  int h = c.input_height, w = c.input_width;
  const int c0 = c.downsample_input_in_depth ? 1 : c.input_channels;
  std::array<int64_t, 3> flat{};  // flattened inputs of fc.main, fc.left, fc.right
  if (c.downsample_input) {
    h = pool_out_size(h, c.input_downsampling_rate);
    w = pool_out_size(w, c.input_downsampling_rate);
    SPARSE_CHECK(h >= 1 && w >= 1, "config field 'input-downsampling-rate' = "
                                       << c.input_downsampling_rate << " turns the " << c.input_height << "x"
                                       << c.input_width << " input into " << h << "x" << w << ", expected >= 1x1");
  }
  flat[2] = int64_t{h} * w * c0;
  for (size_t b = 0; b < c.blocks.size(); ++b) {
    for (size_t l = 0; l < c.blocks[b].layers.size(); ++l) {
      const ConvLayer& L = c.blocks[b].layers[l];
      const int nh = conv_out_size(h, L.kernel_size, L.padding), nw = conv_out_size(w, L.kernel_size, L.padding);
      SPARSE_CHECK(nh >= 1 && nw >= 1, "config field 'blocks[" << b << "].layers[" << l << "].kernel-size' = "
                                                                << L.kernel_size << " with padding " << to_string(L.padding)
                                                                << " on a " << h << "x" << w << " input gives " << nh
                                                                << "x" << nw << ", expected a spatial size >= 1");
      h = nh;
      w = nw;
    }
    const int ph = pool_out_size(h, kBlockPool), pw = pool_out_size(w, kBlockPool);
    SPARSE_CHECK(ph >= 1 && pw >= 1, "config field 'blocks[" << b << "]': the block-end 2x2 max pool on a " << h << "x" << w
                                                              << " input gives " << ph << "x" << pw
                                                              << ", expected a spatial size >= 1");
    h = ph;
    w = pw;
    const int f = c.blocks[b].layers.back().num_filters;  // a block's output has its last layer's filters
    if (b == 0) flat[1] = int64_t{h} * w * f;
    flat[0] = int64_t{h} * w * f;
  }
  // Hidden FC layers narrower than min_hidden_fc_width are bottlenecks (host/space/fc_widths.hpp).
  const FcWidths fw = fc_widths(c, flat);
  const char* branch[3] = {"fc.main", "fc.left", "fc.right"};
  const int min_width = min_hidden_fc_width(c.num_classes);
  for (size_t i = 0; i < 3; ++i) {
    if (!fw.has[i] || (i == 0 && c.num_fc_layers < 1)) continue;
    SPARSE_CHECK(fw.width[i] >= min_width,
                 "config field 'total-fc-layer-weights' = " << c.total_fc_layer_weights << " gives " << branch[i] << " "
                                                            << fw.width[i] << " units for " << flat[i]
                                                            << " inputs, expected >= " << min_width
                                                            << " (a hidden layer narrower than the classes)");
  }
}

std::string validation_error(const Config& c, const Space& space) {
  try {
    validate(c, space);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<std::string> config_diff(const Config& a, const Config& b) {
  std::vector<std::string> d;
  auto cmp = [&](bool differ, const std::string& name) {
    if (differ) d.push_back(name);
  };
  cmp(a.input_height != b.input_height || a.input_width != b.input_width || a.input_channels != b.input_channels, "input");
  cmp(a.num_classes != b.num_classes, "num-classes");
  cmp(a.downsample_input_in_depth != b.downsample_input_in_depth, "downsample-input-in-depth");
  cmp(a.downsample_input != b.downsample_input, "downsample-input");
  cmp(a.input_downsampling_rate != b.input_downsampling_rate, "input-downsampling-rate");
  cmp(a.pretraining != b.pretraining, "pretraining");
  cmp(a.zero_regularization_epochs != b.zero_regularization_epochs, "zero-regularization-epochs");
  cmp(a.annealing_epochs != b.annealing_epochs, "annealing-epochs");
  cmp(a.alpha != b.alpha, "alpha");
  cmp(a.batch_norm != b.batch_norm, "batch-norm");
  cmp(a.residual_connections != b.residual_connections, "residual-connections");
  cmp(a.blocks.size() != b.blocks.size(), "num-conv-blocks");
  for (size_t k = 0; k < std::min(a.blocks.size(), b.blocks.size()); ++k) {
    const auto& la = a.blocks[k].layers;
    const auto& lb = b.blocks[k].layers;
    const std::string bp = "blocks[" + std::to_string(k) + "]";
    cmp(la.size() != lb.size(), bp + ".num-conv-layers");
    for (size_t l = 0; l < std::min(la.size(), lb.size()); ++l) {
      const std::string lp = bp + ".layers[" + std::to_string(l) + "].";
      cmp(la[l].layer_type != lb[l].layer_type, lp + "layer-type");
      cmp(la[l].kernel_size != lb[l].kernel_size, lp + "kernel-size");
      cmp(la[l].num_filters != lb[l].num_filters, lp + "num-filters");
      cmp(la[l].padding != lb[l].padding, lp + "padding");
      cmp(la[l].downsample != lb[l].downsample, lp + "downsample");
      cmp(la[l].pruning_threshold != lb[l].pruning_threshold, lp + "pruning-threshold");
    }
  }
  cmp(a.num_fc_layers != b.num_fc_layers, "num-fc-layers");
  cmp(a.total_fc_layer_weights != b.total_fc_layer_weights, "total-fc-layer-weights");
  cmp(a.weight_fraction_main_branch != b.weight_fraction_main_branch, "weight-fraction-main-branch");
  cmp(a.left_branch != b.left_branch, "left-branch");
  cmp(a.right_branch != b.right_branch, "right-branch");
  cmp(a.weight_fraction_left_branch != b.weight_fraction_left_branch, "weight-fraction-left-branch");
  cmp(a.weight_fraction_right_branch != b.weight_fraction_right_branch, "weight-fraction-right-branch");
  cmp(a.merge_type != b.merge_type, "merge-type");
  for (int f = 0; f < 4; ++f)
    cmp(a.pruning_threshold_fc[f] != b.pruning_threshold_fc[f], std::string("pruning-threshold-fc.") + kFcNames[f]);
  return d;
}

}  // namespace sparse::space
