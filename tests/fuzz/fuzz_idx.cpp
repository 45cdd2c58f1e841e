// libFuzzer target for the IDX parser: any input either parses to a consistent array or raises sparse::Error.
#include <cstddef>
#include <cstdint>

#include "datasets/idx.hpp"
#include "host/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto a = sparse::data::parse_idx(data, size, "fuzz");
    size_t n = 1;
    for (uint32_t d : a.dims) n *= d;
    if (n != a.data.size()) __builtin_trap();
  } catch (const sparse::Error&) {
  }
  return 0;
}
