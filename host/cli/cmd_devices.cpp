// `sparse devices`: CPU threads and CUDA devices the scheduler can use.
#include <iostream>

#include "cuda/device_query.hpp"
#include "host/cli/cli.hpp"
#include "host/core/threads.hpp"

namespace sparse::cli {

void add_devices_command(CLI::App& app) {
  static Output output;
  Output* out = &output;
  CLI::App* cmd = app.add_subcommand("devices", "List CPU threads and CUDA devices");
  out->add_flag(cmd);
  cmd->callback([out] {
    const cuda::DeviceQuery q = cuda::query_devices();
    const int threads = hardware_threads();
    if (out->json) {
      nlohmann::json devs = nlohmann::json::array();
      for (const auto& d : q.devices)
        devs.push_back({{"index", d.index},
                        {"name", d.name},
                        {"compute_capability", std::to_string(d.compute_major) + "." + std::to_string(d.compute_minor)},
                        {"memory_bytes", d.total_memory_bytes},
                        {"multiprocessors", d.multiprocessors}});
      out->print_json({{"cpu_threads", threads},
                       {"cuda", {{"built", q.built_with_cuda},
                                 {"runtime", q.runtime_version},
                                 {"devices", devs},
                                 {"reason", q.unavailable_reason}}}});
      return;
    }
    std::cout << "cpu: " << threads << " threads\n";
    if (!q.built_with_cuda) {
      std::cout << "cuda: not available (" << q.unavailable_reason << ")\n";
      return;
    }
    std::cout << "cuda: runtime " << q.runtime_version << ", " << q.devices.size() << " device(s)";
    if (q.devices.empty()) std::cout << " (" << q.unavailable_reason << ")";
    std::cout << "\n";
    for (const auto& d : q.devices)
      std::cout << "  cuda:" << d.index << "  " << d.name << "  sm_" << d.compute_major << d.compute_minor << "  "
                << d.total_memory_bytes / (1024 * 1024) << " MiB  " << d.multiprocessors << " SMs\n";
  });
}

}  // namespace sparse::cli
