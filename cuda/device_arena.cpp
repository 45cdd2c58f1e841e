// DeviceArena: size-class free lists over a DeviceMemory (see device_arena.hpp for the invariants).
#include "cuda/device_arena.hpp"

#include <algorithm>
#include <bit>

namespace sparse::cuda {

size_t DeviceArena::size_class(size_t bytes) {
  constexpr size_t kMin = 512;
  if (bytes <= kMin) return kMin;
  // 4 classes per power of two: round up to a multiple of 2^(⌊log2 bytes⌋ − 2).
  const size_t step = (size_t(1) << (std::bit_width(bytes) - 1)) / 4;
  return (bytes + step - 1) / step * step;
}

DeviceArena::~DeviceArena() {
  std::lock_guard<std::mutex> lock(mu_);
  release_cached_locked();
  for (auto& [p, bytes] : live_) {  // still handed out: the owner is going away, so are its buffers
    memory_.release(p);
    ++st_.device_releases;
  }
  live_.clear();
}

void* DeviceArena::allocate(size_t bytes) {
  const size_t cls = size_class(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  void* p = nullptr;
  auto it = free_.find(cls);
  if (it != free_.end() && !it->second.empty()) {
    p = it->second.back();
    live_.emplace(p, cls);  // may throw bad_alloc: the block is still in the free list then
    it->second.pop_back();
    st_.bytes_cached -= cls;
    st_.bytes_in_use += cls;
    ++st_.reuses;
    return p;
  }
  p = memory_.allocate(cls);
  if (!p && st_.bytes_cached > 0) {
    ++st_.oom_retries;
    release_cached_locked();
    p = memory_.allocate(cls);
  }
  if (!p) return nullptr;
  try {
    live_.emplace(p, cls);
  } catch (...) {
    memory_.release(p);
    throw;
  }
  ++st_.device_allocations;
  st_.bytes_in_use += cls;
  st_.peak_bytes = std::max(st_.peak_bytes, st_.bytes_in_use + st_.bytes_cached);
  return p;
}

bool DeviceArena::release(void* p) noexcept {
  if (!p) return true;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(p);
  if (it == live_.end()) {
    ++st_.invalid_releases;
    return false;
  }
  const size_t cls = it->second;
  live_.erase(it);
  st_.bytes_in_use -= cls;
  try {
    free_[cls].push_back(p);
    st_.bytes_cached += cls;
  } catch (...) {  // no host memory for the free list: the block goes back to the device instead
    memory_.release(p);
    ++st_.device_releases;
  }
  return true;
}

size_t DeviceArena::release_cached() noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  return release_cached_locked();
}

size_t DeviceArena::release_cached_locked() noexcept {
  const size_t given = st_.bytes_cached;
  if (given == 0) return 0;
  memory_.quiesce();
  for (auto& [cls, blocks] : free_) {
    for (void* p : blocks) {
      memory_.release(p);
      ++st_.device_releases;
    }
  }
  free_.clear();
  st_.bytes_cached = 0;
  return given;
}

ArenaStats DeviceArena::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return st_;
}

}  // namespace sparse::cuda
