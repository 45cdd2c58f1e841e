// IDX parsing and loading (see idx.hpp). Every error names the file and, where it applies, the byte offset.
#include "datasets/idx.hpp"

#include "host/core/error.hpp"
#include "host/core/file_io.hpp"

namespace sparse::data {

IdxArray parse_idx(const uint8_t* bytes, size_t size, const std::string& name) {
  SPARSE_CHECK(size >= 4, "IDX file '" << name << "': truncated: " << size
                                        << " bytes, expected at least the 4-byte magic number");
  SPARSE_CHECK(bytes[0] == 0 && bytes[1] == 0,
               "IDX file '" << name << "': wrong magic number: bytes 0-1 are 0x" << std::hex << int(bytes[0]) << " 0x"
                            << int(bytes[1]) << std::dec << ", expected 0x00 0x00");
  SPARSE_CHECK(bytes[2] == 0x08, "IDX file '" << name << "': data type 0x" << std::hex << int(bytes[2]) << std::dec
                                              << " at byte offset 2 is not supported, expected 0x08 (unsigned byte)");
  const int ndims = bytes[3];
  SPARSE_CHECK(ndims >= 1 && ndims <= 4, "IDX file '" << name << "': " << ndims
                                                       << " dimensions at byte offset 3, expected 1 to 4");
  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  SPARSE_CHECK(size >= header, "IDX file '" << name << "': truncated header: " << size << " bytes, expected " << header
                                            << " for " << ndims << " dimensions");
  IdxArray a;
  size_t count = 1;
  for (int d = 0; d < ndims; ++d) {
    const uint8_t* p = bytes + 4 + 4 * d;
    const uint32_t v = (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
    SPARSE_CHECK(v > 0 && v <= (1u << 28), "IDX file '" << name << "': dimension " << d << " at byte offset " << 4 + 4 * d
                                                         << " is " << v << ", expected 1 to 2^28");
    a.dims.push_back(v);
    count *= v;
    SPARSE_CHECK(count <= (size_t(1) << 36), "IDX file '" << name << "': dimensions describe more than 2^36 bytes");
  }
  const size_t have = size - header;
  SPARSE_CHECK(have >= count, "IDX file '" << name << "': truncated: header promises " << count << " data bytes ("
                                           << header + count << "-byte file), but the data ends at byte offset "
                                           << size);
  SPARSE_CHECK(have == count, "IDX file '" << name << "': " << have - count << " unexpected bytes after the data at byte offset "
                                           << header + count << " (expected a " << header + count << "-byte file)");
  a.data.assign(bytes + header, bytes + size);
  return a;
}

std::vector<uint8_t> encode_idx(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (uint32_t v : dims)
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

ImageSet load_idx_pair(const std::filesystem::path& images, const std::filesystem::path& labels, int num_classes) {
  const std::vector<uint8_t> ib = read_file_bytes(images);
  IdxArray im = parse_idx(ib.data(), ib.size(), images.string());
  const std::vector<uint8_t> lb = read_file_bytes(labels);
  IdxArray la = parse_idx(lb.data(), lb.size(), labels.string());
  SPARSE_CHECK(im.dims.size() == 3 || im.dims.size() == 4,
               "IDX image file '" << images.string() << "': " << im.dims.size()
                                  << " dimensions, expected 3 [N, H, W] or 4 [N, H, W, C]");
  SPARSE_CHECK(la.dims.size() == 1, "IDX label file '" << labels.string() << "': " << la.dims.size()
                                                       << " dimensions, expected 1 [N]");
  SPARSE_CHECK(im.dims[0] == la.dims[0], "image/label count mismatch: '" << images.string() << "' holds " << im.dims[0]
                                                                         << " images but '" << labels.string()
                                                                         << "' holds " << la.dims[0] << " labels");
  ImageSet s;
  s.shape = {static_cast<int>(im.dims[1]), static_cast<int>(im.dims[2]),
             im.dims.size() == 4 ? static_cast<int>(im.dims[3]) : 1};
  s.num_classes = num_classes;
  s.pixels = std::move(im.data);
  s.labels.resize(la.dims[0]);
  const size_t header = 8;
  for (size_t i = 0; i < la.data.size(); ++i) {
    const int y = la.data[i];
    SPARSE_CHECK(y < num_classes, "IDX label file '" << labels.string() << "': label " << y << " of item " << i
                                                     << " at byte offset " << header + i << " is out of range, expected 0 to "
                                                     << num_classes - 1);
    s.labels[i] = y;
  }
  return s;
}

std::filesystem::path find_idx_file(const std::filesystem::path& dir, const std::string& stem) {
  std::vector<std::string> names = {stem, stem + ".gz"};
  const size_t dash = stem.find("-idx");
  if (dash != std::string::npos) {
    std::string dotted = stem;
    dotted[dash] = '.';
    names.push_back(dotted);
    names.push_back(dotted + ".gz");
  }
  std::string tried;
  for (const std::string& n : names) {
    const std::filesystem::path p = dir / n;
    if (std::filesystem::is_regular_file(p)) return p;
    tried += (tried.empty() ? "" : ", ") + n;
  }
  SPARSE_FAIL("dataset folder '" << dir.string() << "': no file '" << stem << "' (tried " << tried << ")");
}

}  // namespace sparse::data
