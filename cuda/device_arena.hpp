// The CUDA backend's caching arena (DESIGN.md "Device memory"): buffers come from size-class free lists, are
// reused across training steps and trials, and go back to the device only when the arena is destroyed (the
// backend is) or on an out-of-memory retry. Plain C++ behind a two-call interface (DeviceMemory), so a CPU test
// drives it with a fake device (tests/cuda/test_device_arena.cpp).
// Invariants:
//  - a block is handed out at most once at a time: release() of a pointer that is not handed out (a double
//    free, a foreign pointer) changes nothing and is counted in invalid_releases;
//  - blocks are reused only within their size class (size_class(): 512 bytes at least, then 4 classes per
//    power of two, so a block is at most 25 % larger than asked for);
//  - reuse is ordered by the one stream the owning backend issues all work on: a block released while kernels
//    that read it are still queued is handed out again only to work queued after them. DeviceMemory::quiesce()
//    waits for that stream before cached blocks go back to the device;
//  - allocate() returns nullptr only when the device is out of memory even after the cache was given back and
//    the allocation retried once; release() never throws (Backend::free is noexcept).
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace sparse::cuda {

// Where the arena's blocks come from: cudaMalloc / cudaFree in the CUDA backend, a fake in the tests.
class DeviceMemory {
 public:
  virtual ~DeviceMemory() = default;
  // `bytes` of device memory, or nullptr when the device is out of memory; other failures throw.
  virtual void* allocate(size_t bytes) = 0;
  // Gives a block back; never throws (an implementation records its own failures).
  virtual void release(void* p) noexcept = 0;
  // Waits until no queued work can still use a released block (before cached blocks go back to the device).
  virtual void quiesce() noexcept {}
};

struct ArenaStats {
  size_t bytes_in_use = 0;           // handed out, in size-class bytes
  size_t bytes_cached = 0;           // free blocks kept for reuse
  size_t peak_bytes = 0;             // most device bytes held at once (in use + cached)
  uint64_t device_allocations = 0;   // DeviceMemory::allocate calls that returned a block
  uint64_t device_releases = 0;      // DeviceMemory::release calls
  uint64_t reuses = 0;               // allocations served from the cache
  uint64_t oom_retries = 0;          // out of memory: cache given back and the allocation retried
  uint64_t invalid_releases = 0;     // release of a pointer not handed out (double free or foreign)
};

class DeviceArena {
 public:
  explicit DeviceArena(DeviceMemory& memory) : memory_(memory) {}
  // Every block, cached or still handed out, goes back to the device.
  ~DeviceArena();
  DeviceArena(const DeviceArena&) = delete;
  DeviceArena& operator=(const DeviceArena&) = delete;

  // A block of at least `bytes` (size_class(bytes)); nullptr when the device is out of memory after the retry.
  // Throws what DeviceMemory::allocate throws.
  void* allocate(size_t bytes);
  // Back to its free list (nullptr: no-op, true). false: `p` is not handed out (a double free or a foreign
  // pointer): nothing changes but invalid_releases.
  bool release(void* p) noexcept;
  // Gives every cached block back to the device (after quiesce()); returns the bytes given back.
  size_t release_cached() noexcept;
  ArenaStats stats() const;

  static size_t size_class(size_t bytes);

 private:
  size_t release_cached_locked() noexcept;

  DeviceMemory& memory_;
  mutable std::mutex mu_;
  std::unordered_map<void*, size_t> live_;          // handed out: block -> its size class
  std::map<size_t, std::vector<void*>> free_;       // size class -> cached blocks
  ArenaStats st_;
};

}  // namespace sparse::cuda
