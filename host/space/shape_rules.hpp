// Spatial size rules shared by validation and the graph: conv with {same, valid} padding, max pool window = stride.
// Invariant: results may be < 1; callers turn that into an error naming the layer.
#pragma once
#include "host/space/config.hpp"

namespace sparse::space {

// k x k conv, stride 1: 'same' keeps n (padding k-1 split floor/ceil), 'valid' gives n - k + 1.
inline int conv_out_size(int n, int k, Padding p) { return p == Padding::same ? n : n - k + 1; }
// Max pool with window = stride = r, no padding: floor(n / r).
inline int pool_out_size(int n, int r) { return n / r; }
// Block-end pooling window (REFERENCE.md §2: each block ends in a 2x2 max pool).
inline constexpr int kBlockPool = 2;

}  // namespace sparse::space
