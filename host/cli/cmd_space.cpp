// `sparse space sample|morph|check|encode`: uniform Configs, Table 6 morphs, validation and GP encoding from the CLI.
#include <iostream>

#include "host/cli/cli.hpp"
#include "host/core/philox.hpp"
#include "host/space/encode.hpp"
#include "host/space/morph.hpp"
#include "host/space/sample.hpp"

namespace sparse::cli {

namespace {

space::Space load_space_flag(const std::string& path) {
  return path.empty() ? space::default_space() : space::load_space(path);
}

}  // namespace

void add_space_commands(CLI::App& app) {
  CLI::App* space_cmd = app.add_subcommand("space", "Search space: sample, morph, check and encode Configs");
  space_cmd->require_subcommand(1);

  static Output sample_out;
  static int sample_n = 1;
  static uint64_t sample_seed = 0;
  static std::string sample_space;
  CLI::App* sample = space_cmd->add_subcommand("sample", "Print N uniform random Configs (JSON lines)");
  sample->add_option("--n", sample_n, "Number of configs")->check(CLI::Range(0, 100000000));
  sample->add_option("--seed", sample_seed, "Philox seed");
  sample->add_option("--space", sample_space, "Search-space JSON (default: host/space/default_space.json)");
  sample_out.add_flag(sample);
  sample->callback([] {
    const space::Space s = load_space_flag(sample_space);
    PhiloxStream rng(sample_seed);
    space::SampleStats stats;
    nlohmann::json all = nlohmann::json::array();
    for (int i = 0; i < sample_n; ++i) {
      const space::Config c = space::sample_config(s, rng, &stats);
      if (sample_out.json)
        all.push_back(space::to_json(c));
      else
        std::cout << space::to_json(c).dump() << "\n";
    }
    if (sample_out.json)
      sample_out.print_json({{"configs", all},
                             {"accepted", stats.accepted},
                             {"rejected", stats.rejected},
                             {"rejection_rate", stats.rejection_rate()}});
    else
      std::cerr << "rejection rate " << stats.rejection_rate() << " (" << stats.rejected << " of "
                << stats.accepted + stats.rejected << " draws unbuildable)\n";
  });

  static Output morph_out;
  static std::string morph_config, morph_space;
  static uint64_t morph_seed = 0;
  static int morph_stage = 1, morph_max = 3;
  CLI::App* morph = space_cmd->add_subcommand("morph", "Apply Table 6 morphs to a Config and print the result");
  morph->add_option("config", morph_config, "Config JSON file")->required();
  morph->add_option("--seed", morph_seed, "Philox seed");
  morph->add_option("--stage", morph_stage, "Search stage: 1 and 3 all morphs, 2 pruning parameters only")
      ->check(CLI::Range(1, 3));
  morph->add_option("--max-morphs", morph_max, "Apply 1..max-morphs morphs (uniform)")->check(CLI::Range(1, 100));
  morph->add_option("--space", morph_space, "Search-space JSON");
  morph_out.add_flag(morph);
  morph->callback([] {
    const space::Space s = load_space_flag(morph_space);
    const space::Config ref = space::read_config(morph_config);
    space::validate(ref, s);
    PhiloxStream rng(morph_seed);
    const space::MorphResult r = space::morph(ref, s, rng, space::stage_morphs(morph_stage), morph_max);
    nlohmann::json names = nlohmann::json::array();
    for (auto m : r.applied) names.push_back(space::to_string(m));
    if (morph_out.json) {
      morph_out.print_json({{"config", space::to_json(r.config)}, {"morphs", names}});
    } else {
      std::cout << space::to_json(r.config).dump(2) << "\n";
      std::cerr << "morphs applied: " << names.dump() << "\n";
    }
  });

  static Output check_out;
  static std::string check_config, check_space;
  CLI::App* check = space_cmd->add_subcommand("check", "Validate a Config against the search space");
  check->add_option("config", check_config, "Config JSON file")->required();
  check->add_option("--space", check_space, "Search-space JSON");
  check_out.add_flag(check);
  check->callback([] {
    const space::Space s = load_space_flag(check_space);
    space::validate(space::read_config(check_config), s);
    if (check_out.json)
      check_out.print_json({{"valid", true}});
    else
      std::cout << check_config << ": valid\n";
  });

  static Output encode_out;
  static std::string encode_config, encode_space;
  CLI::App* encode = space_cmd->add_subcommand("encode", "Print the GP feature encoding of a Config with its layout");
  encode->add_option("config", encode_config, "Config JSON file")->required();
  encode->add_option("--space", encode_space, "Search-space JSON");
  encode_out.add_flag(encode);
  encode->callback([] {
    const space::Space s = load_space_flag(encode_space);
    const space::Config c = space::read_config(encode_config);
    space::validate(c, s);
    const space::Encoding e = space::encode(c, s);
    const space::EncodingLayout l = space::encoding_layout(s);
    if (encode_out.json) {
      encode_out.print_json({{"numeric", e.numeric},
                             {"numeric_active", e.numeric_active},
                             {"numeric_names", l.numeric_names},
                             {"categorical", e.categorical},
                             {"categorical_active", e.categorical_active},
                             {"categorical_names", l.categorical_names},
                             {"categorical_levels", l.categorical_levels}});
      return;
    }
    for (size_t i = 0; i < e.numeric.size(); ++i)
      std::cout << (e.numeric_active[i] ? "  " : "- ") << l.numeric_names[i] << " " << e.numeric[i] << "\n";
    for (size_t i = 0; i < e.categorical.size(); ++i)
      std::cout << (e.categorical_active[i] ? "  " : "- ") << l.categorical_names[i] << " " << e.categorical[i] << "/"
                << l.categorical_levels[i] << "\n";
  });
}

}  // namespace sparse::cli
