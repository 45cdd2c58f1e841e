// Dataset flags shared by every command that loads data (data info, train, search).
#pragma once
#include <CLI/CLI.hpp>
#include <string>

#include "datasets/preset.hpp"

namespace sparse::cli {

struct DatasetFlags {
  std::string name = "fashion-mnist";
  std::string data_dir, image_size;
  uint64_t split_seed = 0;
  long long val_size = -1;
  int classes = 10;
  long long train_size = 9000, test_size = 2000;
  float noise = 0.08f;

  void add(CLI::App* cmd);
  data::DatasetOptions options() const;
};

}  // namespace sparse::cli
