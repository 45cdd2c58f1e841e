// Philox4x32-10 counter-based RNG (Salmon et al., SC'11), written once for host and device code.
// Invariant: the same (key, counter) gives the same four words on every backend, so a seed and an
// offset identify every random number the engine draws (ε of the local reparameterization, shuffles,
// splits, synthetic data).
#pragma once
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define SPARSE_HD __host__ __device__ __forceinline__
#else
#define SPARSE_HD inline
#endif

namespace sparse {

struct Philox4x32 {
  uint32_t v[4];
};

SPARSE_HD uint32_t philox_mulhi(uint32_t a, uint32_t b, uint32_t* lo) {
  const uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  *lo = static_cast<uint32_t>(p);
  return static_cast<uint32_t>(p >> 32);
}

// counter: 128 bits (c0 least significant); key: 64 bits. Ten rounds, constants of Random123.
SPARSE_HD Philox4x32 philox4x32_10(Philox4x32 counter, uint32_t key0, uint32_t key1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  uint32_t c0 = counter.v[0], c1 = counter.v[1], c2 = counter.v[2], c3 = counter.v[3];
  for (int round = 0; round < 10; ++round) {
    uint32_t lo0, lo1;
    const uint32_t hi0 = philox_mulhi(kM0, c0, &lo0);
    const uint32_t hi1 = philox_mulhi(kM1, c2, &lo1);
    const uint32_t n0 = hi1 ^ c1 ^ key0, n1 = lo1, n2 = hi0 ^ c3 ^ key1, n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    key0 += kW0;
    key1 += kW1;
  }
  return Philox4x32{{c0, c1, c2, c3}};
}

// Uniform float in (0, 1]: 24 random bits, never 0 so that log() is finite.
SPARSE_HD float philox_uniform01(uint32_t x) {
  return (static_cast<float>(x >> 8) + 1.0f) * (1.0f / 16777216.0f);
}

// Uniform double in [0, 1) from 53 bits of two words.
SPARSE_HD double philox_uniform_double(uint32_t hi, uint32_t lo) {
  const uint64_t bits = (static_cast<uint64_t>(hi) << 21) ^ (static_cast<uint64_t>(lo) >> 11);
  return static_cast<double>(bits & ((1ull << 53) - 1)) * (1.0 / 9007199254740992.0);
}

// Two standard normals from two words (Box-Muller).
SPARSE_HD void philox_normal2(uint32_t a, uint32_t b, float* n0, float* n1) {
  const float u1 = philox_uniform01(a);
  const float u2 = philox_uniform01(b);
  const float r = sqrtf(-2.0f * logf(u1));
  const float t = 6.28318530717958647692f * u2;
  *n0 = r * cosf(t);
  *n1 = r * sinf(t);
}

// Four standard normals for element block `index` of stream (seed, offset): the ε layout both
// backends use. Element e of a tensor takes normal (e % 4) of block e / 4.
SPARSE_HD void philox_normal4(uint64_t seed, uint64_t offset, uint64_t index, float out[4]) {
  const Philox4x32 ctr{{static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32),
                        static_cast<uint32_t>(offset), static_cast<uint32_t>(offset >> 32)}};
  const Philox4x32 r = philox4x32_10(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
  philox_normal2(r.v[0], r.v[1], &out[0], &out[1]);
  philox_normal2(r.v[2], r.v[3], &out[2], &out[3]);
}

// Host-side sequential stream over Philox blocks: integers, uniforms and shuffles for data handling.
class PhiloxStream {
 public:
  explicit PhiloxStream(uint64_t seed, uint64_t stream = 0) : seed_(seed), stream_(stream) {}

  uint32_t next_u32() {
    if (used_ == 4) refill();
    return block_.v[used_++];
  }
  uint64_t next_u64() {
    const uint64_t hi = next_u32();
    return (hi << 32) | next_u32();
  }
  // Uniform double in [0, 1).
  double uniform() {
    const uint32_t hi = next_u32();
    return philox_uniform_double(hi, next_u32());
  }
  // Unbiased integer in [0, n), n > 0 (Lemire's multiply-and-reject on 64 bits).
  uint64_t below(uint64_t n) {
    const uint32_t n32 = static_cast<uint32_t>(n);
    if (n32 == n) {
      uint64_t m = static_cast<uint64_t>(next_u32()) * n32;
      uint32_t low = static_cast<uint32_t>(m);
      if (low < n32) {
        const uint32_t threshold = static_cast<uint32_t>(-n32) % n32;
        while (low < threshold) {
          m = static_cast<uint64_t>(next_u32()) * n32;
          low = static_cast<uint32_t>(m);
        }
      }
      return m >> 32;
    }
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do { x = next_u64(); } while (x >= limit);
    return x % n;
  }
  // Standard normal.
  double normal() {
    if (has_spare_) { has_spare_ = false; return spare_; }
    float a, b;
    const uint32_t x = next_u32();
    philox_normal2(x, next_u32(), &a, &b);
    spare_ = b;
    has_spare_ = true;
    return a;
  }
  // Fisher-Yates shuffle of any random-access range.
  template <class It>
  void shuffle(It first, It last) {
    const auto n = last - first;
    for (decltype(last - first) i = n - 1; i > 0; --i) {
      const auto j = static_cast<decltype(i)>(below(static_cast<uint64_t>(i) + 1));
      auto tmp = first[i];
      first[i] = first[j];
      first[j] = tmp;
    }
  }

 private:
  void refill() {
    const Philox4x32 ctr{{static_cast<uint32_t>(counter_), static_cast<uint32_t>(counter_ >> 32),
                          static_cast<uint32_t>(stream_), static_cast<uint32_t>(stream_ >> 32)}};
    block_ = philox4x32_10(ctr, static_cast<uint32_t>(seed_), static_cast<uint32_t>(seed_ >> 32));
    ++counter_;
    used_ = 0;
  }
  uint64_t seed_, stream_, counter_ = 0;
  Philox4x32 block_{};
  int used_ = 4;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace sparse
