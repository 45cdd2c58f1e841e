// Sparse weight storage for generated code: dense, bitmask, or relative indices, chosen per layer by the
// bytes it takes in flash, index bytes included. A weight tensor is viewed as rows (output channels) of
// `cols` int8 values.
//   Dense:          rows·cols values.
//   Bitmask:        per row ⌈cols/8⌉ mask bytes (bit j%8 of byte j/8 set ⇔ w[j] ≠ 0), then that row's
//                   non-zero values; bytes = rows·⌈cols/8⌉ + nnz.
//   RelativeIndex:  per row a uint16 entry count, then entries (gap, value) of one byte each, where gap is the
//                   number of columns skipped since the previous entry (Han et al. 2016's relative index); a
//                   gap over 255 is bridged by a padding entry (255, 0); bytes = 2·rows + 2·entries.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sparse::codegen {

enum class WeightEncoding { Dense, Bitmask, RelativeIndex };
const char* to_string(WeightEncoding e);

struct EncodedWeights {
  WeightEncoding encoding = WeightEncoding::Dense;
  int rows = 0, cols = 0;
  std::vector<uint8_t> bytes;  // the exact bytes emitted into flash, in the layout above
};

// Flash bytes `w` [rows, cols] takes in `e`, without encoding it.
int64_t encoded_size(WeightEncoding e, const int8_t* w, int rows, int cols);
EncodedWeights encode_weights(WeightEncoding e, const int8_t* w, int rows, int cols);
std::vector<int8_t> decode_weights(const EncodedWeights& enc);  // [rows, cols]
// The encoding with the fewest bytes (ties prefer Dense, then Bitmask).
EncodedWeights encode_smallest(const int8_t* w, int rows, int cols);

}  // namespace sparse::codegen
