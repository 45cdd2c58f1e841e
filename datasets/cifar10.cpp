// CIFAR-10 binary batch parsing: planar CHW records to NHWC (see cifar10.hpp).
#include "datasets/cifar10.hpp"

#include "host/core/error.hpp"
#include "host/core/file_io.hpp"

namespace sparse::data {

void parse_cifar10_batch(const uint8_t* bytes, size_t size, const std::string& name, ImageSet& out) {
  SPARSE_CHECK(size > 0, "CIFAR-10 batch '" << name << "' is empty, expected records of " << kCifarRecordBytes << " bytes");
  if (size % kCifarRecordBytes != 0) {
    const size_t last = size - size % kCifarRecordBytes;
    SPARSE_FAIL("CIFAR-10 batch '" << name << "': truncated: " << size << " bytes is not a whole number of "
                                   << kCifarRecordBytes << "-byte records; record " << last / kCifarRecordBytes
                                   << " starts at byte offset " << last << " and is "
                                   << kCifarRecordBytes - size % kCifarRecordBytes << " bytes short");
  }
  out.shape = {32, 32, 3};
  out.num_classes = 10;
  const size_t n = size / kCifarRecordBytes, first = out.labels.size();
  out.labels.resize(first + n);
  out.pixels.resize((first + n) * 3072);
  for (size_t r = 0; r < n; ++r) {
    const uint8_t* rec = bytes + r * kCifarRecordBytes;
    SPARSE_CHECK(rec[0] < 10, "CIFAR-10 batch '" << name << "': record " << r << " at byte offset " << r * kCifarRecordBytes
                                                 << " has label " << int(rec[0]) << ", expected 0 to 9");
    out.labels[first + r] = rec[0];
    uint8_t* dst = out.pixels.data() + (first + r) * 3072;
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 1024; ++p) dst[p * 3 + c] = rec[1 + c * 1024 + p];
  }
}

ImageSet load_cifar10(const std::filesystem::path& dir, bool train) {
  std::filesystem::path base = dir;
  if (!std::filesystem::exists(base / "test_batch.bin") && std::filesystem::exists(dir / "cifar-10-batches-bin"))
    base = dir / "cifar-10-batches-bin";
  std::vector<std::string> files;
  if (train)
    for (int i = 1; i <= 5; ++i) files.push_back("data_batch_" + std::to_string(i) + ".bin");
  else
    files.push_back("test_batch.bin");
  ImageSet s;
  s.shape = {32, 32, 3};
  s.num_classes = 10;
  for (const std::string& f : files) {
    const std::filesystem::path p = base / f;
    SPARSE_CHECK(std::filesystem::exists(p), "CIFAR-10 folder '" << base.string() << "': missing batch file '" << f << "'");
    const std::vector<uint8_t> b = read_file_bytes(p);
    parse_cifar10_batch(b.data(), b.size(), p.string(), s);
  }
  return s;
}

}  // namespace sparse::data
