// Device slots of the scheduler: one worker per slot. "cpu" workers run on CPU threads; "cuda:i" on GPU i,
// possibly several workers per GPU (each with its own stream).
#pragma once
#include <string>
#include <vector>

#include "cuda/device_query.hpp"

namespace sparse::search {

struct DeviceSlot {
  std::string name;   // "cpu:0", "cuda:1#2" (GPU 1, its third worker)
  bool cuda = false;
  int device = 0;     // GPU index, or CPU worker index
  int threads = 1;    // CPU threads this worker may use
};

struct DeviceRequest {
  std::string devices;       // "cpu", "cuda", "cuda:0,cuda:1", "cpu,cuda:0"; empty = all GPUs, else the CPU
  int cpu_workers = 1;       // workers for each "cpu" entry
  int threads_per_cpu_worker = 0;  // 0 = the machine's threads divided among CPU workers
  int workers_per_gpu = 1;
};

// Slots for `request` on a machine described by `query` and `hardware_threads`. Errors name the device
// entry and what exists (e.g. "cuda:3 requested, this machine has 2 CUDA devices").
std::vector<DeviceSlot> plan_devices(const DeviceRequest& request, const cuda::DeviceQuery& query, int hardware_threads);

}  // namespace sparse::search
