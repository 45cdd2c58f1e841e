// Dataset presets with the paper's splits (REFERENCE.md §8), binary variants, and load_dataset().
// Invariant: the validation split is drawn from the training files by a seeded permutation, so the
// same (preset, files, split_seed) always gives the same train/val/test sets.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "datasets/image_set.hpp"
#include "datasets/normalization.hpp"

namespace sparse::data {

enum class Format { Idx, Cifar10, ImageFolder, Synthetic };

struct Preset {
  std::string name;
  Format format;
  std::string default_dir;              // empty for synthetic
  size_t train = 0, val = 0, test = 0;  // the paper's split sizes
  int classes = 0;                      // 0 = any (the `folder` preset)
  ImageShape shape;                     // stored shape (folders are resized to it)
  std::vector<std::string> class_names;
  // Binary variants: base preset name, the rule in words, and label -> {0, 1}.
  std::string binary_of;
  std::string binary_rule;
  std::function<int(int)> binary_group;
};

// Every preset, in the order `sparse data list` shows them.
const std::vector<Preset>& presets();
// The preset called `name`; the error lists the valid names.
const Preset& find_preset(const std::string& name);

struct DatasetOptions {
  std::string name = "fashion-mnist";
  std::optional<std::filesystem::path> data_dir;  // overrides the preset's default folder
  uint64_t split_seed = 0;                        // validation split (and synthetic data) seed
  std::optional<ImageShape> image_shape;          // folders and synthetic only
  std::optional<size_t> val_size;                 // overrides the preset's validation size
  // Synthetic only.
  int synthetic_classes = 10;
  size_t synthetic_train = 9000, synthetic_test = 2000;
  float synthetic_noise = 0.08f;
};

struct Dataset {
  std::string name;
  std::filesystem::path dir;
  ImageSet train, val, test;
  Normalization norm;  // fitted on `train`
  std::vector<std::string> class_names;
  double load_seconds = 0;
};

Dataset load_dataset(const DatasetOptions& options);

// Split `all` into (train, val) with `val_size` items drawn by a permutation seeded with `seed`;
// both keep file order.
std::pair<ImageSet, ImageSet> split_validation(const ImageSet& all, size_t val_size, uint64_t seed);

// Relabel every label y to group(y) in {0, 1}.
void relabel_binary(ImageSet& set, const std::function<int(int)>& group);

// Parse "HxWxC" (e.g. 32x32x3); errors name the flag and the expected form.
ImageShape parse_image_shape(const std::string& text);

}  // namespace sparse::data
