// cuda/device_arena: the CUDA backend's caching arena driven by a fake device (runs on the CPU): blocks reused
// within their size class, no double hand-out after a double free, everything given back on destruction, and
// the out-of-memory path (cache given back after quiesce, allocation retried once).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <utility>
#include <vector>

#include "cuda/device_arena.hpp"

namespace sparse::cuda {
namespace {

// A device of `capacity` bytes: blocks are malloc'ed host memory, every call is counted.
class FakeDevice final : public DeviceMemory {
 public:
  explicit FakeDevice(size_t capacity) : capacity_(capacity) {}
  ~FakeDevice() override { EXPECT_TRUE(live.empty()) << live.size() << " blocks never given back"; }
  void* allocate(size_t bytes) override {
    ++allocations;
    if (used_ + bytes > capacity_) {
      ++refusals;
      return nullptr;
    }
    void* p = std::malloc(bytes);
    live.insert(p);
    used_ += bytes;
    sizes_.push_back({p, bytes});
    return p;
  }
  void release(void* p) noexcept override {
    ++releases;
    if (!live.erase(p)) ++bad_releases;
    for (auto& [q, n] : sizes_)
      if (q == p) {
        used_ -= n;
        q = nullptr;
      }
    std::free(p);
  }
  void quiesce() noexcept override { ++quiesces; }

  std::set<void*> live;
  int allocations = 0, refusals = 0, releases = 0, bad_releases = 0, quiesces = 0;

 private:
  size_t capacity_, used_ = 0;
  std::vector<std::pair<void*, size_t>> sizes_;
};

TEST(DeviceArena, SizeClassesAreAtMostAQuarterLarger) {
  EXPECT_EQ(DeviceArena::size_class(0), 512u);
  EXPECT_EQ(DeviceArena::size_class(1), 512u);
  EXPECT_EQ(DeviceArena::size_class(512), 512u);
  EXPECT_EQ(DeviceArena::size_class(513), 640u);
  EXPECT_EQ(DeviceArena::size_class(1024), 1024u);
  EXPECT_EQ(DeviceArena::size_class(1025), 1280u);
  EXPECT_EQ(DeviceArena::size_class(3u << 20), 3u << 20);
  for (size_t b = 1; b < (size_t(1) << 26); b = b * 3 + 7) {
    const size_t c = DeviceArena::size_class(b);
    EXPECT_GE(c, b);
    EXPECT_LE(double(c), std::max(512.0, 1.25 * double(b)) + 1e-9) << b;
    EXPECT_EQ(c % 128, 0u) << b;
    EXPECT_EQ(DeviceArena::size_class(c), c) << "a class is its own class";
  }
}

TEST(DeviceArena, ReleasedBlocksAreReusedWithinTheirClassAcrossSteps) {
  FakeDevice dev(size_t(1) << 30);
  {
    DeviceArena arena(dev);
    // "Step 1": three buffers; "step 2": the same sizes again come from the cache, not the device.
    void* a = arena.allocate(1000);
    void* b = arena.allocate(4000);
    void* c = arena.allocate(1000);
    EXPECT_NE(a, c);
    EXPECT_EQ(dev.allocations, 3);
    arena.release(a);
    arena.release(b);
    arena.release(c);
    EXPECT_EQ(arena.stats().bytes_cached, 2 * DeviceArena::size_class(1000) + DeviceArena::size_class(4000));
    std::set<void*> again{arena.allocate(1000), arena.allocate(1000), arena.allocate(4000)};
    EXPECT_EQ(again, (std::set<void*>{a, b, c}));
    EXPECT_EQ(dev.allocations, 3);
    EXPECT_EQ(arena.stats().reuses, 3u);
    // 5000 bytes is another class: a new block, the cached 4000-byte one is not handed out for it.
    arena.release(b);
    void* d = arena.allocate(5000);
    EXPECT_NE(d, b);
    EXPECT_EQ(dev.allocations, 4);
    // 900 bytes shares 1000's class (1024): reused.
    arena.release(a);
    EXPECT_EQ(arena.allocate(900), a);
    const ArenaStats st = arena.stats();
    EXPECT_EQ(st.device_allocations, 4u);
    EXPECT_EQ(st.device_releases, 0u) << "nothing goes back to the device while the arena lives";
    EXPECT_EQ(st.bytes_in_use, 2 * DeviceArena::size_class(1000) + DeviceArena::size_class(5000));
  }
  // Destruction gives back the cached and the still handed out blocks.
  EXPECT_TRUE(dev.live.empty());
  EXPECT_EQ(dev.releases, 4);  // a, b, c, d
  EXPECT_EQ(dev.bad_releases, 0);
}

TEST(DeviceArena, DoubleFreeIsCountedAndNeverHandsOutABlockTwice) {
  FakeDevice dev(size_t(1) << 30);
  DeviceArena arena(dev);
  void* a = arena.allocate(2048);
  EXPECT_TRUE(arena.release(a));
  EXPECT_FALSE(arena.release(a));  // double free
  int foreign = 0;
  EXPECT_FALSE(arena.release(&foreign));
  EXPECT_TRUE(arena.release(nullptr));
  EXPECT_EQ(arena.stats().invalid_releases, 2u);
  void* x = arena.allocate(2048);
  void* y = arena.allocate(2048);
  EXPECT_EQ(x, a);
  EXPECT_NE(y, a) << "the block released twice is in the free list once";
  EXPECT_EQ(dev.bad_releases, 0);
}

TEST(DeviceArena, OutOfMemoryGivesTheCacheBackAndRetriesOnce) {
  FakeDevice dev(3 * 4096);
  DeviceArena arena(dev);
  void* a = arena.allocate(4096);
  void* b = arena.allocate(4096);
  void* c = arena.allocate(4096);
  ASSERT_TRUE(a && b && c);
  arena.release(a);
  arena.release(b);
  // 8192 bytes: the device is full; the two cached 4096-byte blocks go back (after quiesce) and the retry fits.
  void* big = arena.allocate(8192);
  ASSERT_NE(big, nullptr);
  ArenaStats st = arena.stats();
  EXPECT_EQ(st.oom_retries, 1u);
  EXPECT_EQ(st.bytes_cached, 0u);
  EXPECT_EQ(dev.quiesces, 1) << "the stream drains before cached blocks go back";
  EXPECT_EQ(dev.refusals, 1);
  EXPECT_EQ(st.device_releases, 2u);
  // Full again and nothing cached: no retry, nullptr (the backend turns it into an out-of-memory DeviceError).
  EXPECT_EQ(arena.allocate(4096), nullptr);
  st = arena.stats();
  EXPECT_EQ(st.oom_retries, 1u);
  EXPECT_EQ(dev.refusals, 2);
  // Cached blocks that still do not make room: one retry, then nullptr.
  arena.release(c);
  EXPECT_EQ(arena.allocate(16384), nullptr);
  EXPECT_EQ(arena.stats().oom_retries, 2u);
  EXPECT_EQ(dev.refusals, 4);
  arena.release(big);
  EXPECT_EQ(arena.release_cached(), DeviceArena::size_class(8192));
  EXPECT_EQ(arena.stats().peak_bytes, 3u * 4096);
}

}  // namespace
}  // namespace sparse::cuda
