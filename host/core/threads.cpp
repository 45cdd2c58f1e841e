// hardware_threads(): honours the process's CPU affinity mask where the OS has one.
#include "host/core/threads.hpp"

#include <thread>
#if defined(__linux__)
#include <sched.h>
#endif

namespace sparse {

int hardware_threads() {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

}  // namespace sparse
