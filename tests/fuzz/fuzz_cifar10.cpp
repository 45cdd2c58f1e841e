// libFuzzer target for the CIFAR-10 batch parser: any input parses to whole records or raises sparse::Error.
#include <cstddef>
#include <cstdint>

#include "datasets/cifar10.hpp"
#include "host/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sparse::data::ImageSet s;
  try {
    sparse::data::parse_cifar10_batch(data, size, "fuzz", s);
    if (s.pixels.size() != s.size() * 3072) __builtin_trap();
    for (int32_t y : s.labels)
      if (y < 0 || y > 9) __builtin_trap();
  } catch (const sparse::Error&) {
  }
  return 0;
}
