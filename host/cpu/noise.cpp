// Batched Philox4x32-10 normals (noise.hpp): the ten rounds on structure-of-arrays counters (vectorized
// 32×32→64 multiplies), then Box-Muller on float arrays with Eigen's SIMD log/sqrt/sin/cos.
// Invariant: same words, uniforms and layout as philox_normal4 (host/core/philox.hpp).
#include "host/cpu/eigen.hpp"  // first: Eigen in the backend's private namespace

#include <algorithm>
#include <cstring>

#include "host/core/philox.hpp"
#include "host/cpu/noise.hpp"

namespace sparse::cpu {
namespace {

constexpr int kBlocks = 64;  // Philox blocks per batch: 256 normals

// The four normals of each of `nblocks` <= kBlocks consecutive blocks from `block0`, into out[4·nblocks]
// (block j's normals at out[4j .. 4j+3], as philox_normal4 orders them).
void normal_blocks(uint64_t seed, uint64_t offset, uint64_t block0, int nblocks, float* out) {
  alignas(64) uint32_t c0[kBlocks], c1[kBlocks], c2[kBlocks], c3[kBlocks];
  for (int j = 0; j < kBlocks; ++j) {  // counter {index lo, index hi, offset lo, offset hi}
    const uint64_t index = block0 + uint64_t(j);
    c0[j] = uint32_t(index);
    c1[j] = uint32_t(index >> 32);
    c2[j] = uint32_t(offset);
    c3[j] = uint32_t(offset >> 32);
  }
  uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u, kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    for (int j = 0; j < kBlocks; ++j) {
      const uint64_t p0 = uint64_t(kM0) * c0[j], p1 = uint64_t(kM1) * c2[j];
      const uint32_t n0 = uint32_t(p1 >> 32) ^ c1[j] ^ k0, n1 = uint32_t(p1);
      const uint32_t n2 = uint32_t(p0 >> 32) ^ c3[j] ^ k1, n3 = uint32_t(p0);
      c0[j] = n0;
      c1[j] = n1;
      c2[j] = n2;
      c3[j] = n3;
    }
    k0 += kW0;
    k1 += kW1;
  }
  // Box-Muller of (c0, c1) -> normals 0, 1 and (c2, c3) -> normals 2, 3 (philox_normal2).
  alignas(64) float ua[2 * kBlocks], ub[2 * kBlocks];
  for (int j = 0; j < kBlocks; ++j) {
    ua[j] = philox_uniform01(c0[j]);
    ub[j] = philox_uniform01(c1[j]);
    ua[kBlocks + j] = philox_uniform01(c2[j]);
    ub[kBlocks + j] = philox_uniform01(c3[j]);
  }
  using Array = Eigen::Array<float, 2 * kBlocks, 1>;
  const Eigen::Map<const Array, Eigen::Aligned64> u1(ua), u2(ub);
  const Array r = (-2.0f * u1.log()).sqrt();
  const Array t = 6.28318530717958647692f * u2;
  const Array cs = r * t.cos(), sn = r * t.sin();
  for (int j = 0; j < nblocks; ++j) {
    out[4 * j + 0] = cs[j];
    out[4 * j + 1] = sn[j];
    out[4 * j + 2] = cs[kBlocks + j];
    out[4 * j + 3] = sn[kBlocks + j];
  }
}

}  // namespace

void philox_normal_range(uint64_t seed, uint64_t offset, uint64_t first, int64_t count, float* out) {
  alignas(64) float tmp[4 * kBlocks];
  uint64_t e = first;
  const uint64_t end = first + uint64_t(count);
  while (e < end) {
    const uint64_t block0 = e / 4;
    const uint64_t last_block = (end - 1) / 4;
    const int nblocks = int(std::min<uint64_t>(kBlocks, last_block - block0 + 1));
    normal_blocks(seed, offset, block0, nblocks, tmp);
    const uint64_t stop = std::min(end, (block0 + uint64_t(nblocks)) * 4);
    std::memcpy(out + (e - first), tmp + (e - block0 * 4), sizeof(float) * size_t(stop - e));
    e = stop;
  }
}

}  // namespace sparse::cpu
