// φ compression and verification shared by the SQLite and PostgreSQL stores (see phi_codec.hpp).
#include "host/store/phi_codec.hpp"

#include <zlib.h>

#include "host/core/error.hpp"

namespace sparse::store {

PackedPhi pack_phi(const std::vector<uint8_t>& phi, int64_t trial_id) {
  PackedPhi p;
  uLongf size = compressBound(static_cast<uLong>(phi.size()));
  p.data.resize(size);
  SPARSE_CHECK(compress2(p.data.data(), &size, phi.data(), static_cast<uLong>(phi.size()), 6) == Z_OK,
               "cannot compress φ of trial " << trial_id);
  p.data.resize(size);
  p.raw_bytes = static_cast<int64_t>(phi.size());
  p.crc32 = static_cast<uint32_t>(crc32(0L, phi.data(), static_cast<uInt>(phi.size())));
  return p;
}

std::vector<uint8_t> unpack_phi(const PackedPhi& p, const std::string& who, int64_t trial_id) {
  const int64_t raw = p.raw_bytes;
  SPARSE_CHECK(raw >= 0 && raw < (int64_t(1) << 34), who << ": φ of trial " << trial_id << " claims " << raw << " bytes");
  std::vector<uint8_t> out(static_cast<size_t>(raw));
  uLongf size = static_cast<uLongf>(raw);
  const int rc = uncompress(out.data(), &size, p.data.data(), static_cast<uLong>(p.data.size()));
  SPARSE_CHECK(rc == Z_OK && size == static_cast<uLongf>(raw), who << ": φ of trial " << trial_id
                                                                   << " is corrupt (cannot inflate " << p.data.size()
                                                                   << " bytes to " << raw << ")");
  SPARSE_CHECK(static_cast<uint32_t>(crc32(0L, out.data(), static_cast<uInt>(out.size()))) == p.crc32,
               who << ": φ of trial " << trial_id << " is corrupt (CRC-32 mismatch)");
  return out;
}

}  // namespace sparse::store
