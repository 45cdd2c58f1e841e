// Weight encodings (see weight_encoding.hpp for the byte layouts).
#include "codegen/weight_encoding.hpp"

#include "host/core/error.hpp"

namespace sparse::codegen {

const char* to_string(WeightEncoding e) {
  switch (e) {
    case WeightEncoding::Dense: return "dense";
    case WeightEncoding::Bitmask: return "bitmask";
    case WeightEncoding::RelativeIndex: return "relative-index";
  }
  return "?";
}

namespace {

void check_shape(int rows, int cols) {
  SPARSE_CHECK(rows >= 1 && cols >= 1, "weight tensor of " << rows << "x" << cols << ", expected at least 1x1");
}

// Entries of one row in the relative-index layout: (gap, value) pairs including padding.
std::vector<std::pair<uint8_t, int8_t>> relative_entries(const int8_t* row, int cols) {
  std::vector<std::pair<uint8_t, int8_t>> e;
  int next = 0;  // first column not yet covered
  for (int j = 0; j < cols; ++j) {
    if (row[j] == 0) continue;
    int gap = j - next;
    while (gap > 255) {
      e.emplace_back(255, 0);  // padding: covers 255 skipped columns plus one explicit zero
      gap -= 256;
    }
    e.emplace_back(static_cast<uint8_t>(gap), row[j]);
    next = j + 1;
  }
  return e;
}

}  // namespace

int64_t encoded_size(WeightEncoding e, const int8_t* w, int rows, int cols) {
  check_shape(rows, cols);
  const int64_t n = static_cast<int64_t>(rows) * cols;
  switch (e) {
    case WeightEncoding::Dense: return n;
    case WeightEncoding::Bitmask: {
      int64_t nnz = 0;
      for (int64_t i = 0; i < n; ++i) nnz += w[i] != 0;
      return static_cast<int64_t>(rows) * ((cols + 7) / 8) + nnz;
    }
    case WeightEncoding::RelativeIndex: {
      int64_t entries = 0;
      for (int r = 0; r < rows; ++r) entries += static_cast<int64_t>(relative_entries(w + static_cast<int64_t>(r) * cols, cols).size());
      return 2 * static_cast<int64_t>(rows) + 2 * entries;
    }
  }
  return n;
}

EncodedWeights encode_weights(WeightEncoding e, const int8_t* w, int rows, int cols) {
  check_shape(rows, cols);
  EncodedWeights out;
  out.encoding = e;
  out.rows = rows;
  out.cols = cols;
  for (int r = 0; r < rows; ++r) {
    const int8_t* row = w + static_cast<int64_t>(r) * cols;
    switch (e) {
      case WeightEncoding::Dense:
        for (int j = 0; j < cols; ++j) out.bytes.push_back(static_cast<uint8_t>(row[j]));
        break;
      case WeightEncoding::Bitmask: {
        const size_t mask_at = out.bytes.size();
        out.bytes.resize(mask_at + static_cast<size_t>((cols + 7) / 8), 0);
        for (int j = 0; j < cols; ++j)
          if (row[j] != 0) out.bytes[mask_at + static_cast<size_t>(j / 8)] |= static_cast<uint8_t>(1u << (j % 8));
        for (int j = 0; j < cols; ++j)
          if (row[j] != 0) out.bytes.push_back(static_cast<uint8_t>(row[j]));
        break;
      }
      case WeightEncoding::RelativeIndex: {
        const auto entries = relative_entries(row, cols);
        SPARSE_CHECK(entries.size() <= 65535, "row " << r << " needs " << entries.size()
                                                     << " relative-index entries, more than a uint16 count holds");
        out.bytes.push_back(static_cast<uint8_t>(entries.size() & 0xff));
        out.bytes.push_back(static_cast<uint8_t>(entries.size() >> 8));
        for (const auto& [gap, v] : entries) {
          out.bytes.push_back(gap);
          out.bytes.push_back(static_cast<uint8_t>(v));
        }
        break;
      }
    }
  }
  return out;
}

std::vector<int8_t> decode_weights(const EncodedWeights& enc) {
  check_shape(enc.rows, enc.cols);
  const int rows = enc.rows, cols = enc.cols;
  std::vector<int8_t> w(static_cast<size_t>(rows) * cols, 0);
  size_t at = 0;
  auto need = [&](size_t n) {
    SPARSE_CHECK(at + n <= enc.bytes.size(), "encoded weights end at byte " << enc.bytes.size() << ", expected at least "
                                                                            << at + n);
  };
  for (int r = 0; r < rows; ++r) {
    int8_t* row = w.data() + static_cast<size_t>(r) * cols;
    switch (enc.encoding) {
      case WeightEncoding::Dense:
        need(static_cast<size_t>(cols));
        for (int j = 0; j < cols; ++j) row[j] = static_cast<int8_t>(enc.bytes[at++]);
        break;
      case WeightEncoding::Bitmask: {
        const size_t mask_bytes = static_cast<size_t>((cols + 7) / 8);
        need(mask_bytes);
        const size_t mask_at = at;
        at += mask_bytes;
        for (int j = 0; j < cols; ++j)
          if (enc.bytes[mask_at + static_cast<size_t>(j / 8)] & (1u << (j % 8))) {
            need(1);
            row[j] = static_cast<int8_t>(enc.bytes[at++]);
          }
        break;
      }
      case WeightEncoding::RelativeIndex: {
        need(2);
        const int count = enc.bytes[at] | (enc.bytes[at + 1] << 8);
        at += 2;
        int col = -1;
        for (int k = 0; k < count; ++k) {
          need(2);
          col += 1 + enc.bytes[at];
          SPARSE_CHECK(col < cols, "relative-index entry " << k << " of row " << r << " points at column " << col
                                                           << ", the row has " << cols);
          row[col] = static_cast<int8_t>(enc.bytes[at + 1]);
          at += 2;
        }
        break;
      }
    }
  }
  SPARSE_CHECK(at == enc.bytes.size(), "encoded weights have " << enc.bytes.size() - at << " bytes left over after "
                                                               << rows << " rows");
  return w;
}

EncodedWeights encode_smallest(const int8_t* w, int rows, int cols) {
  WeightEncoding best = WeightEncoding::Dense;
  int64_t best_bytes = encoded_size(best, w, rows, cols);
  for (WeightEncoding e : {WeightEncoding::Bitmask, WeightEncoding::RelativeIndex}) {
    const int64_t b = encoded_size(e, w, rows, cols);
    if (b < best_bytes) best = e, best_bytes = b;
  }
  return encode_weights(best, w, rows, cols);
}

}  // namespace sparse::codegen
