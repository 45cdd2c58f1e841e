// plan_devices (see devices.hpp).
#include "host/search/devices.hpp"

#include <algorithm>
#include <set>
#include <sstream>

#include "host/core/error.hpp"

namespace sparse::search {

std::vector<DeviceSlot> plan_devices(const DeviceRequest& r, const cuda::DeviceQuery& q, int hardware_threads) {
  SPARSE_CHECK(r.cpu_workers >= 1 && r.cpu_workers <= 256, "--cpu-workers " << r.cpu_workers << " is out of range, expected 1 to 256");
  SPARSE_CHECK(r.workers_per_gpu >= 1 && r.workers_per_gpu <= 64,
               "--workers-per-gpu " << r.workers_per_gpu << " is out of range, expected 1 to 64");
  SPARSE_CHECK(r.threads_per_cpu_worker >= 0 && r.threads_per_cpu_worker <= 1024,
               "--threads " << r.threads_per_cpu_worker << " is out of range, expected 0 (auto) to 1024");
  std::vector<std::string> entries;
  if (r.devices.empty()) {
    entries.push_back(q.devices.empty() ? "cpu" : "cuda");
  } else {
    std::stringstream ss(r.devices);
    std::string e;
    while (std::getline(ss, e, ','))
      if (!e.empty()) entries.push_back(e);
    SPARSE_CHECK(!entries.empty(), "--devices '" << r.devices << "' names no device, expected e.g. cpu or cuda:0,cuda:1");
  }
  std::set<int> gpus;
  bool cpu = false;
  const int n_gpu = static_cast<int>(q.devices.size());
  auto no_gpu = [&] {
    return q.unavailable_reason.empty() ? std::string("no CUDA device") : q.unavailable_reason;
  };
  for (const std::string& e : entries) {
    if (e == "cpu") {
      cpu = true;
    } else if (e == "cuda") {
      SPARSE_CHECK(n_gpu > 0, "--devices cuda: no CUDA device is usable (" << no_gpu() << ")");
      for (int i = 0; i < n_gpu; ++i) gpus.insert(i);
    } else if (e.rfind("cuda:", 0) == 0) {
      int i = -1;
      try {
        size_t used = 0;
        i = std::stoi(e.substr(5), &used);
        if (used != e.size() - 5) i = -1;
      } catch (const std::exception&) {
        i = -1;
      }
      SPARSE_CHECK(i >= 0, "--devices entry '" << e << "' is not a device, expected cpu, cuda or cuda:N");
      SPARSE_CHECK(i < n_gpu, "--devices " << e << " requested, this machine has " << n_gpu << " CUDA device(s)"
                                           << (n_gpu == 0 ? " (" + no_gpu() + ")" : ""));
      gpus.insert(i);
    } else {
      SPARSE_FAIL("--devices entry '" << e << "' is not a device, expected cpu, cuda or cuda:N");
    }
  }
  std::vector<DeviceSlot> slots;
  for (int g : gpus)
    for (int w = 0; w < r.workers_per_gpu; ++w) {
      std::ostringstream name;
      name << "cuda:" << g;
      if (r.workers_per_gpu > 1) name << "#" << w;
      slots.push_back({name.str(), true, g, 1});
    }
  if (cpu) {
    const int threads = r.threads_per_cpu_worker > 0 ? r.threads_per_cpu_worker
                                                     : std::max(1, hardware_threads / r.cpu_workers);
    for (int w = 0; w < r.cpu_workers; ++w) slots.push_back({"cpu:" + std::to_string(w), false, w, threads});
  }
  return slots;
}

}  // namespace sparse::search
