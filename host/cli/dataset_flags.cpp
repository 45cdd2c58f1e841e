// DatasetFlags: CLI flags to data::DatasetOptions, with range errors that name the flag.
#include "host/cli/dataset_flags.hpp"

#include "host/core/error.hpp"

namespace sparse::cli {

void DatasetFlags::add(CLI::App* cmd) {
  cmd->add_option("--dataset", name, "Dataset preset (sparse data list)")->capture_default_str();
  cmd->add_option("--data-dir", data_dir, "Folder holding the dataset files (overrides the preset's default)");
  cmd->add_option("--split-seed", split_seed, "Seed of the validation split (and of synthetic data)")->capture_default_str();
  cmd->add_option("--val-size", val_size, "Validation images (default: the preset's)");
  cmd->add_option("--image-size", image_size, "HxWxC for image folders and synthetic data (e.g. 32x32x3)");
  cmd->add_option("--classes", classes, "Synthetic: number of classes")->capture_default_str();
  cmd->add_option("--train-size", train_size, "Synthetic: training images (validation adds 10%)")->capture_default_str();
  cmd->add_option("--test-size", test_size, "Synthetic: test images")->capture_default_str();
  cmd->add_option("--noise", noise, "Synthetic: pixel noise standard deviation")->capture_default_str();
}

data::DatasetOptions DatasetFlags::options() const {
  data::DatasetOptions o;
  o.name = name;
  if (!data_dir.empty()) o.data_dir = data_dir;
  o.split_seed = split_seed;
  if (!image_size.empty()) o.image_shape = data::parse_image_shape(image_size);
  if (val_size >= 0) {
    SPARSE_CHECK(val_size >= 1, "--val-size " << val_size << " is out of range, expected at least 1");
    o.val_size = static_cast<size_t>(val_size);
  }
  SPARSE_CHECK(train_size >= 2, "--train-size " << train_size << " is out of range, expected at least 2");
  SPARSE_CHECK(test_size >= 1, "--test-size " << test_size << " is out of range, expected at least 1");
  o.synthetic_classes = classes;
  o.synthetic_train = static_cast<size_t>(train_size);
  o.synthetic_test = static_cast<size_t>(test_size);
  o.synthetic_noise = noise;
  return o;
}

}  // namespace sparse::cli
