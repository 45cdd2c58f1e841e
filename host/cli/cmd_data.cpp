// `sparse data info` and `sparse data list`: what a dataset preset loads to.
#include <iomanip>
#include <iostream>

#include "datasets/preset.hpp"
#include "host/cli/cli.hpp"
#include "host/cli/dataset_flags.hpp"

namespace sparse::cli {

namespace {

nlohmann::json info_json(const data::Dataset& d, const data::Preset& p) {
  const auto& s = d.train.shape;
  return {{"dataset", d.name},
          {"dir", d.dir.string()},
          {"train", d.train.size()},
          {"val", d.val.size()},
          {"test", d.test.size()},
          {"shape", {s.height, s.width, s.channels}},
          {"classes", d.train.num_classes},
          {"class_names", d.class_names},
          {"binary_rule", p.binary_rule},
          {"class_counts", {{"train", d.train.class_counts()}, {"val", d.val.class_counts()}, {"test", d.test.class_counts()}}},
          {"mean", d.norm.mean},
          {"std", d.norm.std},
          {"load_seconds", d.load_seconds}};
}

void print_info(const data::Dataset& d, const data::Preset& p) {
  const auto& s = d.train.shape;
  std::cout << "dataset  " << d.name << (d.dir.empty() ? "" : "  (" + d.dir.string() + ")") << "\n"
            << "split    train " << d.train.size() << " / val " << d.val.size() << " / test " << d.test.size() << "\n"
            << "shape    " << s.height << "x" << s.width << "x" << s.channels << "  (HxWxC)\n"
            << "classes  " << d.train.num_classes << (p.binary_rule.empty() ? "" : "  (" + p.binary_rule + ")") << "\n";
  std::cout << std::fixed << std::setprecision(4) << "mean     ";
  for (double m : d.norm.mean) std::cout << m << " ";
  std::cout << "\nstd      ";
  for (double v : d.norm.std) std::cout << v << " ";
  std::cout << "  (per channel, pixel/255, training split)\n";
  const auto tr = d.train.class_counts(), va = d.val.class_counts(), te = d.test.class_counts();
  std::cout << "per class (train / val / test):\n";
  for (size_t k = 0; k < tr.size(); ++k) {
    std::cout << "  " << std::setw(3) << k << "  " << std::left << std::setw(14)
              << (k < d.class_names.size() ? d.class_names[k] : "") << std::right << std::setw(7) << tr[k] << std::setw(7)
              << va[k] << std::setw(7) << te[k] << "\n";
  }
  std::cout << std::setprecision(2) << "loaded in " << d.load_seconds << " s\n";
}

}  // namespace

void add_data_commands(CLI::App& app) {
  CLI::App* data_cmd = app.add_subcommand("data", "Inspect datasets");
  data_cmd->require_subcommand(1);

  static Output info_out;
  static DatasetFlags flags;
  CLI::App* info = data_cmd->add_subcommand("info", "Load a dataset preset and print its splits, shape, classes and statistics");
  flags.add(info);
  info_out.add_flag(info);
  info->callback([] {
    const data::Dataset d = data::load_dataset(flags.options());
    const data::Preset& p = data::find_preset(flags.name);
    if (info_out.json)
      info_out.print_json(info_json(d, p));
    else
      print_info(d, p);
  });

  static Output list_out;
  CLI::App* list = data_cmd->add_subcommand("list", "List the dataset presets");
  list_out.add_flag(list);
  list->callback([] {
    nlohmann::json all = nlohmann::json::array();
    for (const data::Preset& p : data::presets()) {
      all.push_back({{"name", p.name},
                     {"default_dir", p.default_dir},
                     {"train", p.train},
                     {"val", p.val},
                     {"test", p.test},
                     {"classes", p.binary_of.empty() ? p.classes : 2},
                     {"shape", {p.shape.height, p.shape.width, p.shape.channels}},
                     {"binary_rule", p.binary_rule}});
    }
    if (list_out.json) {
      list_out.print_json({{"presets", all}});
      return;
    }
    for (const auto& p : all) {
      std::cout << std::left << std::setw(22) << p["name"].get<std::string>() << std::right << std::setw(7)
                << p["train"].get<size_t>() << " /" << std::setw(5) << p["val"].get<size_t>() << " /" << std::setw(6)
                << p["test"].get<size_t>() << "  classes " << std::setw(2) << p["classes"].get<int>() << "  "
                << p["default_dir"].get<std::string>() << "\n";
      if (!p["binary_rule"].get<std::string>().empty()) std::cout << "    " << p["binary_rule"].get<std::string>() << "\n";
    }
  });
}

}  // namespace sparse::cli
