// The CPU backend (DESIGN.md "The backend"): float ops on plain 64-byte aligned host memory, threaded over the
// batch with a fixed team of `threads` OpenMP threads. Ops run synchronously in the caller's thread order.
#pragma once
#include <memory>

#include "host/core/backend.hpp"

namespace sparse::cpu {

// threads >= 1 threads per op (Eigen stays single-threaded inside each chunk); threads <= 0 means
// hardware_threads().
std::unique_ptr<Backend> make_cpu_backend(int threads);

}  // namespace sparse::cpu
