// Batched ε for the CPU backend's noise ops: the Philox4x32-10 + Box-Muller stream of host/core/philox.hpp,
// computed 64 blocks at a time with SIMD (Eigen's vectorized log/sqrt/sin/cos).
// Invariants: the Philox words and uniforms are exactly those of philox_normal4; the normals agree with it to a
// few float ulp (vectorized log/sin/cos instead of libm's), element e of stream (seed, offset) being normal
// e % 4 of block e / 4, whatever range or chunking asks for it.
#pragma once
#include <cstdint>

namespace sparse::cpu {

// out[i] = ε(seed, offset, first + i) for i < count.
void philox_normal_range(uint64_t seed, uint64_t offset, uint64_t first, int64_t count, float* out);

}  // namespace sparse::cpu
