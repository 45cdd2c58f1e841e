// `sparse version`: engine version and build features.
#include <iostream>

#include "cuda/device_query.hpp"
#include "host/cli/cli.hpp"
#include "sparse/version.hpp"

namespace sparse::cli {

void add_version_command(CLI::App& app) {
  static Output output;  // lives as long as the CLI11 app
  Output* out = &output;
  CLI::App* cmd = app.add_subcommand("version", "Print the engine version and build features");
  out->add_flag(cmd);
  cmd->callback([out] {
    const bool cuda_built = cuda::query_devices().built_with_cuda;
    if (out->json) {
      out->print_json({{"version", kVersion}, {"cuda_built", cuda_built}});
    } else {
      std::cout << "sparse " << kVersion << " (CUDA backend " << (cuda_built ? "built" : "not built") << ")\n";
    }
  });
}

}  // namespace sparse::cli
