// φ as both stores keep it: zlib-compressed, with the raw size and the CRC-32 of the raw bytes. Invariant: unpacking
// checks the size, inflates and verifies the CRC, so a damaged blob is an error naming the store and the trial.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sparse::store {

struct PackedPhi {
  int64_t raw_bytes = 0;
  uint32_t crc32 = 0;
  std::vector<uint8_t> data;  // zlib stream
};

PackedPhi pack_phi(const std::vector<uint8_t>& phi, int64_t trial_id);
// `who` starts each message, e.g. "store 'runs/a.db'".
std::vector<uint8_t> unpack_phi(const PackedPhi& packed, const std::string& who, int64_t trial_id);

}  // namespace sparse::store
